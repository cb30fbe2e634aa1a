#!/bin/sh
# credhook hook: JFrog Platform access tokens (Artifactory), examples/jfrog/.
#
# Inputs (job_config.json; the same names as IBM's jfrog-access-token-provider-go):
#   SMIN_LOGIN_SECRET_ID     secret_id, required: an arbitrary secret whose payload
#                            is the admin access token, or a custom credentials
#                            secret whose access_token is (a username_password
#                            secret's password also works)
#   SMIN_JFROG_BASE_URL      required: https://<name>.jfrog.io (no /access suffix)
#   SMIN_USERNAME, SMIN_SCOPE, SMIN_AUDIENCE: sent when set
#   SMIN_DESCRIPTION         default: names the secret and the task
#   SMIN_EXPIRES_IN_SECONDS  default 7776000 (90 days); 0 = never (admins only)
#   SMIN_REFRESHABLE, SMIN_INCLUDE_REFERENCE_TOKEN: booleans, default false
# Output: SMOUT_ACCESS_TOKEN; the credentials id is JFrog's token_id.
#
# create: POST {base}/access/api/v1/tokens, JSON, always with
#         "force_revocable":true (JFrog >= 7.50.3): JFrog cannot revoke a token
#         that expires sooner than its revocable threshold (6 h by default), and
#         Secrets Manager must be able to delete every token it made.
# delete: DELETE {base}/access/api/v1/tokens/{id}; 200 and 204 are revoked,
#         a 404 with JFrog Access's code NOT_FOUND is already gone: success.
# Secrets stay off command lines: credhook http reads {{JFROG_ADMIN_TOKEN}}
# from the environment, and bodies go through stdin.
set -fu
P=JFROG
VENDOR=JFrog
LOGIN=login_secret_id
ERR_PATH=.errors[0].message
HINT_404="check jfrog_base_url (JFrog Platform >= 7.21.1 serves /access/api/v1/tokens)"

