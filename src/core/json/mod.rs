//! A small JSON reader and writer.
//!
//! Why not miniserde: its objects are `BTreeMap`s (the contract wants kv and
//! credentials objects passed on with their keys in the order received), and
//! its strings are plain `String`s (a secret reply would leave copies of
//! passwords in freed memory). Here every string is a [`Secret`], sized up
//! front so it never reallocates, and objects keep their order.

pub(crate) mod builder;
pub(crate) mod query;

use crate::core::CoreError;
use crate::core::secrets::secret::{Secret, SecretBuf};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// The number's text exactly as received.
    Number(String),
    String(Secret),
    Array(Vec<Value>),
    /// Members in the order received.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.expose()),
            _ => None,
        }
    }

    /// Compact JSON: no whitespace outside strings, keys in the order received.
    pub(crate) fn to_compact(&self) -> Secret {
        let mut out = SecretBuf::with_capacity(64);
        self.write_compact(&mut out);
        out.into_secret()
    }

    fn write_compact(&self, out: &mut SecretBuf) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(n),
            Value::String(s) => write_string(out, s.expose()),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_compact(out);
                }
                out.push(']');
            }
            Value::Object(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(out, k);
                    out.push(':');
                    v.write_compact(out);
                }
                out.push('}');
            }
        }
    }
}

/// Writes `s` as a JSON string literal.
pub(crate) fn write_string(out: &mut impl fmt::Write, s: &str) {
    // Writing into a String or SecretBuf cannot fail.
    let _ = out.write_char('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            c if (c as u32) < 0x20 => None,
            _ => continue,
        };
        let _ = out.write_str(&s[start..i]);
        match esc {
            Some(e) => {
                let _ = out.write_str(e);
            }
            None => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
        }
        start = i + c.len_utf8();
    }
    let _ = out.write_str(&s[start..]);
    let _ = out.write_char('"');
}

