# The example providers' shared helpers. scripts/rootfs.sh installs this file
# in every image as /etc/credhook/provider.sh; each hook sources it.
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
# need_url INPUT VALUE [CODE]: https://HOST[:PORT][/PATH] (http:// only to
# 127.x.x.x or localhost), as credhook http accepts it, with no spaces, quotes,
# braces ({{…}} would be expanded by credhook http), user info, query or
# fragment; and, when the job sets CREDHOOK_HTTP_ALLOW, a host it allows
# (credhook http --check applies the job's allowlist: one set of rules).
# CODE (default ${P}_BAD_INPUT) is the error code of a malformed VALUE.
need_url() {
    c_code=${3:-${P}_BAD_INPUT}
    case $2 in
    "") fail "$c_code" "$1 is required" ;;
    *[!A-Za-z0-9._~:/%-]*) fail "$c_code" "$1 may hold only letters, digits and . _ ~ : / % - (no spaces, quotes, braces, user info, query or fragment)" ;;
    https://*) c_rest=${2#https://} ;;
    http://*) c_rest=${2#http://} ;;
    *) fail "$c_code" "$1 must start with https:// (http:// only to 127.0.0.1 or localhost)" ;;
    esac
    c_auth=${c_rest%%/*}
    c_host=${c_auth%%:*}
    case $c_host in
    "" | *[!A-Za-z0-9.-]*) fail "$c_code" "$1 must be https://HOST[:PORT][/PATH], HOST of letters, digits, '.' and '-'" ;;
    esac
    case $c_auth in
    *:*)
        c_port=${c_auth#*:}
        case $c_port in
        "" | *[!0-9]* | ??????*) fail "$c_code" "$1: the port must be a number from 1 to 65535" ;;
        esac
        [ "$c_port" -ge 1 ] && [ "$c_port" -le 65535 ] || fail "$c_code" "$1: the port must be a number from 1 to 65535"
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
        [ -n "$c_ok" ] || fail "$c_code" "$1: http:// only to 127.x.x.x or localhost; use https://"
        ;;
    esac
    if [ -n "${CREDHOOK_HTTP_ALLOW:-}" ]; then
        c_why=$(credhook http --check GET "$2" 2>&1) ||
            fail "${P}_HOST_NOT_ALLOWED" "$1: ${c_why#credhook http: GET refused: }"
    fi
}
# need_token WHERE VALUE: a credential of printable ASCII, no spaces.
need_token() {
    case $2 in
    "") fail "${P}_NO_LOGIN_SECRET" "$1 is empty or missing: store the bare credential there" ;;
    *[![:graph:]]*) fail "${P}_BAD_LOGIN_SECRET" "$1 holds spaces, line breaks or non-ASCII characters: store the bare credential, nothing else" ;;
    esac
}
# need_id VALUE [CODE MESSAGE]: a credentials id fit for a URL path segment
# (so no control character either: credhook refuses those). CODE and MESSAGE
# (default ${P}_BAD_CREDENTIALS_ID and a sentence on the rule) fail the task.
need_id() {
    case $1 in
    "" | . | .. | *[!A-Za-z0-9._-]*) fail "${2:-${P}_BAD_CREDENTIALS_ID}" "${3:-the credentials id must be letters, digits, '.', '_' or '-' (not . or ..)}" ;;
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
# Then it writes already_gone=true on fd 3, so that a rollback's description
# says the credentials were already gone rather than deleted.
gone() {
    [ "$status" = 404 ] || return 1
    c_said=$(printf %s "$body" | credhook json get "$1" 2>/dev/null) || return 1
    # $2 unquoted on purpose: it is a glob.
    # shellcheck disable=SC2254
    case $c_said in $2) ;; *) return 1 ;; esac
    echo already_gone=true >&3
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
    # The id as the delete will get it: checked before it goes out. An
    # escape in its JSON (a control character, which $(…) may drop) is no id.
    c_raw=$(printf %s "$body" | credhook json get "$id_path" 2>/dev/null) || c_raw=
    case $c_id in *\\*) c_raw=/ ;; esac
    c_id=$c_raw
    need_id "$c_id" "${P}_BAD_REPLY" "$VENDOR answered with a credentials id that is not letters, digits, '.', '_' or '-', so credhook cannot delete what it created: look in $VENDOR for ${LEFT:-one this task made}, and delete it"
    printf %s "$body" | credhook json out "id=$id_path" "$@" >&3 && return
    printf %s "$body" | credhook json out "id=$id_path" >&3
    fail "${P}_BAD_REPLY" "$VENDOR's reply lacks a documented field; the credential was created and is being deleted"
}
