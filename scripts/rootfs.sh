#!/usr/bin/env bash
# Assembles in DIR exactly the files of the image's final `FROM scratch`
# stage: the Containerfile runs this script and copies DIR whole, so the two
# cannot drift.
#
#   scripts/rootfs.sh [--with TOOL]... [--binary PATH | --no-build] DIR [HOOK]
#
#   HOOK             defaults to scripts/hooks/example.sh; `none` (or --no-hook)
#                    leaves /hook out: a base image for providers built FROM it
#   --with TOOL      a command on this machine's PATH (psql, jq, …), copied with
#                    everything it needs to start (repeat for more tools)
#   --binary PATH    the credhook to put in the image, instead of this
#                    checkout's target/static/credhook: checked to be a
#                    static executable that answers `--version` as credhook
#   --no-build       refuse, instead of building it, when
#                    target/static/credhook is missing
#
#   /credhook        the static binary: --binary PATH, else
#                    target/static/credhook (built when missing, saying so,
#                    with scripts/build-static.sh)
#   /bin/credhook    a link to it, so hooks call `credhook http|json` on PATH
#   /hook            HOOK, mode 0755
#   /bin/busybox     a static busybox, with a link per applet (/bin/sh, cat, sed, …)
#   /etc/credhook/provider.sh  the example providers' shared shell helpers
#                    (examples/common.sh), sourced by their hooks
#   /etc/passwd,group  root and the non-root user credhook (10001:10001, HOME /tmp)
#   /tmp             mode 1777, for hooks (and the HOME of the user credhook)
#   /proc, /dev      empty mount points for the container runtime
#
# Each --with TOOL adds /bin/TOOL (replacing a busybox applet of that name),
# its whole shared-library closure at the paths the dynamic loader looks in,
# and the loader itself. A tool with $ORIGIN in its RPATH/RUNPATH keeps its
# own path, /bin/TOOL linking to it. Libraries a tool dlopen()s, and ones
# only LD_LIBRARY_PATH finds, are not copied (the latter are refused). A tool that links a TLS library (libssl, libgnutls)
# also gets the build machine's CA bundle as /etc/ssl/certs/ca-certificates.crt
# (and OpenSSL's default /usr/lib/ssl/cert.pem pointing at it). A setuid or
# setgid file is refused, and so is a tool that is not an ELF executable
# (a script: put it in your hook instead). Debian's /usr/bin/psql (a Perl
# wrapper picking a version) is replaced by the newest
# /usr/lib/postgresql/*/bin/psql.
#
# BUSYBOX names the static busybox to use (default /bin/busybox, from
# Debian's busybox-static, installed when missing and running as root).
#
# DIR is replaced whole, so it must be missing, empty, or a root this script
# made (it writes /.credhook-rootfs to say so), with nothing mounted under it.
# Every tool is checked before DIR is touched; a build that fails part-way
# leaves DIR empty. Modes do not depend on the caller's umask or a setgid
# parent directory.
set -euo pipefail
umask 022 # the image's modes, whatever the caller's umask
usage() { echo "usage: $0 [--with TOOL]... [--binary PATH | --no-build] [--no-hook] DIR [HOOK|none]" >&2; exit 2; }

tools=() no_hook=0 args=() binary="" no_build=0
while [ $# -gt 0 ]; do
    case "$1" in
    --with) [ $# -ge 2 ] && [ -n "$2" ] || { echo "rootfs.sh: --with needs a tool name" >&2; usage; }
        tools+=("$2"); shift 2 ;;
    --with=*) tools+=("${1#--with=}"); shift ;;
    --no-hook) no_hook=1; shift ;;
    --binary) [ $# -ge 2 ] && [ -n "$2" ] || { echo "rootfs.sh: --binary needs a file" >&2; usage; }
        binary=$2; shift 2 ;;
    --binary=*) binary=${1#--binary=}; shift ;;
    --no-build) no_build=1; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "rootfs.sh: unknown option $1" >&2; usage ;;
    *) args+=("$1"); shift ;;
    esac
