//! The secret registry: every secret value credhook has seen, and masking
//! text with it.
//!
//! A value is registered the moment it is read, before anything is decided
//! about it: the API key and the CR token when read, each IAM token when
//! received, every field of a referenced secret and every string or number
//! inside its JSON, and every value the hook writes to its output channel,
//! whether or not that output turns out to be valid. Whatever credhook logs
//! or sends as a task description is masked with all of them.
//!
//! Exempt: values shorter than [`MIN_CHARS`] (they would turn ordinary text
//! into noise), and output values the schema types as integer or boolean
//! ([`Registry::register_output`]).

use crate::core::job::inputs::{parse_boolean, parse_integer};
use crate::core::job::schema::Kind;
use crate::core::json::{self, Value};
use crate::core::secrets::secret::Secret;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// What a masked secret is replaced with.
pub(crate) const MASK: &str = "[REDACTED]";
/// Shorter values are not masked.
pub(crate) const MIN_CHARS: usize = 4;

/// Replaces a whole text whose masking would cost more than its budget
/// (crafted secrets can make the search slow): withheld, never leaked.
pub(crate) const WITHHELD: &str = "[REDACTED: text withheld, too costly to check for secrets]";

/// What masking a text may cost, in comparisons (each also charged one
/// unit per 8 bytes it compares): per byte of text, this many per level of
/// the binary search, plus a fixed allowance. Ordinary text needs about one
/// comparison per level and byte.
const COST_PER_LEVEL_AND_BYTE: usize = 8;
const COST_FIXED: usize = 4096;

/// The known secrets. Registering only appends; before a text is masked
/// they are sorted by their bytes (once per batch of registrations), so that
/// the longest one starting at any position is found by binary search.
#[derive(Default)]
pub(crate) struct Registry {
    secrets: Vec<Secret>,
    sorted: bool,
    longest: usize,
}

impl Registry {
    pub(crate) const fn new() -> Registry {
        Registry {
            secrets: Vec::new(),
            sorted: true,
            longest: 0,
        }
    }

    /// Registers a secret value, and the forms in which it may be printed:
    /// trimmed, as JSON encoders escape it ([`printed_forms`]), as a shell
    /// quotes it (`set -x`, `printf %q`), and each run of it between
    /// replacement characters (a value read from invalid UTF-8). A multi-line value (a certificate, a key)
    /// also registers each of its lines; a JSON object or array, every
    /// string and number inside it, at any depth.
    pub(crate) fn register(&mut self, value: &str) {
        self.insert(value);
        self.insert(value.trim());
        for form in printed_forms(value) {
            self.insert(&form);
        }
        if value.contains('\u{FFFD}') {
            for piece in value.split('\u{FFFD}') {
                self.insert(piece);
                self.insert(piece.trim());
            }
        }
        if value.contains('\n') {
            for line in value.split('\n') {
                self.insert(line.trim_end_matches('\r'));
                self.insert(line.trim());
            }
        }
        let t = value.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && let Ok(v) = json::parse(value.as_bytes())
        {
            self.register_json(&v);
        }
    }

