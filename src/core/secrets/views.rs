//! Decoded views of a text, for masking: the registry looks for known
//! secrets in the text itself and in each view, and masks the part of the
//! text that each match came from.
//!
//! Masking used to register every form an encoder might print a secret in;
//! each list of encoders was incomplete. A view instead undoes one kind of
//! encoding wherever it occurs in the text, whichever program applied it:
//!
//! - **backslash escapes**, as JSON and the C family of string literals
//!   write them: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\a`,
//!   `\v`, `\e`, `\uXXXX` in either letter case (surrogate pairs joined),
//!   `\u{…}`, `\UXXXXXXXX`, `\xHH` (bytes when they make UTF-8, else a
//!   code point), `\x{…}`, octal `\NNN`, and a backslash before any other
//!   character (`\'`, `\#`, `\=`): Go's `encoding/json` (`\u003c`) and
//!   `%q`/`%+q`, Python's `json.dumps`, `repr` and `ascii` (`'it\'s'`,
//!   `\xe9`, `b'\xc3\xa9'`), PHP's `\/`, jq, Java's `\u00E9` and properties
//!   files, Perl, Ruby's `inspect` (`\e`, `\#{`), Rust's `{:?}`, YAML and
//!   TOML double-quoted strings;
//! - **shell quoting**: `'…'`, `"…"` (with its four backslash escapes),
//!   `$'…'` (bash's and zsh's ANSI-C quoting, octal and hex bytes and
//!   zsh's `\C-X` and `\M-X` included)
//!   and a backslash before any character, the quotes removed and the
//!   pieces joined as a shell joins them into one word (bash's and zsh's
//!   `'\''`, ash's and dash's `'"'"'`, `printf %q`, `set -x`, `export -p`,
//!   `declare -p`, zsh's `${(q)…}`). Read from the start of the text, and,
//!   when it holds a quote, as if the text began inside one (a line that
//!   continues a multi-line value, or prose with an apostrophe before the
//!   quoted part);
//! - **percent-encoding**: `%XX` in either case, and a variant that also reads
//!   `+` as a space (form encoding);
//! - **doubled quotes**: `''` as `'` and `""` as `"` (SQL and YAML
//!   single-quoted strings, CSV, PowerShell: `'it''s'`);
//! - **HTML and XML character references**: `&amp;`, `&lt;`, `&gt;`,
//!   `&quot;`, `&apos;`, `&nbsp;`, `&#39;`, `&#x27;`.
//!
//! Each decoder is applied to the text, and a few of them once more to each
//! view (JSON inside a JSON string, a JSON body in a `set -x` line, JSON or
//! a URL inside percent-encoding, a URL a PHP logger escaped, JSON in an
//! HTML page): every such pair, none left out however many apply. A view
//! is made only when decoding changes something, and at most two are held
//! at once (a view and the one it was decoded from). Views hold decoded
//! secrets, so their bytes are zeroized when dropped.
//!
//! Each view keeps a map back to the bytes it was decoded from: a literal
//! run maps byte for byte, and each decoded unit (an escape, a quoted
//! character) maps to the whole source span it came from, so a match maps
//! back to a span that starts and ends on whole units.

use alloc::vec::Vec;
use zeroize::Zeroizing;

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
    /// JSON's and the C family's backslash escapes.
    Backslash,
    /// Shell quote removal, starting in this state.
    Shell(Quote),
    /// `%XX`; with `plus`, `+` as a space too.
    Percent { plus: bool },
    /// `''` and `""` as one quote.
    Doubled,
    /// HTML and XML character references.
    Entities,
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

/// The decoders applied to the text.
const FIRST: [Decoder; 8] = [
    Decoder::Backslash,
    Decoder::Shell(Quote::None),
    Decoder::Shell(Quote::Single),
    Decoder::Shell(Quote::Double),
    Decoder::Percent { plus: false },
    Decoder::Percent { plus: true },
    Decoder::Doubled,
    Decoder::Entities,
];
/// The decoders applied once more to each view of the text.
const SECOND: [Decoder; 4] = [
    Decoder::Backslash,
    Decoder::Shell(Quote::None),
    Decoder::Percent { plus: false },
    Decoder::Entities,
];

