#!/bin/sh
# credhook hook: X.509 server certificates, examples/certificate/ (IBM's
# example certificate provider's schema, plus signing with your own CA).
# Needs openssl in the image: scripts/rootfs.sh --with openssl DIR hook.sh
#
# Inputs (job_config.json):
#   SMIN_COMMON_NAME       required: the subject's CN (at most 64 bytes); when it
#                          is a DNS name or an IP address it is also a SAN
#   SMIN_ORG, SMIN_COUNTRY the subject's O (at most 64 bytes) and C (two letters)
#   SMIN_SAN               comma-separated DNS names (*.example.com allowed) and
#                          IPv4/IPv6 addresses; spaces around each are ignored
#   SMIN_EXPIRATION_DAYS   1-3650, default 90
#   SMIN_KEY_ALGO          RSA (2048 bits, the default) or ECDSA (P-256)
#   SMIN_SIGN_ALGO         SHA256 (the default) or SHA512
#   SMIN_CA_SECRET_ID      secret_id, optional: sign with this CA instead of
#                          self-signing: an imported_cert or private_cert secret
#                          with its private key, or an arbitrary secret whose
#                          payload is PEM (the CA certificate first, then its
#                          chain, and its unencrypted private key)
# Outputs: SMOUT_PRIVATE_KEY_BASE64 (base64 of the key's PEM: PKCS#1 "RSA
# PRIVATE KEY" or SEC1 "EC PRIVATE KEY", as IBM's provider writes them),
# SMOUT_CERTIFICATE_BASE64 (base64 of the certificate's PEM), and with a CA
# SMOUT_CHAIN_BASE64 (base64 of the PEM of the CA certificate and its chain).
# The credentials id is the certificate's serial number in hex (not secret).
# Extended key usage serverAuth; key usage digitalSignature (and
# keyEncipherment for RSA); basicConstraints CA:FALSE.
#
# create: the key and certificate are made with openssl in a private
#         directory (umask 077) that is removed on exit; keys go in and out of
#         openssl through files there, never through arguments.
# delete: nothing is kept anywhere, so there is nothing to delete: success.
set -fu
P=CERT
umask 077

# The shared helpers (fail, …): in the image at /etc/credhook/provider.sh
# (scripts/rootfs.sh puts them there), in a checkout beside this directory
# as examples/common.sh.
for c_lib in /etc/credhook/provider.sh "$(dirname -- "$0")/../common.sh"; do
    if [ -r "$c_lib" ]; then
        . "$c_lib"
        break
    fi
done
command -v fail >/dev/null 2>&1 || {
    echo "the provider helpers are missing: build the image with scripts/rootfs.sh" >&2
    exit 3
}

case ${1:-} in
delete)
    echo "certificate ${SM_CREDENTIALS_ID:-?}: nothing is kept, so there is nothing to delete (revoke it with its CA if it was shared)"
    # A rollback then says so, not that a certificate was deleted.
    echo already_gone=true >&3
    exit 0
    ;;
create) ;;
*) fail CERT_BAD_ACTION "the hook's argument must be create or delete" ;;
esac
command -v openssl >/dev/null 2>&1 || fail CERT_NO_OPENSSL "openssl is not in the image: build it with scripts/rootfs.sh --with openssl (deploy.sh --with openssl --packages openssl)"

# --- inputs, all checked before anything is made
# text NAME VALUE: printable text of at most 64 bytes (X.509's bound for CN and O).
text() {
    case $2 in
    *[[:cntrl:]]*) fail CERT_BAD_INPUT "$1 holds a control character (a line break, a tab, …)" ;;
    esac
    [ "${#2}" -le 64 ] || fail CERT_BAD_INPUT "$1 is longer than 64 bytes, X.509's limit"
}
cn=${SMIN_COMMON_NAME:-}
[ -n "$cn" ] || fail CERT_BAD_INPUT "common_name is required"
text common_name "$cn"
org=${SMIN_ORG:-}
text org "$org"
country=$(printf %s "${SMIN_COUNTRY:-}" | tr a-z A-Z)
case $country in
"" | [A-Z][A-Z]) ;;
*) fail CERT_BAD_INPUT "country must be a two-letter ISO 3166 code, e.g. US" ;;
esac