done
[ ${#args[@]} -ge 1 ] && [ ${#args[@]} -le 2 ] || usage
root_dir=${args[0]}
# `link/` would resolve a symlink before the checks below see it.
while [ "${#root_dir}" -gt 1 ] && [ "${root_dir%/}" != "$root_dir" ]; do root_dir=${root_dir%/}; done
[ "$root_dir" != / ] || { echo "rootfs.sh: DIR cannot be /" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
hook=${args[1]:-$here/scripts/hooks/example.sh}
[ "$hook" != none ] || no_hook=1
busybox=${BUSYBOX:-/bin/busybox}

[ "$no_hook" = 1 ] || [ -f "$hook" ] || { echo "rootfs.sh: hook file $hook does not exist (HOOK=none builds the base image without one)" >&2; exit 1; }
# An ELF file without a program interpreter.
file_is_static() { readelf -h "$1" >/dev/null 2>&1 && ! readelf -l "$1" | grep -q INTERP; }
if [ -n "$binary" ]; then
    [ -f "$binary" ] && [ -x "$binary" ] || { echo "rootfs.sh: --binary $binary is not an executable file" >&2; exit 1; }
    # A bare name would be looked up on PATH by the --version check below,
    # which would then vouch for another file than the one installed.
    case "$binary" in /*) ;; *) binary=$PWD/$binary ;; esac
    file_is_static "$binary" || {
        echo "rootfs.sh: --binary $binary is not a static executable (it is not ELF, or it names a program interpreter): the image has no libc; build one with scripts/build-static.sh" >&2
        exit 1
    }
    case "$("$binary" --version 2>/dev/null || true)" in
    "credhook "*) ;;
    *) echo "rootfs.sh: --binary $binary does not answer --version as credhook does" >&2; exit 1 ;;
    esac
elif [ ! -x "$here/target/static/credhook" ]; then
    if [ "$no_build" = 1 ]; then
        echo "rootfs.sh: $here/target/static/credhook is missing and --no-build says not to build it: run scripts/build-static.sh (or --nightly), or give --binary PATH" >&2
        exit 1
    fi
    echo "rootfs.sh: target/static/credhook is missing: building it with scripts/build-static.sh (a few minutes the first time; --no-build refuses instead, --binary PATH takes another)" >&2
    "$here/scripts/build-static.sh" >&2
elif [ -n "$(cd "$here" && find src Cargo.toml Cargo.lock -newer target/static/credhook -print 2>/dev/null | head -n 1)" ]; then
    echo "rootfs.sh: warning: target/static/credhook is older than the sources; run scripts/build-static.sh for a current one" >&2
fi
binary=${binary:-$here/target/static/credhook}
if ! file_is_static "$busybox"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    fi
    file_is_static "$busybox" || { echo "$busybox is not a static busybox: install busybox-static or set BUSYBOX" >&2; exit 1; }
fi

# The executable behind a tool name: PATH lookup, symlinks followed, Debian's
# PostgreSQL wrapper replaced by the real client.
resolve_tool() {
    local name=$1 path real
    case "$name" in
    */* | . | ..) echo "rootfs.sh: --with takes a command name, not a path: $name" >&2; return 1 ;;
    esac
    path=$(command -v -- "$name" 2>/dev/null) || { echo "rootfs.sh: --with $name: no such command on PATH (install it in the build stage: PACKAGES=…)" >&2; return 1; }
    case "$path" in
    /*) ;;
    *) echo "rootfs.sh: --with $name: a shell builtin or alias, not a file" >&2; return 1 ;;
    esac
    real=$(readlink -f -- "$path")
    if [ "$real" = /usr/share/postgresql-common/pg_wrapper ]; then
        real=$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1)
        [ -n "$real" ] || { echo "rootfs.sh: --with $name: $path is Debian's pg_wrapper and no /usr/lib/postgresql/*/bin/$name exists" >&2; return 1; }
    fi
    readelf -h "$real" >/dev/null 2>&1 || { echo "rootfs.sh: --with $name: $real is not an ELF executable (a script? call it from your hook instead)" >&2; return 1; }
    printf '%s\n' "$real"
}

refuse_setid() {
    if [ -u "$1" ] || [ -g "$1" ]; then
        echo "rootfs.sh: refusing $1: it is setuid or setgid" >&2
        exit 1
    fi
}

# Copies FILE (symlinks followed) to DIR/DEST and prints what was added.
added_bytes=0
add_file() {
    local src=$1 dest=$2 mode=$3 size
    refuse_setid "$(readlink -f -- "$src")"
    [ -e "$root_dir$dest" ] && [ ! -L "$root_dir$dest" ] && return 0
    mkdir -p "$(dirname "$root_dir$dest")"
    rm -f "$root_dir$dest"
    install -m "$mode" "$(readlink -f -- "$src")" "$root_dir$dest"
    size=$(stat -c %s "$root_dir$dest")
    added_bytes=$((added_bytes + size))
    printf '  + %s (%s bytes)\n' "$dest" "$size"
}

# The tool's shared libraries as the loader resolves them, and the loader.
# LD_LIBRARY_PATH is not set in the image, so it must not find libraries here.
closure() {
    local exe=$1 out
    file_is_static "$exe" && return 0 # a static tool needs nothing more
    readelf -l "$exe" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p'
    out=$(env -u LD_LIBRARY_PATH -u LD_PRELOAD ldd "$exe" 2>&1) || { echo "rootfs.sh: ldd $exe failed: $out" >&2; return 1; }
    if printf '%s\n' "$out" | grep -q 'not found'; then
        echo "rootfs.sh: $exe needs libraries the loader does not find on this machine (LD_LIBRARY_PATH is not used: the image does not set it):" >&2
        printf '%s\n' "$out" | grep 'not found' >&2
        return 1
    fi
    printf '%s\n' "$out" | sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p'
}

# Whether EXE finds libraries relative to itself ($ORIGIN in its RPATH or
# RUNPATH): then it must sit at its own path, not at /bin/TOOL.
uses_origin() { readelf -d "$1" 2>/dev/null | grep -E '\((RPATH|RUNPATH)\)' | grep -q 'ORIGIN'; }

# Every tool is resolved and checked before DIR is touched, so a refused
# tool leaves DIR as it was.
exes=() closures=()
for tool in ${tools[@]+"${tools[@]}"}; do
    case "$tool" in credhook | busybox) echo "rootfs.sh: --with $tool: already in the image" >&2; exit 1 ;; esac
    exe=$(resolve_tool "$tool")
    libs=$(closure "$exe")
    refuse_setid "$exe"
    while IFS= read -r lib; do [ -z "$lib" ] || refuse_setid "$(readlink -f -- "$lib")"; done <<<"$libs"
    exes+=("$exe") closures+=("$libs")
