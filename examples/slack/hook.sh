#!/bin/sh
# credhook hook: Slack OAuth refresh-token rotation, examples/slack/.
#
# Input (job_config.json):
#   SMIN_EXCHANGE_TOKENS_SECRET_ID  secret_id, required: an arbitrary secret
#       whose payload is {"client_id":…,"client_secret":…,"refresh_token":…}:
#       the Slack app's client credentials and its first refresh token
# Outputs: SMOUT_SLACK_ACCESS_TOKEN, SMOUT_SLACK_REFRESH_TOKEN.
# The credentials id is not secret: slack-<team id>-<UTC time of the
# exchange>, e.g. slack-T0123ABCD-20260101T120000Z.
# Job settings (the job's owner sets them, not the secret's creator):
#   CREDHOOK_PREVIOUS_CREDENTIALS=true  required: each rotation exchanges the
#       refresh token of the secret's current version (Slack's refresh
#       tokens are good for one exchange)
#   SLACK_API_URL  default https://slack.com/api (a proxy or a test fake)
#   CREDHOOK_HTTP_ALLOW  e.g. slack.com: the host of SLACK_API_URL
#
# create: POST {api}/oauth.v2.access with grant_type=refresh_token and the
#         previous version's refresh token, or the initial one when there is
#         no previous version. If Slack refuses the previous one
#         (invalid_refresh_token), once more with the initial one. Slack
#         answers HTTP 200 with {"ok":false,"error":…} for its errors; a 429
#         (with Retry-After) is retried twice.
# delete: nothing to revoke (the access token expires on its own; its refresh
#         token is spent by the next rotation): reports success.
# Secrets stay off command lines: credhook http reads {{SLACK_…}} from the
# environment.
set -fu
P=SLACK
VENDOR=Slack
LOGIN=exchange_tokens_secret_id
ERR_PATH=.error
HINT_404="check SLACK_API_URL (the job setting; default https://slack.com/api)"

# The shared helpers (fail, call, …): in the image at
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

case ${1:-} in
delete)
    echo "nothing to revoke for credentials ${SM_CREDENTIALS_ID:-?}: the access token expires on its own and its refresh token is spent by the next rotation"
    exit 0
    ;;
create) ;;
*) fail SLACK_BAD_ACTION "the hook's argument must be create or delete" ;;
esac

# --- settings and inputs, all checked before any call
api=${SLACK_API_URL:-https://slack.com/api}
while [ "${api%/}" != "$api" ]; do api=${api%/}; done
need_url SLACK_API_URL "$api" SLACK_BAD_SETTING

case ${CREDHOOK_PREVIOUS:-} in
present | none) ;;
*) fail SLACK_NO_PREVIOUS_VERSION "the job must set CREDHOOK_PREVIOUS_CREDENTIALS=true: each rotation exchanges the refresh token of the secret's current version, and Slack's refresh tokens are good for one exchange" ;;
esac

[ -n "${SMIN_EXCHANGE_TOKENS_SECRET_ID_PAYLOAD:-}" ] ||
    fail SLACK_NO_EXCHANGE_SECRET "exchange_tokens_secret_id must name an arbitrary secret whose payload is {\"client_id\":…,\"client_secret\":…,\"refresh_token\":…}; got type ${SMIN_EXCHANGE_TOKENS_SECRET_ID_TYPE:-none}"
# field NAME: a string member of the exchange secret's JSON payload.
field() {
    printf %s "$SMIN_EXCHANGE_TOKENS_SECRET_ID_PAYLOAD" | credhook json get ".$1" 2>/dev/null ||
        fail SLACK_BAD_EXCHANGE_SECRET "the payload of the secret in exchange_tokens_secret_id must be JSON with a string $1"
}
SLACK_CLIENT_ID=$(field client_id) || exit 1
SLACK_CLIENT_SECRET=$(field client_secret) || exit 1
SLACK_INITIAL_REFRESH_TOKEN=$(field refresh_token) || exit 1
need_token "client_id in exchange_tokens_secret_id" "$SLACK_CLIENT_ID"
need_token "client_secret in exchange_tokens_secret_id" "$SLACK_CLIENT_SECRET"
need_token "refresh_token in exchange_tokens_secret_id" "$SLACK_INITIAL_REFRESH_TOKEN"
export SLACK_CLIENT_ID SLACK_CLIENT_SECRET SLACK_INITIAL_REFRESH_TOKEN

# The previous version's refresh token wins.
SLACK_PREVIOUS_REFRESH_TOKEN=${CREDHOOK_PREVIOUS_SLACK_REFRESH_TOKEN:-}
if [ "$CREDHOOK_PREVIOUS" = present ] && [ -n "$SLACK_PREVIOUS_REFRESH_TOKEN" ]; then
    need_token "the previous version's slack_refresh_token" "$SLACK_PREVIOUS_REFRESH_TOKEN"
    export SLACK_PREVIOUS_REFRESH_TOKEN
    use=SLACK_PREVIOUS_REFRESH_TOKEN
    echo "exchanging the previous version's refresh token"
