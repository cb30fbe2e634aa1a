//! Replays the fuzz corpus (fuzz/corpus/<target>/*) through the same checks
//! the cargo-fuzz targets run, on stable Rust, so CI keeps every input the
//! fuzzers found interesting passing.

use credhook::fuzzing as checks;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        // A fuzzer running meanwhile may replace files; a vanished one is fine.
        let Ok(data) = std::fs::read(&path) else { continue };
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "corpus input {} fails its check", path.display());
        n += 1;
    }
    assert!(n > 0, "empty corpus for {target}");
}

#[test]
fn hook_output_corpus() {
    replay("hook_output", checks::hook_output);
}

#[test]
fn schema_corpus() {
    replay("schema", checks::schema_strings);
}

#[test]
fn replies_corpus() {
    replay("replies", checks::replies);
}
