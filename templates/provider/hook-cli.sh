#!/bin/sh
# @@NAME@@: a credhook provider hook (made by `credhook new`). For each secret
# task credhook runs it with one argument:
#
#   create  makes a user on $SMIN_SERVER with @@TOOL@@ and writes its id,
#           username and password to fd 3 ($CREDHOOK_OUTPUT)
#   delete  removes the user $SM_CREDENTIALS_ID; succeeds when it is gone
#           already (Secrets Manager retries deletes)
#
# Inputs (job_config.json): login_secret_id, the admin credential (credhook
# resolves it: $SMIN_LOGIN_SECRET_ID_PAYLOAD for an arbitrary secret), and
# server, host[:port]. Outputs: username, password.
#
# FILL IN: vendor_create and vendor_delete. As generated they call a
# stand-in (between the STAND-IN marks) that keeps users as files in /tmp,
# so this provider runs under `credhook dry-run` and `scripts/image.sh try`
# before you write a line. README.md lists what else to change.
set -eu
P=@@PREFIX@@ # the prefix of this provider's error codes

@@HELPERS@@
# The inputs, checked before anything is called.
server=${SMIN_SERVER:-}
case $server in
"") fail BAD_INPUT "server is required: the host[:port] of your system" ;;
-* | *[!A-Za-z0-9.:-]*) fail BAD_INPUT "server must be host[:port]: letters, digits, '.', '-' and ':'" ;;
esac
# The server is chosen by the secret's creator, and the admin credential is
# sent there: the job's CREDHOOK_HTTP_ALLOW (set by you, the job's owner)
# bounds it as it bounds credhook http's calls. `credhook http --check`
# applies that list by credhook's own rules and sends nothing (a server
# without a port is checked as port 443: list the host without a port).
why=$(credhook http --check GET "https://$server/" 2>&1) ||
    fail HOST_NOT_ALLOWED "server $server: ${why#credhook http: }"
login=${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}
[ -n "$login" ] || fail NO_LOGIN_SECRET "login_secret_id must name an arbitrary secret holding the admin credential (it is ${SMIN_LOGIN_SECRET_ID_TYPE:-not resolved})"

# ---- FILL IN: your vendor's commands ------------------------------------
# Never put a secret on a command line: any process can read it in
# /proc/PID/cmdline. Give @@TOOL@@ secrets in its environment, on its stdin
# or in a file made under umask 077. What the hook prints goes to the job
# log with every secret credhook knows masked.

# vendor_create USER PASSWORD: makes USER with PASSWORD on $server.
vendor_create() {
    standin create "$1" "$2"; return # STAND-IN: delete this line
    # The statement on stdin, the admin credential in the environment.
    printf 'CREATE USER %s PASSWORD %s\n' "$1" "$2" |
        ADMIN_CREDENTIAL=$login @@TOOL@@ --host "$server" ||
        fail CREATE_FAILED "@@TOOL@@ could not create $1 on $server (the job log has its message)"
}

# vendor_delete USER: removes USER from $server; succeeds when there is no
# USER (the delete is retried, and a create that failed half-way is undone).
vendor_delete() {
    standin delete "$1"; return # STAND-IN: delete this line
    printf 'DROP USER IF EXISTS %s\n' "$1" |
        ADMIN_CREDENTIAL=$login @@TOOL@@ --host "$server" ||
        fail DELETE_FAILED "@@TOOL@@ could not delete $1 on $server (the job log has its message)"
}

# ==== STAND-IN: delete from here to "STAND-IN ends" ========================
# Users as files in /tmp (in a container, its own /tmp: a delete there finds
# the user gone, which is a success).
standin() {
    d=${TMPDIR:-/tmp}/@@NAME@@-standin
    mkdir -p "$d"
    case $1 in
    create)
        [ ! -e "$d/$2" ] || fail CREATE_FAILED "the user $2 exists already"
        (umask 077 && printf '%s\n' "$3" > "$d/$2")
        echo "stand-in: created $2 on $server"
        ;;
    delete)
        if [ -e "$d/$2" ]; then
            rm -f "$d/$2"
            echo "stand-in: deleted $2 on $server"
        else
            echo "stand-in: $2 was gone already"
        fi
        ;;
    esac
}
# ==== STAND-IN ends ========================================================

case ${1:-} in
create)
    # A new name each time, that says which secret it belongs to.
    user=$(printf %s "${SM_SECRET_NAME:-secret}" | tr -c 'A-Za-z0-9_-' - | cut -c1-40)-$(random 4)
    check_id "$user" || fail BAD_INPUT "cannot make a user name from the secret's name"
    password=$(random 24)
    # The id goes out first: if the create fails or is stopped half-way,
    # credhook runs the delete for it (which succeeds if there is no user).
    # Check the admin login before it: with a wrong one that delete fails
    # too, and the task says the user may remain when none was made.
    printf 'id=%s\n' "$user" >&3
    vendor_create "$user" "$password"
    printf 'username=%s\npassword=%s\n' "$user" "$password" >&3
    ;;
delete)
    id=${SM_CREDENTIALS_ID:-}
    check_id "$id" || fail BAD_CREDENTIALS_ID "the credentials id is not a user name this provider makes"
    vendor_delete "$id"
    ;;
*)
    echo "usage: $0 create|delete (credhook runs it: see README.md)" >&2
    exit 2
    ;;
esac
