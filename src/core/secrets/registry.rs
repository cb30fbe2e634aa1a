//! The secret registry: every secret value credhook has seen, and masking
//! text with it.
//!
//! What is registered, and when, is decided by the classification
//! ([`crate::core::secrets::classify`]): the API key and the CR token when
//! read, each IAM token when received, the secret fields of a referenced
//! secret, the previous version's fields, and every value the hook writes to
//! its output channel (valid or not) apart from declared-public outputs.
//! Whatever credhook logs or sends as a task description is masked with all
//! of them.
//!
//! A text is masked by finding known secrets in the text itself and in its
//! decoded views ([`crate::core::secrets::views`]: JSON escapes, shell
//! quoting, percent-encoding), and masking the part of the text each match
//! came from. Base64 is not a view: each secret's base64 forms are
//! registered instead ([`base64_forms`]).
//!
//! Exempt: values shorter than [`MIN_CHARS`] (they would turn ordinary text
//! into noise), and output values the schema types as integer or boolean
//! ([`Registry::register_output`]).

use crate::core::job::inputs::{parse_boolean, parse_integer};
use crate::core::job::schema::Kind;
use crate::core::json::{self, Value};
use crate::core::secrets::secret::Secret;
use crate::core::secrets::views;
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

/// Replaces every text once the registry is full: a secret that could not
/// be kept could not be masked.
pub(crate) const WITHHELD_FULL: &str = "[REDACTED: text withheld, more secret values than credhook keeps (48 MiB); write fewer values to $CREDHOOK_OUTPUT]";

/// What the registry may hold, each value counted with [`ENTRY_COST`]:
/// about what it takes in memory. Past [`FORMS_UNTIL`], values are kept
/// without their base64 forms: a hook's channel (2 MiB kept) of
/// 4-character JSON strings is some 300,000 values, and with 8 forms each
/// took 140 MB; without, the whole channel fits well within this.
const MAX_HELD: usize = 48 << 20;
/// Base64 forms are registered while the registry holds less than this.
const FORMS_UNTIL: usize = 16 << 20;
/// The memory a registered value takes beyond its bytes: its slot, its
/// allocation's header and rounding.
const ENTRY_COST: usize = 48;

/// What masking a text may cost, in comparisons (each also charged one
/// unit per 8 bytes it compares) and bytes decoded: per byte of text and of
/// each view, this many per level of the binary search, plus a fixed
/// allowance. Ordinary text needs about one comparison per byte.
const COST_PER_LEVEL_AND_BYTE: usize = 8;
const COST_FIXED: usize = 4096;

/// The known secrets. Registering only appends; before a text is masked
/// they are sorted by their bytes (once per batch of registrations), so that
/// the longest one starting at any position is found by binary search, and
/// a filter of their first four bytes lets most positions skip the search.
#[derive(Default)]
pub(crate) struct Registry {
    secrets: Vec<Secret>,
    sorted: bool,
    longest: usize,
    /// One bit per hash of a secret's first four bytes (every secret has at
    /// least four).
    starts: Vec<u64>,
    /// What `secrets` holds, counted as [`MAX_HELD`] counts it.
    held: usize,
    /// A value was not kept: every text is withheld from then on.
    full: bool,
}

impl Registry {
    pub(crate) const fn new() -> Registry {
        Registry {
            secrets: Vec::new(),
            sorted: true,
            longest: 0,
            starts: Vec::new(),
            held: 0,
            full: false,
        }
    }

    /// Registers a secret value ([`Registry::register_text`]) and, when it is
    /// a JSON object or array, every string and number inside it, at any
    /// depth.
    pub(crate) fn register(&mut self, value: &str) {
        self.register_text(value);
        let t = value.trim_start();
        if (t.starts_with('{') || t.starts_with('['))
            && let Ok(v) = json::parse(value.as_bytes())
        {
            self.register_json(&v);
        }
    }