/// Reads one JSON document; trailing non-whitespace is an error.
pub(crate) fn parse(text: &[u8]) -> Result<Value, CoreError> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("unexpected data after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> CoreError {
        CoreError::Json { offset: self.i, what }
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, CoreError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        match self.s.get(self.i) {
            None => Err(self.err("unexpected end")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Value::String(self.string()?.into_secret())),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ if self.eat(b"true") => Ok(Value::Bool(true)),
            _ if self.eat(b"false") => Ok(Value::Bool(false)),
            _ if self.eat(b"null") => Ok(Value::Null),
            _ => Err(self.err("expected a value")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, CoreError> {
        self.i += 1;
        let mut members = Vec::new();
        self.ws();
        if self.eat(b"}") {
            return Ok(Value::Object(members));
        }
        loop {
            self.ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.err("expected a string key"));
            }
            let key = String::from(self.string()?.as_str());
            self.ws();
            if !self.eat(b":") {
                return Err(self.err("expected ':'"));
            }
            self.ws();
            let v = self.value(depth + 1)?;
            members.push((key, v));
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"}") {
                return Ok(Value::Object(members));
            }
            return Err(self.err("expected ',' or '}'"));
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, CoreError> {
        self.i += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat(b"]") {
            return Ok(Value::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            if self.eat(b",") {
                continue;
            }
            if self.eat(b"]") {
                return Ok(Value::Array(items));
            }
            return Err(self.err("expected ',' or ']'"));
        }
    }

    fn number(&mut self) -> Result<Value, CoreError> {
        let start = self.i;
        self.eat(b"-");
        let digits = |p: &mut Self| {
            let from = p.i;
            while let Some(b'0'..=b'9') = p.s.get(p.i) {
                p.i += 1;
            }
            p.i - from
        };
        let int = digits(self);
        if int == 0 || (int > 1 && self.s[self.i - int] == b'0') {
            return Err(self.err("invalid number"));
        }
        if self.eat(b".") && digits(self) == 0 {
            return Err(self.err("invalid number"));
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.err("invalid number"));
            }
        }
        // Only ASCII digits and signs were consumed.
        let text = core::str::from_utf8(&self.s[start..self.i]).map_err(|_| self.err("invalid number"))?;
        Ok(Value::Number(String::from(text)))
    }

    /// Reads a string literal into a buffer sized to the literal, so the
    /// unescaped text (never longer) is written once and never reallocated.
    fn string(&mut self) -> Result<SecretBuf, CoreError> {
        self.i += 1;
        let start = self.i;
        let mut end = start;
        while end < self.s.len() && self.s[end] != b'"' {
            end += if self.s[end] == b'\\' { 2 } else { 1 };
        }
        let mut out = SecretBuf::with_capacity(end.saturating_sub(start));
        loop {
            let run_start = self.i;
            while let Some(&b) = self.s.get(self.i) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.i += 1;
            }
            let run = core::str::from_utf8(&self.s[run_start..self.i]).map_err(|e| CoreError::Json {
                offset: run_start + e.valid_up_to(),
                what: "invalid UTF-8 in a string",
            })?;
            out.push_str(run);
            match self.s.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => return Err(self.err("control character in a string")),
            }
        }
    }

    fn escape(&mut self) -> Result<char, CoreError> {
        let b = *self.s.get(self.i).ok_or_else(|| self.err("unterminated escape"))?;
        self.i += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) {
                    if !self.eat(b"\\u") {
                        return Err(self.err("unpaired surrogate"));
                    }
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return Err(self.err("unpaired surrogate"));
                    }
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(c).ok_or_else(|| self.err("invalid escape"))?
                } else {
                    char::from_u32(hi).ok_or_else(|| self.err("unpaired surrogate"))?
                }
            }
            _ => return Err(self.err("invalid escape")),
        })
    }

    fn hex4(&mut self) -> Result<u32, CoreError> {
        let digits = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let mut v = 0;
        for &d in digits {
            let n = (d as char).to_digit(16).ok_or_else(|| self.err("invalid \\u escape"))?;
            v = v * 16 + n;
        }
        self.i += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn compact(s: &str) -> String {
        parse(s.as_bytes()).unwrap().to_compact().expose().to_string()
    }

    #[test]
    fn compact_keeps_key_order_and_drops_whitespace() {
        assert_eq!(
            compact("{ \"z\" : 1 ,\n \"a\": [true, null, \"x y\"], \"m\": {\"k\": -1.5e3} }"),
            r#"{"z":1,"a":[true,null,"x y"],"m":{"k":-1.5e3}}"#
        );
    }

    #[test]
    fn strings_round_trip_escapes() {
        let v = parse(br#""a\"b\\c\n\u00e9\ud83d\ude00\/""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c\né😀/"));
        assert_eq!(v.to_compact().expose(), "\"a\\\"b\\\\c\\né😀/\"");
        let mut s = String::new();
        write_string(&mut s, "\u{1}");
        assert_eq!(s, "\"\\u0001\"");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "01",
            "1.",
            "\"abc",
            "tru",
            "{} x",
            "\"\\ud800\"",
            "\"\\x\"",
            "\"a\nb\"",
            "-",
            "1e",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "accepted {bad:?}");
        }
        assert!(parse(&[b'"', 0xff, b'"']).is_err());
    }

    #[test]
    fn refuses_deep_nesting() {
        let deep = "[".repeat(10_000);
        assert!(matches!(
            parse(deep.as_bytes()).unwrap_err(),
            CoreError::Json {
                what: "nested too deeply",
                ..
            }
        ));
    }

    #[test]
    fn get_finds_members() {
        let v = parse(br#"{"a":"1","b":{"c":"2"}}"#).unwrap();
        assert_eq!(v.get("a").and_then(Value::as_str), Some("1"));
        assert_eq!(v.get("b").and_then(|b| b.get("c")).and_then(Value::as_str), Some("2"));
        assert!(v.get("zz").is_none());
    }
}
