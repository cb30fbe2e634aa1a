#!/bin/sh
# Tests this provider (@@NAME@@) the way credhook runs it, with no cloud
# account:
#
#   1. credhook check            job_config.json
#   2. credhook dry-run          the create, its outputs checked against the
#                                schema; then, as a run of its own (as in Code
#                                Engine), `dry-run --delete` of the new id
#   3. scripts/image.sh try      the image this Containerfile builds FROM
#                                credhook's base, run as Code Engine runs it
#                                (create, then delete) against credhook's
#                                emulator of IAM and Secrets Manager
#
#   ./test.sh [--no-image]
#
# Needs `credhook` on PATH: in a credhook checkout, `cargo build --release`,
# then PATH=<checkout>/target/release:$PATH. Step 3 needs that checkout
# (CREDHOOK_CHECKOUT, default: the one that credhook was built in) and podman
# or docker (the checkout's `scripts/image.sh setup` installs podman; as
# root, without an engine, image.sh runs the image root in a chroot)@@NEEDS_TOOLS@@.
#
# LOGIN_SECRET=FILE: the login secret as GET /api/v2/secrets/{id} returns it,
# e.g. {"secret_type":"arbitrary","payload":"…"} (default: ./login.json if
# there is one, else a stand-in). TEST_@@INPUT_UPPER@@=…: the @@INPUT@@ input (default
# @@INPUT_EXAMPLE@@).
set -eu
# A relative LOGIN_SECRET names a file where test.sh was run from.
case ${LOGIN_SECRET:-} in
"" | /*) ;;
*) LOGIN_SECRET=$PWD/$LOGIN_SECRET ;;
esac
cd "$(dirname "$0")"
image=1
case ${1:-} in
"") ;;
--no-image) image=0 ;;
*) echo "usage: ./test.sh [--no-image]" >&2; exit 2 ;;
esac
command -v credhook >/dev/null 2>&1 || {
    echo "test.sh: credhook is not on PATH: cargo build --release in a credhook checkout, then PATH=<checkout>/target/release:\$PATH" >&2
    exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
login=${LOGIN_SECRET:-login.json}
if [ ! -f "$login" ]; then
    [ -z "${LOGIN_SECRET:-}" ] || { echo "test.sh: LOGIN_SECRET=$login is not a file" >&2; exit 1; }
    login=$work/login.json
    printf '{"secret_type":"arbitrary","payload":"stand-in-admin-credential"}\n' > "$login"
fi
value=${TEST_@@INPUT_UPPER@@:-@@INPUT_EXAMPLE@@}

echo "==> credhook check job_config.json"
credhook check job_config.json

echo "==> credhook dry-run --keep (the create)"
out=$(CREDHOOK_HOOK=./hook.sh credhook dry-run --keep --secret "login_secret_id=@$login" --input "@@INPUT@@=$value") || {
    printf '%s\n' "$out"
    exit 1
}
printf '%s\n' "$out"
id=$(printf '%s\n' "$out" | sed -n 's/^created credentials //p')
[ -n "$id" ] || { echo "test.sh: dry-run printed no credentials id" >&2; exit 1; }

echo "==> credhook dry-run --delete $id"
CREDHOOK_HOOK=./hook.sh credhook dry-run --delete "$id" --secret "login_secret_id=@$login" --input "@@INPUT@@=$value"

if [ "$image" = 0 ]; then
    echo "test.sh: check and dry-run ok (--no-image: the image was not tried)"
    exit 0
fi
checkout=${CREDHOOK_CHECKOUT:-$(dirname "$(readlink -f "$(command -v credhook)")")/../..}
[ -x "$checkout/scripts/image.sh" ] || {
    echo "test.sh: $checkout is not a credhook checkout (no scripts/image.sh): set CREDHOOK_CHECKOUT, or run ./test.sh --no-image" >&2
    exit 1
}
for tool in @@TOOLS@@; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "test.sh: $tool is not installed here, and the image takes it from this machine: install it, or run ./test.sh --no-image" >&2
        exit 1
    }
done
engine=${ENGINE:-}
if [ -z "$engine" ]; then
    for e in podman docker; do
        if command -v "$e" >/dev/null 2>&1 && "$e" info >/dev/null 2>&1; then
            engine=$e
            break
        fi
    done
fi
set -- --secret "login_secret_id=@$login" --env "SM_@@INPUT_UPPER@@_VALUE=$value"
if [ -n "$engine" ] && [ "$engine" != none ]; then
    echo "==> the base image @@BASE@@ (scripts/image.sh build)"
    ENGINE=$engine "$checkout/scripts/image.sh" build --tag @@BASE@@@@WITH@@ none >/dev/null
    echo "==> $engine build: this Containerfile, FROM that base"
    "$engine" build --platform linux/amd64 -q -t localhost/@@NAME@@:test . >/dev/null
    echo "==> scripts/image.sh try"
    ENGINE=$engine "$checkout/scripts/image.sh" try --image localhost/@@NAME@@:test "$@"
else
    echo "==> scripts/image.sh try (no container engine answers: image.sh says how to get one)"
    "$checkout/scripts/image.sh" try@@WITH@@ "$@" ./hook.sh
fi
