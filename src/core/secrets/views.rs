//! Decoded views of a text, for masking: the registry looks for known
//! secrets in the text itself and in each view, and masks the part of the
//! text that each match came from.
//!
//! Masking used to register every form an encoder might print a secret in;
//! each list of encoders was incomplete. A view instead undoes one kind of
//! encoding wherever it occurs in the text, whichever program applied it:
//!
//! - **JSON string escapes**: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`
//!   and `\uXXXX` in either letter case, surrogate pairs joined (Go's
//!   `\u003c`, Python's `ensure_ascii`, PHP's `\/`, jq's minimal escaping);
//! - **shell quoting**: `'…'`, `"…"` (with its four backslash escapes),
//!   `$'…'` (bash's and zsh's ANSI-C quoting, octal and hex bytes included)
//!   and a backslash before any character, the quotes removed and the
//!   pieces joined as a shell joins them into one word (bash's and zsh's
//!   `'\''`, ash's and dash's `'"'"'`, `printf %q`, `set -x`, `export -p`,
//!   `declare -p`). Read from the start of the text, and, when it holds a
//!   quote, as if the text began inside one (a line that continues a
//!   multi-line value, or prose with an apostrophe before the quoted part);
//! - **percent-encoding**: `%XX` in either case, and a variant that also reads
//!   `+` as a space (form encoding).
//!
//! Each decoder is applied to the text and once more to each view it made
//! (JSON inside a JSON string, a JSON body in a `set -x` line, a URL a PHP
//! logger escaped), at most [`MAX_VIEWS`] views in all. A view is kept only
//! when decoding changed something. Views hold decoded secrets, so their
//! bytes are zeroized when dropped.
//!
//! Each view keeps a map back to the bytes it was decoded from: a literal
//! run maps byte for byte, and each decoded unit (an escape, a quoted
//! character) maps to the whole source span it came from, so a match maps
//! back to a span that starts and ends on whole units.

use alloc::vec::Vec;
use zeroize::Zeroizing;

/// At most this many views of one text.
pub(crate) const MAX_VIEWS: usize = 16;

/// Where a run of a view's bytes came from.
#[derive(Clone, Copy, Debug)]
struct Anchor {
    /// The view byte this run starts at.
    view: u32,
    /// The source byte it starts at.
    src: u32,
    /// 0: a literal run (byte `view + d` is source byte `src + d`); else one
    /// decoded unit, every byte of which came from `src..unit_end`.
    unit_end: u32,
}

/// One decoded view of a text (or of another view).
pub(crate) struct View {
    pub(crate) bytes: Zeroizing<Vec<u8>>,
    anchors: Vec<Anchor>,
    /// The view it was decoded from: None for the text itself.
    pub(crate) parent: Option<usize>,
}

impl View {
    /// The source span `[start, end)` that view bytes `a..b` (a < b) came from.
    pub(crate) fn to_source(&self, a: usize, b: usize) -> (usize, usize) {
        (self.span(a).0, self.span(b - 1).1)
    }

    fn span(&self, v: usize) -> (usize, usize) {
        let i = self.anchors.partition_point(|x| x.view as usize <= v).saturating_sub(1);
        let Some(a) = self.anchors.get(i) else { return (0, 0) };
        if a.unit_end == 0 {
            let s = a.src as usize + (v - a.view as usize);
            (s, s + 1)
        } else {
            (a.src as usize, a.unit_end as usize)
        }
    }
}

/// One kind of decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoder {
    Json,
    /// Shell quote removal, starting in this state.
    Shell(Quote),
    /// `%XX`; with `plus`, `+` as a space too.
    Percent {
        plus: bool,
    },
}

/// A shell quoting state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    None,
    Single,
    Double,
    /// `$'…'`
    Ansi,
}

const FIRST: [Decoder; 6] = [
    Decoder::Json,
    Decoder::Shell(Quote::None),
    Decoder::Shell(Quote::Single),
    Decoder::Shell(Quote::Double),
    Decoder::Percent { plus: false },
    Decoder::Percent { plus: true },
];
const SECOND: [Decoder; 3] = [
    Decoder::Json,
    Decoder::Shell(Quote::None),
    Decoder::Percent { plus: false },
];

/// Every view of `text` (none when nothing in it is encoded); `cost` is
/// charged one unit per byte scanned.
pub(crate) fn views(text: &[u8], cost: &mut usize) -> Vec<View> {
    let mut out: Vec<View> = Vec::new();
    for d in FIRST {
        if let Some(v) = decode(d, text, None, cost) {
            out.push(v);
        }
    }
    let first = out.len();
    for p in 0..first {
        for d in SECOND {
            if out.len() >= MAX_VIEWS {
                return out;
            }
            if let Some(v) = decode(d, &out[p].bytes, Some(p), cost) {
                out.push(v);
            }
        }
    }
    out
}