days=${SMIN_EXPIRATION_DAYS:-90}
days=${days#+}
while case $days in 0?*) true ;; *) false ;; esac; do days=${days#0}; done
case $days in
"" | *[!0-9]* | 0) fail CERT_BAD_INPUT "expiration_days must be a whole number of days from 1 to 3650" ;;
esac
[ "${#days}" -le 4 ] && [ "$days" -le 3650 ] || fail CERT_BAD_INPUT "expiration_days must be a whole number of days from 1 to 3650"

case ${SMIN_KEY_ALGO:-RSA} in
RSA) keygen="-algorithm RSA -pkeyopt rsa_keygen_bits:2048" usage="digitalSignature, keyEncipherment" ;;
ECDSA) keygen="-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve" usage="digitalSignature" ;;
*) fail CERT_BAD_INPUT "key_algo must be RSA or ECDSA" ;;
esac
case ${SMIN_SIGN_ALGO:-SHA256} in
SHA256) digest=-sha256 ;;
SHA512) digest=-sha512 ;;
*) fail CERT_BAD_INPUT "sign_algo must be SHA256 or SHA512" ;;
esac

# is_ipv4 VALUE: four numbers 0-255 without leading zeros.
is_ipv4() {
    case $1 in *[!0-9.]* | .* | *. | *..*) return 1 ;; esac
    c_n=0
    c_ifs=$IFS
    IFS=.
    for c_b in $1; do
        case $c_b in
        [0-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) c_n=$((c_n + 1)) ;;
        *) c_n=9 ;;
        esac
    done
    IFS=$c_ifs
    [ "$c_n" = 4 ]
}
# is_ipv6 VALUE: eight groups of 1-4 hex digits, or fewer around one "::",
# the last two may be an IPv4 address.
is_ipv6() {
    case $1 in
    *[!0-9A-Fa-f:.]* | *:::* | *::*::* | :[!:]* | *[!:]: | "") return 1 ;;
    esac
    c_groups=0
    c_ifs=$IFS
    IFS=:
    for c_g in $1; do
        case $c_g in
        "") ;;
        *.*) is_ipv4 "$c_g" || { IFS=$c_ifs; return 1; }; c_groups=$((c_groups + 2)) ;;
        ? | ?? | ??? | ????) case $c_g in *.*) IFS=$c_ifs; return 1 ;; esac; c_groups=$((c_groups + 1)) ;;
        *) IFS=$c_ifs; return 1 ;;
        esac
    done
    IFS=$c_ifs
    case $1 in
    *.*:*) return 1 ;; # an IPv4 tail is the last group
    *::*) [ "$c_groups" -le 7 ] ;;
    *) [ "$c_groups" = 8 ] ;;
    esac
}
# is_dns VALUE: a host name (labels of letters, digits and inner '-', at most
# 63 bytes each, 253 in all, the last not all digits: 10.0.0.256 is no
# name), the first label may be '*'.
is_dns() {
    [ "${#1}" -le 253 ] || return 1
    c_rest=$1
    case $c_rest in \*.*) c_rest=${c_rest#\*.} ;; esac
    case $c_rest in "" | .* | *. | *..* | *[!A-Za-z0-9.-]*) return 1 ;; esac
    case ${c_rest##*.} in *[!0-9]*) ;; *) return 1 ;; esac
    c_ifs=$IFS
    IFS=.
    for c_l in $c_rest; do
        case $c_l in
        "" | -* | *- | *[!A-Za-z0-9-]*) IFS=$c_ifs; return 1 ;;
        esac
        [ "${#c_l}" -le 63 ] || { IFS=$c_ifs; return 1; }
    done
    IFS=$c_ifs
    return 0
}
# san_of VALUE: the SAN entry for VALUE, or nothing.
san_of() {
    if is_ipv4 "$1"; then
        printf 'IP:%s' "$1"
    elif is_ipv6 "$1"; then
        printf 'IP:%s' "$1"
    elif is_dns "$1"; then
        printf 'DNS:%s' "$1"
    fi
}
sans=
add_san() {
    case ",$sans," in *",$1,"*) return 0 ;; esac
    sans=$sans${sans:+,}$1
}
# The CN first, when it names a host: clients match only SANs.
cn_san=$(san_of "$cn")
[ -z "$cn_san" ] || add_san "$cn_san"
c_ifs=$IFS
IFS=,
n_raw=0
for raw in ${SMIN_SAN:-}; do
    IFS=$c_ifs
    # Blank items are skipped without a process.
    case $raw in *[!\ \	]*) ;; *) continue ;; esac
    entry=$(printf %s "$raw" | tr -d ' \t')
    # Counted as they come: each entry costs a few processes, and a list of
    # thousands would hold the job for minutes if counted at the end.
    n_raw=$((n_raw + 1))
    [ "$n_raw" -le 100 ] || fail CERT_BAD_INPUT "san lists more than 100 names"
    s=$(san_of "$entry")
    [ -n "$s" ] || fail CERT_BAD_INPUT "san: \"$entry\" is neither a DNS name nor an IP address (comma-separated, e.g. api.example.com,*.example.com,10.0.0.1,2001:db8::1)"
    add_san "$s"
