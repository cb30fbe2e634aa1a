#!/usr/bin/env bash
# Runs each cargo-fuzz target for SECONDS (default 600), one after another or
# all at once with --parallel, keeping new corpus entries in fuzz/corpus/.
# Needs the nightly toolchain and cargo-fuzz (installed when missing).
#   scripts/fuzz.sh [--parallel] [SECONDS] [TARGET…]
# Targets: hook_output, schema, replies. Crashes land in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
parallel=0
if [ "${1:-}" = --parallel ]; then parallel=1; shift; fi
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(hook_output schema replies)

command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
mkdir -p fuzz/logs
cargo +nightly fuzz build "${targets[@]}" 2>&1 | tail -n 1 || cargo +nightly fuzz build

run() {
    local t=$1
    cargo +nightly fuzz run "$t" "fuzz/corpus/$t" -- -max_total_time="$secs" -print_final_stats=1 \
        > "fuzz/logs/$t.log" 2>&1
    local status=$?
    local execs
    execs=$(grep -E 'stat::number_of_executed_units' "fuzz/logs/$t.log" | awk '{print $2}' | tail -n 1)
    echo "$t: exit $status, ${execs:-?} executions in ${secs}s, corpus $(ls "fuzz/corpus/$t" | wc -l) files"
    return $status
}
fail=0
if [ "$parallel" = 1 ]; then
    pids=()
    for t in "${targets[@]}"; do run "$t" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || fail=1; done
else
    for t in "${targets[@]}"; do run "$t" || fail=1; done
fi
exit $fail
