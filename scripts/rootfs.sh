#!/usr/bin/env bash
# Assembles in DIR exactly the files of the image's final `FROM scratch`
# stage: the Containerfile runs this script and copies DIR whole, so the two
# cannot drift.
#
#   scripts/rootfs.sh DIR [HOOK]     HOOK defaults to scripts/hooks/example.sh
#
#   /credhook        the static binary (target/static/credhook; built when missing)
#   /bin/credhook    a link to it, so hooks call `credhook http|json` on PATH
#   /hook            HOOK, mode 0755
#   /bin/busybox     a static busybox, with a link per applet (/bin/sh, cat, sed, …)
#   /etc/passwd,group  root and the non-root user credhook (10001:10001)
#   /tmp             mode 1777, for hooks
#   /proc, /dev      empty mount points for the container runtime
#
# BUSYBOX names the static busybox to use (default /bin/busybox, from
# Debian's busybox-static, installed when missing and running as root).
set -euo pipefail
root_dir=${1:?usage: $0 DIR [HOOK]}
hook=${2:-scripts/hooks/example.sh}
here=$(cd "$(dirname "$0")/.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}

[ -f "$hook" ] || { echo "hook file $hook does not exist" >&2; exit 1; }
if [ ! -x "$here/target/static/credhook" ]; then
    "$here/scripts/build-static.sh"
fi
# An ELF file without a program interpreter.
file_is_static() { readelf -h "$1" >/dev/null 2>&1 && ! readelf -l "$1" | grep -q INTERP; }
if ! file_is_static "$busybox"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    fi
    file_is_static "$busybox" || { echo "$busybox is not a static busybox: install busybox-static or set BUSYBOX" >&2; exit 1; }
fi

rm -rf "$root_dir"
mkdir -p "$root_dir"/{bin,etc,tmp,proc,dev}
chmod 1777 "$root_dir/tmp"
install -m 0755 "$here/target/static/credhook" "$root_dir/credhook"
install -m 0755 "$hook" "$root_dir/hook"
install -m 0755 "$busybox" "$root_dir/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root_dir/bin/$applet"
done
ln -s /credhook "$root_dir/bin/credhook"
printf 'root:x:0:0:root:/:/bin/sh\ncredhook:x:10001:10001:credhook:/tmp:/bin/sh\n' > "$root_dir/etc/passwd"
printf 'root:x:0:\ncredhook:x:10001:\n' > "$root_dir/etc/group"
echo "$root_dir: $(du -sb "$root_dir" | cut -f1) bytes"