/// Calls `f` with each view of `text` and the view it was decoded from
/// (None: the text itself): each of [`FIRST`]'s views, each followed by
/// its [`SECOND`] views, so at most two are held at once. None, as soon as
/// `f` returns None. `cost` is charged one unit per byte decoded.
pub(crate) fn each_view(
    text: &[u8],
    cost: &mut usize,
    mut f: impl FnMut(&View, Option<&View>, &mut usize) -> Option<()>,
) -> Option<()> {
    for d in FIRST {
        let Some(first) = decode(d, text, cost) else { continue };
        f(&first, None, cost)?;
        for d in SECOND {
            if let Some(second) = decode(d, &first.bytes, cost) {
                f(&second, Some(&first), cost)?;
            }
        }
    }
    Some(())
}

/// Whether `d` could change `s` at all (a cheap test before decoding).
fn applies(d: Decoder, s: &[u8]) -> bool {
    let has = |c: u8| s.contains(&c);
    match d {
        Decoder::Backslash => has(b'\\'),
        Decoder::Shell(Quote::None) => has(b'\'') || has(b'"') || has(b'\\'),
        Decoder::Shell(Quote::Single | Quote::Ansi) => has(b'\''),
        Decoder::Shell(Quote::Double) => has(b'"'),
        Decoder::Percent { plus: false } => has(b'%'),
        Decoder::Percent { plus: true } => has(b'+'),
        Decoder::Doubled => s.windows(2).any(|w| w == b"\'\'" || w == b"\"\""),
        Decoder::Entities => has(b'&') && has(b';'),
    }
}

/// `src` decoded by `d`, or None when that changes nothing.
pub(crate) fn decode(d: Decoder, src: &[u8], cost: &mut usize) -> Option<View> {
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
        Decoder::Backslash => backslash(&mut b),
        Decoder::Shell(q) => shell(&mut b, q),
        Decoder::Percent { plus } => percent(&mut b, plus),
        Decoder::Doubled => doubled(&mut b),
        Decoder::Entities => entities(&mut b),
    }
    b.changed.then_some(View {
        bytes: b.out,
        anchors: b.anchors,
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

/// Backslash escapes, anywhere in the text (see the module's list).
fn backslash(b: &mut Builder<'_>) {
    let s = b.src;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            i = backslash_escape(b, i);
        } else {
            b.lit(i);
            i += 1;
        }
    }
}

/// The backslash escape at `s[i]` (`i + 1` is in the text); returns the
/// index after it. One that is not well formed (`\u` without hex digits, a
/// lone surrogate) stays as written.
fn backslash_escape(b: &mut Builder<'_>, i: usize) -> usize {
    let s = b.src;
    let e = s[i + 1];
    let short = match e {
        b'a' => Some(0x07),
        b'b' => Some(0x08),
        b'e' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        _ => None,
    };
    if let Some(c) = short {
        b.unit(i, i + 2, &[c]);
        return i + 2;
    }
    let decoded = match e {
        b'u' | b'U' | b'x' => code_point_escape(b, i),
        b'0'..=b'7' => {
            let (v, n) = digits(s, i + 1, 8, 3);
            b.unit(i, i + 1 + n, &[v as u8]);
            Some(i + 1 + n)
        }
        // Any other character stands for itself (`\"`, `\\`, `\/`, `\'`).
        _ => {
            let end = (i + 1 + char_len(e)).min(s.len());
            b.unit(i, end, &s[i + 1..end]);
            Some(end)
        }
    };
    decoded.unwrap_or_else(|| {
        b.lit(i);
        i + 1
    })
}

