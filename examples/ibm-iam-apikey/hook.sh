#!/bin/sh
# credhook hook: IBM Cloud IAM API keys, examples/ibm-iam-apikey/.
#
# Inputs (job_config.json; the same names as IBM's ibmcloud-iam-user-apikey-provider-go):
#   SMIN_APIKEY_SECRET_ID   secret_id, required: the API key that creates and
#                           deletes keys: an arbitrary secret's payload, an IAM
#                           credentials secret's key, or a custom credentials
#                           secret's "apikey"
#   SMIN_IAM_ID             whose key to create; default: the owner of that API key
#   SMIN_ACCOUNT_ID         sent when set
#   SMIN_SUPPORT_SESSIONS   boolean, default false
#   SMIN_ACTION_WHEN_LEAKED none|disable|delete (sent when set; IAM's default is disable)
#   SMIN_URL                default https://iam.cloud.ibm.com
# Outputs: SMOUT_APIKEY, SMOUT_ID (the key's id, also the credentials id),
#          SMOUT_CRN, SMOUT_IAM_ID, SMOUT_ACCOUNT_ID.
#
# create: a token for the API key (POST {url}/identity/token), then
#         POST {url}/v1/apikeys with Entity-Lock: true, named
#         <secret name>-<last 6 of the task id>, a description naming the
#         secret and task, store_value false.
# delete: unlock (DELETE /v1/apikeys/{id}/lock), then DELETE /v1/apikeys/{id};
#         404 with code not_found is already gone: success.
# Secrets stay off command lines: credhook http reads {{IAM_ADMIN_APIKEY}} and
# {{IAM_TOKEN}} from the environment, and bodies go through stdin.
set -fu
P=IAM
VENDOR=IAM
LOGIN=apikey_secret_id
ERR_PATH=.errors[0].message
HINT_404="check url (the IAM endpoint, e.g. https://iam.cloud.ibm.com)"

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
url=${SMIN_URL:-https://iam.cloud.ibm.com}
while [ "${url%/}" != "$url" ]; do url=${url%/}; done
need_url url "$url"

if [ -n "${SMIN_APIKEY_SECRET_ID_PAYLOAD:-}" ]; then
    IAM_ADMIN_APIKEY=${SMIN_APIKEY_SECRET_ID_PAYLOAD%"$nl"}
elif [ -n "${SMIN_APIKEY_SECRET_ID_API_KEY:-}" ]; then
    IAM_ADMIN_APIKEY=$SMIN_APIKEY_SECRET_ID_API_KEY
elif [ -n "${SMIN_APIKEY_SECRET_ID_CREDENTIALS:-}" ]; then
    IAM_ADMIN_APIKEY=$(printf %s "$SMIN_APIKEY_SECRET_ID_CREDENTIALS" | credhook json get .apikey 2>/dev/null) ||
        fail IAM_BAD_LOGIN_SECRET "the custom credentials secret in apikey_secret_id has no apikey"
else
    fail IAM_NO_LOGIN_SECRET "apikey_secret_id must name an arbitrary secret holding an IBM Cloud API key (or an IAM credentials secret, or a custom credentials secret with apikey); got type ${SMIN_APIKEY_SECRET_ID_TYPE:-none}"
fi
need_token "the secret in apikey_secret_id" "$IAM_ADMIN_APIKEY"
export IAM_ADMIN_APIKEY

# plain INPUT VALUE: an IAM or account id
plain() {
    case $2 in
    *[!A-Za-z0-9._:-]*) fail IAM_BAD_INPUT "$1 may hold only letters, digits and . _ : -" ;;
    esac
}

# login: an IAM token for the API key in $IAM_TOKEN.
login() {
    call POST "$url/identity/token" -H 'Accept: application/json' \
        --form grant_type=urn:ibm:params:oauth:grant-type:apikey --form 'apikey={{IAM_ADMIN_APIKEY}}'
    case $status in
    200) ;;
    400) fail IAM_UNAUTHORIZED "IAM refused the API key in apikey_secret_id ($(printf %s "$body" | credhook json get .errorCode 2>/dev/null))" ;;
    *)
        ERR_PATH=.errorMessage
        api_failed "getting an IAM token"
        ;;
    esac
    IAM_TOKEN=$(printf %s "$body" | credhook json get .access_token 2>/dev/null) ||
        fail IAM_BAD_REPLY "IAM's token reply has no access_token"
    export IAM_TOKEN
    RUN_SECRET=$IAM_TOKEN
}

