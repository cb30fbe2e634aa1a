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
