//! The path grammar of `credhook json get|out`, a small subset of jq's:
//! `.` (the whole document), `.name`, `."any key"`, `["any key"]`, `[N]`
//! (negative N counts from the end), chained: `.a.b[0]."c.d"`.

use crate::core::CoreError;
use crate::core::json::{self, Value};
use crate::core::secrets::secret::{Secret, SecretBuf};
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(i64),
}

/// A parsed path: the steps from the document's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Path(pub Vec<Segment>);

/// Parses a path; the error ([`CoreError::Path`]) says what is wrong and shows
/// the grammar.
pub(crate) fn parse(text: &str) -> Result<Path, CoreError> {
    let bad = |what: &'static str| CoreError::Path {
        path: String::from(text),
        what,
    };
    let s = text.as_bytes();
    if s.first() != Some(&b'.') {
        return Err(bad("a path starts with `.`"));
    }
    if text == "." {
        return Ok(Path(Vec::new()));
    }
    let mut steps = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'.' => {
                i += 1;
                match s.get(i) {
                    Some(b'"') => {
                        let (key, len) = quoted(&text[i..]).ok_or_else(|| bad("unterminated or invalid quoted key"))?;
                        steps.push(Segment::Key(key));
                        i += len;
                    }
                    Some(b'[') => {}
                    Some(c) if is_key_byte(*c) => {
                        let start = i;
                        while s.get(i).is_some_and(|c| is_key_byte(*c)) {
                            i += 1;
                        }
                        steps.push(Segment::Key(String::from(&text[start..i])));
                    }
                    _ => return Err(bad("`.` must be followed by a key, a quoted key or `[`")),
                }
            }
            b'[' if s.get(i + 1) == Some(&b'"') => {
                let (key, len) = quoted(&text[i + 1..]).ok_or_else(|| bad("`[\"…\"]` holds an invalid quoted key"))?;
                if s.get(i + 1 + len) != Some(&b']') {
                    return Err(bad("`[\"…\"]` is not closed right after the key"));
                }
                steps.push(Segment::Key(key));
                i += len + 2;
            }
            b'[' => {
                let close = text[i..].find(']').ok_or_else(|| bad("`[` is never closed"))?;
                let n = text[i + 1..i + close]
                    .parse::<i64>()
                    .map_err(|_| bad("`[…]` holds neither an integer index nor a quoted key"))?;
                steps.push(Segment::Index(n));
                i += close + 1;
            }
            _ => return Err(bad("expected `.` or `[` between steps")),
        }
    }
    Ok(Path(steps))
}

/// Letters, digits, `_` and `-` (jq would read `-` as minus; keys like
/// `expires-in` are common enough in APIs to allow it).
fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// A JSON string literal at the start of `s`: its text and its length.
fn quoted(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => {
                let v = json::parse(&b[..=i]).ok()?;
                return Some((String::from(v.as_str()?), i + 1));
            }
            _ => i += 1,
        }
    }
    None
}

impl Path {
    /// The value at this path, or `None` when a key is missing, an index is
    /// out of range, or a step does not fit the value (a key into an array).
    pub(crate) fn lookup<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        let mut v = doc;
        for step in &self.0 {
            v = match (step, v) {
                (Segment::Key(k), Value::Object(_)) => v.get(k)?,
                (Segment::Index(n), Value::Array(items)) => {
                    let len = items.len() as i64;
                    let at = if *n < 0 { len + n } else { *n };
                    items.get(usize::try_from(at).ok()?)?
                }
                _ => return None,
            };
        }
        Some(v)
    }
}

