#!/bin/sh
# credhook hook: PostgreSQL login roles with read-only access to one schema.
#
# Job schema (examples/postgres/job_config.json):
#   SMIN_LOGIN_SECRET_ID  secret_id, required: an arbitrary secret whose payload is
#                         an admin connection URI, postgresql://admin:pw@host:port/db
#   SMIN_SCHEMA_NAME      string: the schema to grant read access on (default public)
#   SMOUT_USERNAME, SMOUT_PASSWORD, SMOUT_COMPOSED (a connection URI for the new role)
#
# create: a new LOGIN role with a random 32-byte password and, in one
#         transaction, USAGE on the schema and SELECT on its tables (now and
#         future ones created by the admin). The id is the role name.
# delete: drops the role named by SM_CREDENTIALS_ID (DROP OWNED BY revokes its
#         grants and default privileges first); succeeds
#         when it is already gone, because Secrets Manager retries deletes.
#
# SQL goes to psql on stdin, never on its command line, so the password is not
# visible in the process list. Needs psql (postgresql-client) on PATH.
set -eu

fail() { # code message
    printf 'error_code=%s\nerror_message=%s\n' "$1" "$2" > "$CREDHOOK_OUTPUT"
    exit 1
}

admin_uri=${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}
[ -n "$admin_uri" ] || fail PG_NO_ADMIN_URI "the secret in login_secret_id must be an arbitrary secret holding the admin connection URI"
case "$admin_uri" in
postgres://* | postgresql://*) ;;
*) fail PG_BAD_ADMIN_URI "the admin connection URI must start with postgresql://" ;;
esac
schema=${SMIN_SCHEMA_NAME:-public}
# Only plain identifiers: the schema name is spliced into SQL.
case "$schema" in
*[!a-z0-9_]* | [0-9]* | "") fail PG_BAD_SCHEMA "schema_name must be a lower-case identifier ([a-z_][a-z0-9_]*)" ;;
esac

psql_admin() {
    PGCONNECT_TIMEOUT=10 psql "$admin_uri" --no-psqlrc --quiet --set ON_ERROR_STOP=1 --tuples-only --no-align "$@"
}

case "$1" in
create)
    role="sm_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    password=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    if ! err=$(psql_admin --single-transaction 2>&1 >/dev/null <<SQL
CREATE ROLE "$role" LOGIN PASSWORD '$password' CONNECTION LIMIT 10;
GRANT CONNECT ON DATABASE "$(psql_admin -c 'SELECT current_database()' </dev/null)" TO "$role";
GRANT USAGE ON SCHEMA "$schema" TO "$role";
GRANT SELECT ON ALL TABLES IN SCHEMA "$schema" TO "$role";
ALTER DEFAULT PRIVILEGES IN SCHEMA "$schema" GRANT SELECT ON TABLES TO "$role";
SQL
    ); then
        echo "$err" >&2
        fail PG_CREATE_FAILED "creating the role failed: $(printf '%s' "$err" | tail -n 1)"
    fi
    # The new role's URI: the admin URI with the user and password replaced.
    rest=${admin_uri#*://}
    rest=${rest#*@}
    scheme=${admin_uri%%://*}
    {
        echo "id=$role"
        echo "username=$role"
        echo "password=$password"
        echo "composed=$scheme://$role:$password@$rest"
    } > "$CREDHOOK_OUTPUT"
    echo "created role $role with read access to schema $schema"
    ;;
delete)
    role=${SM_CREDENTIALS_ID:?SM_CREDENTIALS_ID is not set}
    case "$role" in
    sm_*) ;;
    *) fail PG_NOT_OURS "refusing to drop $role: this hook only drops the sm_* roles it created" ;;
    esac
    exists=$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'" </dev/null)
    if [ "$exists" != 1 ]; then
        echo "role $role is already gone"
        exit 0
    fi
    if ! err=$(psql_admin --single-transaction 2>&1 >/dev/null <<SQL
DROP OWNED BY "$role";
DROP ROLE "$role";
SQL
    ); then
        echo "$err" >&2
        fail PG_DELETE_FAILED "dropping the role failed: $(printf '%s' "$err" | tail -n 1)"
    fi
    echo "dropped role $role"
    ;;
*)
    echo "usage: $0 create|delete" >&2
    exit 2
    ;;
esac