/// `\uXXXX` (surrogate pairs joined), `\u{…}`, `\UXXXXXXXX`, `\xHH`,
/// `\x{…}` at `s[i]`: the index after it, or None when it is not one.
fn code_point_escape(b: &mut Builder<'_>, i: usize) -> Option<usize> {
    let s = b.src;
    let e = s[i + 1];
    let mut buf = [0u8; 4];
    if s.get(i + 2) == Some(&b'{') && e != b'U' {
        let (v, n) = digits(s, i + 3, 16, 6);
        let end = i + 3 + n;
        let c = char::from_u32(v).filter(|_| n > 0 && s.get(end) == Some(&b'}'))?;
        b.unit(i, end + 1, utf8(c, &mut buf));
        return Some(end + 1);
    }
    let n = match e {
        b'u' => 4,
        b'U' => 8,
        _ => 2,
    };
    let v = hex_at(s, i + 2, n)?;
    if e == b'x' {
        return Some(hex_byte_escape(b, i, v as u8));
    }
    if (0xD800..0xDC00).contains(&v) {
        let low = (s.get(i + 6..i + 8) == Some(b"\\u"))
            .then(|| hex_at(s, i + 8, 4))
            .flatten();
        if let Some(low @ 0xDC00..0xE000) = low {
            let c = char::from_u32(0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00))?;
            b.unit(i, i + 12, utf8(c, &mut buf));
            return Some(i + 12);
        }
    }
    let c = char::from_u32(v)?;
    b.unit(i, i + 2 + n, utf8(c, &mut buf));
    Some(i + 2 + n)
}

/// `\xHH` at `s[i]` holding `v`: a byte, and with the `\xHH` escapes that
/// follow it one UTF-8 character when they make one (Python's `b'\xc3\xa9'`,
/// Go's `%q`); else, above 0x7F, the code point U+00HH (Python's
/// `ascii()`, JavaScript). Returns the index after it.
fn hex_byte_escape(b: &mut Builder<'_>, i: usize, v: u8) -> usize {
    let s = b.src;
    let len = match v {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    };
    let mut bytes = [v, 0, 0, 0];
    let mut whole = true;
    for (k, byte) in bytes.iter_mut().enumerate().take(len).skip(1) {
        let at = i + 4 * k;
        match (s.get(at..at + 2) == Some(b"\\x"))
            .then(|| hex_at(s, at + 2, 2))
            .flatten()
        {
            Some(n) => *byte = n as u8,
            None => whole = false,
        }
    }
    if v < 0x80 || (whole && len > 1 && core::str::from_utf8(&bytes[..len]).is_ok()) {
        let len = if v < 0x80 { 1 } else { len };
        b.unit(i, i + 4 * len, &bytes[..len]);
        return i + 4 * len;
    }
    let mut buf = [0u8; 4];
    b.unit(i, i + 4, utf8(char::from(v), &mut buf));
    i + 4
}

/// `''` and `""` as one quote each.
fn doubled(b: &mut Builder<'_>) {
    let s = b.src;
    let mut i = 0;
    while i < s.len() {
        if matches!(s[i], b'\'' | b'"') && s.get(i + 1) == Some(&s[i]) {
            b.unit(i, i + 2, &s[i..=i]);
            i += 2;
        } else {
            b.lit(i);
            i += 1;
        }
    }
}

/// HTML and XML character references: the five XML names and `&nbsp;`,
/// `&#NNN;` and `&#xHH;`. Others stay as written.
fn entities(b: &mut Builder<'_>) {
    let s = b.src;
    let mut i = 0;
    while i < s.len() {
        match entity_at(s, i) {
            Some((c, end)) => {
                let mut buf = [0u8; 4];
                b.unit(i, end, utf8(c, &mut buf));
                i = end;
            }
            None => {
                b.lit(i);
                i += 1;
            }
        }
    }
}