/// A value as `credhook json get` prints it: a string's own text (`raw`) or
/// JSON-quoted, everything else as compact JSON.
pub(crate) fn render(v: &Value, raw: bool) -> Secret {
    match v {
        Value::String(s) if raw => s.clone(),
        Value::String(s) => {
            let mut out = SecretBuf::with_capacity(s.expose().len() + 2);
            json::write_string(&mut out, s.expose());
            out.into_secret()
        }
        other => other.to_compact(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn k(s: &str) -> Segment {
        Segment::Key(s.into())
    }

    #[test]
    fn grammar() {
        assert_eq!(parse(".").unwrap(), Path(vec![]));
        assert_eq!(
            parse(".a.b[0].c").unwrap().0,
            vec![k("a"), k("b"), Segment::Index(0), k("c")]
        );
        assert_eq!(parse(".\"key.with.dots\"").unwrap().0, vec![k("key.with.dots")]);
        assert_eq!(parse(".[\"x y\"][-1]").unwrap().0, vec![k("x y"), Segment::Index(-1)]);
        assert_eq!(parse(".[\"a]b\"]").unwrap().0, vec![k("a]b")]);
        assert_eq!(parse(".[2]").unwrap().0, vec![Segment::Index(2)]);
        assert_eq!(parse(".a.[1]").unwrap().0, vec![k("a"), Segment::Index(1)]);
        assert_eq!(parse(".\"q\\\"uote\"").unwrap().0, vec![k("q\"uote")]);
        assert_eq!(parse(".token_id").unwrap().0, vec![k("token_id")]);
        assert_eq!(parse(".expires-in").unwrap().0, vec![k("expires-in")]);
    }

    #[test]
    fn bad_paths_say_why() {
        for bad in [
            "",
            "a",
            "..",
            ".a.",
            ".a[",
            ".a[x]",
            ".\"open",
            ".a b",
            ".[\"a\"x]",
            ".a..b",
            "[0]",
        ] {
            let e = alloc::string::ToString::to_string(&parse(bad).unwrap_err());
            assert!(e.contains("write `.`"), "{bad}: {e}");
        }
    }

    #[test]
    fn lookup_and_render() {
        let doc = json::parse(br#"{"a":{"b":[{"c":"x\ny"},2,null,true]},"k.d":{"n":1.5}}"#).unwrap();
        let get = |p: &str| {
            parse(p)
                .unwrap()
                .lookup(&doc)
                .map(|v| String::from(render(v, true).expose()))
        };
        assert_eq!(get(".a.b[0].c").as_deref(), Some("x\ny"));
        assert_eq!(get(".a.b[1]").as_deref(), Some("2"));
        assert_eq!(get(".a.b[2]").as_deref(), Some("null"));
        assert_eq!(get(".a.b[-1]").as_deref(), Some("true"));
        assert_eq!(get(".\"k.d\"").as_deref(), Some("{\"n\":1.5}"));
        assert_eq!(get(".a.b[0]").as_deref(), Some("{\"c\":\"x\\ny\"}"));
        for missing in [".z", ".a.b[4]", ".a.b[-5]", ".a.b.c", ".a[0]", ".a.b[1].x", ".k"] {
            assert_eq!(get(missing), None, "{missing}");
        }
        let s = parse(".a.b[0].c").unwrap();
        assert_eq!(render(s.lookup(&doc).unwrap(), false).expose(), "\"x\\ny\"");
    }

    /// Random strings over the characters that matter to the grammar, and
    /// multi-byte ones: nothing may panic.
    fn tricky_strings(n: usize) -> impl Iterator<Item = alloc::string::String> {
        const ALPHABET: [&str; 16] = [
            ".", "[", "]", "\"", "\\", "{", "}", "a", "0", "-", "é", "😀", ":", "/", "?", "@",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        (0..n).map(move |_| {
            let mut s = alloc::string::String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            for k in 0..(seed % 12) {
                s.push_str(ALPHABET[((seed >> (4 * k)) % 16) as usize]);
            }
            s
        })
    }

    #[test]
    fn never_panics() {
        let doc = json::parse("{\"a\":[1,{\"b\":\"c\"}],\"\":{\"é\":2}}".as_bytes()).unwrap();
        for s in tricky_strings(200_000) {
            if let Ok(p) = parse(&s) {
                let _ = p.lookup(&doc);
            }
            let dotted = alloc::format!(".{s}");
            if let Ok(p) = parse(&dotted) {
                let _ = p.lookup(&doc);
            }
        }
    }
}
