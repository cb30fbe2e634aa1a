# Sourced by scripts/bench.sh: the JFrog provider's create (examples/jfrog/hook.sh,
# credhook http/json) against the same hook written with curl and jq
# (scripts/bench/jfrog-curl.sh), both against the same HTTPS JFrog fake.
# Needs $credhook, $work, $runs, median(); sets jf_cred and jf_curl (µs).
cargo build --release --quiet -p credhook-emulator --bin vendor-fake
jfrog_admin=bench-jfrog-admin-token-0123456789
target/release/vendor-fake jfrog --admin "$jfrog_admin" --dir "$work/jfrog" > "$work/jfrog.log" 2>&1 &
jfrog_pid=$!
trap 'kill "$emu_pid" "$jfrog_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/jfrog/url" ] && break; sleep 0.05; done
mkdir -p "$work/jfrog/bin"
ln -sf "$credhook" "$work/jfrog/bin/credhook"
echo "==> JFrog create: credhook http/json against curl + jq ($runs runs each)"
PATH="$work/jfrog/bin:$PATH" SSL_CERT_FILE="$work/jfrog/jfrog-ca.pem" \
    SMIN_JFROG_BASE_URL="$(cat "$work/jfrog/url")" SMIN_LOGIN_SECRET_ID_PAYLOAD="$jfrog_admin" \
    SMIN_USERNAME=ci-bot SMIN_EXPIRES_IN_SECONDS=3600 SMIN_DESCRIPTION="bench token" \
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/jfrog.json" \
    "sh -c 'sh $PWD/examples/jfrog/hook.sh create 3>/dev/null'" \
    "sh -c 'sh $PWD/scripts/bench/jfrog-curl.sh create 3>/dev/null'" > /dev/null
kill "$jfrog_pid" 2>/dev/null || true
jf_cred=$(median 0 "$work/jfrog.json"); jf_curl=$(median 1 "$work/jfrog.json")