/// Whether `d` could change `s` at all (a cheap test before decoding).
fn applies(d: Decoder, s: &[u8]) -> bool {
    let has = |c: u8| s.contains(&c);
    match d {
        Decoder::Json => has(b'\\'),
        Decoder::Shell(Quote::None) => has(b'\'') || has(b'"') || has(b'\\'),
        Decoder::Shell(Quote::Single | Quote::Ansi) => has(b'\''),
        Decoder::Shell(Quote::Double) => has(b'"'),
        Decoder::Percent { plus: false } => has(b'%'),
        Decoder::Percent { plus: true } => has(b'+'),
    }
}

/// `src` decoded by `d`, or None when that changes nothing.
pub(crate) fn decode(d: Decoder, src: &[u8], parent: Option<usize>, cost: &mut usize) -> Option<View> {
    if src.len() >= u32::MAX as usize || !applies(d, src) {
        return None;
    }
    *cost += src.len();
    let mut b = Builder {
        src,
        out: Zeroizing::new(Vec::with_capacity(src.len())),
        anchors: Vec::new(),
        changed: false,
    };
    match d {
        Decoder::Json => json(&mut b),
        Decoder::Shell(q) => shell(&mut b, q),
        Decoder::Percent { plus } => percent(&mut b, plus),
    }
    b.changed.then_some(View {
        bytes: b.out,
        anchors: b.anchors,
        parent,
    })
}

struct Builder<'a> {
    src: &'a [u8],
    out: Zeroizing<Vec<u8>>,
    anchors: Vec<Anchor>,
    changed: bool,
}

impl Builder<'_> {
    /// Copies source byte `at`.
    fn lit(&mut self, at: usize) {
        let continues = self
            .anchors
            .last()
            .is_some_and(|a| a.unit_end == 0 && a.src as usize + (self.out.len() - a.view as usize) == at);
        if !continues {
            self.anchors.push(Anchor {
                view: self.out.len() as u32,
                src: at as u32,
                unit_end: 0,
            });
        }
        self.out.push(self.src[at]);
    }

    /// Source bytes `start..end` decode to `bytes`.
    fn unit(&mut self, start: usize, end: usize, bytes: &[u8]) {
        self.changed = true;
        if bytes.is_empty() {
            return;
        }
        self.anchors.push(Anchor {
            view: self.out.len() as u32,
            src: start as u32,
            unit_end: end as u32,
        });
        self.out.extend_from_slice(bytes);
    }

    /// Source bytes that decode to nothing (a quote).
    fn drop(&mut self) {
        self.changed = true;
    }
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// `n` hex digits at `s[at..]`, if all are.
fn hex_at(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = s.get(at..at + n)?;
    digits.iter().try_fold(0u32, |acc, b| Some(acc * 16 + hex(*b)?))
}

fn utf8(c: char, buf: &mut [u8; 4]) -> &[u8] {
    c.encode_utf8(buf).as_bytes()
}