    /// Registers a secret value as text: itself, trimmed, its base64 forms,
    /// each line of a multi-line value (a certificate, a key), and each run
    /// of it between replacement characters (a value read from invalid
    /// UTF-8). How it may be printed otherwise (escaped, quoted,
    /// percent-encoded) is left to the views.
    pub(crate) fn register_text(&mut self, value: &str) {
        self.insert(value);
        let trimmed = value.trim();
        if trimmed.len() != value.len() {
            self.insert(trimmed);
        }
        if self.held < FORMS_UNTIL {
            for form in base64_forms(value.as_bytes()) {
                self.insert(&form);
            }
            if trimmed.len() != value.len() {
                for form in base64_forms(trimmed.as_bytes()) {
                    self.insert(&form);
                }
            }
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
    /// Past [`MAX_HELD`] nothing more is kept and the registry is full,
    /// unless dropping duplicates frees half of it.
    fn insert(&mut self, value: &str) {
        if self.full || value.chars().count() < MIN_CHARS {
            return;
        }
        if self.held + value.len() + ENTRY_COST > MAX_HELD {
            self.prepare();
            if self.held > MAX_HELD / 2 {
                self.full = true;
                return;
            }
        }
        self.held += value.len() + ENTRY_COST;
        self.secrets.push(Secret::from(value));
        self.sorted = false;
        self.longest = self.longest.max(value.len());
    }

    fn prepare(&mut self) {
        if self.sorted {
            return;
        }
        self.secrets
            .sort_unstable_by(|a, b| a.expose().as_bytes().cmp(b.expose().as_bytes()));
        // Dropped duplicates are zeroized like any Secret.
        self.secrets.dedup();
        self.held = self.secrets.iter().map(|s| s.expose().len() + ENTRY_COST).sum();
        self.sorted = true;
        let bits = (self.secrets.len() * 32).next_power_of_two().clamp(1 << 12, 1 << 22);
        self.starts = vec![0u64; bits / 64];
        for s in &self.secrets {
            let h = start_hash(s.expose().as_bytes(), bits);
            self.starts[h / 64] |= 1 << (h % 64);
        }
    }

    /// Whether some known secret may start with the first four bytes of `text`.
    fn may_start(&self, text: &[u8]) -> bool {
        if text.len() < 4 || self.starts.is_empty() {
            return false;
        }
        let h = start_hash(text, self.starts.len() * 64);
        self.starts[h / 64] & (1 << (h % 64)) != 0
    }

    /// The length of the longest known secret that `text` starts with;
    /// `cost` counts the comparisons made and the bytes they compared.
    fn longest_at(&self, text: &[u8], cost: &mut usize) -> Option<usize> {
        *cost += 1;
        if !self.may_start(text) {
            return None;
        }
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
    /// [`MASK`], in the text and in each of its decoded views. Overlapping
    /// occurrences are masked as one.
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
        if self.full {
            return String::from(WITHHELD_FULL);
        }
        if self.secrets.is_empty() {
            return String::from(text);
        }
        let bytes = text.as_bytes();
        let levels = (usize::BITS - self.secrets.len().leading_zeros()) as usize + 1;
        let per_byte = COST_PER_LEVEL_AND_BYTE * levels;
        let mut cost = 0usize;
        // Each view adds its share to the budget as it is made.
        let mut budget = per_byte * bytes.len() + COST_FIXED;
        // covered[i]: byte i of the text is part of some occurrence.
        let mut covered = vec![false; bytes.len()];
        let Some(runs) = self.find(bytes, cut, &mut cost, budget) else {
            return String::from(WITHHELD);
        };
        for (a, b) in runs {
            covered[a..b].iter_mut().for_each(|c| *c = true);
        }
        let complete = views::each_view(bytes, &mut cost, |view, parent, cost| {
            budget += per_byte * view.bytes.len() + COST_FIXED;
            for (a, b) in self.find(&view.bytes, cut, cost, budget)? {
                let (mut a, mut b) = view.to_source(a, b);
                if let Some(p) = parent {
                    (a, b) = p.to_source(a, b);
                }
                covered[a..b].iter_mut().for_each(|c| *c = true);
            }
            Some(())
        });
        if complete.is_none() {
            return String::from(WITHHELD);
        }
        render(text, &mut covered)
    }

    /// The runs of `s` that known secrets cover (merged, in order; with
    /// `cut`, a tail that starts a secret too), or None once `cost` passes
    /// `budget`. A secret starts at a character: continuation bytes are
    /// skipped.
    fn find(&self, s: &[u8], cut: bool, cost: &mut usize, budget: usize) -> Option<Vec<(usize, usize)>> {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        let mut reach = 0usize;
        for i in 0..s.len() {
            if s[i] & 0xC0 == 0x80 {
                continue;
            }
            if *cost > budget {
                return None;
            }
            if let Some(n) = self.longest_at(&s[i..], cost) {
                if i >= reach {
                    if reach > start {
                        runs.push((start, reach));
                    }
                    start = i;
                }
                reach = reach.max(i + n);
            }
        }
        if reach > start {
            runs.push((start, reach));
        }
        if cut {
            let from = s.len().saturating_sub(self.longest);
            if let Some(j) = (from..s.len())
                .filter(|j| s[*j] & 0xC0 != 0x80)
                .find(|j| self.is_prefix_of_one(&s[*j..]))
            {
                runs.push((j, s.len()));
            }
        }
        Some(runs)
    }
}

/// `text` with each covered run of bytes (widened to whole characters)
/// replaced by one [`MASK`].
fn render(text: &str, covered: &mut [bool]) -> String {
    let bytes = text.as_bytes();
    // A run that starts or ends inside a character takes all of it.
    for i in 1..bytes.len() {
        if !text.is_char_boundary(i) && covered[i] != covered[i - 1] {
            let (mut a, mut b) = (i, i);
            while !text.is_char_boundary(a) {
                a -= 1;
            }
            while !text.is_char_boundary(b) {
                b += 1;
            }
            covered[a..b].iter_mut().for_each(|c| *c = true);
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

/// A hash of the first four bytes of `s` (at least four), below `bits`
/// (a power of two).
fn start_hash(s: &[u8], bits: usize) -> usize {
    let k = u32::from_le_bytes([s[0], s[1], s[2], s[3]]);
    (k.wrapping_mul(0x9E37_79B1) >> (32 - bits.trailing_zeros())) as usize
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 forms of `value`, standard and URL-safe: alone (unpadded; the
/// padding is not secret), and inside a longer base64 string at each of the
/// three alignments, as the characters that only its own bytes determine
/// (`Authorization: Basic` of `user:password` holds the password so).
pub(crate) fn base64_forms(value: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    if value.is_empty() {
        return forms;
    }
    for alphabet in [STANDARD, URL_SAFE] {
        forms.push(base64(value, 0, alphabet, true));
        for skip in 0..3 {
            forms.push(base64(value, skip, alphabet, false));
        }
    }
    forms.sort_unstable();
    forms.dedup();
    forms
}

/// The base64 characters of `value` placed after `skip` (0..3) bytes of
/// other data: only those its bytes alone determine, unless `whole` (then
/// `skip` is 0 and the last, zero-padded character is included).
fn base64(value: &[u8], skip: usize, alphabet: &[u8; 64], whole: bool) -> String {
    let bits = 8 * (skip + value.len());
    let first = (8 * skip).div_ceil(6);
    let end = if whole { bits.div_ceil(6) } else { bits / 6 };
    // Each group of three bytes (the first holding `skip` zero bytes) is
    // four characters; the last group is zero-padded.
    let byte = |k: usize| {
        if k < skip {
            0
        } else {
            value.get(k - skip).copied().unwrap_or(0)
        }
    };
    let mut out = String::with_capacity(end.saturating_sub(first));
    for c in first..end {
        let g = c / 4 * 3;
        let n = u32::from(byte(g)) << 16 | u32::from(byte(g + 1)) << 8 | u32::from(byte(g + 2));
        let v = n >> (18 - 6 * (c % 4)) & 63;
        out.push(alphabet[v as usize] as char);
    }
    out
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
    fn a_full_registry_withholds_every_text_and_stays_bounded() {
        let mut r = Registry::default();
        // Repeats are dropped before they count.
        for _ in 0..MAX_HELD / (8 + ENTRY_COST) + 10 {
            r.insert("repeated-value");
        }
        assert!(!r.full);
        assert_eq!(r.mask("a repeated-value here"), "a [REDACTED] here");
        // Distinct values until the registry is full.
        let mut i = 0u32;
        while !r.full {
            r.insert(&alloc::format!("{i:08}"));
            i += 1;
        }
        assert!(r.held <= MAX_HELD, "{}", r.held);
        assert!(r.secrets.len() < MAX_HELD / ENTRY_COST);
        assert_eq!(r.mask("nothing secret"), WITHHELD_FULL);
        assert_eq!(r.mask_cut("00000001"), WITHHELD_FULL);
        // And nothing more is kept.
        let len = r.secrets.len();
        r.register("another-secret-value");
        assert_eq!(r.secrets.len(), len);
    }

    #[test]
    fn base64_forms_at_every_alignment() {
        // base64("hunter2-pw") and inside "u:hunter2-pw", "ab:hunter2-pw".
        let forms = base64_forms(b"hunter2-pw");
        assert!(forms.iter().any(|f| f == "aHVudGVyMi1wdw"), "{forms:?}");
        let mut r = Registry::default();
        r.register("hunter2-Passw0rd");
        for user in ["u", "us", "usr", "user-name"] {
            let basic = encode(&alloc::format!("{user}:hunter2-Passw0rd"));
            let masked = r.mask(&alloc::format!("Authorization: Basic {basic}"));
            assert!(masked.contains(MASK), "{user}: {masked}");
            let (head, tail) = masked.split_once(MASK).unwrap();
            // What is left either side carries at most a few bits of the password.
            let left = head.rsplit(' ').next().unwrap().len() + tail.trim_end_matches('=').len();
            assert!(left <= encode(user).len() + 3, "{user}: {masked}");
        }
        // URL-safe, and alone.
        let mut r = Registry::default();
        r.register("a?b>c~d?e>f~");
        assert_eq!(r.mask("YT9iPmN-ZD9lPmZ-"), MASK);
        assert_eq!(r.mask("x YT9iPmN+ZD9lPmZ+ y"), "x [REDACTED] y");
    }

    /// Standard base64 with padding, for the tests.
    fn encode(s: &str) -> String {
        let mut out = base64(s.as_bytes(), 0, STANDARD, true);
        while !out.len().is_multiple_of(4) {
            out.push('=');
        }
        out
    }

    #[test]
    fn secrets_found_in_views_mask_their_source() {
        let mut r = Registry::default();
        r.register("Go&'é-Passw0rd");
        r.register("ab\"cd\\ef/gh");
        for (printed, want) in [
            // Go's encoding/json: only <>& escaped; Python's ensure_ascii: é.
            (r#"{"pw":"Go\u0026'é-Passw0rd"}"#, r#"{"pw":"[REDACTED]"}"#),
            (r#"{"pw":"Go&'\u00e9-Passw0rd"}"#, r#"{"pw":"[REDACTED]"}"#),
            // PHP: \/ and \u00e9 together.
            (r#""ab\"cd\\ef\/gh""#, r#""[REDACTED]""#),
            // ash's set -x, bash's printf %q, a URL.
            (r#"+ echo 'Go&'"'"'é-Passw0rd'"#, "+ echo '[REDACTED]'"),
            (r"Go\&\'é-Passw0rd", MASK),
            ("?pw=Go%26%27%C3%A9-Passw0rd&x=1", "?pw=[REDACTED]&x=1"),
            // jq -a's JSON inside a set -x line.
            (
                r#"+ curl -d '{"pw":"Go&'\''\u00e9-Passw0rd"}'"#,
                r#"+ curl -d '{"pw":"[REDACTED]"}'"#,
            ),
        ] {
            assert_eq!(r.mask(printed), want, "{printed}");
        }
        // A secret that is itself an escape sequence is found as written.
        r.register(r"\u0041\u0042CD");
        assert_eq!(r.mask(r"x \u0041\u0042CD y"), "x [REDACTED] y");
        assert_eq!(r.mask(r#""\\u0041\\u0042CD""#), r#""[REDACTED]""#);
    }

    #[test]
    fn crafted_escapes_are_bounded() {
        let mut r = Registry::default();
        r.register("some-Secret-value");
        // Every byte an escape, in every view at once: masked or withheld,
        // in time linear in the text.
        let line = r#"\u00e9%41'\"$'\101'"#.repeat(10_000);
        let m = r.mask(&line);
        assert!(m == WITHHELD || m.len() <= line.len() + MASK.len(), "{}", m.len());
        let line = "\\".repeat(200_000);
        assert_eq!(r.mask(&line), line);
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
