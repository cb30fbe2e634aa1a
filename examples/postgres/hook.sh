#!/bin/sh
# credhook hook: PostgreSQL login roles with read-only access to one schema.
#
# Job schema (job_config.json beside this file):
#   SMIN_LOGIN_SECRET_ID  secret_id, required: the admin login, either
#                         - a service credentials secret of an IBM Cloud Databases
#                           for PostgreSQL instance (as IBM's provider takes it):
#                           connection.postgres.composed[0] is the URI and
#                           connection.postgres.certificate.certificate_base64 the
#                           CA; the connection is made with sslmode=verify-full; or
#                         - an arbitrary secret whose payload is an admin URI,
#                           postgresql://admin:pw@host:port/db[?sslmode=…] (or the
#                           same service credentials JSON)
#   SMIN_SCHEMA_NAME      string: the schema to grant read access on (default public)
#   SMOUT_USERNAME, SMOUT_PASSWORD, SMOUT_COMPOSED (a URI for the new role),
#   SMOUT_CERTIFICATE_BASE64 (the CA, when the login secret has one)
#
# create: a new LOGIN role with a random 32-byte password and, in one
#         transaction, USAGE on the schema and SELECT on its tables (now and
#         future ones created by the admin). The id is the role name.
# delete: drops the role named by SM_CREDENTIALS_ID (DROP OWNED BY revokes its
#         grants and default privileges first); succeeds when it is already
#         gone, because Secrets Manager retries deletes.
#
# Neither password reaches a command line (the process list): the admin's
# goes to psql as PGPASSWORD, the new role's inside SQL on psql's stdin.
# Needs psql on PATH (the image: scripts/rootfs.sh --with psql), busybox's
# base64 and od, and `credhook json` for the service credentials JSON.
set -eu

fail() { # code message
    printf 'error_code=%s\nerror_message=%s\n' "$1" "$2" > "$CREDHOOK_OUTPUT"
    exit 1
}

ca_file=""
trap '[ -z "$ca_file" ] || rm -f "$ca_file"' EXIT
trap 'exit 143' TERM INT HUP # so the EXIT trap runs when credhook stops the hook

# The service credentials JSON of an IBM Cloud Databases instance: the admin
# URI (its query replaced by verify-full against the instance's own CA).
from_service_credentials() { # json
    composed=$(printf %s "$1" | credhook json get '.connection.postgres.composed[0]') ||
        fail PG_BAD_LOGIN_SECRET "the service credentials in login_secret_id have no connection.postgres.composed[0]: use the credentials of a Databases for PostgreSQL instance"
    cert_b64=$(printf %s "$1" | credhook json get '.connection.postgres.certificate.certificate_base64') ||
        fail PG_BAD_LOGIN_SECRET "the service credentials in login_secret_id have no connection.postgres.certificate.certificate_base64"
    ca_file=$(mktemp /tmp/pg-ca.XXXXXX)
    printf %s "$cert_b64" | base64 -d > "$ca_file" 2>/dev/null ||
        fail PG_BAD_LOGIN_SECRET "connection.postgres.certificate.certificate_base64 is not base64"
    case "$cert_b64" in
    *[!A-Za-z0-9+/=]* | "") fail PG_BAD_LOGIN_SECRET "connection.postgres.certificate.certificate_base64 is not base64" ;;
    esac
    admin_uri="${composed%%\?*}?sslmode=verify-full&sslrootcert=$ca_file"
    out_query="?sslmode=verify-full"
}

cert_b64="" out_query=""
case "${SMIN_LOGIN_SECRET_ID_TYPE:-}" in
service_credentials)
    from_service_credentials "${SMIN_LOGIN_SECRET_ID_CREDENTIALS:-}"
    ;;
*)
    admin_uri=${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}
    case "$admin_uri" in
    "") fail PG_NO_ADMIN_URI "the secret in login_secret_id must be a service credentials secret of a Databases for PostgreSQL instance, or an arbitrary secret holding the admin connection URI" ;;
    "{"*) from_service_credentials "$admin_uri" ;;
    esac
    ;;
