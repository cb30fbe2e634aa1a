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

# The shared helpers (fail, call, emit, …): in the image at
# /etc/credhook/provider.sh (scripts/rootfs.sh puts them there), in a checkout
# beside this directory as examples/common.sh.
for c_lib in /etc/credhook/provider.sh "$(dirname -- "$0")/../common.sh"; do
    if [ -r "$c_lib" ]; then
        . "$c_lib"
        break
    fi
done
command -v fail >/dev/null 2>&1 || {
    echo "the provider helpers are missing: build the image with scripts/rootfs.sh" >&2
    exit 3
}

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
