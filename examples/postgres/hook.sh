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
#                           same service credentials JSON); sslmode must be
#                           verify-full or verify-ca (none means verify-full),
#                           against sslrootcert= or else the image's CA bundle
#   SMIN_SCHEMA_NAME      string: the schema to grant read access on (default
#                         public; not pg_* or information_schema)
#   SMOUT_USERNAME, SMOUT_PASSWORD, SMOUT_COMPOSED (a URI for the new role),
#   SMOUT_CERTIFICATE_BASE64 (the CA, when the login secret has one)
#
# create: a new LOGIN role sm_<12 hex> with a random 32-byte password, marked
#         with a comment (COMMENT ON ROLE), and, in the same transaction,
#         USAGE on the schema and SELECT on its tables (now and future ones
#         created by the admin). The id is the role name.
# delete: drops the role named by SM_CREDENTIALS_ID if it carries the mark
#         (DROP OWNED BY revokes its grants and default privileges first);
#         succeeds when it is already gone, because Secrets Manager retries
#         deletes. Works with a superuser or a CREATEROLE admin.
#
# Neither password reaches a command line (the process list): the admin's
# (from the URI's user part or its password= parameter) goes to psql as
# PGPASSWORD, the new role's inside SQL on psql's stdin. The server sees the
# new password in CREATE ROLE: with log_statement=ddl or all it is in the
# server's log.
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
}

cert_b64=""
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
# Only plain identifiers: the schema name is spliced into SQL. The system
# schemas would hand the new role pg_authid (every role's password hash),
# pg_statistic and pg_user_mapping.
case "$schema" in
*[!a-z0-9_]* | [0-9]* | "") fail PG_BAD_SCHEMA "schema_name must be a lower-case identifier ([a-z_][a-z0-9_]*)" ;;
pg_* | information_schema) fail PG_BAD_SCHEMA "schema_name $schema is a system schema (pg_catalog holds every role's password hash): name the schema with your data" ;;
esac

# %XX → the byte (for the password and query keys of a URI). awk, not
# printf '\xXX': the same in busybox, dash and bash.
pct_decode() { # text
    printf '%s\n' "$1" | LC_ALL=C awk '{
        s = $0; out = ""; h = "0123456789abcdef"
        while ((i = match(s, /%[0-9A-Fa-f][0-9A-Fa-f]/)) > 0) {
            b = 16 * (index(h, tolower(substr(s, i + 1, 1))) - 1) + index(h, tolower(substr(s, i + 2, 1))) - 1
            out = out substr(s, 1, i - 1) sprintf("%c", b)
            s = substr(s, i + 3)
        }
        printf "%s", out s
    }'
}

# scheme://user:password@host:port/db?query → the password (percent-decoded,
# from the user part or a password= parameter) to PGPASSWORD, and a URI
# without it for psql's command line.
# The user part ends at the first @ before any /, as libpq reads it.
scheme=${admin_uri%%://*}
rest=${admin_uri#*://}
case "${rest%%/*}" in
*@*) userinfo=${rest%%@*} hostpart=${rest#*@} ;;
*) fail PG_BAD_ADMIN_URI "the admin connection URI has no user: postgresql://user:password@host:port/db" ;;
esac
admin_user=${userinfo%%:*}
case "$userinfo" in
*:*) PGPASSWORD=$(pct_decode "${userinfo#*:}") ;;
*) PGPASSWORD="" ;;
esac
base=${hostpart%%\?*}
query="" mode="" rootcert=""
case "$hostpart" in
*\?*)
    set -f
    old_ifs=$IFS IFS='&'
    for param in ${hostpart#*\?}; do
        IFS=$old_ifs
        case "$param" in
        "") continue ;;
        *=*) ;;
        *) fail PG_BAD_ADMIN_URI "a parameter in the admin connection URI's query has no value: each must be key=value" ;;
        esac
        key=$(pct_decode "${param%%=*}")
        case "$key" in
        password) PGPASSWORD=$(pct_decode "${param#*=}") ;;
        sslpassword) fail PG_BAD_ADMIN_URI "the admin connection URI has sslpassword, which would be on psql's command line; use a client key without a passphrase" ;;
        sslmode)
            [ -z "$mode" ] || fail PG_BAD_ADMIN_URI "the admin connection URI gives sslmode twice"
            mode=$(pct_decode "${param#*=}")
            query="$query&$param"
            ;;
        sslrootcert)
            rootcert=1
            query="$query&$param"
            ;;
        *) query="$query&$param" ;;
        esac
    done
    IFS=$old_ifs
    set +f
    ;;
esac
export PGPASSWORD
# The new role's password crosses this connection in CREATE ROLE, so the
# server must be verified: no sslmode means verify-full, and a CA bundle is
# named when the URI names none (libpq 15 reads only ~/.postgresql/root.crt).
case "$mode" in
"")
    mode=verify-full
    query="$query&sslmode=verify-full"
    ;;