done
IFS=$c_ifs

# -subj: '\', '/', '+' and '=' are escaped (they separate RDNs and values).
esc() { printf %s "$1" | sed 's/[\\/+=]/\\&/g'; }
subj="/CN=$(esc "$cn")"
[ -z "$org" ] || subj="$subj/O=$(esc "$org")"
[ -z "$country" ] || subj="$subj/C=$country"

# --- the private directory: every key file lives here, and it goes on exit.
dir=$(mktemp -d "${TMPDIR:-/tmp}/cert.XXXXXX") || fail CERT_HOOK_ERROR "no private directory could be made in ${TMPDIR:-/tmp}"
trap 'rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM
export OPENSSL_CONF="$dir/openssl.cnf"
{
    printf '[ req ]\ndistinguished_name = dn\nprompt = no\nutf8 = yes\nstring_mask = utf8only\n[ dn ]\n'
    printf '[ leaf ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, %s\n' "$usage"
    printf 'extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\n'
    [ -z "$sans" ] || printf 'subjectAltName = %s\n' "$sans"
    printf '[ signed ]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, %s\n' "$usage"
    printf 'extendedKeyUsage = serverAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid, issuer\n'
    [ -z "$sans" ] || printf 'subjectAltName = %s\n' "$sans"
} >"$OPENSSL_CONF"
# ossl WHAT ARGS…: openssl with its messages kept in the directory; fails the
# task with its last line (openssl never prints key material there).
ossl() {
    c_what=$1
    shift
    openssl "$@" 2>"$dir/err" || fail CERT_OPENSSL_FAILED "openssl could not $c_what: $(tail -n 1 "$dir/err")"
}

# --- the CA, when one is given
ca=
if [ -n "${SMIN_CA_SECRET_ID:-}" ]; then
    ca=$dir/ca.pem
    case ${SMIN_CA_SECRET_ID_TYPE:-} in
    imported_cert | private_cert | public_cert)
        [ -n "${SMIN_CA_SECRET_ID_PRIVATE_KEY:-}" ] ||
            fail CERT_CA_NO_KEY "the ${SMIN_CA_SECRET_ID_TYPE} secret in ca_secret_id has no private key: import the CA with its key"
        printf '%s\n' "${SMIN_CA_SECRET_ID_CERTIFICATE:-}" >"$ca"
        printf '%s\n' "$SMIN_CA_SECRET_ID_PRIVATE_KEY" >"$dir/ca-key.pem"
        printf '%s\n' "${SMIN_CA_SECRET_ID_INTERMEDIATE:-}" >"$dir/ca-rest.pem"
        ;;
    arbitrary)
        printf '%s\n' "${SMIN_CA_SECRET_ID_PAYLOAD:-}" >"$dir/ca-all.pem"
        # The first certificate is the CA's, the others its chain.
        awk -v first="$ca" -v rest="$dir/ca-rest.pem" '
            /-----BEGIN CERTIFICATE-----/ { n++; inside = 1 }
            inside { print > (n == 1 ? first : rest) }
            /-----END CERTIFICATE-----/ { inside = 0 }' "$dir/ca-all.pem"
        sed -n '/-----BEGIN [A-Z ]*PRIVATE KEY-----/,/-----END [A-Z ]*PRIVATE KEY-----/p' "$dir/ca-all.pem" >"$dir/ca-key.pem"
        ;;
    *) fail CERT_CA_BAD_SECRET "ca_secret_id must name an imported_cert or private_cert secret with a private key, or an arbitrary secret holding PEM; got type ${SMIN_CA_SECRET_ID_TYPE:-none}" ;;
    esac
    grep -q -- '-----BEGIN CERTIFICATE-----' "$ca" 2>/dev/null ||
        fail CERT_CA_NO_CERTIFICATE "the secret in ca_secret_id holds no PEM certificate"
    grep -q -- 'PRIVATE KEY-----' "$dir/ca-key.pem" ||
        fail CERT_CA_NO_KEY "the secret in ca_secret_id holds no PEM private key: store the CA's unencrypted key with its certificate"
    ! grep -q -- 'ENCRYPTED' "$dir/ca-key.pem" ||
        fail CERT_CA_KEY_ENCRYPTED "the CA's private key in ca_secret_id is encrypted: store it unencrypted (Secrets Manager encrypts it)"
    openssl x509 -in "$ca" -noout 2>/dev/null || fail CERT_CA_NO_CERTIFICATE "the certificate in ca_secret_id cannot be read"
    openssl x509 -in "$ca" -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE' ||
        fail CERT_CA_NOT_A_CA "the certificate in ca_secret_id is not a CA (no basicConstraints CA:TRUE)"
    c_ku=$(openssl x509 -in "$ca" -noout -ext keyUsage 2>/dev/null) || c_ku=
    case $c_ku in
    "" | *"Certificate Sign"*) ;;
    *) fail CERT_CA_NOT_A_CA "the certificate in ca_secret_id may not sign certificates (its keyUsage lacks keyCertSign)" ;;
    esac
    c_cert_pub=$(openssl x509 -in "$ca" -noout -pubkey 2>/dev/null) || c_cert_pub=
    c_key_pub=$(openssl pkey -in "$dir/ca-key.pem" -pubout 2>/dev/null) ||
        fail CERT_CA_NO_KEY "the private key in ca_secret_id cannot be read"
    [ -n "$c_cert_pub" ] && [ "$c_cert_pub" = "$c_key_pub" ] ||
        fail CERT_CA_KEY_MISMATCH "the private key in ca_secret_id is not the key of its certificate"
    openssl x509 -in "$ca" -noout -checkend "$((days * 86400))" >/dev/null 2>&1 ||
        fail CERT_CA_EXPIRES_FIRST "the CA certificate in ca_secret_id expires within expiration_days ($days days): renew the CA or ask for fewer days"
