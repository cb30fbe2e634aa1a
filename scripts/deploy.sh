#!/usr/bin/env bash
# Builds the credhook image with your hook, pushes it, and creates or updates
# the Code Engine job with the --env flags your job_config.json declares.
# Prints each command and asks before running it (--yes to skip asking).
#
#   scripts/deploy.sh --image us.icr.io/NAMESPACE/my-provider:1 --job my-provider \
#       [--hook scripts/hooks/my-hook.sh] [--config job_config.json] \
#       [--project my-project] [--registry-secret icr-secret] [--yes]
#
# Needs podman or docker, and the ibmcloud CLI with the code-engine plugin,
# logged in (ibmcloud login; ibmcloud cr login for IBM Container Registry).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

image="" job="" hook=$here/scripts/hooks/example.sh config=job_config.json project="" registry_secret="" yes=0
usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --image) image=${2:?--image needs a value}; shift 2 ;;
    --job) job=${2:?--job needs a value}; shift 2 ;;
    --hook) hook=${2:?--hook needs a value}; shift 2 ;;
    --config) config=${2:?--config needs a value}; shift 2 ;;
    --project) project=${2:?--project needs a value}; shift 2 ;;
    --registry-secret) registry_secret=${2:?--registry-secret needs a value}; shift 2 ;;
    --yes | -y) yes=1; shift ;;
    -h | --help) usage ;;
    *) echo "deploy.sh: unknown argument $1" >&2; usage ;;
    esac
done
[ -n "$image" ] || { echo "deploy.sh: --image is required (e.g. us.icr.io/my-namespace/my-provider:1)" >&2; exit 2; }
[ -n "$job" ] || { echo "deploy.sh: --job is required (the Code Engine job name)" >&2; exit 2; }
[ -f "$config" ] || { echo "deploy.sh: $config does not exist; pass --config FILE" >&2; exit 2; }
[ -f "$hook" ] || { echo "deploy.sh: hook $hook does not exist; pass --hook FILE" >&2; exit 2; }
# The hook is a build argument: it must be inside the build context (this repository).
hook_abs=$(cd "$(dirname "$hook")" && pwd)/$(basename "$hook")
case "$hook_abs" in
"$here"/*) hook_rel=${hook_abs#"$here"/} ;;
*) echo "deploy.sh: the hook must be inside $here (the image's build context); copy it there" >&2; exit 2 ;;
esac

engine=""
for e in podman docker; do command -v "$e" >/dev/null 2>&1 && { engine=$e; break; }; done
[ -n "$engine" ] || { echo "deploy.sh: neither podman nor docker is installed" >&2; exit 1; }
command -v ibmcloud >/dev/null 2>&1 || { echo "deploy.sh: the ibmcloud CLI is not installed" >&2; exit 1; }

credhook=${CREDHOOK:-}
if [ -z "$credhook" ]; then
    (cd "$here" && cargo build --release --quiet --bin credhook)
    credhook=$here/target/release/credhook
fi
"$credhook" check "$config"
eval "set -- $("$credhook" ce-flags "$config")"
env_flags=("$@")

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

run "$engine" build -t "$image" --build-arg "HOOK=$hook_rel" -f "$here/Containerfile" "$here"
run "$engine" push "$image"
[ -z "$project" ] || run ibmcloud ce project select --name "$project"
extra=()
[ -z "$registry_secret" ] || extra=(--registry-secret "$registry_secret")
if ibmcloud ce job get --name "$job" >/dev/null 2>&1; then
    run ibmcloud ce job update --name "$job" --image "$image" "${extra[@]}" "${env_flags[@]}"
else
    run ibmcloud ce job create --name "$job" --image "$image" "${extra[@]}" "${env_flags[@]}"
fi
echo "deploy.sh: job $job runs $image"
