#!/usr/bin/env bash
# Measures credhook and reports medians over repeated runs in one invocation,
# each against a baseline measured in the same run:
#   - binary size;
#   - `credhook --version`, exec to exit, against a static hello world built
#     with the same profile and flags (the floor);
#   - a full create and a full delete against the emulator over HTTPS with a
#     trivial sh hook: wall time against scripts/bench/baseline.sh (sh + curl
#     + jq doing the same job), and credhook's own CPU and peak RSS (from its
#     last log line: getrusage of the credhook process, hook excluded);
#   - the hook tools against what a hook would use without them, same local
#     HTTPS server (the emulator): `credhook http` against `curl` for one GET
#     and one POST, `credhook json get` against `jq -r` for reading a field;
#   - the JFrog provider's create (examples/jfrog/hook.sh) against the same
#     hook written with curl and jq (scripts/bench/jfrog.sh), one HTTPS fake;
#   - the size of everything in the image (scripts/rootfs.sh), and for the
#     base image, an HTTPS provider and PostgreSQL the size the container
#     engine stores next to the root's file total (scripts/bench/image-sizes.sh;
#     skipped without an engine), and the certificate provider's
#     (rootfs.sh --with openssl examples/certificate/hook.sh).
#   - masking a 16 KiB line against 1,000 secrets (scripts/bench/mask.sh),
#     against 15821ba's registry built in the same run;
#   - a fleet (scripts/bench/fleet.sh): 200 concurrent creates against one
#     emulator with no limit and with --rate-limit 20 (IBM's 20 req/s
#     guidance): Secrets Manager requests and attempts per task, the time to
#     drain them against requests ÷ 20 per second, runs failed or rolled back.
# Writes scripts/bench/results.md. Benchmarks report; tests never assert timings.
#
#   scripts/bench.sh [--stable|--nightly]    (default --nightly, as the image is built)
#   BENCH_RUNS=50 scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:---nightly}
runs=${BENCH_RUNS:-30}

need() {
    command -v "$1" >/dev/null 2>&1 && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
        echo "$1 is missing: install $2" >&2
        exit 1
    fi
}
need hyperfine hyperfine
need jq jq
need curl curl

echo "==> building (static, $mode) credhook, the hello-world floor, the emulator"
scripts/build-static.sh "$mode" | tail -n 1
BUILD_STATIC_PACKAGE=hello BUILD_STATIC_MANIFEST=scripts/bench/hello/Cargo.toml \
    scripts/build-static.sh "$mode" | tail -n 1
cargo build --release --quiet -p credhook-emulator --bin credhook-emulator
credhook=$PWD/target/static/credhook
hello=$PWD/target/static/hello

work=$(mktemp -d)
trap 'kill "$emu_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/credhook-emulator --dir "$work" --api-key bench-api-key-0123456789 > "$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(cat "$work/url")

export SM_INSTANCE_URL="$url" CREDHOOK_IAM_URL="$url" CREDHOOK_CA_FILE="$work/ca.pem" \
    SM_SECRET_ID=0f9a2b1c-1111-4222-8333-944455556666 SM_SECRET_TASK_ID=bench \
    SM_ACCESS_APIKEY=bench-api-key-0123456789 CREDHOOK_HOOK="$PWD/scripts/bench/hook.sh" \
    SMOUT_USERNAME="type:string, required:true" SMOUT_PASSWORD="type:string, required:true" \
    SM_CREDENTIALS_ID=bench-1

