#!/usr/bin/env bash
# Builds your provider image (credhook, your hook, the tools it needs), pushes
# it, and creates or updates the Code Engine job with the --env flags your
# job_config.json declares and job settings that fit a credhook job.
# Prints each command and asks before running it (--yes to skip asking).
#
#   scripts/deploy.sh --image us.icr.io/NAMESPACE/my-provider:1 --job my-provider \
#       --hook path/to/hook.sh [--config job_config.json] [--project my-project] \
#       [--with TOOL]... [--packages 'DEBIAN PACKAGES'] [--base IMAGE] \
#       [--cpu 0.125] [--memory 0.25G] [--task-timeout 10m] [--hook-timeout 300] \
#       [--keep-runs 3d] [--allow-host HOST]... \
#       [--registry-secret icr-secret] [--yes]
#
#   --hook         any file, anywhere (default: this checkout's example hook)
#   --config       default ./job_config.json, else the one beside the hook
#   --with/--packages  tools copied into the image with their libraries, and the
#                  Debian packages that provide them (--with psql --packages postgresql-client)
#   --base IMAGE   build FROM a credhook base image you already have (HOOK=none)
#                  instead of building one from this checkout
#   --cpu/--memory default: the smallest combination Code Engine accepts for jobs
#   --task-timeout the engine configuration's task_timeout (default 10m); the
#                  job's --maxexecutiontime is set above it, and above the
#                  longest a run can take. It must cover the hook timeout
#                  plus credhook's retry windows (the job's
#                  CREDHOOK_IAM_RETRY_WINDOW + 2 x CREDHOOK_RETRY_WINDOW:
#                  150 s by default)
#   --hook-timeout S  sets CREDHOOK_HOOK_TIMEOUT on the job; without it, the
#                  job's current value (or credhook's 300 s for a new job) is
#                  kept. It must be below the task timeout
#   --keep-runs D  keep finished job runs and their logs for D (3d, 12h, or
#                  minutes) instead of the IMMEDIATELY Secrets Manager sets;
#                  IMMEDIATELY sets that back
#   --allow-host HOST  sets CREDHOOK_HTTP_ALLOW on the job to every HOST given
#                  (repeatable; HOST[:PORT], *.DOMAIN for its subdomains,
#                  [IPv6]): the hook's credhook http calls reach no other
#                  host. Without it the job's current value is kept, and a
#                  job without one can reach any host (credhook check warns)
#
# Needs podman or docker, and the ibmcloud CLI with the code-engine plugin,
# logged in (ibmcloud login; ibmcloud cr login --client podman|docker).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

image="" job="" hook=$here/scripts/hooks/example.sh config="" project="" registry_secret="" yes=0
base="" packages="" cpu="" memory="" task_timeout="" hook_timeout="" keep_runs=""
tools=() allow_hosts=()
need() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "deploy.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case "$1" in
    --image) need "$@"; image=$2; shift 2 ;;
    --job) need "$@"; job=$2; shift 2 ;;
    --hook) need "$@"; hook=$2; shift 2 ;;
    --config) need "$@"; config=$2; shift 2 ;;
    --project) need "$@"; project=$2; shift 2 ;;
    --registry-secret) need "$@"; registry_secret=$2; shift 2 ;;
    --with) need "$@"; tools+=("$2"); shift 2 ;;
    --packages) need "$@"; packages=$2; shift 2 ;;
    --base) need "$@"; base=$2; shift 2 ;;
    --cpu) need "$@"; cpu=$2; shift 2 ;;
    --memory) need "$@"; memory=$2; shift 2 ;;
    --task-timeout) need "$@"; task_timeout=$2; shift 2 ;;
    --hook-timeout) need "$@"; hook_timeout=$2; shift 2 ;;
    --keep-runs) need "$@"; keep_runs=$2; shift 2 ;;
    --allow-host) need "$@"; allow_hosts+=("$2"); shift 2 ;;
    --yes | -y) yes=1; shift ;;
    -h | --help) usage ;;
    *) echo "deploy.sh: unknown argument $1" >&2; usage ;;
    esac
done
[ -n "$image" ] || { echo "deploy.sh: --image is required (e.g. us.icr.io/my-namespace/my-provider:1)" >&2; exit 2; }
[ -n "$job" ] || { echo "deploy.sh: --job is required (the Code Engine job name)" >&2; exit 2; }
[ -f "$hook" ] || { echo "deploy.sh: hook $hook does not exist; pass --hook FILE" >&2; exit 2; }
if [ -z "$config" ]; then
    config=job_config.json
    [ -f "$config" ] || [ ! -f "$(dirname -- "$hook")/job_config.json" ] || config=$(dirname -- "$hook")/job_config.json
