#!/bin/sh
# The create of examples/jfrog/hook.sh written the usual way, with curl and
# jq instead of credhook http/json: the same input checks, the same request
# (the admin token goes to curl on stdin, off its command line), the same
# result lines on fd 3. Only scripts/bench.sh uses it, as the baseline.
set -fu
nl='
'
fail() {
    printf 'error_code=%s\nerror_message=%s\n' "$1" "$2" >&3
    exit 1
}
base=${SMIN_JFROG_BASE_URL:-}
while [ "${base%/}" != "$base" ]; do base=${base%/}; done
case $base in
"" | *[!A-Za-z0-9._~:/%-]*) fail JFROG_BAD_INPUT "jfrog_base_url" ;;
https://?* | http://127.*) ;;
*) fail JFROG_BAD_INPUT "jfrog_base_url must start with https://" ;;
esac
token=${SMIN_LOGIN_SECRET_ID_PAYLOAD%"$nl"}
case $token in "" | *[![:graph:]]*) fail JFROG_BAD_LOGIN_SECRET "login_secret_id" ;; esac
bool() { case $1 in [Tt][Rr][Uu][Ee]) echo true ;; *) echo false ;; esac; }
expires=${SMIN_EXPIRES_IN_SECONDS:-7776000}
case $expires in "" | *[!0-9]*) fail JFROG_BAD_INPUT "expires_in_seconds" ;; esac
payload=$(jq -cn --arg username "${SMIN_USERNAME:-}" --arg scope "${SMIN_SCOPE:-}" \
    --argjson expires_in "$expires" --argjson refreshable "$(bool "${SMIN_REFRESHABLE:-}")" \
    --arg description "${SMIN_DESCRIPTION:-}" --arg audience "${SMIN_AUDIENCE:-}" \
    --argjson include_reference_token "$(bool "${SMIN_INCLUDE_REFERENCE_TOKEN:-}")" \
    '{username: $username, scope: $scope, expires_in: $expires_in, refreshable: $refreshable,
      description: $description, audience: $audience, include_reference_token: $include_reference_token,
      force_revocable: true} | with_entries(select(.value != ""))')
reply=$(printf 'header = "Authorization: Bearer %s"\n' "$token" |
    curl -sS -K - --cacert "$SSL_CERT_FILE" -w '\n%{http_code}' -X POST \
        -H 'Content-Type: application/json' -H 'Accept: application/json' \
        --data-binary "$payload" "$base/access/api/v1/tokens") || fail JFROG_UNREACHABLE "no reply"
status=${reply##*"$nl"}
body=${reply%"$nl"*}
case $status in 2??) ;; *) fail JFROG_API_ERROR "HTTP $status" ;; esac
printf %s "$body" | jq -r '"id=\(.token_id)\naccess_token=\(.access_token)"' >&3
