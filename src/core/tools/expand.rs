//! The `{{NAME}}` rule of the hook tools: credhook, not the shell, replaces
//! `{{NAME}}` with the value of the environment variable NAME, so a secret
//! written as `'Authorization: Bearer {{TOKEN}}'` never appears on a command
//! line (`/proc/<pid>/cmdline` is readable by every process of the user).

use crate::core::CoreError;
use crate::core::secrets::secret::{Secret, SecretBuf};
use alloc::string::String;

/// `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_var_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The variable name of a `{{NAME}}` reference starting at `s[0]`, and the
/// reference's length. Looks only as far as the name's characters go, so a
/// text of many `{{` and no `}}` is expanded in linear time.
fn reference(s: &str) -> Option<(&str, usize)> {
    let inner = s.strip_prefix("{{")?;
    let end = inner
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || c == b'_'))
        .unwrap_or(inner.len());
    let name = &inner[..end];
    (inner[end..].starts_with("}}") && is_var_name(name)).then_some((name, end + 4))
}

/// Replaces every `{{NAME}}` in `text` with `lookup(NAME)`; every other brace
/// is kept as written. An unset or empty variable is an error
/// ([`CoreError::ExpandUnset`]), as is one that is not UTF-8
/// ([`CoreError::ExpandNotUtf8`]); it names the variable, never a value.
pub(crate) fn expand<'v>(text: &str, lookup: impl Fn(&str) -> Option<&'v [u8]>) -> Result<Secret, CoreError> {
    let mut out = SecretBuf::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match reference(rest) {
            Some((name, len)) => {
                let value = match lookup(name) {
                    Some(v) if !v.is_empty() => v,
                    _ => return Err(CoreError::ExpandUnset(String::from(name))),
                };
                let value = core::str::from_utf8(value).map_err(|_| CoreError::ExpandNotUtf8(String::from(name)))?;
                out.push_str(value);
                rest = &rest[len..];
            }
            None => {
                // Not a reference: keep one brace and look again from the next.
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Ok(out.into_secret())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<&'static [u8]> {
        match name {
            "TOKEN" => Some(b"s3cr3t"),
            "EMPTY" => Some(b""),
            "BIN" => Some(&[0xff, 0xfe]),
            "_x1" => Some(b"u"),
            _ => None,
        }
    }

    fn ex(t: &str) -> Result<alloc::string::String, CoreError> {
        expand(t, env).map(|s| String::from(s.expose()))
    }

    #[test]
    fn replaces_references() {
        assert_eq!(ex("Bearer {{TOKEN}}").unwrap(), "Bearer s3cr3t");
        assert_eq!(ex("{{TOKEN}}{{_x1}}-{{TOKEN}}").unwrap(), "s3cr3tu-s3cr3t");
        assert_eq!(ex("no refs").unwrap(), "no refs");
        assert_eq!(ex("").unwrap(), "");
    }

    #[test]
    fn other_braces_are_kept() {
        for t in [
            "{}",
            "{{}}",
            "{{ TOKEN }}",
            "{{1A}}",
            "{TOKEN}",
            "{{TOKEN}",
            "{{TOKEN",
            "}}",
            "{{a-b}}",
            "{{{",
            "{\"a\":{\"b\":1}}",
        ] {
            assert_eq!(ex(t).unwrap(), t, "{t}");
        }
        assert_eq!(ex("{{{TOKEN}}}").unwrap(), "{s3cr3t}");
        assert_eq!(ex("{{TOKEN }}{{TOKEN}}").unwrap(), "{{TOKEN }}s3cr3t");
        let many = "{{a".repeat(10_000);
        assert_eq!(ex(&many).unwrap(), many);
        assert_eq!(ex("{{{{TOKEN}}").unwrap(), "{{s3cr3t");
    }

    #[test]
    fn unset_empty_and_binary_are_errors_naming_the_variable() {
        assert_eq!(ex("a{{NOPE}}"), Err(CoreError::ExpandUnset("NOPE".into())));
        assert_eq!(ex("{{EMPTY}}"), Err(CoreError::ExpandUnset("EMPTY".into())));
        assert_eq!(ex("{{BIN}}"), Err(CoreError::ExpandNotUtf8("BIN".into())));
        let msg = alloc::format!("{}", CoreError::ExpandUnset("NOPE".into()));
        assert!(
            msg.starts_with("`{{NOPE}}` names the environment variable NOPE"),
            "{msg}"
        );
    }

    #[test]
    fn never_panics_and_keeps_unreferenced_text() {
        const ALPHABET: [&str; 8] = ["{", "}", "TOKEN", "_", "é", "😀", "1", " "];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut s = String::new();
            for k in 0..(seed % 14) {
                s.push_str(ALPHABET[((seed >> (3 * k)) % 8) as usize]);
            }
            if let Ok(out) = expand(&s, env)
                && !s.contains("{{TOKEN}}")
            {
                assert_eq!(out.expose(), s);
            }
        }
    }
}
