#!/usr/bin/env bash
# Builds credhook as a static x86_64-unknown-linux-musl binary and checks that
# it is static (no interpreter, no dynamic section). Output: target/static/credhook,
# with its dependency list embedded by `cargo auditable` (the .dep-v0 section,
# which cargo audit, trivy, grype and syft read from a deployed binary: 568
# bytes), and target/static/credhook.cdx.json, a CycloneDX SBOM of the crates
# in it (scripts/sbom.py reads them from that section).
#
#   scripts/build-static.sh            stable Rust: release profile (opt-level z, LTO,
#                                      one codegen unit, panic=abort, strip) and a
#                                      non-PIE static relocation model (.cargo/config.toml)
#   scripts/build-static.sh --nightly  the same, plus std rebuilt for size with
#                                      -Z build-std and panic=immediate-abort (drops
#                                      std's backtrace printer and all unwind tables:
#                                      ~570 KB smaller)
#
# Installs the musl target (and for --nightly, rust-src) with rustup,
# Debian's musl-tools (ring's C code needs x86_64-linux-musl-gcc) and
# cargo-auditable (cargo install, from crates.io) when missing.
#
# Reproducible: the same commit gives the same bytes in any directory (.ci/run
# checks it); the SBOM's timestamp is SOURCE_DATE_EPOCH, else HEAD's commit time.
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

# The dependency list in the binary: cargo auditable wraps rustc. A pinned
# version, so that two machines write the same section: another version
# installed with `cargo install` is replaced (`cargo auditable --version`
# prints cargo's version, so `cargo install --list` tells which is there).
auditable_version=0.7.7
if ! cargo auditable --version >/dev/null 2>&1 ||
    ! cargo install --list 2>/dev/null | grep -qx "cargo-auditable v$auditable_version:"; then
    echo "installing cargo-auditable $auditable_version (embeds the dependency list; ~1 min, from crates.io)" >&2
    cargo install --quiet --locked --version "$auditable_version" cargo-auditable >&2 ||
        { echo "cargo install cargo-auditable failed: the binary needs it for its dependency list" >&2; exit 1; }
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
        cargo +nightly auditable build --release --target "$target" --manifest-path "$manifest" -p "$pkg" --bin "$pkg" \
        -Z build-std=std,panic_abort
else
    rustup target add "$target" >/dev/null
    cargo auditable build --release --target "$target" --manifest-path "$manifest" -p "$pkg" --bin "$pkg"
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
if ! readelf -S "$bin" | grep -q '\.dep-v0'; then
    echo "error: $bin has no .dep-v0 section: cargo auditable did not embed the dependency list" >&2
    exit 1
fi
mkdir -p "$out"
# Each file replaced by a rename: the old binary may be running (a test, an
# image.sh try: copying over it fails with "Text file busy"), and no reader
# (rootfs.sh, another build) may see half a file.
cp "$bin" "$out/$pkg.tmp.$$"
mv -f "$out/$pkg.tmp.$$" "$out/$pkg"
echo "$mode" > "$out/$pkg.mode.tmp.$$"
mv -f "$out/$pkg.mode.tmp.$$" "$out/$pkg.mode"
if [ "$mode" = nightly ]; then rustc_v=$(rustc +nightly -V); else rustc_v=$(rustc -V); fi
SBOM_RUSTC=$rustc_v SBOM_TARGET=$target python3 scripts/sbom.py "$out/$pkg" "$manifest" > "$out/$pkg.cdx.json.tmp.$$"
mv -f "$out/$pkg.cdx.json.tmp.$$" "$out/$pkg.cdx.json"
echo "target/static/$pkg: $(stat -c %s "$out/$pkg") bytes, static ($mode), sha256 $(sha256sum "$out/$pkg" | cut -d' ' -f1), SBOM $pkg.cdx.json: $("$out/$pkg" --version 2>/dev/null || true)"
