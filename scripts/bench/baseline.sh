#!/bin/sh
# The baseline for scripts/bench.sh: the same job as `credhook run` done the
# obvious way in POSIX sh with curl and jq — token, hook, task update — reading
# the same environment. No input validation, no typing, no retries, no
# rollback: a floor for what a shell script costs, not a substitute.
set -eu
c="curl --silent --show-error --fail --max-time 30 --cacert $CREDHOOK_CA_FILE"
token=$($c -X POST -H 'Accept: application/json' \
    --data-urlencode 'grant_type=urn:ibm:params:oauth:grant-type:apikey' \
    --data-urlencode "apikey=$SM_ACCESS_APIKEY" "$CREDHOOK_IAM_URL/identity/token" | jq -r .access_token)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
case "$SM_ACTION" in
create_credentials)
    CREDHOOK_OUTPUT=$out "$CREDHOOK_HOOK" create
    id=$(sed -n 's/^id=//p' "$out")
    body=$(grep -v '^id=' "$out" | jq -R -n -c --arg id "$id" \
        '[inputs | select(length > 0) | capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k | ascii_downcase): .v}]
         | add | {status: "credentials_created", credentials: {id: $id, payload: .}}')
    ;;
delete_credentials)
    CREDHOOK_OUTPUT=$out "$CREDHOOK_HOOK" delete
    body='{"status":"credentials_deleted"}'
    ;;
esac
$c -X PUT -H "Authorization: Bearer $token" -H 'Content-Type: application/json' --data "$body" \
    "$SM_INSTANCE_URL/api/v2/secrets/$SM_SECRET_ID/tasks/$SM_SECRET_TASK_ID" >/dev/null
