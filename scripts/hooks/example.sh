#!/bin/sh
# An example credhook hook: a "credential store" that is just a directory of
# files, so the demo needs nothing but a shell. A real hook would call psql,
# jf, curl … in the same places.
#
#   create: make a user and a random token, report them on $CREDHOOK_OUTPUT
#   delete: remove the credentials named by $SM_CREDENTIALS_ID; succeed if
#           they are already gone (Secrets Manager retries deletes)
#
# Inputs (declared in the job as SMIN_*; job_config.json beside this file):
# SMIN_TEAM (string; default demo), SMIN_TTL_DAYS (integer). Outputs
# (SMOUT_*): username, token, ttl_days, admin.
set -eu
store=${EXAMPLE_STORE:-/tmp/credhook-example-store}
mkdir -p "$store"

case "$1" in
create)
    id="cred-$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    user="svc-${SMIN_TEAM:-demo}-$(od -An -tx1 -N3 /dev/urandom | tr -d ' \n')"
    token="tok-$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')"
    if [ -e "$store/$user" ]; then
        printf 'error_code=EX_TAKEN\nerror_message=user %s exists already\n' "$user" > "$CREDHOOK_OUTPUT"
        exit 1
    fi
    printf '%s %s\n' "$id" "$token" > "$store/$user"
    echo "created $user (token $token)"   # the job log shows the token as [REDACTED]
    {
        echo "id=$id"
        echo "username=$user"
        echo "token=$token"
        echo "ttl_days=${SMIN_TTL_DAYS:-30}"
        echo "admin=false"
    } > "$CREDHOOK_OUTPUT"
    ;;
delete)
    gone=0
    for f in "$store"/*; do
        [ -e "$f" ] || continue
        if [ "$(cut -d' ' -f1 "$f")" = "$SM_CREDENTIALS_ID" ]; then
            rm -f "$f"
            gone=1
            echo "deleted $SM_CREDENTIALS_ID ($(basename "$f"))"
        fi
    done
    [ "$gone" = 1 ] || echo "$SM_CREDENTIALS_ID was already gone"
    ;;
*)
    echo "usage: $0 create|delete" >&2
    exit 2
    ;;
esac