median() { jq -r "[.results[$1].times[]] | sort | .[length/2|floor] * 1000000 | floor" "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
us() { awk -v a="$1" 'BEGIN { printf "%.0f µs", a }'; }

echo "==> --version against hello world ($runs × 10 runs)"
hyperfine -N --warmup 20 --runs $((runs * 10)) --export-json "$work/version.json" \
    "$credhook --version" "$hello" > /dev/null
v_cred=$(median 0 "$work/version.json"); v_hello=$(median 1 "$work/version.json")

bench_action() { # action → json file
    SM_ACTION=$1 hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/$1.json" \
        "$credhook run" "sh $PWD/scripts/bench/baseline.sh" > /dev/null 2> "$work/$1.err"
}
echo "==> create and delete, credhook against sh + curl + jq ($runs runs each)"
bench_action create_credentials
bench_action delete_credentials
c_cred=$(median 0 "$work/create_credentials.json"); c_base=$(median 1 "$work/create_credentials.json")
d_cred=$(median 0 "$work/delete_credentials.json"); d_base=$(median 1 "$work/delete_credentials.json")

echo "==> credhook's own CPU and peak RSS during a create ($runs runs)"
for _ in $(seq "$runs"); do
    SM_ACTION=create_credentials "$credhook" run 2>&1 >/dev/null | tail -n 1
done > "$work/last-lines.jsonl"
grep -q '"outcome":"credentials_created"' "$work/last-lines.jsonl" || { cat "$work/last-lines.jsonl"; exit 1; }
cpu=$(jq -s '[.[] | .cpu_user_us + .cpu_sys_us] | sort | .[length/2|floor]' "$work/last-lines.jsonl")
rss=$(jq -s '[.[] | .max_rss_kib] | sort | .[length/2|floor]' "$work/last-lines.jsonl")

echo "==> credhook http against curl, one HTTPS GET and one POST ($runs runs each)"
export BENCH_API_KEY=bench-api-key-0123456789
grant=urn:ibm:params:oauth:grant-type:apikey
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/http-get.json" \
    "$credhook http --cacert $work/ca.pem -o /dev/null GET $url/emulator/updates" \
    "curl -sS --fail --cacert $work/ca.pem -o /dev/null $url/emulator/updates" > /dev/null
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/http-post.json" \
    "$credhook http --cacert $work/ca.pem -o /dev/null -H 'Accept: application/json' --form grant_type=$grant --form apikey={{BENCH_API_KEY}} POST $url/identity/token" \
    "curl -sS --fail --cacert $work/ca.pem -o /dev/null -H 'Accept: application/json' -d grant_type=$grant -d apikey=$BENCH_API_KEY $url/identity/token" > /dev/null
g_cred=$(median 0 "$work/http-get.json"); g_curl=$(median 1 "$work/http-get.json")
p_cred=$(median 0 "$work/http-post.json"); p_curl=$(median 1 "$work/http-post.json")

echo "==> credhook json get against jq -r ($((runs * 10)) calls each)"
"$credhook" http --cacert "$work/ca.pem" --form grant_type=$grant --form 'apikey={{BENCH_API_KEY}}' \
    POST "$url/identity/token" > "$work/reply.json"
[ "$("$credhook" json get .access_token < "$work/reply.json")" = "$(jq -r .access_token < "$work/reply.json")" ]
# hyperfine 1.15 (Debian) cannot feed stdin, so: the mean of a loop of
# exec + read + exit, the same loop for both tools.
per_call_us() { # command… → mean µs per call, stdin from reply.json
    local n=$((runs * 10)) t0 t1
    t0=$(date +%s%N)
    for _ in $(seq "$n"); do "$@" < "$work/reply.json" > /dev/null; done
    t1=$(date +%s%N)
    echo $(((t1 - t0) / n / 1000))
}
per_call_us "$credhook" json get .access_token > /dev/null # warm the page cache
j_cred=$(per_call_us "$credhook" json get .access_token)
j_jq=$(per_call_us jq -r .access_token)

. scripts/bench/jfrog.sh
. scripts/bench/fleet.sh
. scripts/bench/image-sizes.sh
. scripts/bench/mask.sh

echo "==> image contents"
scripts/rootfs.sh "$work/rootfs" scripts/hooks/example.sh > /dev/null
image=$(du -sb "$work/rootfs" | cut -f1)
need openssl openssl
scripts/rootfs.sh --with openssl "$work/rootfs-cert" examples/certificate/hook.sh > /dev/null
cert_image=$(du -sb "$work/rootfs-cert" | cut -f1)
size=$(stat -c %s "$credhook"); hello_size=$(stat -c %s "$hello")

out=scripts/bench/results.md
{
    echo "# Benchmark results"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"
    echo "credhook $(git rev-parse --short HEAD 2>/dev/null || echo unknown), static musl build ($mode), $runs runs (--version: $((runs * 10))), medians."
    echo
    echo "| figure | credhook | baseline | ratio | target |"
    echo "|---|---|---|---|---|"
    echo "| stripped static binary | $size bytes | hello world: $hello_size bytes | $(ratio "$size" "$hello_size") | ≤ 1,572,864 bytes |"
    echo "| \`--version\`, exec to exit | $(us "$v_cred") | hello world: $(us "$v_hello") | $(ratio "$v_cred" "$v_hello") | ≤ 1.5 × hello |"
    echo "| full create, wall | $(us "$c_cred") | sh + curl + jq: $(us "$c_base") | $(ratio "$c_cred" "$c_base") | ≤ 0.1 × baseline |"
    echo "| full delete, wall | $(us "$d_cred") | sh + curl + jq: $(us "$d_base") | $(ratio "$d_cred" "$d_base") | |"
    echo "| JFrog provider create (hook + credhook http/json), wall | $(us "$jf_cred") | same hook with curl + jq: $(us "$jf_curl") | $(ratio "$jf_cred" "$jf_curl") | |"
    echo "| credhook's own CPU (user + sys), create | $(us "$cpu") | | | ≤ 2 ms |"
    echo "| credhook's peak RSS, create | $rss KiB | | | ≤ 2048 KiB |"
    echo "| \`credhook http\` one HTTPS GET, wall | $(us "$g_cred") | curl: $(us "$g_curl") | $(ratio "$g_cred" "$g_curl") | ≤ 0.3 × curl |"
    echo "| \`credhook http\` one HTTPS POST (form), wall | $(us "$p_cred") | curl: $(us "$p_curl") | $(ratio "$p_cred" "$p_curl") | ≤ 0.3 × curl |"
    echo "| \`credhook json get\` one field, wall (mean of a loop) | $(us "$j_cred") | jq -r: $(us "$j_jq") | $(ratio "$j_cred" "$j_jq") | ≤ 0.2 × jq |"
    echo "| masking a 16 KiB line (prose) against 1,000 secrets | $(us "$((mask_plain_new / 1000))") | 15821ba's registry: $(us "$((mask_plain_old / 1000))") | $(ratio "$mask_plain_new" "$mask_plain_old") | ≤ 2 × 15821ba |"
    echo "| masking a 16 KiB line (a JSON reply: escapes and quotes, every view) against 1,000 secrets | $(us "$((mask_json_new / 1000))") | 15821ba's registry: $(us "$((mask_json_old / 1000))") | $(ratio "$mask_json_new" "$mask_json_old") | ≤ 2 × 15821ba |"
    echo "| everything in the image | $image bytes | | | ≤ 4,194,304 bytes |"
    printf '%s' "$image_rows"
    echo "| the certificate provider's image (\`--with openssl\`) | $cert_image bytes | the image above: $image bytes | $(ratio "$cert_image" "$image") | |"
    echo
    echo "## A fleet: $fleet_runs concurrent runs against one instance"
    echo
    echo "Each run: an IAM token, one secret read (a \`secret_id\` input), the trivial hook, one task update;"
    echo "credhook's default retry settings (each Secrets Manager call retried for its 60 s window, waits of 500 ms"
    echo "doubling up to 5 s, \`Retry-After\` honoured). IAM calls are not Secrets Manager requests."
    echo
    echo "| figure | no limit | \`--rate-limit $fleet_rate\` | target |"
    echo "|---|---|---|---|"
    echo "| runs delivered (\`credentials_created\`) | $fl_open_delivered / $fleet_runs | $fl_limited_delivered / $fleet_runs | all |"
    echo "| runs failed (exit ≠ 0): task reported failed / not reported | $fl_open_failed: $fl_open_reported_failed / $fl_open_unreported | $fl_limited_failed: $fl_limited_reported_failed / $fl_limited_unreported | 0 |"
    echo "| runs rolled back (credentials created, then deleted) | $fl_open_rolled_back | $fl_limited_rolled_back | 0 |"
    echo "| Secrets Manager requests per task (all; served in all) | $fl_open_per_task ($fl_open_sm_served of $fl_open_sm_requests) | $fl_limited_per_task ($fl_limited_sm_served of $fl_limited_sm_requests) | |"
    echo "| 429s answered | $fl_open_refused_429 | $fl_limited_refused_429 | |"
    echo "| Secrets Manager attempts per task, median / max (credhook's logs) | $fl_open_attempts_median / $fl_open_attempts_max | $fl_limited_attempts_median / $fl_limited_attempts_max | |"
    echo "| one run, wall, median / max | $fl_open_run_median_ms / $fl_open_run_max_ms ms | $fl_limited_run_median_ms / $fl_limited_run_max_ms ms | |"
    ideal=$(awk -v a="$fl_open_sm_served" -v b="$fleet_rate" 'BEGIN { printf "%.1f", a / b }')
    echo "| time to drain all $fleet_runs runs (first start to last exit) | $fl_open_drain_s s | $fl_limited_drain_s s ($(ratio "$fl_limited_drain_s" "$ideal") × ideal) | ideal: $fl_open_sm_served requests ÷ $fleet_rate/s = $ideal s |"
} > "$out"
cat "$out"