verify-ca | verify-full) ;;
*) fail PG_BAD_ADMIN_URI "the admin connection URI has sslmode=$mode, which does not verify the server and would send the new password to whoever answers: use sslmode=verify-full (with sslrootcert=FILE in the image, or a login secret holding the service credentials JSON with certificate_base64, for a private CA)" ;;
esac
[ -n "$rootcert" ] || query="$query&sslrootcert=/etc/ssl/certs/ca-certificates.crt"
login_uri="$scheme://$admin_user@$base?${query#&}"

psql_admin() {
    PGCONNECT_TIMEOUT=10 psql "$login_uri" --no-psqlrc --quiet --set ON_ERROR_STOP=1 --tuples-only --no-align "$@"
}

# psql's messages on one line, without its notices and warnings (a GRANT the
# admin may not give is a warning, not an error).
one_line() { # text
    printf '%s\n' "$1" | grep -v -e 'WARNING:' -e 'NOTICE:' | sed 's/^psql: error: //' | tr '\n\t' '  ' | tr -s ' ' | sed 's/ $//'
}

# Reaches the server as the admin (TLS verified).
connect() {
    if ! out=$(psql_admin -c 'SELECT 1' 2>&1 </dev/null); then
        echo "$out" >&2
        fail PG_CONNECT_FAILED "cannot log in to PostgreSQL as $admin_user: $(one_line "$out")"
    fi
}

# Roles this hook makes carry this comment; delete drops no other role.
mark='made by credhook for IBM Cloud Secrets Manager'

case "${1:-}" in
create)
    connect
    role="sm_$(od -An -tx1 -N6 /dev/urandom | tr -d ' \n')"
    password=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
    # role, password and schema are checked or made above (hex, identifier);
    # the database name is the server's to quote (format %I with \gexec), as
    # it may hold quotes and psql meta-commands. lock_timeout: a table locked
    # by someone else's long DDL fails the create instead of hanging it.
    if ! err=$(psql_admin --single-transaction 2>&1 >/dev/null <<SQL
SET LOCAL lock_timeout = '10s';
CREATE ROLE "$role" LOGIN PASSWORD '$password' CONNECTION LIMIT 10;
COMMENT ON ROLE "$role" IS '$mark';
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), '$role') \gexec
GRANT USAGE ON SCHEMA "$schema" TO "$role";
GRANT SELECT ON ALL TABLES IN SCHEMA "$schema" TO "$role";
ALTER DEFAULT PRIVILEGES IN SCHEMA "$schema" GRANT SELECT ON TABLES TO "$role";
SQL
    ); then
        echo "$err" >&2
        fail PG_CREATE_FAILED "creating the role failed: $(one_line "$err")"
    fi
    # The new role's URI: the admin URI's host and database, the new user,
    # the sslmode the admin connected with. The admin URI's other parameters
    # (sslrootcert and the like) name files inside this job, not where the
    # credentials are used.
    {
        echo "id=$role"
        echo "username=$role"
        echo "password=$password"
        echo "composed=$scheme://$role:$password@$base?sslmode=$mode"
        [ -z "$cert_b64" ] || echo "certificate_base64=$cert_b64"
    } > "$CREDHOOK_OUTPUT"
    echo "created role $role with read access to schema $schema"
    ;;
delete)
    role=${SM_CREDENTIALS_ID:?SM_CREDENTIALS_ID is not set}
    case "$role" in
    sm_[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
    *) fail PG_NOT_OURS "refusing to drop $role: this hook only drops the roles it made, sm_ and 12 hex digits" ;;
    esac
    connect
    # 'x' and the comment; nothing when the role is gone.
    if ! found=$(psql_admin -c "SELECT 'x' || coalesce(shobj_description(oid, 'pg_authid'), '') FROM pg_roles WHERE rolname = '$role'" 2>&1 </dev/null); then
        echo "$found" >&2
        fail PG_DELETE_FAILED "looking up role $role failed: $(one_line "$found")"
    fi
    case "$found" in
    "")
        echo "role $role is already gone"
        echo already_gone=true >&3
        exit 0
        ;;
    "x$mark") ;;
    *) fail PG_NOT_OURS "refusing to drop $role: the role exists but was not made by this hook (its comment is not '$mark')" ;;
    esac
    # DROP OWNED needs the privileges of the role: a CREATEROLE admin that is
    # not superuser (IBM Cloud Databases' admin) grants itself membership
    # first; DROP ROLE ends the membership with the role.
    if ! err=$(psql_admin --single-transaction 2>&1 >/dev/null <<SQL
SET LOCAL lock_timeout = '10s';
GRANT "$role" TO CURRENT_USER;
DROP OWNED BY "$role";
DROP ROLE "$role";
SQL
    ); then
        echo "$err" >&2
        fail PG_DELETE_FAILED "dropping the role failed: $(one_line "$err")"
    fi
    echo "dropped role $role"
    ;;
*)
    echo "usage: $0 create|delete" >&2
    exit 2
    ;;
esac
