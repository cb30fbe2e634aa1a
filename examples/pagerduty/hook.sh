#!/bin/sh
# credhook hook: PagerDuty webhook subscription signing secrets, examples/pagerduty/.
# (PagerDuty's REST API cannot create REST API keys; a v3 webhook
# subscription's signing secret is the credential it can create and delete.)
#
# Inputs (job_config.json):
#   SMIN_LOGIN_SECRET_ID  secret_id, required: an arbitrary secret whose payload
#                         is a PagerDuty REST API key (a custom credentials
#                         secret's "api_key" also works)
#   SMIN_WEBHOOK_URL      required: where PagerDuty delivers events (https://)
#   SMIN_FILTER_TYPE      required: account_reference|service_reference|team_reference
#   SMIN_FILTER_ID        the service or team id (required unless account_reference)
#   SMIN_EVENTS           comma-separated event types; default the incident
#                         lifecycle (see EVENTS below)
#   SMIN_API_URL          default https://api.pagerduty.com (EU: https://api.eu.pagerduty.com)
# Output: SMOUT_SIGNING_SECRET; the credentials id is the subscription's id.
#
# create: POST {api}/webhook_subscriptions; the secret is
#         webhook_subscription.delivery_method.secret (only in that reply).
# delete: DELETE {api}/webhook_subscriptions/{id}; 204, and PagerDuty's own 404
#         (code 2100, Not Found) is already gone.
# Secrets stay off command lines: credhook http reads {{PD_API_KEY}} from the
# environment, and bodies go through stdin.
set -fu
P=PAGERDUTY
VENDOR=PagerDuty
LOGIN=login_secret_id
ERR_PATH=.error.message
HINT_404="check api_url, and filter_id for a service or team that exists"
EVENTS=incident.triggered,incident.acknowledged,incident.unacknowledged,incident.escalated,incident.reassigned,incident.reopened,incident.resolved
ACCEPT='Accept: application/vnd.pagerduty+json;version=2'

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
api=${SMIN_API_URL:-https://api.pagerduty.com}
while [ "${api%/}" != "$api" ]; do api=${api%/}; done
need_url api_url "$api"

if [ -n "${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}" ]; then
    PD_API_KEY=${SMIN_LOGIN_SECRET_ID_PAYLOAD%"$nl"}
elif [ -n "${SMIN_LOGIN_SECRET_ID_CREDENTIALS:-}" ]; then
    PD_API_KEY=$(printf %s "$SMIN_LOGIN_SECRET_ID_CREDENTIALS" | credhook json get .api_key 2>/dev/null) ||
        fail PAGERDUTY_BAD_LOGIN_SECRET "the custom credentials secret in login_secret_id has no api_key"
else
    fail PAGERDUTY_NO_LOGIN_SECRET "login_secret_id must name an arbitrary secret holding a PagerDuty REST API key; got type ${SMIN_LOGIN_SECRET_ID_TYPE:-none}"
fi
need_token "the secret in login_secret_id" "$PD_API_KEY"
export PD_API_KEY

case ${1:-} in
create)
    url=${SMIN_WEBHOOK_URL:-}
    need_url webhook_url "$url"
    case $url in https://*) ;; *) fail PAGERDUTY_BAD_INPUT "webhook_url must start with https:// (PagerDuty delivers only over HTTPS)" ;; esac
    ftype=${SMIN_FILTER_TYPE:-}
    fid=${SMIN_FILTER_ID:-}
    case $ftype in
    account_reference) fid= ;;
    service_reference | team_reference)
        case $fid in
        "") fail PAGERDUTY_BAD_INPUT "filter_id is required when filter_type is $ftype: the id of the ${ftype%_reference}, e.g. PABC123" ;;
        *[!A-Za-z0-9]*) fail PAGERDUTY_BAD_INPUT "filter_id must be a PagerDuty id (letters and digits, e.g. PABC123)" ;;
        esac
        ;;
    *) fail PAGERDUTY_BAD_INPUT "filter_type must be account_reference, service_reference or team_reference" ;;
    esac
    # The events as a JSON array, from names checked to be [a-z_.] only.
    events=
    old_ifs=$IFS
    IFS=,
    # One tr for the whole list (not one per event: a long list stays fast).
    list=$(printf %s "${SMIN_EVENTS:-$EVENTS}" | tr -d ' \t')
    for e in $list; do
        case $e in
        "") continue ;;
        *[!a-z_.]* | [!a-z]* | *[!a-z] | *..*) fail PAGERDUTY_BAD_INPUT "events: \"$e\" is not an event type such as incident.triggered" ;;
        *.*) ;;
        *) fail PAGERDUTY_BAD_INPUT "events: \"$e\" is not an event type such as incident.triggered" ;;
        esac
        events="$events${events:+,}\"$e\""
    done
    IFS=$old_ifs
    [ -n "$events" ] || fail PAGERDUTY_BAD_INPUT "events lists no event type"
    PD_DESCRIPTION="Secrets Manager secret ${SM_SECRET_NAME:-?} (${SM_SECRET_ID:-?}), created by credhook"
    export PD_DESCRIPTION PD_FILTER_ID=$fid WEBHOOK_URL=$url

    # Nesting is done here, not by credhook json build, so that {{…}} is
    # expanded exactly once, in the innermost build.
    dm=$(credhook json build type=http_delivery_method 'url={{WEBHOOK_URL}}') &&
        filter=$(credhook json build "type=$ftype" 'id?={{PD_FILTER_ID}}') &&
        sub=$(credhook json build type=webhook_subscription "delivery_method:=$dm" "events:=[$events]" \
            "filter:=$filter" 'description={{PD_DESCRIPTION}}') ||
        fail PAGERDUTY_HOOK_ERROR "credhook json build failed; the job log has its message"
    # Never retried: a second POST would make a second subscription.
    call POST "$api/webhook_subscriptions" -H 'Authorization: Token token={{PD_API_KEY}}' -H "$ACCEPT" --json @- <<BODY
{"webhook_subscription":$sub}
BODY
    case $status in 2??) ;; *) api_failed "creating the webhook subscription" ;; esac
    LEFT="a webhook subscription to $url whose description names secret ${SM_SECRET_NAME:-?}"
    emit .webhook_subscription.id signing_secret=.webhook_subscription.delivery_method.secret
    ;;
delete)
    id=${SM_CREDENTIALS_ID:-}
    need_id "$id"
    call DELETE "$api/webhook_subscriptions/$id" -H 'Authorization: Token token={{PD_API_KEY}}' -H "$ACCEPT"
    # Already gone: PagerDuty's own Not Found (code 2100), not any 404.
    if gone .error.code 2100; then
        echo "webhook subscription $id was already gone"
        exit 0
    fi
    case $status in
    2??) echo "deleted webhook subscription $id" ;;
    *) api_failed "deleting webhook subscription $id" ;;
    esac
    ;;
*) fail PAGERDUTY_BAD_ACTION "the hook's argument must be create or delete" ;;
esac