/// The character reference at `s[i]`, and the index after its `;`.
fn entity_at(s: &[u8], i: usize) -> Option<(char, usize)> {
    if s[i] != b'&' {
        return None;
    }
    const NAMED: [(&[u8], char); 6] = [
        (b"amp;", '&'),
        (b"lt;", '<'),
        (b"gt;", '>'),
        (b"quot;", '"'),
        (b"apos;", '\''),
        (b"nbsp;", '\u{a0}'),
    ];
    let rest = &s[i + 1..];
    if let Some((name, c)) = NAMED.iter().find(|(name, _)| rest.starts_with(name)) {
        return Some((*c, i + 1 + name.len()));
    }
    let (radix, at) = match rest.get(..2) {
        Some(b"#x" | b"#X") => (16, i + 3),
        _ if rest.first() == Some(&b'#') => (10, i + 2),
        _ => return None,
    };
    let (v, n) = digits(s, at, radix, 7);
    let c = char::from_u32(v).filter(|_| n > 0 && s.get(at + n) == Some(&b';'))?;
    Some((c, at + n + 1))
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
        b'C' | b'M' => match zsh_escape(s, i) {
            Some((v, end)) => {
                b.unit(i, end, &[v]);
                end
            }
            None => {
                b.lit(i);
                i + 1
            }
        },
        _ => {
            b.lit(i);
            i + 1
        }
    }
}

