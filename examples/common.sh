# --- common: the same block in every examples/*/hook.sh (tests/providers.rs checks) ---
# Each hook sets P (error code prefix), VENDOR, LOGIN (the input holding the
# admin credential), ERR_PATH (where the vendor's error message is) and
# HINT_404 before using these.
nl='
'
# fail CODE MESSAGE: the task's error on fd 3, on one line; stop.
fail() {
    printf 'error_code=%s\nerror_message=%s\n' "$1" "$(printf %s "$2" | tr '\r\n' '  ')" >&3
    exit 1
}
# need_url INPUT VALUE: an https:// URL (http:// only to loopback) with no
# spaces, quotes, braces ({{…}} would be expanded by credhook http), user
# info, query or fragment.
need_url() {
    case $2 in
    "") fail "${P}_BAD_INPUT" "$1 is required" ;;
    *[!A-Za-z0-9._~:/%-]*) fail "${P}_BAD_INPUT" "$1 may hold only letters, digits and . _ ~ : / % - (no spaces, quotes, braces, user info, query or fragment)" ;;
    https://?*) ;;
    http://127.* | http://localhost | http://localhost[:/]*) ;;
    *) fail "${P}_BAD_INPUT" "$1 must start with https:// (http:// only to 127.0.0.1 or localhost)" ;;
    esac
}
# need_token WHERE VALUE: a credential of printable ASCII, no spaces.
need_token() {
    case $2 in
    "") fail "${P}_NO_LOGIN_SECRET" "$1 is empty or missing: store the bare credential there" ;;
    *[![:graph:]]*) fail "${P}_BAD_LOGIN_SECRET" "$1 holds spaces, line breaks or non-ASCII characters: store the bare credential, nothing else" ;;
    esac
}
# need_id VALUE: a credentials id fit for a URL path.
need_id() {
    case $1 in
    "" | *[!A-Za-z0-9._-]*) fail "${P}_BAD_CREDENTIALS_ID" "the credentials id must be letters, digits, '.', '_' or '-'" ;;
    esac
}
# call ARGS...: credhook http --status ARGS; sets $status (000: no reply) and $body.
# No --retry: a create is never retried, and Secrets Manager retries tasks.
call() {
    rc=0
    reply=$(credhook http --status "$@") || rc=$?
    status=${reply%%"$nl"*}
    case $reply in *"$nl"*) body=${reply#*"$nl"} ;; *) body= ;; esac
    case $rc in
    0 | 1) ;;
    3) status=000 ;;
    *) fail "${P}_HOOK_ERROR" "credhook http refused a request of this hook (exit $rc); the job log has its message" ;;
    esac
}
# api_failed WHAT: fails the task with a message for $status.
api_failed() {
    detail=$(printf %s "$body" | credhook json get "$ERR_PATH" 2>/dev/null | head -c 300)
    detail=${detail:+: $detail}
    case $status in
    000) fail "${P}_UNREACHABLE" "$1: no reply from $VENDOR (connection, TLS or timeout error; the job log names it)" ;;
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
# credential instead of leaving it behind.
emit() {
    id_path=$1
    shift
    printf %s "$body" | credhook json out "id=$id_path" "$@" >&3 && return
    printf %s "$body" | credhook json out "id=$id_path" >&3
    fail "${P}_BAD_REPLY" "$VENDOR's reply lacks a documented field; the credential was created and is being deleted"
}
# --- end common ---