fi
[ -f "$config" ] || { echo "deploy.sh: $config does not exist; pass --config FILE" >&2; exit 2; }
case "$config" in -*) config=./$config ;; esac # a file, not an option, to credhook
if [ -n "$base" ] && { [ ${#tools[@]} -gt 0 ] || [ -n "$packages" ]; }; then
    echo "deploy.sh: --with/--packages build a base image; with --base IMAGE the base already has its tools" >&2
    exit 2
fi
# CE_REMOVE_COMPLETED_JOBS takes minutes (IBM's docs: 4320 for 3 days).
case "$keep_runs" in
"") ;;
IMMEDIATELY | immediately) keep_runs=IMMEDIATELY ;;
*[!0-9mhd]* | [!0-9]* | *[mhd]*[mhd]* | 0 | 0[mhd])
    echo "deploy.sh: --keep-runs $keep_runs is not a duration like 3d, 12h or 90 (minutes), or IMMEDIATELY" >&2; exit 2 ;;
*d) keep_runs=$(( ${keep_runs%d} * 1440 )) ;;
*h) keep_runs=$(( ${keep_runs%h} * 60 )) ;;
*m) keep_runs=${keep_runs%m} ;;
esac
# One host per --allow-host; credhook check then reads the list as the job
# will (a broken entry stops here).
allow=""
for h in ${allow_hosts[@]+"${allow_hosts[@]}"}; do
    case "$h" in
    *[!A-Za-z0-9.:*_[\]-]*) echo "deploy.sh: --allow-host $h: give one HOST[:PORT], *.DOMAIN or [IPv6] per --allow-host (no scheme, path, comma or space)" >&2; exit 2 ;;
    esac
    allow=$allow${allow:+,}$h
done
for t in ${tools[@]+"${tools[@]}"}; do
    case "$t" in *[!A-Za-z0-9._+-]*) echo "deploy.sh: --with $t is not a command name" >&2; exit 2 ;; esac
done

engine=""
for e in podman docker; do command -v "$e" >/dev/null 2>&1 && { engine=$e; break; }; done
[ -n "$engine" ] || { echo "deploy.sh: neither podman nor docker is installed" >&2; exit 1; }
command -v ibmcloud >/dev/null 2>&1 || { echo "deploy.sh: the ibmcloud CLI is not installed" >&2; exit 1; }

credhook=${CREDHOOK:-}
if [ -z "$credhook" ]; then
    (cd "$here" && cargo build --release --quiet --bin credhook)
    credhook=$here/target/release/credhook
fi
# check sees the allowlist the job will have (none: it warns that the job
# can reach any host), never one this shell happens to export.
if [ -n "$allow" ]; then
    CREDHOOK_HTTP_ALLOW=$allow "$credhook" check "$config"
else
    env -u CREDHOOK_HTTP_ALLOW "$credhook" check "$config"
fi
# The job's settings, shell-quoted, from credhook ce-flags; HOOK_TIMEOUT
# (seconds, or empty for credhook's default) sizes them. check has said
# whether the job may reach any host: ce-flags need not say it again.
retry_window="" iam_retry_window="" http_timeout=""
settings() {
    local a=(--job-settings)
    [ -z "$task_timeout" ] || a+=(--task-timeout "$task_timeout")
    [ -z "$1" ] || a+=(--hook-timeout "$1")
    [ -z "$retry_window" ] || a+=(--retry-window "$retry_window")
    [ -z "$iam_retry_window" ] || a+=(--iam-retry-window "$iam_retry_window")
    [ -z "$http_timeout" ] || a+=(--http-timeout "$http_timeout")
    [ -z "$cpu" ] || a+=(--cpu "$cpu")
    [ -z "$memory" ] || a+=(--memory "$memory")
    { env -u CREDHOOK_HTTP_ALLOW "$credhook" ce-flags "${a[@]}" "$config" 2>&1 1>&3 3>&- |
        sed '/unless the job sets CREDHOOK_HTTP_ALLOW/d' >&2; } 3>&1
}
settings "$hook_timeout" >/dev/null # bad input stops here, before anything runs
# Shows a command, asks, runs it.
run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    if [ "$yes" = 0 ]; then
        local answer=""
        read -r -p "Run it? [y/N] " answer || answer=""
        case "$answer" in
        y | Y | yes) ;;
        *) echo "deploy.sh: stopped; nothing more was run" >&2; exit 1 ;;
        esac
    fi
    "$@"
}

[ -z "$project" ] || run ibmcloud ce project select --name "$project"
current="" job_exists=0 flags=""
if current=$(ibmcloud ce job get --name "$job" --output json 2>/dev/null); then job_exists=1; fi