/// zsh's `\C-X` (a control character, `\C-?` DEL) and `\M-X` or
/// `\M-\C-X` (the byte with its high bit set: `set -x` and `${(q+)…}`
/// write non-ASCII bytes so outside a UTF-8 locale) at `s[i]`: the byte
/// and the index after it.
fn zsh_escape(s: &[u8], i: usize) -> Option<(u8, usize)> {
    let control = |c: u8| if c == b'?' { 0x7f } else { c & 0x1f };
    match s.get(i + 1..i + 4)? {
        [b'C', b'-', c] => Some((control(*c), i + 4)),
        [b'M', b'-', b'\\'] => match s.get(i + 4..i + 7)? {
            [b'C', b'-', c] => Some((control(*c) | 0x80, i + 7)),
            _ => None,
        },
        [b'M', b'-', c] => Some((c | 0x80, i + 4)),
        _ => None,
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
        decode(d, s.as_bytes(), &mut 0).map(|v| String::from_utf8_lossy(&v.bytes).into_owned())
    }

    /// The source text that view bytes `a..b` of `d(s)` map back to.
    fn back(d: Decoder, s: &str, a: usize, b: usize) -> String {
        let v = decode(d, s.as_bytes(), &mut 0).unwrap();
        let (x, y) = v.to_source(a, b);
        String::from(&s[x..y])
    }

    #[test]
    fn json_escapes_every_form() {
        let d = Decoder::Backslash;
        assert_eq!(decoded(d, r#"a\"b\\c\/d\n\t"#).unwrap(), "a\"b\\c/d\n\t");
        assert_eq!(
            decoded(d, r"p\u00e4ss\u00C4 \u003c\u0026\u2028").unwrap(),
            "päss\u{c4} <&\u{2028}"
        );
        assert_eq!(decoded(d, r"\ud83d\ude00!").unwrap(), "😀!");
        assert_eq!(decoded(d, r"\uD83D\uDE00").unwrap(), "😀");
        // A lone surrogate and `\u` without hex digits stay as written.
        assert_eq!(decoded(d, r"\ud83d x \users"), None);
        // `\\u0041` is a backslash and `u0041`, not `A`.
        assert_eq!(decoded(d, r"\\u0041").unwrap(), r"\u0041");
        assert_eq!(decoded(d, "no escapes"), None);
        assert_eq!(back(d, r"x \u00e4bc y", 2, 6), r"\u00e4bc");
        assert_eq!(back(d, r"\ud83d\ude00ab", 0, 4), r"\ud83d\ude00");
    }

    #[test]
    fn c_family_escapes() {
        let d = Decoder::Backslash;
        // Python's repr with both quotes, Perl's Data::Dumper, Ruby's
        // inspect, a Java properties file.
        assert_eq!(decoded(d, r#"'it\'s "q"'"#).unwrap(), r#"'it's "q"'"#);
        assert_eq!(decoded(d, r#""a\#{b\e" k\=v\:w"#).unwrap(), "\"a#{b\u{1b}\" k=v:w");
        // Go's %+q, Rust's {:?} and JavaScript, Perl's \x{…}.
        assert_eq!(decoded(d, r"\U0001F600 \u{1b}\u{E9} \x{e9}").unwrap(), "😀 \u{1b}é é");
        // \xHH: bytes when they make UTF-8 (Python's bytes, Go's %q), else
        // a code point (Python's ascii()); octal bytes (Perl, C).
        assert_eq!(
            decoded(d, r"b'\xc3\xa9\x41' '\xe9\xc3' \303\251\0").unwrap(),
            "b'éA' 'é\u{c3}' é\0"
        );
        assert_eq!(back(d, r"x\xc3\xa9y", 1, 3), r"\xc3\xa9");
        // Not escapes: no hex digits, an unclosed brace.
        assert_eq!(decoded(d, r"\x \xg \u{41 \U0041"), None);
    }

    #[test]
    fn doubled_quotes_and_character_references() {
        assert_eq!(
            decoded(Decoder::Doubled, r#"'it''s' "a ""b""""#).unwrap(),
            r#"'it's' "a "b"""#
        );
        assert_eq!(decoded(Decoder::Doubled, "'it'"), None);
        let d = Decoder::Entities;
        assert_eq!(
            decoded(d, "a&amp;b&lt;&gt;&quot;&apos;&#39;&#x27;&#X3c;&nbsp;").unwrap(),
            "a&b<>\"''\'<\u{a0}"
        );
        assert_eq!(decoded(d, "&amp &#; &#x; &unknown; &#39"), None);
        assert_eq!(back(d, "x&#39;y", 1, 2), "&#39;");
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
        // zsh's set -x outside a UTF-8 locale.
        assert_eq!(
            decoded(d, r"$'a\M-C\M-)b\C-A\C-?\M-C\M-\C-)'").unwrap(),
            "aéb\u{1}\u{7f}É"
        );
        assert_eq!(decoded(d, r"$'\C \M'").unwrap(), r"\C \M");
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
        /// Each view holding `want`, mapped back to the text.
        fn found(s: &str, want: &str) -> Vec<String> {
            let want = want.as_bytes();
            let mut out = Vec::new();
            let mut cost = 0;
            each_view(s.as_bytes(), &mut cost, |v, parent, _| {
                if let Some(at) = v.bytes.windows(want.len()).position(|w| w == want) {
                    let (mut a, mut b) = v.to_source(at, at + want.len());
                    if let Some(p) = parent {
                        (a, b) = p.to_source(a, b);
                    }
                    out.push(String::from(&s[a..b]));
                }
                Some(())
            });
            assert!(cost >= s.len());
            out
        }
        // jq -a's output inside a set -x line.
        let s = r#"+ curl -d '{"p":"caf\u00e9-s3cret"}'"#;
        assert!(found(s, "café-s3cret").iter().any(|m| m == r"caf\u00e9-s3cret"));
        // Go's JSON inside a query string, in a line that makes every
        // other view too: none is left out.
        let s = r#"\\\\"\\"''&amp;%25+ GET /x?q=%7B%22pw%22%3A%22Go%5Cu003cQz9k%22%7D"#;
        assert!(found(s, "Go<Qz9k").iter().any(|m| m == "Go%5Cu003cQz9k"));
        // Stopped at the first None.
        let mut n = 0;
        let stopped = each_view(s.as_bytes(), &mut 0, |_, _, _| {
            n += 1;
            (n < 3).then_some(())
        });
        assert!(stopped.is_none() && n == 3);
        let mut none = true;
        each_view(b"plain text, nothing encoded", &mut 0, |_, _, _| {
            none = false;
            Some(())
        });
        assert!(none);
    }
}
