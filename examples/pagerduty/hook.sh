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
