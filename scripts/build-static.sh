#!/usr/bin/env bash
# Builds credhook as a static x86_64-unknown-linux-musl binary and checks that
# it is static (no interpreter, no dynamic section). Output: target/static/credhook.
#
#   scripts/build-static.sh            stable Rust: release profile (opt-level z, LTO,
#                                      one codegen unit, panic=abort, strip) and a
#                                      non-PIE static relocation model (.cargo/config.toml)
#   scripts/build-static.sh --nightly  the same, plus std rebuilt for size with
#                                      -Z build-std and panic=immediate-abort (drops
#                                      std's backtrace printer and all unwind tables:
#                                      ~570 KB smaller)
#
# Installs the musl target (and for --nightly, rust-src) with rustup, and
# Debian's musl-tools (ring's C code needs x86_64-linux-musl-gcc) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=stable
case "${1:-}" in
    "" | --stable) ;;
    --nightly) mode=nightly ;;
    *) echo "usage: $0 [--stable|--nightly]" >&2; exit 2 ;;
esac
target=x86_64-unknown-linux-musl
out=target/static
# scripts/bench.sh builds its hello-world floor through this same script.
pkg=${BUILD_STATIC_PACKAGE:-credhook}
manifest=${BUILD_STATIC_MANIFEST:-Cargo.toml}

if ! command -v x86_64-linux-musl-gcc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing musl-tools" >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
    else
        echo "x86_64-linux-musl-gcc is missing: install Debian's musl-tools (apt-get install musl-tools)" >&2
        exit 1
    fi
fi

# A separate target dir: this may run while another cargo holds target/.
export CARGO_TARGET_DIR=target/static-build-$pkg
if [ "$mode" = nightly ]; then
    rustup toolchain list | grep -q '^nightly' ||
        rustup toolchain install nightly --profile minimal >/dev/null
    rustup component add rust-src --toolchain nightly >/dev/null
    rustup target add "$target" --toolchain nightly >/dev/null
    # -Z flags need the full RUSTFLAGS (they replace .cargo/config.toml's).
    RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -C force-unwind-tables=no" \
        cargo +nightly build --release --target "$target" --manifest-path "$manifest" -p "$pkg" --bin "$pkg" \
        -Z build-std=std,panic_abort
else
    rustup target add "$target" >/dev/null
    cargo build --release --target "$target" --manifest-path "$manifest" -p "$pkg" --bin "$pkg"
fi

bin="$CARGO_TARGET_DIR/$target/release/$pkg"
if readelf -l "$bin" | grep -q 'INTERP'; then
    echo "error: $bin has a program interpreter: it is not static" >&2
    exit 1
fi
if ! readelf -d "$bin" | grep -q 'There is no dynamic section'; then
    echo "error: $bin has a dynamic section: it is not static" >&2
    exit 1
fi
mkdir -p "$out"
cp "$bin" "$out/$pkg"
echo "$mode" > "$out/$pkg.mode"
echo "target/static/$pkg: $(stat -c %s "$out/$pkg") bytes, static ($mode): $("$out/$pkg" --version 2>/dev/null || true)"