/// JSON string escapes, anywhere in the text.
fn json(b: &mut Builder<'_>) {
    let s = b.src;
    let mut i = 0;
    while i < s.len() {
        if s[i] != b'\\' || i + 1 >= s.len() {
            b.lit(i);
            i += 1;
            continue;
        }
        let short = match s[i + 1] {
            c @ (b'"' | b'\\' | b'/') => Some(c),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = short {
            b.unit(i, i + 2, &[c]);
            i += 2;
            continue;
        }
        let unit = (s[i + 1] == b'u').then(|| hex_at(s, i + 2, 4)).flatten();
        let Some(u) = unit else {
            b.lit(i);
            i += 1;
            continue;
        };
        let mut buf = [0u8; 4];
        if (0xD800..0xDC00).contains(&u) {
            let low = (s.get(i + 6..i + 8) == Some(b"\\u"))
                .then(|| hex_at(s, i + 8, 4))
                .flatten();
            if let Some(low @ 0xDC00..0xE000) = low {
                let cp = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
                if let Some(c) = char::from_u32(cp) {
                    b.unit(i, i + 12, utf8(c, &mut buf));
                    i += 12;
                    continue;
                }
            }
        }
        match char::from_u32(u) {
            Some(c) => b.unit(i, i + 6, utf8(c, &mut buf)),
            // A lone surrogate stays as written.
            None => (i..i + 6).for_each(|k| b.lit(k)),
        }
        i += 6;
    }
}

/// The length of the UTF-8 character starting with byte `b` (1 for a byte
/// that starts none).
fn char_len(b: u8) -> usize {
    match b {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Shell quote removal, starting in quoting state `q`.
fn shell(b: &mut Builder<'_>, mut q: Quote) {
    let s = b.src;
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match q {
            Quote::None => match c {
                b'\'' => {
                    q = Quote::Single;
                    b.drop();
                }
                b'"' => {
                    q = Quote::Double;
                    b.drop();
                }
                b'$' if s.get(i + 1) == Some(&b'\'') => {
                    q = Quote::Ansi;
                    b.drop();
                    i += 1;
                }
                b'\\' if i + 1 < s.len() => {
                    let end = (i + 1 + char_len(s[i + 1])).min(s.len());
                    b.unit(i, end, &s[i + 1..end]);
                    i = end;
                    continue;
                }
                _ => b.lit(i),
            },
            Quote::Single => {
                if c == b'\'' {
                    q = Quote::None;
                    b.drop();
                } else {
                    b.lit(i);
                }
            }
            Quote::Double => match (c, s.get(i + 1)) {
                (b'"', _) => {
                    q = Quote::None;
                    b.drop();
                }
                (b'\\', Some(&e @ (b'$' | b'`' | b'"' | b'\\'))) => {
                    b.unit(i, i + 2, &[e]);
                    i += 2;
                    continue;
                }
                _ => b.lit(i),
            },
            Quote::Ansi => {
                if c == b'\'' {
                    q = Quote::None;
                    b.drop();
                } else if c == b'\\' && i + 1 < s.len() {
                    i = ansi_escape(b, i);
                    continue;
                } else {
                    b.lit(i);
                }
            }
        }
        i += 1;
    }
}

/// Up to `max` digits of `radix` at `s[at..]`: their value and count.
fn digits(s: &[u8], at: usize, radix: u32, max: usize) -> (u32, usize) {
    let mut v = 0u32;
    let mut n = 0;
    while n < max {
        match s.get(at + n).and_then(|c| (*c as char).to_digit(radix)) {
            Some(d) => v = v.wrapping_mul(radix).wrapping_add(d),
            None => break,
        }
        n += 1;
    }
    (v, n)
}

/// One backslash escape inside `$'…'` at `s[i]`; returns the index after it.
fn ansi_escape(b: &mut Builder<'_>, i: usize) -> usize {
    let s = b.src;
    let e = s[i + 1];
    let simple = match e {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'e' | b'E' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' | b'\'' | b'"' | b'?' => Some(e),
        _ => None,
    };
    if let Some(c) = simple {
        b.unit(i, i + 2, &[c]);
        return i + 2;
    }
    let mut buf = [0u8; 4];
    match e {
        b'0'..=b'7' => {
            let (v, n) = digits(s, i + 1, 8, 3);
            b.unit(i, i + 1 + n, &[v as u8]);
            i + 1 + n
        }
        b'x' | b'u' | b'U' => {
            let max = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let (v, n) = digits(s, i + 2, 16, max);
            if n == 0 {
                b.lit(i);
                return i + 1;
            }
            if e == b'x' {
                b.unit(i, i + 2 + n, &[v as u8]);
            } else {
                let c = char::from_u32(v).unwrap_or('\u{FFFD}');
                b.unit(i, i + 2 + n, utf8(c, &mut buf));
            }
            i + 2 + n
        }
        b'c' if i + 2 < s.len() => {
            b.unit(i, i + 3, &[s[i + 2] & 0x1f]);
            i + 3
        }
        _ => {
            b.lit(i);
            i + 1
        }
    }
}

/// `%XX` (and, with `plus`, `+` as a space).
fn percent(b: &mut Builder<'_>, plus: bool) {
    let s = b.src;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && let Some(v) = hex_at(s, i + 1, 2)
        {
            b.unit(i, i + 3, &[v as u8]);
            i += 3;
            continue;
        }
        if plus && s[i] == b'+' {
            b.unit(i, i + 1, b" ");
        } else {
            b.lit(i);
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn decoded(d: Decoder, s: &str) -> Option<String> {
        decode(d, s.as_bytes(), None, &mut 0).map(|v| String::from_utf8_lossy(&v.bytes).into_owned())
    }

    /// The source text that view bytes `a..b` of `d(s)` map back to.
    fn back(d: Decoder, s: &str, a: usize, b: usize) -> String {
        let v = decode(d, s.as_bytes(), None, &mut 0).unwrap();
        let (x, y) = v.to_source(a, b);
        String::from(&s[x..y])
    }

    #[test]
    fn json_escapes_every_form() {
        let d = Decoder::Json;
        assert_eq!(decoded(d, r#"a\"b\\c\/d\n\t"#).unwrap(), "a\"b\\c/d\n\t");
        assert_eq!(
            decoded(d, r"p\u00e4ss\u00C4 \u003c\u0026\u2028").unwrap(),
            "päss\u{c4} <&\u{2028}"
        );
        assert_eq!(decoded(d, r"\ud83d\ude00!").unwrap(), "😀!");
        assert_eq!(decoded(d, r"\uD83D\uDE00").unwrap(), "😀");
        // A lone surrogate and an unknown escape stay as written.
        assert_eq!(decoded(d, r"\ud83d x \q"), None);
        // `\\u0041` is a backslash and `u0041`, not `A`.
        assert_eq!(decoded(d, r"\\u0041").unwrap(), r"\u0041");
        assert_eq!(decoded(d, "no escapes"), None);
        assert_eq!(back(d, r"x \u00e4bc y", 2, 6), r"\u00e4bc");
        assert_eq!(back(d, r"\ud83d\ude00ab", 0, 4), r"\ud83d\ude00");
    }

    #[test]
    fn shell_quoting_of_each_shell() {
        let d = Decoder::Shell(Quote::None);
        assert_eq!(decoded(d, r"+ : 'it'\''s x'").unwrap(), "+ : it's x");
        assert_eq!(decoded(d, r#"export s='it'"'"'s x'"#).unwrap(), "export s=it's x");
        assert_eq!(
            decoded(d, r#"declare -x s="it's \"q\" \$x é\\b""#).unwrap(),
            r#"declare -x s=it's "q" $x é\b"#
        );
        assert_eq!(decoded(d, r#"it\'s\ \"q\"\ é\\b"#).unwrap(), r#"it's "q" é\b"#);
        assert_eq!(decoded(d, r"$'it\'s \303\251\x41\u00e9\n'").unwrap(), "it's éAé\n");
        // Single quotes keep backslashes; an unclosed quote runs to the end.
        assert_eq!(decoded(d, r"'a\b' 'open").unwrap(), r"a\b open");
        assert_eq!(back(d, r"+ : 'it'\''s'", 4, 8), r"it'\''s");
    }

    #[test]
    fn shell_views_that_start_inside_a_quote() {
        // Prose with an apostrophe before the quoted part.
        let s = r"can't log in: 'ab'\''cd'";
        assert!(!decoded(Decoder::Shell(Quote::None), s).unwrap().contains("ab'cd"));
        assert!(decoded(Decoder::Shell(Quote::Single), s).unwrap().contains("ab'cd"));
        // The second line of a multi-line value under set -x.
        assert_eq!(decoded(Decoder::Shell(Quote::Single), "tail'").unwrap(), "tail");
        assert_eq!(
            decoded(Decoder::Shell(Quote::Double), r#"a\"b" c"#).unwrap(),
            r#"a"b c"#
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(
            decoded(Decoder::Percent { plus: false }, "a%2Fb%2fc+d%zz").unwrap(),
            "a/b/c+d%zz"
        );
        assert_eq!(decoded(Decoder::Percent { plus: true }, "a+b%2B").unwrap(), "a b+");
        assert_eq!(back(Decoder::Percent { plus: false }, "x%C3%A9y", 1, 3), "%C3%A9");
    }

    #[test]
    fn views_of_views_and_their_maps() {
        // jq -a's output inside a set -x line.
        let s = r#"+ curl -d '{"p":"caf\u00e9-s3cret"}'"#;
        let want = "café-s3cret".as_bytes();
        let mut cost = 0;
        let vs = views(s.as_bytes(), &mut cost);
        let v = vs
            .iter()
            .find(|v| v.parent.is_some() && v.bytes.windows(want.len()).any(|w| w == want))
            .expect("a view of a view holds the decoded value");
        let at = v.bytes.windows(want.len()).position(|w| w == want).unwrap();
        let (mut a, mut b) = v.to_source(at, at + want.len());
        let mut p = v.parent;
        while let Some(i) = p {
            (a, b) = vs[i].to_source(a, b);
            p = vs[i].parent;
        }
        assert_eq!(&s[a..b], r"caf\u00e9-s3cret");
        assert!(cost >= s.len() && vs.len() <= MAX_VIEWS);
        assert!(views(b"plain text, nothing encoded", &mut 0).is_empty());
    }
}