case ${1:-} in
create)
    plain iam_id "${SMIN_IAM_ID:-}"
    plain account_id "${SMIN_ACCOUNT_ID:-}"
    case ${SMIN_SUPPORT_SESSIONS:-false} in
    [Tt][Rr][Uu][Ee]) sessions=true ;;
    [Ff][Aa][Ll][Ss][Ee]) sessions=false ;;
    *) fail IAM_BAD_INPUT "support_sessions must be true or false" ;;
    esac
    case ${SMIN_ACTION_WHEN_LEAKED:-} in
    "" | none | disable | delete) ;;
    *) fail IAM_BAD_INPUT "action_when_leaked must be none, disable or delete" ;;
    esac
    task=${SM_SECRET_TASK_ID:-task}
    while [ "${#task}" -gt 6 ]; do task=${task#?}; done
    KEY_NAME="${SM_SECRET_NAME:-credhook}-$task"
    KEY_DESCRIPTION="Created by credhook for secret ${SM_SECRET_NAME:-?} (${SM_SECRET_ID:-?}) by task ${SM_SECRET_TASK_ID:-?}"
    export KEY_NAME KEY_DESCRIPTION

    IAM_ID=${SMIN_IAM_ID:-}
    if [ -z "$IAM_ID" ]; then
        # The API key's own identity (GET /v1/apikeys/details answers for the key in IAM-Apikey).
        call GET "$url/v1/apikeys/details" -H 'IAM-Apikey: {{IAM_ADMIN_APIKEY}}' -H 'Accept: application/json'
        case $status in 200) ;; *) api_failed "reading the identity of the API key in apikey_secret_id" ;; esac
        IAM_ID=$(printf %s "$body" | credhook json get .iam_id 2>/dev/null) ||
            fail IAM_BAD_REPLY "IAM's API key details have no iam_id"
    fi
    export IAM_ID
    login
    payload=$(credhook json build 'name={{KEY_NAME}}' 'iam_id={{IAM_ID}}' \
        'description={{KEY_DESCRIPTION}}' 'account_id?={{SMIN_ACCOUNT_ID}}' \
        'store_value:=false' "support_sessions:=$sessions" 'action_when_leaked?={{SMIN_ACTION_WHEN_LEAKED}}') ||
        fail IAM_HOOK_ERROR "credhook json build failed; the job log has its message"
    # Never retried: a second POST would make a second key.
    call POST "$url/v1/apikeys" -H 'Authorization: Bearer {{IAM_TOKEN}}' -H 'Entity-Lock: true' --json @- <<BODY
$payload
BODY
    case $status in 2??) ;; *) api_failed "creating the API key" ;; esac
    LEFT="an API key named $KEY_NAME (created locked: unlock it first)"
    emit .id apikey=.apikey SMOUT_ID=.id crn=.crn iam_id=.iam_id account_id=.account_id
    ;;
delete)
    id=${SM_CREDENTIALS_ID:-}
    need_id "$id"
    login
    # Already gone: the 404 says not_found (a 404 for a wrong URL does not).
    call DELETE "$url/v1/apikeys/$id/lock" -H 'Authorization: Bearer {{IAM_TOKEN}}'
    if gone .errors[0].code not_found; then
        echo "API key $id was already gone"
        exit 0
    fi
    case $status in 2??) ;; *) api_failed "unlocking API key $id" ;; esac
    call DELETE "$url/v1/apikeys/$id" -H 'Authorization: Bearer {{IAM_TOKEN}}'
    if gone .errors[0].code not_found; then
        echo "API key $id was already gone"
    else
        case $status in 2??) echo "deleted API key $id" ;; *) api_failed "deleting API key $id" ;; esac
    fi
    ;;
*) fail IAM_BAD_ACTION "the hook's argument must be create or delete" ;;
esac