fi

# --- the key and the certificate
serial=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
case $serial in *[!0-9a-f]* | "") fail CERT_HOOK_ERROR "no random serial number could be read" ;; esac
[ "${#serial}" = 32 ] || fail CERT_HOOK_ERROR "no random serial number could be read"
# Positive and never zero: the first hex digit becomes 1.
serial=$(printf %s "$serial" | sed 's/^./1/')
# shellcheck disable=SC2086 # $keygen is several options on purpose
ossl "make the private key" genpkey $keygen -out "$dir/key.pem"
ossl "write the private key" pkey -in "$dir/key.pem" -traditional -out "$dir/key-out.pem"
if [ -z "$ca" ]; then
    ossl "make the certificate" req -x509 -new -utf8 -key "$dir/key.pem" -subj "$subj" "$digest" \
        -days "$days" -set_serial "0x$serial" -extensions leaf -out "$dir/cert.pem"
else
    ossl "make the request" req -new -utf8 -key "$dir/key.pem" -subj "$subj" -out "$dir/req.pem"
    ossl "sign the certificate" x509 -req -in "$dir/req.pem" -CA "$ca" -CAkey "$dir/ca-key.pem" "$digest" \
        -days "$days" -set_serial "0x$serial" -extfile "$OPENSSL_CONF" -extensions signed -out "$dir/cert.pem"
    cat "$ca" "$dir/ca-rest.pem" 2>/dev/null | grep -v '^$' >"$dir/chain.pem"
fi
id=$(openssl x509 -in "$dir/cert.pem" -noout -serial 2>/dev/null) || fail CERT_OPENSSL_FAILED "the new certificate cannot be read"
id=${id#serial=}

{
    printf 'id=%s\nprivate_key_base64=' "$id"
    base64 -w 0 "$dir/key-out.pem"
    printf '\ncertificate_base64='
    base64 -w 0 "$dir/cert.pem"
    printf '\n'
    if [ -n "$ca" ]; then
        printf 'chain_base64='
        base64 -w 0 "$dir/chain.pem"
        printf '\n'
    fi
} >&3 || fail CERT_HOOK_ERROR "the outputs could not be written"
echo "made certificate $id for CN=$cn${sans:+ ($sans)}, valid $days days${ca:+, signed by the CA in ca_secret_id}"