# --- common: the same block in every examples/*/hook.sh (tests/providers.rs checks) ---
# Each hook sets P (error code prefix), VENDOR, LOGIN (the input holding the
# admin credential), ERR_PATH (where the vendor's error message is) and
# HINT_404 before using these; RUN_SECRET when it holds a secret it got at
# run time (credhook masks only the secrets it handed over); and LEFT (how
# to find a credential a create may have left) before emit.
nl='
'
# fail CODE MESSAGE: the task's error on fd 3, on one line, with RUN_SECRET
# masked; stop. Never cut here: credhook masks the whole message, then cuts it.
fail() {
    c_m=$2
    if [ -n "${RUN_SECRET:-}" ]; then
        c_rest=$c_m
        c_m=
        while case $c_rest in *"$RUN_SECRET"*) true ;; *) false ;; esac; do
            c_m="$c_m${c_rest%%"$RUN_SECRET"*}[REDACTED]"
            c_rest=${c_rest#*"$RUN_SECRET"}
        done
        c_m=$c_m$c_rest
    fi
    printf 'error_code=%s\nerror_message=%s\n' "$1" "$(printf %s "$c_m" | tr '\r\n' '  ')" >&3
    exit 1
}
# need_url INPUT VALUE: https://HOST[:PORT][/PATH] (http:// only to 127.x.x.x
# or localhost), as credhook http accepts it, with no spaces, quotes, braces
# ({{…}} would be expanded by credhook http), user info, query or fragment.
need_url() {
    case $2 in
    "") fail "${P}_BAD_INPUT" "$1 is required" ;;
    *[!A-Za-z0-9._~:/%-]*) fail "${P}_BAD_INPUT" "$1 may hold only letters, digits and . _ ~ : / % - (no spaces, quotes, braces, user info, query or fragment)" ;;
    https://*) c_rest=${2#https://} ;;
    http://*) c_rest=${2#http://} ;;
    *) fail "${P}_BAD_INPUT" "$1 must start with https:// (http:// only to 127.0.0.1 or localhost)" ;;
    esac
    c_auth=${c_rest%%/*}
    c_host=${c_auth%%:*}
    case $c_host in
    "" | *[!A-Za-z0-9.-]*) fail "${P}_BAD_INPUT" "$1 must be https://HOST[:PORT][/PATH], HOST of letters, digits, '.' and '-'" ;;
    esac
    case $c_auth in
    *:*)
        c_port=${c_auth#*:}
        case $c_port in
        "" | *[!0-9]* | ??????*) fail "${P}_BAD_INPUT" "$1: the port must be a number from 1 to 65535" ;;
        esac
        [ "$c_port" -ge 1 ] && [ "$c_port" -le 65535 ] || fail "${P}_BAD_INPUT" "$1: the port must be a number from 1 to 65535"
        ;;
    esac
    case $2 in
    http://*)
        c_ok=
        case $c_host in
        localhost) c_ok=1 ;;
        127.*.*.*)
            # Four numbers 0-255 without leading zeros, as credhook http reads them.
            c_n=0
            c_ifs=$IFS
            IFS=.
            for c_b in $c_host; do
                case $c_b in
                [0-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) c_n=$((c_n + 1)) ;;
                *) c_n=9 ;;
                esac
            done
            IFS=$c_ifs
            [ "$c_n" = 4 ] && c_ok=1
            ;;
        esac
        [ -n "$c_ok" ] || fail "${P}_BAD_INPUT" "$1: http:// only to 127.x.x.x or localhost; use https://"
        ;;
    esac
}
# need_token WHERE VALUE: a credential of printable ASCII, no spaces.
need_token() {
    case $2 in
    "") fail "${P}_NO_LOGIN_SECRET" "$1 is empty or missing: store the bare credential there" ;;
    *[![:graph:]]*) fail "${P}_BAD_LOGIN_SECRET" "$1 holds spaces, line breaks or non-ASCII characters: store the bare credential, nothing else" ;;
    esac
}
# need_id VALUE: a credentials id fit for a URL path segment.
need_id() {
    case $1 in
    "" | . | .. | *[!A-Za-z0-9._-]*) fail "${P}_BAD_CREDENTIALS_ID" "the credentials id must be letters, digits, '.', '_' or '-' (not . or ..)" ;;
    esac
}
# call ARGS...: credhook http --status ARGS; sets $status (000: no reply) and $body.
# No --retry: a create is never retried, and Secrets Manager retries tasks.
# A reply over 64 KiB is no reply: an error message stays far below the
# output protocol's value limit.
call() {
    rc=0
    reply=$(credhook http --status --max-size 65536 "$@") || rc=$?
    status=${reply%%"$nl"*}
    case $reply in *"$nl"*) body=${reply#*"$nl"} ;; *) body= ;; esac
    case $rc in
    0 | 1) ;;
    3) status=000 ;;
    *) fail "${P}_HOOK_ERROR" "credhook http refused a request of this hook (exit $rc); the job log has its message" ;;
    esac
}
# gone PATH PATTERN: the reply is a 404 whose PATH matches PATTERN, the
# vendor's own "no such credential" (a 404 for a wrong URL or project is not).
gone() {
    [ "$status" = 404 ] || return 1
    c_said=$(printf %s "$body" | credhook json get "$1" 2>/dev/null) || return 1
    # $2 unquoted on purpose: it is a glob.
    # shellcheck disable=SC2254
    case $c_said in $2) return 0 ;; esac
    return 1
}
# api_failed WHAT: fails the task with a message for $status.
api_failed() {
    detail=$(printf %s "$body" | credhook json get "$ERR_PATH" 2>/dev/null)
    detail=${detail:+: $detail}
    case $status in
    000) fail "${P}_UNREACHABLE" "$1: no reply from $VENDOR (connection, TLS or timeout error, or a reply over 64 KiB; the job log names it)" ;;
    401) fail "${P}_UNAUTHORIZED" "$1: $VENDOR refused the credential in $LOGIN (401 Unauthorized)$detail" ;;
    403) fail "${P}_FORBIDDEN" "$1: the credential in $LOGIN lacks the permission (403 Forbidden)$detail" ;;
    404) fail "${P}_NOT_FOUND" "$1: 404 Not Found, $HINT_404$detail" ;;
    409) fail "${P}_CONFLICT" "$1: $VENDOR refused it as a conflict (409)$detail" ;;
    429) fail "${P}_RATE_LIMITED" "$1: $VENDOR is rate limiting (429); Secrets Manager retries later$detail" ;;
    5??) fail "${P}_SERVER_ERROR" "$1: $VENDOR failed ($status); Secrets Manager retries later$detail" ;;
    *) fail "${P}_API_ERROR" "$1: $VENDOR answered HTTP $status$detail" ;;
    esac
}
# emit ID_PATH NAME=PATH...: the created credential's id and outputs on fd 3.
# When an output is missing the id still goes out, so credhook deletes the
# credential instead of leaving it behind. Without a usable id (not JSON,
# absent, null, empty) nothing can be deleted: the task says where to look.
emit() {
    id_path=$1
    shift
    c_id=$(printf %s "$body" | credhook json get --json "$id_path" 2>/dev/null) || c_id=
    case $c_id in
    \"?*\" | [0-9]*) ;;
    *) fail "${P}_BAD_REPLY" "$VENDOR answered HTTP $status to the create without a usable id, so credhook cannot delete what it may have created: look in $VENDOR for ${LEFT:-one this task made}, and delete it" ;;
    esac
    printf %s "$body" | credhook json out "id=$id_path" "$@" >&3 && return
    printf %s "$body" | credhook json out "id=$id_path" >&3
    fail "${P}_BAD_REPLY" "$VENDOR's reply lacks a documented field; the credential was created and is being deleted"
}
# --- end common ---

# --- inputs, all checked before any call
base=${SMIN_JFROG_BASE_URL:-}
while [ "${base%/}" != "$base" ]; do base=${base%/}; done
need_url jfrog_base_url "$base"

# The admin token: an arbitrary secret's payload, a custom credentials
# secret's access_token, or a username_password secret's password.
if [ -n "${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}" ]; then
    JFROG_ADMIN_TOKEN=${SMIN_LOGIN_SECRET_ID_PAYLOAD%"$nl"}
elif [ -n "${SMIN_LOGIN_SECRET_ID_CREDENTIALS:-}" ]; then
    JFROG_ADMIN_TOKEN=$(printf %s "$SMIN_LOGIN_SECRET_ID_CREDENTIALS" | credhook json get .access_token 2>/dev/null) ||
        fail JFROG_BAD_LOGIN_SECRET "the custom credentials secret in login_secret_id has no access_token"
elif [ -n "${SMIN_LOGIN_SECRET_ID_PASSWORD:-}" ]; then
    JFROG_ADMIN_TOKEN=$SMIN_LOGIN_SECRET_ID_PASSWORD
else
    fail JFROG_NO_LOGIN_SECRET "login_secret_id must name an arbitrary secret holding the JFrog admin access token (or a custom credentials secret with access_token); got type ${SMIN_LOGIN_SECRET_ID_TYPE:-none}"
fi
need_token "the secret in login_secret_id" "$JFROG_ADMIN_TOKEN"
export JFROG_ADMIN_TOKEN

# bool INPUT VALUE → true|false (credhook accepts any letter case)
bool() {
    case $2 in
    [Tt][Rr][Uu][Ee]) echo true ;;
    "" | [Ff][Aa][Ll][Ss][Ee]) echo false ;;
    *) fail JFROG_BAD_INPUT "$1 must be true or false" ;;
    esac
}
# max_len INPUT VALUE MAX
max_len() {
    [ "${#2}" -le "$3" ] || fail JFROG_BAD_INPUT "$1 is longer than $3 characters (JFrog's limit)"
}

case ${1:-} in
create)
    expires=${SMIN_EXPIRES_IN_SECONDS:-7776000}
    expires=${expires#+}
    case $expires in
    "" | *[!0-9]*) fail JFROG_BAD_INPUT "expires_in_seconds must be 0 (never expires) or a positive number of seconds" ;;
    esac
    while case $expires in 0?*) true ;; *) false ;; esac; do expires=${expires#0}; done
    [ "${#expires}" -le 12 ] || fail JFROG_BAD_INPUT "expires_in_seconds is too large"
    refreshable=$(bool refreshable "${SMIN_REFRESHABLE:-}") || exit 1
    reference=$(bool include_reference_token "${SMIN_INCLUDE_REFERENCE_TOKEN:-}") || exit 1
    max_len username "${SMIN_USERNAME:-}" 255
    max_len scope "${SMIN_SCOPE:-}" 500
    # Unset, the description names the secret and the task, so a token whose
    # create reply was lost can still be found.
    JFROG_DESCRIPTION=${SMIN_DESCRIPTION:-"Secrets Manager secret ${SM_SECRET_NAME:-?} (${SM_SECRET_ID:-?}), task ${SM_SECRET_TASK_ID:-?}, created by credhook"}
    export JFROG_DESCRIPTION
    max_len description "$JFROG_DESCRIPTION" 1024
    max_len audience "${SMIN_AUDIENCE:-}" 255

    # {{…}} is expanded once by credhook json build; the body then goes
    # through stdin, where credhook http expands nothing.
    payload=$(credhook json build \
        'username?={{SMIN_USERNAME}}' 'scope?={{SMIN_SCOPE}}' \
        "expires_in:=$expires" "refreshable:=$refreshable" \
        'description?={{JFROG_DESCRIPTION}}' 'audience?={{SMIN_AUDIENCE}}' \
        "include_reference_token:=$reference" 'force_revocable:=true') ||
        fail JFROG_HOOK_ERROR "credhook json build failed; the job log has its message"
    # Never retried: a second POST would make a second token.
    call POST "$base/access/api/v1/tokens" -H 'Authorization: Bearer {{JFROG_ADMIN_TOKEN}}' --json @- <<BODY
$payload
BODY
    case $status in 2??) ;; *) api_failed "creating the access token" ;; esac
    LEFT="an access token with the description this task sent (unless description is set, it names secret ${SM_SECRET_NAME:-?} and task ${SM_SECRET_TASK_ID:-?})"
    emit .token_id access_token=.access_token
    ;;
delete)
    id=${SM_CREDENTIALS_ID:-}
    need_id "$id"
    call DELETE "$base/access/api/v1/tokens/$id" -H 'Authorization: Bearer {{JFROG_ADMIN_TOKEN}}'
    # Already gone: JFrog Access's own 404 (code NOT_FOUND), not any 404.
    if gone .errors[0].code '[Nn][Oo][Tt]_[Ff][Oo][Uu][Nn][Dd]'; then
        echo "JFrog token $id was already gone"
        exit 0
    fi
    case $status in
    200 | 204) echo "revoked JFrog token $id" ;;
    *) api_failed "revoking access token $id" ;;
    esac
    ;;
*) fail JFROG_BAD_ACTION "the hook's argument must be create or delete" ;;
esac