done

# DIR is replaced whole: refuse anything but an empty or missing directory or
# a root this script made before (a typo must not remove a real directory).
marker=.credhook-rootfs
if [ -e "$root_dir" ] || [ -L "$root_dir" ]; then
    if [ -L "$root_dir" ] || [ ! -d "$root_dir" ]; then
        echo "rootfs.sh: $root_dir exists and is not a directory (or is a symlink); choose a new DIR" >&2; exit 1
    fi
    if [ -n "$(ls -A -- "$root_dir")" ] && [ ! -f "$root_dir/$marker" ]; then
        echo "rootfs.sh: $root_dir is not empty and not an image root made by rootfs.sh (no /$marker); choose a new DIR or remove it yourself" >&2; exit 1
    fi
    # A mount under DIR (a bind-mounted /dev left by a container run) would
    # have its contents removed along with DIR's.
    real=$(readlink -f -- "$root_dir")
    mounts=$(awk -v d="$real" '{ p = $5; gsub(/\\040/, " ", p); if (index(p, d "/") == 1) print p }' /proc/self/mountinfo 2>/dev/null || true)
    if [ -n "$mounts" ]; then
        echo "rootfs.sh: something is mounted in $root_dir; unmount it first:" >&2
        printf '  %s\n' "$mounts" >&2
        exit 1
    fi
