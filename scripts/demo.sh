#!/usr/bin/env bash
# Runs credhook end to end on the local emulator: builds, starts the emulator
# over HTTPS with a throwaway CA, runs a create and a delete with
# scripts/hooks/example.sh, prints the task updates it received (secret
# values masked), and stops the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building credhook and the emulator"
cargo build --release --quiet -p credhook --bin credhook -p credhook-emulator --bin credhook-emulator
bin=target/release

work=$(mktemp -d)
trap 'kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

echo "==> starting the emulator (HTTPS, throwaway CA in $work)"
"$bin/credhook-emulator" --dir "$work" --api-key demo-api-key-0123456789 > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
[ -s "$work/url" ] || { cat "$work/emulator.log"; echo "the emulator did not start" >&2; exit 1; }
url=$(cat "$work/url")
cat "$work/emulator.log"

# What Secrets Manager and the Code Engine job definition would set.
export SM_INSTANCE_URL="$url" SM_SECRET_ID=0f9a2b1c-1111-4222-8333-944455556666 \
       SM_SECRET_NAME=demo-secret SM_SECRET_GROUP_ID=default \
       SM_ACCESS_APIKEY=demo-api-key-0123456789 \
       SMIN_TEAM="type:string, required:true" SM_TEAM_VALUE=payments \
       SMIN_TTL_DAYS="type:integer" SM_TTL_DAYS_VALUE=7 \
       SMOUT_USERNAME="type:string, required:true" SMOUT_TOKEN="type:string, required:true" \
       SMOUT_TTL_DAYS="type:integer" SMOUT_ADMIN="type:boolean"
# Local settings: the emulator is IAM too, and its CA is the only one trusted.
export CREDHOOK_IAM_URL="$url" CREDHOOK_CA_FILE="$work/ca.pem" \
       CREDHOOK_HOOK="$PWD/scripts/hooks/example.sh" CREDHOOK_LOG=text \
       EXAMPLE_STORE="$work/store"

echo
echo "==> credhook run: create_credentials"
SM_ACTION=create_credentials SM_TRIGGER=secret_creation SM_SECRET_TASK_ID=task-create \
    "$bin/credhook" run
id=$(grep -o '"credentials":{"id":"[^"]*"' "$work/updates.jsonl" | head -n1 | sed 's/.*"id":"//; s/"$//')

echo
echo "==> credhook run: delete_credentials $id"
SM_ACTION=delete_credentials SM_TRIGGER=secret_version_data_deletion SM_SECRET_TASK_ID=task-delete \
    SM_CREDENTIALS_ID="$id" SM_SECRET_VERSION_ID=v1 "$bin/credhook" run

echo
echo "==> task updates the emulator received (string payload values masked)"
sed -E 's/"(username|token)":"[^"]*"/"\1":"****"/g' "$work/updates.jsonl"
grep -q '"status":"credentials_created"' "$work/updates.jsonl"
grep -q '"status":"credentials_deleted"' "$work/updates.jsonl"
echo
echo "demo ok: created and deleted $id"