    /// Registers every string and number inside a JSON value.
    pub(crate) fn register_json(&mut self, v: &Value) {
        match v {
            Value::String(s) => self.register(s.expose()),
            Value::Number(n) => self.insert(n),
            Value::Array(items) => items.iter().for_each(|i| self.register_json(i)),
            Value::Object(members) => members.iter().for_each(|(_, m)| self.register_json(m)),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Registers a value the hook wrote for an output of type `kind` (None:
    /// not an output of the schema). Only a value that really is an integer
    /// or boolean of an output typed so is exempt.
    pub(crate) fn register_output(&mut self, value: &str, kind: Option<&Kind>) {
        let exempt = match kind {
            Some(Kind::Integer) => parse_integer(value.trim()).is_some(),
            Some(Kind::Boolean) => parse_boolean(value.trim()).is_some(),
            _ => false,
        };
        if !exempt {
            self.register(value);
        }
    }

    /// Appends; sorting waits for the next mask (a sorted insert per value
    /// would make many values quadratic).
    fn insert(&mut self, value: &str) {
        if value.chars().count() < MIN_CHARS {
            return;
        }
        self.secrets.push(Secret::from(value));
        self.sorted = false;
        self.longest = self.longest.max(value.len());
    }

    fn prepare(&mut self) {
        if !self.sorted {
            self.secrets
                .sort_unstable_by(|a, b| a.expose().as_bytes().cmp(b.expose().as_bytes()));
            // Dropped duplicates are zeroized like any Secret.
            self.secrets.dedup();
            self.sorted = true;
        }
    }

    /// The length of the longest known secret that `text` starts with;
    /// `cost` counts the comparisons made and the bytes they compared.
    fn longest_at(&self, text: &[u8], cost: &mut usize) -> Option<usize> {
        let mut probe = &text[..text.len().min(self.longest)];
        loop {
            if probe.len() < MIN_CHARS {
                return None;
            }
            // The greatest secret <= probe: if it is a prefix of probe it is
            // the longest one; else only a secret no longer than the common
            // prefix of the two can be, so search again with that.
            let idx = match self
                .secrets
                .binary_search_by(|s| compare(s.expose().as_bytes(), probe, cost).0)
            {
                Ok(i) => return Some(self.secrets[i].expose().len()),
                Err(0) => return None,
                Err(i) => i - 1,
            };
            let cand = self.secrets[idx].expose().as_bytes();
            let (_, common) = compare(cand, probe, cost);
            if common == cand.len() {
                return Some(cand.len());
            }
            probe = &probe[..common];
        }
    }

    /// Whether some known secret starts with all of `text`.
    fn is_prefix_of_one(&self, text: &[u8]) -> bool {
        let i = self.secrets.partition_point(|s| s.expose().as_bytes() < text);
        self.secrets
            .get(i)
            .is_some_and(|s| s.expose().as_bytes().starts_with(text))
    }

    /// `text` with every occurrence of every known secret replaced by
    /// [`MASK`]. Overlapping occurrences are masked as one.
    pub(crate) fn mask(&mut self, text: &str) -> String {
        self.prepare();
        self.mask_inner(text, false)
    }

    /// Like [`Registry::mask`], for text that was cut off at its end: a tail
    /// that is the start of a known secret is masked too.
    pub(crate) fn mask_cut(&mut self, text: &str) -> String {
        self.prepare();
        self.mask_inner(text, true)
    }

    fn mask_inner(&self, text: &str, cut: bool) -> String {
        if self.secrets.is_empty() {
            return String::from(text);
        }
        let bytes = text.as_bytes();
        // covered[i]: byte i is part of some occurrence. Every occurrence
        // starts at some character, where the longest match covers it.
        let mut covered = vec![false; bytes.len()];
        let mut reach = 0usize;
        let levels = (usize::BITS - self.secrets.len().leading_zeros()) as usize + 1;
        let budget = COST_PER_LEVEL_AND_BYTE * levels * bytes.len() + COST_FIXED;
        let mut steps = 0usize;
        for (i, _) in text.char_indices() {
            if steps > budget {
                return String::from(WITHHELD);
            }
            if let Some(n) = self.longest_at(&bytes[i..], &mut steps) {
                reach = reach.max(i + n);
            }
            if i < reach {
                let end = next_boundary(text, i);
                covered[i..end].iter_mut().for_each(|c| *c = true);
            }
        }
        if cut {
            let from = bytes.len().saturating_sub(self.longest);
            if let Some(j) = (from..bytes.len())
                .filter(|j| text.is_char_boundary(*j))
                .find(|j| self.is_prefix_of_one(&bytes[*j..]))
            {
                covered[j..].iter_mut().for_each(|c| *c = true);
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < bytes.len() {
            let start = i;
            if covered[i] {
                while i < bytes.len() && covered[i] {
                    i += 1;
                }
                out.push_str(MASK);
            } else {
                while i < bytes.len() && !covered[i] {
                    i += 1;
                }
                out.push_str(&text[start..i]);
            }
        }
        out
    }
}

/// The forms other than itself in which `value` is commonly printed: as
/// JSON encoders escape it (credhook's own and jq's minimal escaping, `\/`
/// as PHP and some servers write, `\u00e9` for non-ASCII as Python's
/// `json.dumps` and `jq -a` write, `\u003c` for `<>&'` as Go's HTML-safe
/// encoder writes; lower- and upper-case hex), and as a shell quotes it
/// (`set -x`: `'it'\''s'`; `printf %q`: backslashes before specials).
fn printed_forms(value: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let mut minimal = String::new();
    json::write_string(&mut minimal, value);
    let minimal = String::from(&minimal[1..minimal.len() - 1]);
    if value.contains('/') {
        forms.push(minimal.replace('/', "\\/"));
    }
    let needs_unicode = value
        .chars()
        .any(|c| !c.is_ascii() || matches!(c, '<' | '>' | '&' | '\''));
    if needs_unicode {
        for html in [false, true] {
            for upper in [false, true] {
                let mut out = String::new();
                for c in minimal.chars() {
                    let escape = !c.is_ascii() || (html && matches!(c, '<' | '>' | '&' | '\''));
                    if !escape {
                        out.push(c);
                        continue;
                    }
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        let _ = if upper {
                            core::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04X}", u))
                        } else {
                            core::fmt::Write::write_fmt(&mut out, format_args!("\\u{:04x}", u))
                        };
                    }
                }
                forms.push(out);
            }
        }
    }
    forms.push(minimal);
    if value.contains('\'') {
        forms.push(value.replace('\'', "'\\''"));
    }
    if value.chars().any(|c| " \t\\'\"$`!&|;<>(){}[]*?~#".contains(c)) {
        let mut q = String::new();
        for c in value.chars() {
            if " \t\\'\"$`!&|;<>(){}[]*?~#".contains(c) {
                q.push('\\');
            }
            q.push(c);
        }
        forms.push(q);
    }
    forms.retain(|f| f != value);
    forms
}

/// `a` against `b`, and the length of their common prefix; charges `cost`
/// one unit, and one more per 8 bytes compared.
fn compare(a: &[u8], b: &[u8], cost: &mut usize) -> (core::cmp::Ordering, usize) {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    *cost += 1 + common / 8;
    let order = match (a.get(common), b.get(common)) {
        (Some(x), Some(y)) => x.cmp(y),
        _ => a.len().cmp(&b.len()),
    };
    (order, common)
}

fn next_boundary(text: &str, i: usize) -> usize {
    let mut j = i + 1;
    while j < text.len() && !text.is_char_boundary(j) {
        j += 1;
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_known_value_numbers_included() {
        let mut r = Registry::default();
        r.register("hunter2-secret");
        r.register("hunter2-secret-longer");
        r.register("abc");
        r.register("12345");
        r.register("TRUE");
        assert_eq!(
            r.mask("a hunter2-secret-longer b hunter2-secret c abc 12345 TRUE"),
            "a [REDACTED] b [REDACTED] c abc [REDACTED] [REDACTED]"
        );
    }

    #[test]
    fn typed_outputs_are_exempt_only_when_they_are_that_type() {
        let mut r = Registry::default();
        r.register_output("5432", Some(&Kind::Integer));
        r.register_output("true", Some(&Kind::Boolean));
        r.register_output("9876", Some(&Kind::String));
        r.register_output("notanumber", Some(&Kind::Integer));
        assert_eq!(r.mask("5432 true 9876 notanumber"), "5432 true [REDACTED] [REDACTED]");
    }

    #[test]
    fn overlapping_secrets_are_masked_whole() {
        let mut r = Registry::default();
        r.register("abcd");
        r.register("bcdefghijklmnop");
        assert_eq!(r.mask("xabcdefghijklmnopz"), "x[REDACTED]z");
        r.register("aaaa");
        assert_eq!(r.mask("aaaaaaa"), "[REDACTED]");
    }

    #[test]
    fn lines_and_json_members_are_registered() {
        let mut r = Registry::default();
        r.register("-----BEGIN KEY-----\nMIIEvQIBADANBgkq\n-----END KEY-----");
        assert_eq!(r.mask("x MIIEvQIBADANBgkq y"), "x [REDACTED] y");
        r.register(r#"{"user":"admin-user","nested":{"apikey":"k3y-Value"},"pin":12345678,"list":["li5t-item"]}"#);
        assert_eq!(
            r.mask("admin-user k3y-Value 12345678 li5t-item"),
            "[REDACTED] [REDACTED] [REDACTED] [REDACTED]"
        );
    }

    #[test]
    fn printed_forms_of_a_secret_are_masked() {
        let mut r = Registry::default();
        r.register("Zq/Xv9Lm3Kp7Wt2Rb");
        r.register("pässwörd-Gen3rated");
        r.register("Gen3rated<Passw0rd&x");
        r.register("it's-Gen3rated-Passw0rd");
        r.register("Gen3rated Passw0rd$more");
        for printed in [
            r"Zq\/Xv9Lm3Kp7Wt2Rb",
            r"p\u00e4ssw\u00f6rd-Gen3rated",
            r"p\u00E4ssw\u00F6rd-Gen3rated",
            r"Gen3rated\u003cPassw0rd\u0026x",
            r"'it'\''s-Gen3rated-Passw0rd'",
            r"Gen3rated\ Passw0rd\$more",
        ] {
            assert!(
                !r.mask(printed).contains("Gen3rated") && !r.mask(printed).contains("Xv9Lm3Kp"),
                "{printed}: {}",
                r.mask(printed)
            );
        }
    }

    #[test]
    fn long_common_prefixes_are_charged_and_withheld_not_slow() {
        let mut r = Registry::default();
        let mut k = 16_000;
        while k < 250_000 {
            let mut v = "A".repeat(k);
            v.push('0');
            r.register(&v);
            k += 20_000;
        }
        let line = "A".repeat(250_000);
        assert_eq!(r.mask(&line), WITHHELD);
        // Ordinary text with those secrets known costs about one search.
        assert_eq!(r.mask("an ordinary log line"), "an ordinary log line");
    }

    #[test]
    fn a_cut_tail_that_starts_a_secret_is_masked() {
        let mut r = Registry::default();
        r.register("Gen3ratedPassw0rd");
        assert_eq!(r.mask_cut("the password is Gen3rat"), "the password is [REDACTED]");
        assert_eq!(r.mask("the password is Gen3rat"), "the password is Gen3rat");
    }

    #[test]
    fn multibyte_text_stays_valid() {
        let mut r = Registry::default();
        r.register("pässwörd");
        assert_eq!(r.mask("é pässwörd ü"), "é [REDACTED] ü");
        assert_eq!(r.mask_cut("ü päss"), "ü [REDACTED]");
        assert_eq!(r.mask("ééé"), "ééé");
    }
}