fi
mkdir -p -- "$root_dir"
# find reads a leading `!` or `(` as an expression: give it a path.
case "$root_dir" in /*) find_root=$root_dir ;; *) find_root=./$root_dir ;; esac
# Empties DIR, staying on its file system (belt and braces to the check above).
empty_root() { find "$find_root" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system -- {} +; }
empty_root
built=0
trap '[ "$built" = 1 ] || { empty_root; echo "rootfs.sh: failed; $root_dir left empty" >&2; }' EXIT
trap 'exit 130' INT TERM HUP # the EXIT trap then empties DIR
printf 'made by scripts/rootfs.sh (credhook): running it again on this directory replaces it whole\n' > "$root_dir/$marker"
chmod 0644 "$root_dir/$marker"
mkdir -p "$root_dir"/{bin,etc,tmp,proc,dev}
install -m 0755 "$binary" "$root_dir/credhook"
[ "$no_hook" = 1 ] || install -m 0755 "$hook" "$root_dir/hook"
install -m 0755 "$busybox" "$root_dir/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root_dir/bin/$applet"
done
ln -s /credhook "$root_dir/bin/credhook"
# The example providers' shared helpers: one copy, in every image (a
# provider built FROM the base image finds them too).
mkdir -p "$root_dir/etc/credhook"
install -m 0644 "$here/examples/common.sh" "$root_dir/etc/credhook/provider.sh"
printf 'root:x:0:0:root:/:/bin/sh\ncredhook:x:10001:10001:credhook:/tmp:/bin/sh\n' > "$root_dir/etc/passwd"
printf 'root:x:0:\ncredhook:x:10001:\n' > "$root_dir/etc/group"
chmod 0644 "$root_dir/etc/passwd" "$root_dir/etc/group"

for i in ${tools[@]+"${!tools[@]}"}; do
    tool=${tools[$i]} exe=${exes[$i]} libs=${closures[$i]}
    echo "rootfs.sh: --with $tool ($exe):"
    added_bytes=0
    if uses_origin "$exe" && [ "$exe" != "/bin/$tool" ]; then
        # $ORIGIN is the executable's real directory (/proc/self/exe), so
        # the tool keeps its path and /bin/TOOL points at it.
        add_file "$exe" "$exe" 0755
        rm -f "$root_dir/bin/$tool"
        ln -s "$exe" "$root_dir/bin/$tool"
        echo "  + /bin/$tool -> $exe (it finds libraries relative to itself)"
    else
        add_file "$exe" "/bin/$tool" 0755
    fi
    tls=0
    while IFS= read -r lib; do
        [ -n "$lib" ] || continue
        case "$lib" in
        */ld-linux*) add_file "$lib" "$lib" 0755 ;; # the kernel executes the loader
        *) add_file "$lib" "$lib" 0644 ;;
        esac
        case "$lib" in */libssl.so* | */libgnutls.so*) tls=1 ;; esac
    done <<<"$libs"
    if [ "$tls" = 1 ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        add_file /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt 0644
        if [ ! -e "$root_dir/usr/lib/ssl/cert.pem" ]; then
            mkdir -p "$root_dir/usr/lib/ssl"
            ln -s /etc/ssl/certs/ca-certificates.crt "$root_dir/usr/lib/ssl/cert.pem"
            echo "  + /usr/lib/ssl/cert.pem -> /etc/ssl/certs/ca-certificates.crt"
        fi
    fi
    echo "rootfs.sh: --with $tool added $added_bytes bytes"
done
# Directories 0755 without setgid (a setgid parent passes it down), /tmp 1777,
# everything root's when root builds it.
find "$find_root" -type d -exec chmod u=rwx,go=rx,ug-s -- {} +
chmod 1777 "$root_dir/tmp"
[ "$(id -u)" != 0 ] || chown -hR 0:0 -- "$root_dir"
built=1
echo "$root_dir: $(du -sb "$root_dir" | cut -f1) bytes"
