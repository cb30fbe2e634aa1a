#!/usr/bin/env bash
# Builds the credhook image with a real container engine, and tries it the
# way Code Engine runs it, against the local emulator.
#
#   scripts/image.sh build [--with TOOL]... [--tag TAG] [--binary PATH | --no-build] HOOK
#   scripts/image.sh try [--with TOOL]... [--config job_config.json]
#                        [--secret NAME=@FILE]... [--env NAME[=VALUE]]...
#                        [--binary PATH | --no-build] HOOK
#   scripts/image.sh try --image IMAGE [--config …] [--secret …] [--env …]
#   scripts/image.sh setup
#
# build   assembles the image root with scripts/rootfs.sh (HOOK, the static
#         binary, busybox, each --with TOOL and its libraries; HOOK `none`
#         builds the base image) and builds it with the Containerfile's final
#         stage, read from the Containerfile itself, over that root. It
#         prints the image ID as its last line (progress goes to stderr).
#         Reproducible: the same inputs give the same image ID (every file's
#         time and the image's creation time are SOURCE_DATE_EPOCH, default
#         the commit time of HEAD). OCI labels: source, revision, version,
#         created, licenses, title, description, base.name, and the SBOM
#         (credhook.sbom, credhook.sbom.sha256) and binary digest.
# try     builds as above (or takes --image IMAGE, e.g. one built FROM the
#         base image), starts the emulator over HTTPS with a throwaway CA,
#         and runs `create` then `delete` in a container as Code Engine
#         would: the config's variables and SM_* metadata, the image's user,
#         --cap-drop ALL, no-new-privileges, a read-only root with a tmpfs
#         /tmp, the emulator's CA mounted read-only, --network host. It
#         prints each run's log and the task updates (payload strings
#         masked) and exits 0 only when both were reported.
#           --config  default ./job_config.json, else the one beside HOOK
#           --secret NAME=@FILE  serves FILE (a secret as GET
#                     /api/v2/secrets/{id} returns it, at most 1 MiB; an "id"
#                     is added when it has none) and sets the secret_id input
#                     NAME to its id
#           --env NAME=VALUE  a variable of the job (an input's value is
#                     SM_<NAME>_VALUE); a VALUE that is an absolute path of an
#                     existing file is mounted read-only at that path.
#                     --env NAME takes NAME's value from this environment,
#                     so that a secret is on no command line, not even this
#                     script's
#         With no working engine it says how to get one and, as root, runs
#         the image root in a chroot instead (not a container), saying so.
#         --binary PATH  the static credhook to put in the image (and to run
#                   here), instead of target/static/credhook, which is
#                   otherwise built when missing (saying so) unless --no-build
# setup   as root on Debian: installs podman and runc and configures them
#         for this kind of machine (storage driver vfs, runtime runc,
#         default ulimits nofile 1024, nproc 1000), unless configured already.
#
# ENGINE=podman|docker picks the engine (default: podman, else docker,
# whichever answers `ENGINE info`); ENGINE=none forces the chroot fallback.
# EMULATOR names a credhook-emulator binary (default: built with cargo).
# `--` ends the options: `scripts/image.sh build -- -odd-name.sh`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
help() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
usage() { echo "usage: scripts/image.sh build|try|setup [OPTIONS] HOOK (scripts/image.sh --help)" >&2; exit 2; }
die() { echo "image.sh: $*" >&2; exit 1; }
bad() { echo "image.sh: $*" >&2; usage; }
say() { printf '==> %s\n' "$*" >&2; }

[ $# -gt 0 ] || usage
command=$1
shift
case "$command" in
build | try | setup) ;;
-h | --help) help; exit 0 ;;
*) bad "unknown command $command" ;;
esac

# --- setup: podman and runc from Debian, configured -----------------------

storage_conf='[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"'
containers_conf='[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"'

