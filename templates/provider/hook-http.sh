#!/bin/sh
# @@NAME@@: a credhook provider hook for an HTTPS JSON API (made by
# `credhook new --http`). For each secret task credhook runs it with one
# argument:
#
#   create  POST $SMIN_API_URL/tokens, then writes the new token's id, the
#           token and its name to fd 3 ($CREDHOOK_OUTPUT)
#   delete  DELETE $SMIN_API_URL/tokens/$SM_CREDENTIALS_ID; succeeds when it
#           is gone already (Secrets Manager retries deletes)
#
# Inputs (job_config.json): login_secret_id, the admin API token (credhook
# resolves it: $SMIN_LOGIN_SECRET_ID_PAYLOAD for an arbitrary secret), and
# api_url, https://HOST[:PORT][/PATH]. Outputs: token, token_name.
#
# FILL IN: the paths and fields of your API in http(), create and delete.
# As generated, http() calls a stand-in (between the STAND-IN marks) that
# answers like such an API from files in /tmp, so this provider runs under
# `credhook dry-run` and `scripts/image.sh try` before you write a line.
# README.md lists what else to change.
set -eu
P=@@PREFIX@@ # the prefix of this provider's error codes
nl='
'

@@HELPERS@@
# The inputs, checked before anything is called: a URL (one starting with
# - would be read as credhook http's options), no braces ({{…}} would be
# expanded by credhook http), spaces, user info or query; then credhook
# http's own rules and the job's CREDHOOK_HTTP_ALLOW.
api=${SMIN_API_URL:-}
case $api in
"") fail BAD_INPUT "api_url is required: https://HOST[:PORT][/PATH] of your API" ;;
*[!A-Za-z0-9._~:/%-]*) fail BAD_INPUT "api_url may hold only letters, digits and . _ ~ : / % -" ;;
https://* | http://*) ;;
*) fail BAD_INPUT "api_url must start with https:// (http:// only to 127.0.0.1 or localhost)" ;;
esac
why=$(credhook http --check GET "$api" 2>&1) || fail BAD_INPUT "api_url: ${why#credhook http: }"
api=${api%/}
[ -n "${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}" ] ||
    fail NO_LOGIN_SECRET "login_secret_id must name an arbitrary secret holding the admin API token (it is ${SMIN_LOGIN_SECRET_ID_TYPE:-not resolved})"

# ---- FILL IN: your API ---------------------------------------------------
# http METHOD PATH [BODY]: `credhook http --status`: the status line, then
# the body. The admin token reaches the header through {{NAME}}, which
# credhook expands: it is never on a command line. No --retry: a retried
# POST could make a second token.
http() {
    standin_http "$@"; return # STAND-IN: delete this line
    if [ $# -ge 3 ]; then
        printf %s "$3" | credhook http --status --max-size 65536 "$1" "$api$2" --json @- \
            -H 'Authorization: Bearer {{SMIN_LOGIN_SECRET_ID_PAYLOAD}}'
    else
        credhook http --status --max-size 65536 "$1" "$api$2" \
            -H 'Authorization: Bearer {{SMIN_LOGIN_SECRET_ID_PAYLOAD}}'
    fi
}

# call METHOD PATH [BODY]: sets $status (000: no reply) and $body.
call() {
    rc=0
    reply=$(http "$@") || rc=$?
    status=${reply%%"$nl"*}
    case $reply in *"$nl"*) body=${reply#*"$nl"} ;; *) body= ;; esac
    case $rc in
    0 | 1) ;;
    3) status=000 ;;
    *) fail HOOK_ERROR "credhook http refused a request of this hook (exit $rc); the job log says why" ;;
    esac
}

# The API's own message, if its error reply has one.
said() { printf %s "$body" | credhook json get .message 2>/dev/null || true; }

# ==== STAND-IN: delete from here to "STAND-IN ends" ========================
# Tokens as files in /tmp (in a container, its own /tmp: a delete there finds
# the token gone, which is a success).
standin_http() {
    d=${TMPDIR:-/tmp}/@@NAME@@-standin
    mkdir -p "$d"
    case $1 in
    POST)
        t=tok-$(random 6)
        (umask 077 && printf '%s\n' "$3" > "$d/$t")
        printf '201\n{"id":"%s","token":"%s"}\n' "$t" "$(random 24)"
        ;;
    DELETE)
        if [ -e "$d/${2##*/}" ]; then
            rm -f "$d/${2##*/}"
            printf '204\n'
        else
            printf '404\n{"message":"no such token"}\n'
            return 1
        fi
        ;;
    esac
}
# ==== STAND-IN ends ========================================================

case ${1:-} in
create)
    # A new name each time, that says which secret it belongs to.
    name=$(printf %s "${SM_SECRET_NAME:-secret}" | tr -c 'A-Za-z0-9_-' - | cut -c1-40)-$(random 3)
    request=$(credhook json build "name=$name" 'description=Secrets Manager secret {{SM_SECRET_ID}}')
    call POST /tokens "$request"
    case $status in
    2??) ;;
    000) fail UNREACHABLE "no reply from $api (the job log says why)" ;;
    *) fail CREATE_FAILED "$api refused to create a token (HTTP $status): $(said)" ;;
    esac
    id=$(printf %s "$body" | credhook json get .id 2>/dev/null) || id=
    check_id "$id" || fail BAD_REPLY "the reply to the create has no usable id: the token $name may remain; delete it by hand"
    # The id goes out first: if anything after it fails, credhook deletes it.
    printf 'id=%s\ntoken_name=%s\n' "$id" "$name" >&3
    # The token goes from the reply to fd 3 without passing through argv.
    printf %s "$body" | credhook json out token=.token >&3 ||
        fail BAD_REPLY "the reply to the create has no token (the token $id is deleted again)"
    ;;
delete)
    id=${SM_CREDENTIALS_ID:-}
    check_id "$id" || fail BAD_CREDENTIALS_ID "the credentials id is not a token id this provider makes"
    call DELETE "/tokens/$id"
    case $status in
    2??) echo "deleted the token $id" ;;
    404)
        # Gone already, if it is your API's own "no such token" (a 404 for a
        # wrong URL, or a proxy's page, is not: the token would stay).
        [ "$(said)" = "no such token" ] || fail DELETE_FAILED "$api/tokens/$id: HTTP 404 that is not the API's \"no such token\""
        echo "the token $id was gone already"
        ;;
    000) fail UNREACHABLE "no reply from $api (the job log says why)" ;;
    *) fail DELETE_FAILED "$api refused to delete the token $id (HTTP $status): $(said)" ;;
    esac
    ;;
*)
    echo "usage: $0 create|delete (credhook runs it: see README.md)" >&2
    exit 2
    ;;
esac