# A whole number of seconds the job's variable NAME holds, or nothing if the
# job does not set it. Each env entry is a flat JSON object; split on
# braces, the one naming the variable holds its value. A value deploy.sh
# cannot read as seconds stops it (FIX says what to do).
job_seconds() { # NAME FIX
    local entry value
    entry=$(printf '%s' "$current" | tr '{}\n' '\n\n ' | grep -E "\"name\" *: *\"$1\"" | head -n 1 || true)
    [ -n "$entry" ] || return 0
    value=$(printf '%s\n' "$entry" | sed -n 's/.*"value" *: *"\([0-9][0-9]*\)".*/\1/p')
    if [ -z "$value" ]; then
        echo "deploy.sh: job $job sets $1, but not to a number of seconds deploy.sh can read; $2" >&2
        exit 1
    fi
    printf '%s\n' "$value"
}
# The task timeout must also cover credhook's retry windows, and
# --maxexecutiontime the longest a run can take: the job's own windows and
# HTTP timeout, when it sets them.
if [ "$job_exists" = 1 ]; then
    retry_window=$(job_seconds CREDHOOK_RETRY_WINDOW "set it to whole seconds") || exit 1
    iam_retry_window=$(job_seconds CREDHOOK_IAM_RETRY_WINDOW "set it to whole seconds") || exit 1
    http_timeout=$(job_seconds CREDHOOK_HTTP_TIMEOUT "set it to whole seconds") || exit 1
fi
# Without --hook-timeout the job keeps its CREDHOOK_HOOK_TIMEOUT, so the
# limits are sized (and checked) for that value.
if [ -z "$hook_timeout" ] && [ "$job_exists" = 1 ]; then
    job_hook_timeout=$(job_seconds CREDHOOK_HOOK_TIMEOUT "pass --hook-timeout S") || exit 1
    if [ -n "$job_hook_timeout" ]; then
        echo "deploy.sh: job $job has CREDHOOK_HOOK_TIMEOUT=$job_hook_timeout; sizing for it (--hook-timeout S to change it)"
        flags=$(settings "$job_hook_timeout") || {
            echo "deploy.sh: that is job $job's current CREDHOOK_HOOK_TIMEOUT; pass --hook-timeout S below the task timeout, or a longer --task-timeout" >&2
            exit 1
        }
    fi
fi
[ -n "$flags" ] || flags=$(settings "$hook_timeout")
eval "set -- $flags"
job_flags=("$@")
[ -z "$hook_timeout" ] || job_flags+=(--env "CREDHOOK_HOOK_TIMEOUT=$hook_timeout")
[ -z "$keep_runs" ] || job_flags+=(--env "CE_REMOVE_COMPLETED_JOBS=$keep_runs")
if [ -n "$allow" ]; then
    job_flags+=(--env "CREDHOOK_HTTP_ALLOW=$allow")
elif [ "$job_exists" = 1 ] && printf '%s' "$current" | grep -qE '"name" *: *"CREDHOOK_HTTP_ALLOW"'; then
    echo "deploy.sh: job $job sets CREDHOOK_HTTP_ALLOW; it is kept (--allow-host HOST to change it)"
fi

# Code Engine runs x86 only, whatever builds the image.
platform=(--platform linux/amd64)
if [ -z "$base" ]; then
    base="credhook-base:local"
    run "$engine" build "${platform[@]}" -t "$base" --build-arg HOOK=none \
        --build-arg "PACKAGES=$packages" --build-arg "TOOLS=${tools[*]+"${tools[*]}"}" \
        -f "$here/Containerfile" "$here"
fi
# The provider: the base and the hook, from a context holding only the hook.
context=$(mktemp -d "${TMPDIR:-/tmp}/credhook-deploy.XXXXXX")
trap 'rm -rf "$context"' EXIT
trap 'exit 130' INT TERM HUP # the EXIT trap then removes the context
cp -- "$hook" "$context/hook.sh"
printf 'FROM %s\nCOPY --chmod=0755 hook.sh /hook\n' "$base" > "$context/Containerfile"
run "$engine" build "${platform[@]}" -t "$image" -f "$context/Containerfile" "$context"
run "$engine" push "$image"
extra=()
[ -z "$registry_secret" ] || extra=(--registry-secret "$registry_secret")
if [ "$job_exists" = 1 ]; then
    # Declarations no longer in job_config.json stay on the job unless removed.
    declared=$(for f in "${job_flags[@]}"; do case "$f" in SM*=*) printf '%s\n' "${f%%=*}" ;; esac; done)
    for name in $(printf '%s\n' "$current" | grep -oE '"name": *"SM(IN|OUT)_[A-Za-z0-9_]*"' | sed 's/.*"\(SM[A-Z]*_[A-Za-z0-9_]*\)"$/\1/' | sort -u); do
        case "$name" in *_VALUE) continue ;; esac
        printf '%s\n' "$declared" | grep -qxF -- "$name" || extra+=(--env-rm "$name")
    done
    run ibmcloud ce job update --name "$job" --image "$image" ${extra[@]+"${extra[@]}"} "${job_flags[@]}"
else
    run ibmcloud ce job create --name "$job" --image "$image" ${extra[@]+"${extra[@]}"} "${job_flags[@]}"
fi
echo "deploy.sh: job $job runs $image"
