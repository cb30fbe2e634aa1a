//! What each fuzz target checks: properties of the core's parsers, not just
//! "does not panic". The cargo-fuzz targets (`fuzz/`) and
//! `tests/fuzz_corpus.rs` (which replays the corpus on stable Rust in CI)
//! call these three functions: the crate's only window on its parsers
//! ([`MaskBench`] is the benchmark's window on masking).

use crate::core::hook::channel::{self, MAX_VALUE_CHARS};
use crate::core::job::inputs;
use crate::core::job::schema::{self, Schema};
use crate::core::json;
use crate::core::net::iam;
use crate::core::secrets::referenced;
use crate::core::secrets::registry::{MIN_CHARS, Registry};
use alloc::format;
use alloc::vec::Vec;

fn schema() -> Schema {
    let env = [
        ("SMOUT_USERNAME", "type:string, required:true"),
        ("SMOUT_PASSWORD", "type:string"),
        ("SMOUT_PORT", "type:integer"),
        ("SMOUT_ADMIN", "type:boolean"),
        ("SMOUT_MODE", "type:enum[ro|rw]"),
        ("SMOUT_ID", "type:string"),
    ];
    schema::from_env(env.iter().map(|(k, v)| (*k, *v))).0
}

/// The hook-output parser: accepted reports respect the limits and the
/// schema; the lenient id finder used for rollback agrees with the parser;
/// the typed payload holds only declared names.
pub fn hook_output(data: &[u8]) {
    let s = schema();
    let lenient = channel::find_ids(data);
    // Every value written is registered, whatever the parser says of it:
    // masking the output itself leaves none of them.
    let mut registry = Registry::default();
    channel::register_values(data, &s, &mut registry);
    let Ok(report) = channel::parse(data, &s) else { return };
    for (name, value) in &report.values {
        let typed = matches!(
            s.output(name).map(|f| &f.kind),
            Some(schema::Kind::Integer | schema::Kind::Boolean)
        );
        if !typed && value.expose().chars().count() >= MIN_CHARS {
            assert!(
                !registry.mask(value.expose()).contains(value.expose()),
                "an accepted value was not registered"
            );
        }
        assert!(s.output(name).is_some(), "undeclared output {name} accepted");
        assert!(value.expose().chars().count() <= MAX_VALUE_CHARS);
    }
    if let Some(id) = report.id.as_deref().filter(|i| !i.trim().is_empty()) {
        assert!(
            lenient.iter().any(|l| l == id.trim()),
            "rollback would not find the id the parser read"
        );
    }
    if let Ok(c) = channel::credentials(&s, report) {
        assert!(!c.id.trim().is_empty());
        for (name, _) in &c.payload {
            assert!(s.output(name).is_some());
        }
    }
}

/// Schema strings: whatever parses renders back to a string that parses to
/// the same thing; declarations from `NAME=VALUE` lines never panic.
pub fn schema_strings(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else { return };
    if let Ok((kind, required)) = schema::parse_schema_string(text) {
        let again = format!("type:{kind}, required:{required}");
        assert_eq!(
            schema::parse_schema_string(&again),
            Ok((kind.clone(), required)),
            "{again}"
        );
        if let Ok(v) = inputs::check_value(&kind, "true") {
            assert!(!v.is_empty());
        }
    }
    let pairs: Vec<(&str, &str)> = text.lines().filter_map(|l| l.split_once('=')).collect();
    let (schema, _) = schema::from_env(pairs.iter().copied());
    for f in schema.inputs.iter().chain(&schema.outputs) {
        assert!(schema::is_valid_name(&f.name));
    }
}

/// Replies from IAM and Secrets Manager: JSON that parses re-serialises
/// compactly to JSON that parses to the same value; the token and secret
/// readers never panic.
pub fn replies(data: &[u8]) {
    if let Ok(v) = json::parse(data) {
        let compact = v.to_compact();
        let again = json::parse(compact.expose().as_bytes()).expect("compact output must parse");
        assert_eq!(again, v);
        assert_eq!(again.to_compact().expose(), compact.expose());
    }
    let _ = iam::parse_token_reply(data);
    let _ = iam::error_summary(data);
    let _ = referenced::hook_vars("LOGIN", data);
}

/// Masking with a registry of given secrets, for `scripts/bench/mask.sh`
/// (which measures it against 15821ba's registry in the same run).
pub struct MaskBench(Registry);

impl MaskBench {
    /// A registry holding `secrets`, each registered as a secret value is.
    pub fn new(secrets: &[&str]) -> MaskBench {
        let mut r = Registry::default();
        for s in secrets {
            r.register(s);
        }
        MaskBench(r)
    }

    /// `text`, masked.
    pub fn mask(&mut self, text: &str) -> alloc::string::String {
        self.0.mask(text)
    }
}
