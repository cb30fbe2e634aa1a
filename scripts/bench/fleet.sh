# Sourced by scripts/bench.sh: a fleet of concurrent runs against one Secrets
# Manager instance, as a rotation schedule starts them. $fleet_runs creates
# at once (each: an IAM token, one secret read for a secret_id input, the hook
# scripts/bench/hook.sh, one task update), with credhook's default retry
# settings (a 60 s window per Secrets Manager call),
# against the emulator with no limit and with --rate-limit $fleet_rate (IBM's
# guidance: keep an instance below 20 req/s). Each scenario has its own
# emulator; figures come from its requests.jsonl and updates.jsonl and from
# each run's exit status and log (one "http call" line per attempt).
# Needs $credhook, $work; sets fl_<scenario>_<figure> for results.md.
#
#   BENCH_FLEET_RUNS=200 (default) BENCH_FLEET_RATE=20 (default)
fleet_runs=${BENCH_FLEET_RUNS:-200}
fleet_rate=${BENCH_FLEET_RATE:-20}
fleet_login=a1b2c3d4-0000-4000-8000-00000000f1ee
fleet_pid=
trap 'kill "$emu_pid" ${fleet_pid:+"$fleet_pid"} 2>/dev/null || true; rm -rf "$work"' EXIT

fleet() { # scenario [emulator flags…]: runs the fleet, sets fl_<scenario>_*
    local name=$1 dir=$work/fleet-$1 i t0 t1 pids=()
    shift
    mkdir -p "$dir/runs"
    printf '{"id":"%s","secret_type":"arbitrary","payload":"fleet-admin-token-0123456789"}\n' "$fleet_login" \
        > "$dir/secrets.jsonl"
    target/release/credhook-emulator --dir "$dir" --secrets "$dir/secrets.jsonl" \
        --api-key bench-api-key-0123456789 "$@" > "$dir/emulator.log" 2>&1 &
    fleet_pid=$!
    for _ in $(seq 100); do [ -s "$dir/url" ] && break; sleep 0.05; done
    local url
    url=$(cat "$dir/url")
    echo "==> a fleet: $fleet_runs concurrent creates, emulator ${*:-with no limit}"
    t0=$(date +%s%N)
    for i in $(seq -w "$fleet_runs"); do
        SM_ACTION=create_credentials SM_SECRET_TASK_ID="fleet-$i" SM_INSTANCE_URL="$url" \
            CREDHOOK_IAM_URL="$url" CREDHOOK_CA_FILE="$dir/ca.pem" \
            SMIN_LOGIN="type:secret_id, required:true" SM_LOGIN_VALUE="$fleet_login" \
            "$credhook" run > /dev/null 2> "$dir/runs/fleet-$i.log" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" && echo 0 || echo $?
    done > "$dir/exit-codes"
    t1=$(date +%s%N)
    kill "$fleet_pid" 2>/dev/null || true
    wait "$fleet_pid" 2>/dev/null || true
    fleet_pid=

    # One JSON object of figures from the records and the logs.
    cat "$dir"/runs/*.log | jq -n --slurpfile req "$dir/requests.jsonl" --slurpfile upd "$dir/updates.jsonl" \
        --rawfile codes "$dir/exit-codes" --argjson runs "$fleet_runs" --argjson wall_ms $(((t1 - t0) / 1000000)) '
        def median: sort | .[length / 2 | floor];
        [inputs] as $log
        | ($req | map(select(.endpoint == "secret" or .endpoint == "task"))) as $sm
        | ($log | map(select(.msg == "http call" and (.call == "secret_read" or .call == "task_update")))
            | group_by(.task_id) | map(length)) as $attempts
        | ($log | map(select(.msg == "credhook finished") | .duration_ms)) as $durations
        | {
            delivered: ($upd | map(select(.body.status == "credentials_created") | .task_id) | unique | length),
            failed: ($codes | split("\n") | map(select(. != "" and . != "0")) | length),
            reported_failed: ($upd | map(select(.body.status == "failed") | .task_id) | unique | length),
            unreported: ($runs - ($upd | map(.task_id) | unique | length)),
            rolled_back: ($log | map(select(.msg | startswith("rolling back")) | .task_id) | unique | length),
            sm_requests: ($sm | length),
            sm_served: ($sm | map(select(.answer == "served")) | length),
            refused_429: ($sm | map(select(.status == 429)) | length),
            per_task: (($sm | length) / $runs * 100 | round / 100),
            attempts_median: ($attempts | median),
            attempts_max: ($attempts | max),
            run_median_ms: ($durations | median),
            run_max_ms: ($durations | max),
            drain_s: ($wall_ms / 10 | round / 100)
          }' > "$dir/figures.json"
    local k
    for k in delivered failed reported_failed unreported rolled_back sm_requests sm_served refused_429 per_task \
        attempts_median attempts_max run_median_ms run_max_ms drain_s; do
        printf -v "fl_${name}_$k" '%s' "$(jq -r ".$k" "$dir/figures.json")"
    done
}

fleet open
fleet limited --rate-limit "$fleet_rate"
