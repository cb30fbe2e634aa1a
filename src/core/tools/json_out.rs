//! Writing the hook output protocol (the reader is [`crate::core::hook::channel`]):
//! `name=value`, or `name<<DELIM` … `DELIM` for a value with a line break,
//! with a delimiter that is no line of the value, so the reader gives back
//! exactly the value written.

use crate::core::CoreError;
use crate::core::secrets::secret::SecretBuf;
use alloc::format;
use alloc::string::String;

/// The reader's name rule.
pub(crate) fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Appends the protocol line(s) for `name` = `value` to `out`, each ending
/// in a newline. Refused, so that it reads back unchanged: a name that is
/// not the reader's ([`CoreError::OutputBadName`]), a carriage return at a line
/// end ([`CoreError::OutputCarriageReturn`]: the reader drops it) and a NUL
/// ([`CoreError::OutputNul`]: no environment variable can carry it, so an id
/// written so could never be given to the hook's delete).
pub(crate) fn write(out: &mut SecretBuf, name: &str, value: &str) -> Result<(), CoreError> {
    if !is_name(name) {
        return Err(CoreError::OutputBadName(String::from(name)));
    }
    if value.ends_with('\r') || value.contains("\r\n") {
        return Err(CoreError::OutputCarriageReturn(String::from(name)));
    }
    if value.contains('\0') {
        return Err(CoreError::OutputNul(String::from(name)));
    }
    out.push_str(name);
    if !value.contains('\n') {
        out.push('=');
        out.push_str(value);
        out.push('\n');
        return Ok(());
    }
    let delim = delimiter(value);
    out.push_str("<<");
    out.push_str(&delim);
    out.push('\n');
    out.push_str(value);
    out.push('\n');
    out.push_str(&delim);
    out.push('\n');
    Ok(())
}

/// `EOF`, or `EOF_1`, `EOF_2`, … : the first that is no line of `value`
/// (the reader ends the value at the first line equal to the delimiter).
pub(crate) fn delimiter(value: &str) -> String {
    let mut n = 0u64;
    loop {
        let d = if n == 0 {
            String::from("EOF")
        } else {
            format!("EOF_{n}")
        };
        if !value.split('\n').any(|l| l == d) {
            return d;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secrets::secret::Secret;

    /// One `name=value` line set, built in a zeroizing buffer.
    fn lines<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Secret, CoreError> {
        let mut out = SecretBuf::with_capacity(256);
        for (n, v) in pairs {
            write(&mut out, n, v)?;
        }
        Ok(out.into_secret())
    }
    use crate::core::hook::channel;
    use crate::core::job::schema::Schema;
    use alloc::vec::Vec;

    /// A schema declaring outputs `a`, `b` and `c` as strings.
    fn schema() -> Schema {
        let decl = [
            ("SMOUT_A", "type:string"),
            ("SMOUT_B", "type:string"),
            ("SMOUT_C", "type:string"),
        ];
        let (schema, problems) = crate::core::job::schema::from_env(decl.iter().copied());
        assert!(problems.is_empty());
        schema
    }

    fn round_trip(values: &[(&str, &str)]) {
        let text = lines(values.iter().copied()).unwrap();
        let report = channel::parse(text.expose().as_bytes(), &schema()).unwrap();
        let got: Vec<(&str, &str)> = report.values.iter().map(|(n, v)| (n.as_str(), v.expose())).collect();
        assert_eq!(got, values, "written as {:?}", text.expose());
    }

    #[test]
    fn values_read_back_unchanged_through_the_real_parser() {
        round_trip(&[("a", "plain"), ("b", ""), ("c", "x=y<<z # not a comment")]);
        round_trip(&[("a", "line1\nline2"), ("b", "\n"), ("c", "\n\nmid\n\n")]);
        round_trip(&[
            ("a", "EOF\nEOF_1\nEOF_2"),
            ("b", "-----BEGIN X-----\nAAA\n-----END X-----\n"),
        ]);
        round_trip(&[("a", "tab\there"), ("b", "lone\rcr"), ("c", "  spaces  ")]);
        round_trip(&[("a", "#hash\n"), ("b", "é😀\u{1}soh")]);
    }

    #[test]
    fn delimiter_is_no_line_of_the_value() {
        assert_eq!(delimiter("a\nb"), "EOF");
        assert_eq!(delimiter("EOF\nx"), "EOF_1");
        assert_eq!(delimiter("x\nEOF\nEOF_1"), "EOF_2");
        assert_eq!(delimiter("EOFX\nxEOF"), "EOF");
    }

    #[test]
    fn refuses_what_would_not_read_back() {
        let mut out = SecretBuf::default();
        assert_eq!(write(&mut out, "a b", "v"), Err(CoreError::OutputBadName("a b".into())));
        assert_eq!(write(&mut out, "", "v"), Err(CoreError::OutputBadName("".into())));
        assert_eq!(
            write(&mut out, "a", "x\r\ny"),
            Err(CoreError::OutputCarriageReturn("a".into()))
        );
        assert_eq!(
            write(&mut out, "a", "x\r"),
            Err(CoreError::OutputCarriageReturn("a".into()))
        );
        assert_eq!(write(&mut out, "id", "x\0y"), Err(CoreError::OutputNul("id".into())));
        assert_eq!(out.as_str(), "");
    }
}