esac
case "$admin_uri" in
*[[:space:][:cntrl:]]*) fail PG_BAD_ADMIN_URI "the admin connection URI contains spaces or control characters; percent-encode them" ;;
postgres://* | postgresql://*) ;;
*) fail PG_BAD_ADMIN_URI "the admin connection URI must start with postgresql://" ;;
esac
schema=${SMIN_SCHEMA_NAME:-public}
# Only plain identifiers: the schema name is spliced into SQL.
case "$schema" in
*[!a-z0-9_]* | [0-9]* | "") fail PG_BAD_SCHEMA "schema_name must be a lower-case identifier ([a-z_][a-z0-9_]*)" ;;
esac

# scheme://user:password@host:port/db?query → the password (percent-decoded)
# to PGPASSWORD, and a URI without it for psql's command line.
scheme=${admin_uri%%://*}
rest=${admin_uri#*://}
case "$rest" in
*@*) userinfo=${rest%@*} hostpart=${rest##*@} ;;
*) fail PG_BAD_ADMIN_URI "the admin connection URI has no user: postgresql://user:password@host:port/db" ;;
esac
admin_user=${userinfo%%:*}
case "$userinfo" in
*:*) PGPASSWORD=$(printf '%b' "$(printf %s "${userinfo#*:}" | sed 's/\\/\\\\/g; s/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')") ;;
*) PGPASSWORD="" ;;
esac
export PGPASSWORD
login_uri="$scheme://$admin_user@$hostpart"

psql_admin() {
    PGCONNECT_TIMEOUT=10 psql "$login_uri" --no-psqlrc --quiet --set ON_ERROR_STOP=1 --tuples-only --no-align "$@"
}

# Reaches the server as the admin (TLS verified when the URI asks for it);
# sets db to the database name.
connect() {
    if ! out=$(psql_admin -c 'SELECT current_database()' 2>&1 </dev/null); then
        err=$(printf '%s\n' "$out" | tail -n 1)
        echo "$err" >&2
        fail PG_CONNECT_FAILED "cannot log in to PostgreSQL as $admin_user: $err"
    fi
    db=$(printf '%s\n' "$out" | tail -n 1)
}

case "${1:-}" in
create)
    connect
    role="sm_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    password=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    if ! err=$(psql_admin --single-transaction 2>&1 >/dev/null <<SQL
CREATE ROLE "$role" LOGIN PASSWORD '$password' CONNECTION LIMIT 10;
GRANT CONNECT ON DATABASE "$db" TO "$role";
GRANT USAGE ON SCHEMA "$schema" TO "$role";
GRANT SELECT ON ALL TABLES IN SCHEMA "$schema" TO "$role";
ALTER DEFAULT PRIVILEGES IN SCHEMA "$schema" GRANT SELECT ON TABLES TO "$role";
SQL
    ); then
        echo "$err" >&2
        fail PG_CREATE_FAILED "creating the role failed: $(printf '%s' "$err" | tail -n 1)"
    fi
    # The new role's URI: the admin URI's host and database, the new user.
    # Of the admin URI's query only sslmode is kept: sslrootcert and the like
    # name files inside this job, not where the credentials are used.
    base=${hostpart%%\?*}
    query=${out_query}
    if [ -z "$query" ]; then
        case "$hostpart" in
        *\?sslmode=* | *\&sslmode=*)
            mode=${hostpart#*sslmode=}
            query="?sslmode=${mode%%&*}"
            ;;
        esac
    fi
    {
        echo "id=$role"
        echo "username=$role"
        echo "password=$password"
        echo "composed=$scheme://$role:$password@$base$query"
        [ -z "$cert_b64" ] || echo "certificate_base64=$cert_b64"
    } > "$CREDHOOK_OUTPUT"
    echo "created role $role with read access to schema $schema"
    ;;
delete)
    role=${SM_CREDENTIALS_ID:?SM_CREDENTIALS_ID is not set}
    case "$role" in
    sm_*) ;;
    *) fail PG_NOT_OURS "refusing to drop $role: this hook only drops the sm_* roles it created" ;;
    esac
    case "$role" in
    *[!a-z0-9_]*) fail PG_NOT_OURS "refusing to drop $role: not a role name this hook makes" ;;
    esac
    connect
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