else
    use=SLACK_INITIAL_REFRESH_TOKEN
    echo "no previous version with a refresh token: exchanging the initial refresh token from exchange_tokens_secret_id"
fi

# exchange VAR: POST oauth.v2.access with the refresh token in $VAR; sets
# $status, $body and $error (Slack's error code, empty on success). Retried
# on 429 (honouring Retry-After) and 503: Slack did not take the token then;
# and on no reply: if Slack took it and only the reply was lost, the token
# is spent whatever we do, and the retry says so (invalid_refresh_token).
exchange() {
    call POST "$api/oauth.v2.access" --retry 2 --retry-post --max-time 150 \
        --form 'client_id={{SLACK_CLIENT_ID}}' --form 'client_secret={{SLACK_CLIENT_SECRET}}' \
        --form grant_type=refresh_token --form "refresh_token={{$1}}"
    error=
    case $status in
    2??) ;;
    *) api_failed "exchanging the refresh token" ;;
    esac
    ok=$(printf %s "$body" | credhook json get --json .ok 2>/dev/null) || ok=
    case $ok in
    true) ;;
    false)
        error=$(printf %s "$body" | credhook json get .error 2>/dev/null) || error=
        error=${error:-unknown}
        ;;
    *) fail SLACK_BAD_REPLY "Slack answered HTTP $status without \"ok\"; no token was rotated" ;;
    esac
}

exchange "$use"
if [ "$error" = invalid_refresh_token ] && [ "$use" = SLACK_PREVIOUS_REFRESH_TOKEN ] &&
    [ "$SLACK_PREVIOUS_REFRESH_TOKEN" != "$SLACK_INITIAL_REFRESH_TOKEN" ]; then
    echo "Slack refused the previous version's refresh token (invalid_refresh_token): falling back once to the initial refresh token from exchange_tokens_secret_id"
    use=SLACK_INITIAL_REFRESH_TOKEN
    exchange "$use"
fi
case $error in
"") ;;
invalid_refresh_token)
    if [ "$use" = SLACK_PREVIOUS_REFRESH_TOKEN ]; then
        fail SLACK_INVALID_REFRESH_TOKEN "Slack refused the previous version's refresh token (invalid_refresh_token), which is also the one in exchange_tokens_secret_id: authorize the app again and store its new refresh token there"
    fi
    fail SLACK_INVALID_REFRESH_TOKEN "Slack refused the initial refresh token in exchange_tokens_secret_id (invalid_refresh_token): it was used or revoked; authorize the app again and store its new refresh token there"
    ;;
invalid_client_id) fail SLACK_INVALID_CLIENT_ID "Slack does not know the client_id in exchange_tokens_secret_id (invalid_client_id): copy it from the app's Basic Information page" ;;
bad_client_secret) fail SLACK_BAD_CLIENT_SECRET "Slack refused the client_secret in exchange_tokens_secret_id (bad_client_secret): copy it from the app's Basic Information page" ;;
invalid_grant_type) fail SLACK_INVALID_GRANT_TYPE "Slack refused grant_type=refresh_token (invalid_grant_type): turn on token rotation for the app" ;;
ratelimited) fail SLACK_RATE_LIMITED "Slack is rate limiting the exchange (ratelimited); Secrets Manager retries later" ;;
*)
    # Slack's codes are lower-case words joined by '_'; anything else (a
    # proxy's text, a token echoed back) is not shown: credhook masks whole
    # secrets, not a piece of one.
    case $error in
    *[!a-z0-9_]* | ?????????????????????????????????????????????????????????????????*)
        fail SLACK_API_ERROR "Slack refused the exchange with an error that is not one of its codes (not shown: it may echo what was sent)"
        ;;
    esac
    fail SLACK_API_ERROR "Slack refused the exchange: $error"
    ;;
esac

# --- outputs. From here the old refresh token is spent: a new one that does
# not reach Secrets Manager cannot be recovered (exchange_tokens_secret_id
# then needs a fresh one).
for m in access_token refresh_token; do
    v=$(printf %s "$body" | credhook json get ".$m" 2>/dev/null) || v=
    case $v in
    "" | *[![:graph:]]*) fail SLACK_BAD_REPLY "Slack answered ok without a usable $m; authorize the app again and store its new refresh token in exchange_tokens_secret_id" ;;
    esac
done
team=$(printf %s "$body" | credhook json get .team.id 2>/dev/null) || team=
case $team in "" | *[!A-Za-z0-9]*) team=app ;; esac
id="slack-$team-$(date -u +%Y%m%dT%H%M%SZ)"
{
    printf 'id=%s\n' "$id"
    printf %s "$body" | credhook json out slack_access_token=.access_token slack_refresh_token=.refresh_token
} >&3 || fail SLACK_BAD_REPLY "the new tokens could not be written"
echo "rotated: credentials $id"
