# Sourced by scripts/bench.sh (or run on its own): masking a 16 KiB hook line
# against 1,000 registered secrets, this tree's registry (decoded views,
# base64 forms) against 15821ba's (a list of encoders' forms), both built
# with the release profile and measured in the same run. Two lines: prose,
# and a JSON reply full of escapes and quotes (every view is built).
# Sets mask_<line>_new, mask_<line>_old (median ns per mask).
#
#   scripts/bench/mask.sh          (prints the figures)
#   MASK_RUNS=101 (default)
mask_base=15821ba
mask_dir=$(mktemp -d)
mask_bench() { # tree feature-flag: builds scripts/bench/mask/main.rs against tree, runs it
    local name=$1 tree=$2 features=$3
    mkdir -p "$mask_dir/$name/src"
    cp scripts/bench/mask/main.rs "$mask_dir/$name/src/main.rs"
    cat > "$mask_dir/$name/Cargo.toml" <<TOML
[package]
name = "mask-bench-$name"
version = "0.0.0"
edition = "2024"
[dependencies]
credhook = { path = "$tree", default-features = false }
[features]
old = []
[profile.release]
opt-level = 3
[workspace]
TOML
    CARGO_TARGET_DIR="$mask_dir/target-$name" cargo build --quiet --release \
        --manifest-path "$mask_dir/$name/Cargo.toml" $features
    "$mask_dir/target-$name/release/mask-bench-$name"
}
echo "==> masking a 16 KiB line against 1,000 secrets: this tree and $mask_base"
mkdir -p "$mask_dir/old-tree"
git archive "$mask_base" | tar -x -C "$mask_dir/old-tree"
mask_new_out=$(mask_bench new "$PWD" "")
mask_old_out=$(mask_bench old "$mask_dir/old-tree" "--features old")
mask_plain_new=$(echo "$mask_new_out" | awk '$1 == "plain" { print $2 }')
mask_json_new=$(echo "$mask_new_out" | awk '$1 == "json" { print $2 }')
mask_plain_old=$(echo "$mask_old_out" | awk '$1 == "plain" { print $2 }')
mask_json_old=$(echo "$mask_old_out" | awk '$1 == "json" { print $2 }')
rm -rf "$mask_dir"
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    for l in plain json; do
        n=mask_${l}_new o=mask_${l}_old
        awk -v l="$l" -v n="${!n}" -v o="${!o}" \
            'BEGIN { printf "%s line: %.1f µs now, %.1f µs at 15821ba: %.2f×\n", l, n / 1000, o / 1000, n / o }'
    done
fi