install_help() {
    local why="neither podman nor a docker engine answers \`info\`
  (a docker client without its engine does not count)."
    [ "${ENGINE:-}" != none ] || why="ENGINE=none."
    cat >&2 <<EOF
image.sh: no working container engine: $why
  To install podman on Debian or Ubuntu, as root:
      scripts/image.sh setup
  which runs \`apt-get install -y --no-install-recommends podman runc\` and writes
  /etc/containers/storage.conf:
$(printf '%s\n' "$storage_conf" | sed 's/^/      /')
  /etc/containers/containers.conf:
$(printf '%s\n' "$containers_conf" | sed 's/^/      /')
EOF
}

# Writes FILE with TEXT unless it exists; says so when it holds something else.
write_conf() {
    if [ -e "$1" ]; then
        if [ "$(cat -- "$1")" != "$2" ]; then
            echo "image.sh: $1 exists and is left as it is; credhook's CI uses:" >&2
            printf '%s\n' "$2" | sed 's/^/    /' >&2
        fi
        return 0
    fi
    mkdir -p -- "$(dirname -- "$1")"
    printf '%s\n' "$2" > "$1"
    echo "image.sh: wrote $1" >&2
}

if [ "$command" = setup ]; then
    [ $# = 0 ] || bad "setup takes no arguments"
    [ "$(id -u)" = 0 ] || die "setup installs packages and writes /etc/containers: run it as root"
    if ! command -v podman >/dev/null 2>&1 || ! command -v runc >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "setup knows Debian's apt-get only: install podman and runc with your system's packages"
        say "apt-get install podman runc"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman runc >/dev/null
    fi
    # Before podman's first run: it records the storage driver it starts with.
    write_conf /etc/containers/storage.conf "$storage_conf"
    write_conf /etc/containers/containers.conf "$containers_conf"
    podman info >/dev/null || die "podman is installed but \`podman info\` fails (see above)"
    echo "image.sh: $(podman --version) works (runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), storage $(podman info --format '{{.Store.GraphDriverName}}'))" >&2
    exit 0
fi

# --- options ---------------------------------------------------------------

tools=() tag="" config="" image="" hook="" have_hook=0 binary="" no_build=0
secret_names=() secret_files=() env_names=() env_values=()
need() { [ $# -ge 2 ] && [ -n "$2" ] || bad "$1 needs a value"; }
valid_name() { [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; }
while [ $# -gt 0 ]; do
    case "$1" in
    --with) need "$@"; tools+=("$2"); shift 2 ;;
    --tag) need "$@"; [ "$command" = build ] || bad "--tag is for build"; tag=$2; shift 2 ;;
    --binary) need "$@"; binary=$2; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --config) need "$@"; [ "$command" = try ] || bad "--config is for try"; config=$2; shift 2 ;;
    --image) need "$@"; [ "$command" = try ] || bad "--image is for try"; image=$2; shift 2 ;;
    --secret)
        need "$@"; [ "$command" = try ] || bad "--secret is for try"
        # Never echo the argument: a secret typed in place of @FILE.
        case "$2" in
        *=@?*) ;;
        *) bad "--secret takes NAME=@FILE (the input name, then a file holding the secret as GET /api/v2/secrets/{id} returns it)" ;;
        esac
        name=${2%%=@*}
        valid_name "$name" || bad "--secret: the input name must be letters, digits and _"
        name=$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')
        name=${name#SMIN_}
        secret_names+=("$name") secret_files+=("${2#*=@}")
        shift 2 ;;
    --env)
        need "$@"; [ "$command" = try ] || bad "--env is for try"
        # Never echo the argument: a secret typed in place of NAME=VALUE.
        case "$2" in
        *=*) name=${2%%=*} value=${2#*=} ;;
        *)
            valid_name "$2" || bad "--env takes NAME=VALUE, or NAME for that variable's value here"
            [ -n "${!2+set}" ] || bad "--env takes NAME=VALUE, or NAME for that variable's value here: that variable is not set"
            name=$2 value=${!2} ;;
        esac
        valid_name "$name" || bad "--env: a variable name must be letters, digits and _, not starting with a digit"
        case "$name" in
        SM_ACTION | SM_CREDENTIALS_ID | SM_SECRET_TASK_ID | SM_INSTANCE_URL | SM_ACCESS_APIKEY | CREDHOOK_IAM_URL | CREDHOOK_CA_FILE)
            bad "--env $name: try sets it (the emulator's URL, CA and throwaway API key; each run's action and task)" ;;
        esac
        env_names+=("$name") env_values+=("$value")
        shift 2 ;;
    --) shift; [ $# -gt 0 ] || bad "a HOOK must follow --"; hook=$1; have_hook=1; shift; [ $# = 0 ] || bad "one HOOK only"; break ;;
    -h | --help) help; exit 0 ;;
    -*) bad "unknown option $1 (a hook whose name starts with - goes after --)" ;;
    *) [ "$have_hook" = 0 ] || bad "one HOOK only"; hook=$1; have_hook=1; shift ;;
    esac
done
if [ -n "$image" ]; then
    [ "$have_hook" = 0 ] || bad "--image IMAGE runs that image: give no HOOK"
    [ ${#tools[@]} = 0 ] || bad "--with builds an image: not with --image"
else
    [ "$have_hook" = 1 ] || bad "name a HOOK file (or none for the base image)"
    if [ "$hook" != none ]; then
        [ -f "$hook" ] || die "hook $hook is not a file"
        # rootfs.sh would read a leading - as an option.
        case "$hook" in -*) hook=./$hook ;; esac
    fi
fi
[ "$command" = build ] || [ "$hook" != none ] || bad "try needs a hook: the base image has none (try an image built FROM it with --image IMAGE)"
# Before any build: the image takes each tool from this machine.
for t in ${tools[@]+"${tools[@]}"}; do
    case "$t" in */*) ;; *) command -v -- "$t" >/dev/null 2>&1 || die "--with $t: no such command on this machine's PATH; the image takes it from here, so install it first (Debian: the package that has it)" ;; esac
done
# Each --secret file before anything is built: a regular file (not a FIFO
# or a device, which would never end), at most what credhook reads of a
# secret (1 MiB, as `credhook dry-run --secret`).
max_secret=1048576
for i in ${secret_names[@]+"${!secret_names[@]}"}; do
    file=${secret_files[$i]}
    [ -f "$file" ] || die "--secret ${secret_names[$i]}: $file is not a regular file (a secret as GET /api/v2/secrets/{id} returns it)"
    [ -r "$file" ] || die "--secret ${secret_names[$i]}: cannot read the file $file"
    size=$(stat -L -c %s -- "$file")
    [ "$size" -le "$max_secret" ] ||
        die "--secret ${secret_names[$i]}: $file holds $size bytes; a secret is at most $max_secret bytes (1 MiB, what credhook reads of one)"
done

# --- the engine --------------------------------------------------------------

# Names the engine itself reads (a secret may have such a name too:
# REGISTRY_PASSWORD, GOOGLE_API_KEY) reach the container through an
# --env-file, every other variable through the engine's own environment
# (-e NAME): never a value on a command line. An env file holds one line a
# variable.
engine_reads() {
    case "$1" in
    PATH | HOME | TMPDIR | USER | LOGNAME | SHELL | PWD | TZ | LANG | LANGUAGE | LC_* | XDG_* | \
        CONTAINERS_* | CONTAINER_* | DOCKER_* | BUILDAH_* | BUILDKIT_* | STORAGE_* | REGISTRY_* | \
        LD_* | GO* | *_PROXY | *_proxy | SSL_CERT_* | NOTIFY_SOCKET) return 0 ;;
    esac
    return 1
}
engine_works() { command -v "$1" >/dev/null 2>&1 && "$1" info >/dev/null 2>&1; }
case "${ENGINE:-}" in
"")
    engine=none
    for e in podman docker; do
        if engine_works "$e"; then engine=$e; break; fi
    done ;;
podman | docker) engine_works "$ENGINE" || die "ENGINE=$ENGINE, but \`$ENGINE info\` fails: is its engine installed and running?"; engine=$ENGINE ;;
none) engine=none ;;
*) die "ENGINE must be podman, docker or none" ;;
esac

# An --env-file holds one line a variable (see engine_reads).
if [ "$engine" != none ]; then
    for i in ${env_names[@]+"${!env_names[@]}"}; do
        case "${env_values[$i]}" in
        *$'\n'* | *$'\r'*) ! engine_reads "${env_names[$i]}" ||
            die "--env ${env_names[$i]}: $engine reads this name itself, so try passes it in an --env-file, which cannot hold a line break: give its value on one line" ;;
        esac
    done
fi

if [ "$engine" = none ] && { [ "$command" = build ] || [ -n "$image" ]; }; then
    install_help
    exit 1
fi
# Said before minutes of building the static binary and the emulator.
if [ "$engine" = none ] && [ "$(id -u)" != 0 ]; then
    install_help
    die "without an engine, try runs the image root in a chroot, which needs root"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/credhook-image.XXXXXX")
emu_pid="" build_pid=""
cleanup() {
    # Waited for: it must not write in $work while that is removed.
    [ -z "$emu_pid" ] || { kill "$emu_pid" 2>/dev/null; wait "$emu_pid" 2>/dev/null; } || true
    # An interrupted build is let finish: an engine build killed part-way
    # leaves its working container behind (podman: a whole root copy).
    if [ -n "$build_pid" ]; then
        echo "image.sh: letting the $engine build finish (a build killed part-way leaves its working container)" >&2
        wait "$build_pid" 2>/dev/null || true
    fi
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

static=$here/target/static/credhook
if [ -n "$binary" ]; then
    [ -f "$binary" ] && [ -x "$binary" ] || die "--binary $binary is not an executable file"
    static=$(cd "$(dirname -- "$binary")" && pwd)/$(basename -- "$binary")
elif [ ! -x "$static" ]; then
    [ "$no_build" = 0 ] || die "$static is missing and --no-build says not to build it: run scripts/build-static.sh --nightly, or give --binary PATH"
    say "target/static/credhook is missing: building it with scripts/build-static.sh --nightly (--stable if that fails; --no-build refuses instead)"
    "$here/scripts/build-static.sh" --nightly >&2 || "$here/scripts/build-static.sh" --stable >&2
fi

# SOURCE_DATE_EPOCH, default the commit time of HEAD: every file's time, the
# image's creation time and its `created` label.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0)}
[[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be seconds since 1970"

# The Containerfile's final stage, with its COPY from the build stage made a
# COPY of the root from the context; and the user it runs as.
final_stage() {
    awk '/^[[:space:]]*(#|$)/ { next } toupper($1) == "FROM" { n = 0 } { line[n++] = $0 } END { for (i = 0; i < n; i++) print line[i] }' "$here/Containerfile" |
        sed 's#^COPY --from=[^ ]* /rootfs/ /$#COPY rootfs/ /#'
}
stage=$(final_stage)
[ "$(printf '%s\n' "$stage" | head -n 1)" = "FROM scratch" ] &&
    [ "$(printf '%s\n' "$stage" | grep -c '^COPY rootfs/ /$')" = 1 ] &&
    ! printf '%s\n' "$stage" | grep -q -- '--from=' ||
    die "the Containerfile's final stage is no longer FROM scratch + COPY --from=build /rootfs/ /: update scripts/image.sh with it"
image_user=$(printf '%s\n' "$stage" | awk '$1 == "USER" { u = $2 } END { print u }')

# The image root for HOOK in DIR (rootfs.sh's output on stderr), every time
# set to the epoch.
make_root() {
    local args=() t
    for t in ${tools[@]+"${tools[@]}"}; do args+=(--with "$t"); done
    if [ -n "$binary" ]; then args+=(--binary "$static"); else args+=(--no-build); fi
    "$here/scripts/rootfs.sh" ${args[@]+"${args[@]}"} "$1" "$hook" >&2
    find "$1" -exec touch -h -d "@$epoch" -- {} +
}

# Builds the image; sets image_id.
build_image() {
    local ctx=$work/context version revision source license desc sbom_sha bin_sha created t
    mkdir -p "$ctx"
    say "assembling the image root (scripts/rootfs.sh)"
    make_root "$ctx/rootfs"
    printf '%s\n' "$stage" > "$ctx/Containerfile"
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
    license=$(sed -n 's/^license = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
    source=$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$here/Cargo.toml" | head -n 1)
    revision=$(git -C "$here" rev-parse HEAD 2>/dev/null || echo unknown)
    [ "$revision" = unknown ] || git -C "$here" diff --quiet HEAD -- 2>/dev/null || revision=$revision-dirty
    # A binary built at another commit is not HEAD's either.
    bin_commit=$("$static" --version 2>/dev/null | sed -n 's/.*(commit \([0-9a-f]\{7,\}\),.*/\1/p')
    if [ "$revision" != unknown ] && [ -n "$bin_commit" ] && [ "${revision#"$bin_commit"}" = "$revision" ]; then
        echo "image.sh: warning: ${binary:-target/static/credhook} was built at commit $bin_commit, not HEAD ${revision:0:12}: the image is labelled ${revision%-dirty}-dirty (run scripts/build-static.sh for HEAD's)" >&2
        revision=${revision%-dirty}-dirty
    fi
    created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
    bin_sha=$(sha256sum "$static" | cut -d' ' -f1)
    sbom_sha=none
    [ ! -f "$static.cdx.json" ] || sbom_sha=$(sha256sum "$static.cdx.json" | cut -d' ' -f1)
    if [ "$hook" = none ]; then
        desc="credhook base image: add your hook as /hook (FROM it, COPY --chmod=0755 hook.sh /hook)"
    else
        desc="credhook with the hook $(basename -- "$hook")"
    fi
    [ ${#tools[@]} = 0 ] || desc="$desc and ${tools[*]}"
    local labels=(
        --label "org.opencontainers.image.title=credhook"
        --label "org.opencontainers.image.description=$desc"
        --label "org.opencontainers.image.source=${source:-unknown}"
        --label "org.opencontainers.image.revision=$revision"
        --label "org.opencontainers.image.version=$version"
        --label "org.opencontainers.image.created=$created"
        # credhook's, and busybox's; --with tools keep their own (see the SBOM note in the README)
        --label "org.opencontainers.image.licenses=$license AND GPL-2.0-only"
        --label "org.opencontainers.image.base.name=scratch"
        --label "credhook.sbom=credhook.cdx.json"
        --label "credhook.sbom.sha256=$sbom_sha"
        --label "credhook.binary.sha256=$bin_sha"
    )
    local args=(build --platform linux/amd64 --iidfile "$work/iid" -f "$ctx/Containerfile" "${labels[@]}")
    [ -z "$tag" ] || args+=(-t "$tag")
    case "$engine" in
    podman) args+=(--timestamp "$epoch" --layers=false) ;;
    docker) args+=(--build-arg "SOURCE_DATE_EPOCH=$epoch") ;;
    esac
    say "$engine build (the Containerfile's final stage over that root)"
    # In its own session, so that a Ctrl-C (the terminal's SIGINT to its
    # foreground group) stops this script, which then waits for the build.
    local session=()
    ! command -v setsid >/dev/null 2>&1 || session=(setsid -w)
    ${session[@]+"${session[@]}"} "$engine" "${args[@]}" "$ctx" >&2 &
    build_pid=$!
    wait "$build_pid" || die "$engine build failed (see above)"
    build_pid=""
    image_id=$(cat "$work/iid")
    image_id=${image_id#sha256:}
}

if [ "$command" = build ]; then
    build_image
    printf '%s\n' "$image_id"
    exit 0
fi

# --- try -------------------------------------------------------------------

if [ -z "$config" ]; then
    config=job_config.json
    [ -f "$config" ] || [ -z "$hook" ] || [ ! -f "$(dirname -- "$hook")/job_config.json" ] || config=$(dirname -- "$hook")/job_config.json
fi
[ -f "$config" ] || die "no job config $config: pass --config FILE (the job_config.json that declares the inputs and outputs)"
case "$config" in -*) config=./$config ;; esac
umask 077 # the secrets the emulator serves, the logs

# The job's variables as `ibmcloud ce job create` gets them (credhook ce-flags).
# ce-flags warns unless the job sets CREDHOOK_HTTP_ALLOW: the job's, from --env.
flags=$(
    unset CREDHOOK_HTTP_ALLOW
    for i in ${env_names[@]+"${!env_names[@]}"}; do
        [ "${env_names[$i]}" != CREDHOOK_HTTP_ALLOW ] || export CREDHOOK_HTTP_ALLOW="${env_values[$i]}"
    done
    exec "$static" ce-flags "$config"
) || die "credhook ce-flags $config failed (see above)"
eval "set -- $flags"
config_vars=()
while [ $# -ge 2 ]; do
    [ "$1" = --env ] || die "unexpected ce-flags output"
    config_vars+=("${2%%=*}" "${2#*=}")
    shift 2
done

# The secrets the emulator serves, one JSON object a line, each with an "id".
# FILE holds one object (any layout: a JSON string holds no raw line break),
# or JSON lines (the emulator's --secrets format: NAME gets the first's id).
secret_ids=()
is_object() { [ "$(printf '%s' "$1" | "$static" json get --json . 2>/dev/null | cut -c1)" = "{" ]; }
for i in ${secret_names[@]+"${!secret_names[@]}"}; do
    file=${secret_files[$i]}
    objects=()
    whole=$(tr -d '\r\n' < "$file")
    if is_object "$whole"; then
        objects=("$whole")
    else
        while IFS= read -r line || [ -n "$line" ]; do
            line=${line%$'\r'}
            [ -n "${line//[[:space:]]/}" ] || continue
            is_object "$line" || { objects=(); break; }
            objects+=("$line")
        done < "$file"
    fi
    [ ${#objects[@]} -gt 0 ] ||
        die "--secret ${secret_names[$i]}: $file does not hold a JSON object (a secret as GET /api/v2/secrets/{id} returns it)"
    first=""
    for secret in "${objects[@]}"; do
        if ! id=$(printf '%s' "$secret" | "$static" json get .id 2>/dev/null); then
            id=$(cat /proc/sys/kernel/random/uuid)
            rest=$(printf '%s' "$secret" | sed 's/^[[:space:]]*{//')
            case "$(printf '%s' "$rest" | tr -d '[:space:]')" in
            "}") secret="{\"id\":\"$id\"}" ;;
            *) secret="{\"id\":\"$id\",$rest" ;;
            esac
        fi
        [ -n "$first" ] || first=$id
        printf '%s\n' "$secret" >> "$work/secrets.jsonl"
    done
    secret_ids+=("SM_${secret_names[$i]}_VALUE" "$first")
done

# The image, or its root.
if [ -n "$image" ]; then
    image_id=$image
elif [ "$engine" != none ]; then
    build_image
else
    install_help
    command -v unshare >/dev/null 2>&1 || die "without an engine, try needs unshare (util-linux) for the chroot"
    echo "image.sh: falling back to the image root in a chroot as root: NOT a container (same files, user, read-only root and tmpfs /tmp; no image, no engine)" >&2
    make_root "$work/rootfs"
fi
if [ "$engine" != none ]; then
    image_user=$("$engine" image inspect --format '{{.Config.User}}' "$image_id") || die "$engine cannot inspect $image_id"
    echo "image: $image_id ($engine), user ${image_user:-root}"
else
    echo "image root: $work/rootfs (chroot), user $image_user"
fi
case "${image_user:-0}" in 0 | 0:* | root | root:*) echo "image.sh: warning: the image runs as root; Code Engine jobs should not" >&2 ;; esac

# The emulator: IAM and Secrets Manager over HTTPS, a throwaway CA and API key.
emulator=${EMULATOR:-}
if [ -z "$emulator" ]; then
    say "building the emulator"
    # The same packages as scripts/demo.sh builds: one feature set, so
    # neither rebuilds the other's emulator.
    (cd "$here" && cargo build --release --quiet -p credhook --bin credhook -p credhook-emulator --bin credhook-emulator) >&2
    emulator=$here/target/release/credhook-emulator
fi
api_key=try-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
emu_args=(--dir "$work/emulator" --api-key "$api_key")
[ ! -f "$work/secrets.jsonl" ] || emu_args+=(--secrets "$work/secrets.jsonl")
"$emulator" "${emu_args[@]}" > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 200); do [ -s "$work/emulator/url" ] && break; kill -0 "$emu_pid" 2>/dev/null || break; sleep 0.05; done
[ -s "$work/emulator/url" ] || { cat "$work/emulator.log" >&2; die "the emulator did not start"; }
url=$(cat "$work/emulator/url")
say "emulator (IAM and Secrets Manager) at $url"
ca_dir=$work/ca
mkdir -p "$ca_dir" && chmod 0755 "$ca_dir"
install -m 0644 "$work/emulator/ca.pem" "$ca_dir/ca.pem"

# The job's environment: SM_* metadata as Secrets Manager sets it, the
# config's variables, the secrets' ids, the --env variables; then what only
# try may set (the emulator's URL, CA and API key).
names=() values=()
setvar() {
    local i
    for i in "${!names[@]}"; do
        if [ "${names[$i]}" = "$1" ]; then values[i]=$2; return; fi
    done
    names+=("$1") values+=("$2")
}
vars=(SM_SECRET_ID 0f9a2b1c-1111-4222-8333-944455556666 SM_SECRET_NAME credhook-try
    SM_SECRET_GROUP_ID default CREDHOOK_LOG text
    ${config_vars[@]+"${config_vars[@]}"} ${secret_ids[@]+"${secret_ids[@]}"})
for i in ${env_names[@]+"${!env_names[@]}"}; do vars+=("${env_names[$i]}" "${env_values[$i]}"); done
vars+=(SM_INSTANCE_URL "$url" CREDHOOK_IAM_URL "$url" CREDHOOK_CA_FILE /credhook-try/ca.pem SM_ACCESS_APIKEY "$api_key")
for ((i = 0; i < ${#vars[@]}; i += 2)); do setvar "${vars[i]}" "${vars[i + 1]}"; done


# Files the variables name (an absolute path of a file here), mounted
# read-only at that path; not over a path the image has, nor under /proc,
# /sys or /dev.
in_image() {
    if [ "$engine" = none ]; then
        [ -e "$work/rootfs$1" ] || [ -L "$work/rootfs$1" ]
    elif [ -z "$image" ]; then
        [ -e "$work/context/rootfs$1" ] || [ -L "$work/context/rootfs$1" ]
    else
        "$engine" run --rm --pull=never --network none --entrypoint /bin/sh "$image_id" \
            -c '[ -e "$1" ] || [ -L "$1" ]' sh "$1" >/dev/null 2>&1
    fi
}
mounts=() n=0
for i in "${!values[@]}"; do
    v=${values[$i]}
    case "$v" in /proc/* | /sys/* | /dev/* | /credhook-try/*) continue ;; /*) ;; *) continue ;; esac
    [ "${#v}" -lt 4096 ] && [ -f "$v" ] || continue
    if in_image "$v"; then
        echo "image.sh: ${names[$i]} names $v, which the image has: not mounted over it" >&2
        continue
    fi
    case "$v" in *[:,]*) die "${names[$i]} names a file whose path has : or , ($v): the engine cannot mount it; copy it elsewhere" ;; esac
    n=$((n + 1))
    install -m 0644 -- "$v" "$work/file$n"
    mounts+=("$work/file$n" "$v")
    echo "image.sh: ${names[$i]}: $v mounted read-only" >&2
done

# Runs credhook in the container (or the chroot) with the job's environment
# and ACTION-specific variables (NAME VALUE…); its log goes to LOG.
run_job() {
    local log=$1
    shift
    local run_names=("${names[@]}") run_values=("${values[@]}")
    while [ $# -ge 2 ]; do run_names+=("$1") run_values+=("$2"); shift 2; done
    if [ "$engine" != none ]; then
        local args=(run --rm --pull=never --network host --cap-drop ALL --security-opt no-new-privileges
            --read-only --tmpfs /tmp:rw,mode=1777 -v "$ca_dir:/credhook-try:ro")
        [ "$engine" = docker ] || args+=(--http-proxy=false)
        local i
        for ((i = 0; i < ${#mounts[@]}; i += 2)); do args+=(-v "${mounts[i]}:${mounts[i + 1]}:ro"); done
        (
            : > "$work/engine.env"
            for i in "${!run_names[@]}"; do
                if engine_reads "${run_names[$i]}"; then
                    case "${run_values[$i]}" in
                    *$'\n'* | *$'\r'*) echo "image.sh: ${run_names[$i]}: a line break in its value (an --env-file cannot hold one)" >&2; exit 1 ;;
                    esac
                    printf '%s=%s\n' "${run_names[$i]}" "${run_values[$i]}" >> "$work/engine.env"
                else
                    export "${run_names[$i]}=${run_values[$i]}"
                    args+=(-e "${run_names[$i]}")
                fi
            done
            [ ! -s "$work/engine.env" ] || args+=(--env-file "$work/engine.env")
            exec "$engine" "${args[@]}" "$image_id"
        ) < /dev/null > "$log" 2>&1
    else
        local unshare_bin
        unshare_bin=$(command -v unshare)
        local script='set -e
r=$1; shift
PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022
mount --bind "$r" "$r"
mount -t proc proc "$r/proc"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$r/dev"
for d in null zero random urandom; do touch "$r/dev/$d" && mount --bind "/dev/$d" "$r/dev/$d"; done
ln -s /proc/self/fd "$r/dev/fd"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/tmp"
mkdir -p "$r/credhook-try" && mount --bind -o ro "$CA_DIR" "$r/credhook-try"
while [ $# -ge 2 ]; do
    mkdir -p "$r$(dirname "$2")" && touch "$r$2" && mount --bind -o ro "$1" "$r$2"
    shift 2
done
mount -o remount,bind,ro "$r"
chroot=$(command -v chroot)
nnp=$(command -v setpriv || true)
unset CA_DIR
if [ -n "$JOB_PATH_SET" ]; then PATH=$JOB_PATH; else PATH=/bin; fi
[ -n "$JOB_HOME_SET" ] || export HOME=/tmp
unset JOB_PATH JOB_PATH_SET JOB_HOME_SET
export PATH
exec ${nnp:+"$nnp" --no-new-privs} "$chroot" --userspec="$USERSPEC" "$r" /credhook'
        (
            local v i
            while IFS= read -r v; do unset "$v" 2>/dev/null || true; done < <(compgen -e)
            for i in "${!run_names[@]}"; do
                case "${run_names[$i]}" in
                PATH) export JOB_PATH="${run_values[$i]}" JOB_PATH_SET=1 ;;
                *) export "${run_names[$i]}=${run_values[$i]}" ;;
                esac
                [ "${run_names[$i]}" != HOME ] || export JOB_HOME_SET=1
            done
            export CA_DIR=$ca_dir USERSPEC=$image_user
            exec "$unshare_bin" --mount --fork /bin/sh -c "$script" sh "$work/rootfs" ${mounts[@]+"${mounts[@]}"}
        ) < /dev/null > "$log" 2>&1
    fi
}

# A task update as a line: status, credentials id, payload with its string
# values masked; a failure's code and description.
show_update() {
    local status
    status=$(printf '%s' "$1" | "$static" json get .body.status 2>/dev/null || echo '?')
    case "$status" in
    credentials_created)
        printf '  %s: credentials_created id=%s payload=%s\n' \
            "$(printf '%s' "$1" | "$static" json get .task_id)" \
            "$(printf '%s' "$1" | "$static" json get .body.credentials.id)" \
            "$(printf '%s' "$1" | "$static" json get --json .body.credentials.payload |
                sed -E 's/("([^"\\]|\\.)*"):"([^"\\]|\\.)*"/\1:"****"/g')" ;;
    failed)
        printf '  %s: failed %s: %s\n' "$(printf '%s' "$1" | "$static" json get .task_id)" \
            "$(printf '%s' "$1" | "$static" json get '.body.errors[0].code')" \
            "$(printf '%s' "$1" | "$static" json get '.body.errors[0].description')" ;;
    *) printf '  %s: %s\n' "$(printf '%s' "$1" | "$static" json get .task_id)" "$status" ;;
    esac
}
# The status of the update for TASK, and its credentials id.
update_of() {
    local line
    line=$(grep -F "\"task_id\":\"$1\"" "$work/emulator/updates.jsonl" 2>/dev/null | tail -n 1 || true)
    [ -n "$line" ] || return 1
    printf '%s' "$line" | "$static" json get .body.status
    printf '%s' "$line" | "$static" json get .body.credentials.id 2>/dev/null || true
}

where=container
[ "$engine" != none ] || where="chroot (no engine)"
echo
echo "==> create_credentials in a $where"
run_job "$work/create.log" SM_ACTION create_credentials SM_TRIGGER secret_creation SM_SECRET_TASK_ID try-create &&
    create_exit=0 || create_exit=$?
cat "$work/create.log"
echo "(exit $create_exit)"
created=$(update_of try-create || true)
deleted="" delete_exit=""
if [ "$(printf '%s\n' "$created" | head -n 1)" = credentials_created ]; then
    creds_id=$(printf '%s\n' "$created" | sed -n 2p)
    echo
    echo "==> delete_credentials $creds_id in a $where"
    run_job "$work/delete.log" SM_ACTION delete_credentials SM_TRIGGER secret_version_data_deletion \
        SM_SECRET_TASK_ID try-delete SM_CREDENTIALS_ID "$creds_id" \
        SM_SECRET_VERSION_ID 7e1f0a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b && delete_exit=0 || delete_exit=$?
    cat "$work/delete.log"
    echo "(exit $delete_exit)"
    deleted=$(update_of try-delete | head -n 1 || true)
fi
echo
echo "==> task updates the emulator received (payload strings masked)"
if [ -s "$work/emulator/updates.jsonl" ]; then
    while IFS= read -r line; do show_update "$line"; done < "$work/emulator/updates.jsonl"
else
    echo "  none"
fi
echo
if [ "$deleted" = credentials_deleted ]; then
    echo "try ok: created and deleted $creds_id in a $where"
    exit 0
fi
if [ -z "$delete_exit" ]; then
    echo "try failed: the create was not reported as credentials_created (exit $create_exit); no delete was run"
else
    echo "try failed: the delete was not reported as credentials_deleted (exit $delete_exit); credentials $creds_id may still exist where the hook created them: delete them there"
fi
exit 1
