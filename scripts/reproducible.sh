#!/usr/bin/env bash
# Checks that the build is reproducible: a clone of HEAD in another
# directory builds a static binary with the same sha256 as this checkout's
# target/static/credhook, and `scripts/image.sh build` gives one image ID
# twice here and once in the clone (under umask 077, its hook touched).
#
#   scripts/reproducible.sh [--nightly|--stable]   (default --nightly)
#
# Needs a committed, clean checkout (the clone is of HEAD) and a container
# engine (scripts/image.sh setup). Prints the sha256, the image ID and the time
# each part took.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:---nightly}
cd "$here"
git diff --quiet HEAD -- || { echo "reproducible.sh: this checkout has uncommitted changes; commit them (the clone is of HEAD)" >&2; exit 1; }
clone=$(mktemp -d "${TMPDIR:-/tmp}/credhook-repro.XXXXXX")
trap 'rm -rf -- "$clone"' EXIT
t0=$(date +%s)
scripts/build-static.sh "$mode" >&2
git clone -q --no-hardlinks "$here" "$clone/credhook"
(cd "$clone/credhook" && scripts/build-static.sh "$mode" >&2)
t1=$(date +%s)
a=$(sha256sum < target/static/credhook | cut -d' ' -f1)
b=$(sha256sum < "$clone/credhook/target/static/credhook" | cut -d' ' -f1)
echo "static binary: $a here, $b in $clone/credhook ($((t1 - t0)) s)"
[ "$a" = "$b" ] || { echo "reproducible.sh: the static binaries differ" >&2; exit 1; }
cmp -s target/static/credhook.cdx.json "$clone/credhook/target/static/credhook.cdx.json" ||
    { echo "reproducible.sh: the SBOMs differ" >&2; diff target/static/credhook.cdx.json "$clone/credhook/target/static/credhook.cdx.json" >&2 || true; exit 1; }
first=$(scripts/image.sh build scripts/hooks/example.sh 2>/dev/null | tail -n 1)
second=$(scripts/image.sh build scripts/hooks/example.sh 2>/dev/null | tail -n 1)
# The clone's under another umask, its hook touched: neither may matter.
third=$(cd "$clone/credhook" && umask 077 && touch scripts/hooks/example.sh &&
    scripts/image.sh build scripts/hooks/example.sh 2>/dev/null | tail -n 1)
t2=$(date +%s)
echo "image ID: $first, $second, $third in the clone ($((t2 - t1)) s)"
[ -n "$first" ] && [ "$first" = "$second" ] && [ "$second" = "$third" ] ||
    { echo "reproducible.sh: the image IDs differ" >&2; exit 1; }
echo "reproducible: one sha256, one image ID"
