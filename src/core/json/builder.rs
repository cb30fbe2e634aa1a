//! `credhook json build`: one compact JSON object from `key=text`,
//! `key:=json`, `key?=text` and `key?:=json` fields, with `{{NAME}}`
//! expanded in the text, so values (secrets included) come from the
//! environment instead of the command line.

use crate::core::CoreError;
use crate::core::json;
use crate::core::secrets::secret::{Secret, SecretBuf};
use crate::core::tools::expand;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// One command-line field, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member<'a> {
    pub(crate) key: &'a str,
    /// `:=`: the text is JSON, not a string.
    pub(crate) raw: bool,
    /// `?`: the member is left out when its text is empty or names an unset variable.
    pub(crate) optional: bool,
    pub(crate) text: &'a str,
}

/// Splits a field at its first `=`.
pub(crate) fn parse_field(arg: &str) -> Result<Member<'_>, CoreError> {
    let (head, text) = arg
        .split_once('=')
        .ok_or_else(|| CoreError::FieldNoEquals(String::from(clip(arg))))?;
    let (head, raw) = match head.strip_suffix(':') {
        Some(h) => (h, true),
        None => (head, false),
    };
    let (key, optional) = match head.strip_suffix('?') {
        Some(k) => (k, true),
        None => (head, false),
    };
    if key.is_empty() {
        return Err(CoreError::FieldEmptyKey);
    }
    Ok(Member {
        key,
        raw,
        optional,
        text,
    })
}

/// The field's name without its value, for messages.
fn clip(arg: &str) -> &str {
    match arg.char_indices().nth(40) {
        Some((i, _)) => &arg[..i],
        None => arg,
    }
}

/// Builds the object. Errors name the key and the problem, never a value.
pub(crate) fn build<'v>(
    fields: &[Member<'_>],
    lookup: impl Fn(&str) -> Option<&'v [u8]> + Copy,
) -> Result<Secret, CoreError> {
    let mut out = SecretBuf::with_capacity(64);
    out.push('{');
    let mut seen: Vec<&str> = Vec::new();
    for f in fields {
        if seen.contains(&f.key) {
            return Err(CoreError::FieldTwice(String::from(f.key)));
        }
        seen.push(f.key);
        let text = match expand::expand(f.text, lookup) {
            Ok(t) => t,
            Err(CoreError::ExpandUnset(_)) if f.optional => continue,
            Err(e) => {
                return Err(CoreError::FieldExpand {
                    key: String::from(f.key),
                    error: Box::new(e),
                });
            }
        };
        if f.optional && text.is_empty() {
            continue;
        }
        if out.as_str().len() > 1 {
            out.push(',');
        }
        json::write_string(&mut out, f.key);
        out.push(':');
        if f.raw {
            let value = json::parse(text.expose().as_bytes()).map_err(|e| match e {
                CoreError::Json { offset, what } => CoreError::FieldNotJson {
                    key: String::from(f.key),
                    offset,
                    what,
                },
                other => other,
            })?;
            out.push_str(value.to_compact().expose());
        } else {
            json::write_string(&mut out, text.expose());
        }
    }
    out.push('}');
    Ok(out.into_secret())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn env(name: &str) -> Option<&'static [u8]> {
        match name {
            "USER" => Some(b"svc \"bot\""),
            "SECS" => Some(b"3600"),
            "EMPTY" => Some(b""),
            "LIST" => Some(b"[ \"a\", 1 ]"),
            _ => None,
        }
    }

    fn b(args: &[&str]) -> Result<String, String> {
        let fields: Vec<Member> = args
            .iter()
            .map(|a| parse_field(a))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        build(&fields, env)
            .map(|s| String::from(s.expose()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn builds_typed_members_in_order() {
        assert_eq!(
            b(&[
                "username={{USER}}",
                "expires_in:={{SECS}}",
                "refreshable:=true",
                "scope=a=b"
            ])
            .unwrap(),
            r#"{"username":"svc \"bot\"","expires_in":3600,"refreshable":true,"scope":"a=b"}"#
        );
        assert_eq!(
            b(&["l:={{LIST}}", "o:={\"x\": null}", "s:=\"q\""]).unwrap(),
            r#"{"l":["a",1],"o":{"x":null},"s":"q"}"#
        );
        assert_eq!(b(&[]).unwrap(), "{}");
        assert_eq!(b(&["empty="]).unwrap(), r#"{"empty":""}"#);
        assert_eq!(b(&["k:e:y=v"]).unwrap(), r#"{"k:e:y":"v"}"#);
    }

    #[test]
    fn optional_members_are_left_out_when_empty_or_unset() {
        assert_eq!(
            b(&[
                "a?={{NOPE}}",
                "b?=",
                "c?:={{EMPTY}}",
                "d?=x{{NOPE}}",
                "e?={{SECS}}",
                "f?:={{SECS}}"
            ])
            .unwrap(),
            r#"{"e":"3600","f":3600}"#
        );
    }

    #[test]
    fn errors_name_the_key_never_the_value() {
        let e = b(&["n:={{USER}}"]).unwrap_err();
        assert!(
            e.starts_with("key `n`: the `:=` value is not JSON (malformed JSON at byte 0"),
            "{e}"
        );
        assert!(!e.contains("bot"), "{e}");
        assert!(b(&["n:="]).unwrap_err().contains("not JSON"));
        assert!(b(&["n:=1 2"]).unwrap_err().contains("byte 2"));
        assert!(b(&["a={{NOPE}}"]).unwrap_err().contains("NOPE"));
        assert!(b(&["a=1", "a=2"]).unwrap_err().contains("twice"));
        assert!(b(&["novalue"]).unwrap_err().contains("no `=`"));
        assert!(b(&["=x"]).unwrap_err().contains("empty key"));
        assert!(b(&["?:=1"]).unwrap_err().contains("empty key"));
    }
}
