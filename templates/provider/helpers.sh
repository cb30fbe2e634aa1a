# fail CODE MESSAGE: the task fails with ${P}_CODE and MESSAGE, on one line.
# credhook masks every secret it knows in MESSAGE; CODE is sent as it is.
fail() {
    printf 'error_code=%s_%s\nerror_message=%s\n' "$P" "$1" "$(printf %s "$2" | tr '\r\n' '  ')" >&3
    exit 1
}

# check_id ID: an id credhook can report and the delete can take back (in a
# URL path too): 1 to 128 letters, digits and . _ - (not . or .., never a
# line break). Checked before it is written.
check_id() {
    case $1 in
    "" | . | .. | *[!A-Za-z0-9._-]*) return 1 ;;
    esac
    [ ${#1} -le 128 ]
}

random() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
