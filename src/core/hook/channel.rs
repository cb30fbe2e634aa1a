//! The hook's output protocol: `name=value` and `name<<DELIM … DELIM` lines on
//! the private output channel, and the credentials payload they make.

use crate::core::CoreError;
use crate::core::job::inputs::{parse_boolean, parse_integer};
use crate::core::job::schema::{Field, Kind, Schema};
use crate::core::secrets::registry::Registry;
use crate::core::secrets::secret::{Secret, SecretBuf};
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// At most this many bytes on the output channel.
pub(crate) const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// At most this many characters in one value.
pub(crate) const MAX_VALUE_CHARS: usize = 100_000;
/// The protocol name a delete writes (`already_gone=true`) when the
/// credentials were not there to delete.
pub(crate) const ALREADY_GONE: &str = "already_gone";

/// What a hook wrote, parsed but not yet checked against success or failure.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) id: Option<String>,
    pub(crate) error_code: Option<String>,
    pub(crate) error_message: Option<String>,
    /// A delete's `already_gone=true`: there was nothing to delete.
    pub(crate) already_gone: bool,
    /// Outputs by their lower-case API name, in the order written.
    pub(crate) values: Vec<(String, Secret)>,
}

/// A typed payload value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Typed {
    Str(Secret),
    Int(i64),
    Bool(bool),
}

/// The credentials of a successful create.
#[derive(Debug)]
pub(crate) struct Credentials {
    pub(crate) id: String,
    /// Lower-case name and value, in schema order.
    pub(crate) payload: Vec<(String, Typed)>,
}

enum Key {
    Id,
    ErrorCode,
    ErrorMessage,
    AlreadyGone,
    Output(String),
}

/// One piece of the output channel as written: the protocol's single
/// tokenizer, read strictly by [`parse`] and leniently by [`find_ids`] and
/// [`register_values`].
#[derive(Debug)]
pub(crate) enum Entry<'a> {
    /// A blank line or a `#` comment.
    Ignored,
    /// `name=value` on line `line`.
    Pair { line: usize, name: &'a str, value: &'a str },
    /// `name<<delim`, its body lines joined with `\n`, and whether a line
    /// holding only `delim` closed it (if not, the body is everything after
    /// the opener, and `rest` is the index of the line after the opener).
    Heredoc {
        line: usize,
        name: &'a str,
        delim: &'a str,
        body: Secret,
        closed: bool,
        rest: usize,
    },
    /// Any other line.
    Other { line: usize, raw: &'a str },
}

/// The channel's lines, numbered from 1, without their `\r\n`/`\n`.
fn lines_of(text: &str) -> Vec<(usize, &str)> {
    text.split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)))
        .collect()
}

/// The token starting at `lines[*i]`; advances `*i` past it.
fn next_token<'a>(lines: &[(usize, &'a str)], i: &mut usize) -> Option<Entry<'a>> {
    let (no, line) = *lines.get(*i)?;
    *i += 1;
    if line.trim().is_empty() || line.starts_with('#') {
        return Some(Entry::Ignored);
    }
    let eq = line.find('=');
    if let Some(h) = line.find("<<").filter(|h| eq.is_none_or(|e| *h < e)) {
        let (name, delim) = (&line[..h], &line[h + 2..]);
        let rest = *i;
        let mut body = SecretBuf::with_capacity(256);
        let mut closed = false;
        if !delim.is_empty() {
            let mut first = true;
            while let Some((_, l)) = lines.get(*i) {
                *i += 1;
                if *l == delim {
                    closed = true;
                    break;
                }
                if !first {
                    body.push('\n');
                }
                body.push_str(l);
                first = false;
            }
        }
        return Some(Entry::Heredoc {
            line: no,
            name,
            delim,
            body: body.into_secret(),
            closed,
            rest,
        });
    }
    Some(match eq {
        Some(e) => Entry::Pair {
            line: no,
            name: &line[..e],
            value: &line[e + 1..],
        },
        None => Entry::Other { line: no, raw: line },
    })
}

/// Parses the output channel. Messages name the line number and, when it is
/// a valid name, the name; never a value or a raw line.
pub(crate) fn parse(bytes: &[u8], schema: &Schema) -> Result<Report, CoreError> {
    if bytes.len() > MAX_OUTPUT_BYTES {
        return Err(CoreError::HookOutputTooLarge);
    }
    let text = core::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        CoreError::HookOutput(format!(
            "line {line} of the hook's output is not valid UTF-8; write text only (base64-encode binary values)"
        ))
    })?;
    let mut report = Report::default();
    let mut seen: Vec<String> = Vec::new();
    let lines = lines_of(text);
    let mut i = 0;
    while let Some(token) = next_token(&lines, &mut i) {
        let Some((no, raw_name, value)) = valid_entry(token)? else {
            continue;
        };
        let key = resolve(no, raw_name, schema)?;
        let canonical = match &key {
            Key::Id => String::from("id"),
            Key::ErrorCode => String::from("error_code"),
            Key::ErrorMessage => String::from("error_message"),
            Key::AlreadyGone => String::from(ALREADY_GONE),
            Key::Output(n) => format!("smout_{n}"),
        };
        if seen.contains(&canonical) {
            return Err(CoreError::HookOutput(format!(
                "line {no}: `{raw_name}` is written twice; write each name once"
            )));
        }
        seen.push(canonical);
        if value.expose().chars().count() > MAX_VALUE_CHARS {
            return Err(CoreError::HookOutput(format!(
                "line {no}: the value of `{raw_name}` is longer than {MAX_VALUE_CHARS} characters"
            )));
        }
        record(&mut report, key, value, no)?;
    }
    Ok(report)
}

/// A well-formed entry's line, name and value; `None` for a line that is
/// ignored.
fn valid_entry(token: Entry<'_>) -> Result<Option<(usize, &str, Secret)>, CoreError> {
    Ok(Some(match token {
        Entry::Ignored => return Ok(None),
        Entry::Other { line, .. } => {
            return Err(CoreError::HookOutput(format!(
                "line {line} is neither `name=value` nor `name<<DELIM`; comment it with `#` or send it to stderr instead"
            )));
        }
        Entry::Heredoc { line, delim: "", .. } => {
            return Err(CoreError::HookOutput(format!(
                "line {line}: a multi-line value needs a delimiter after `<<`, e.g. `name<<EOF`"
            )));
        }
        Entry::Heredoc {
            line, closed: false, ..
        } => {
            return Err(CoreError::HookOutput(format!(
                "line {line}: the multi-line value started here is never closed; end it with a line holding only the delimiter"
            )));
        }
        Entry::Heredoc { line, name, body, .. } => (line, name, body),
        Entry::Pair { line, name, value } if is_bare_value(name, value) => {
            return Err(CoreError::HookOutput(format!(
                "line {line} is a bare value, not `name=value`; write `name=value` for a declared output"
            )));
        }
        Entry::Pair { line, name, value } => (line, name, Secret::from(value)),
    }))
}

/// Puts one value where its name says.
fn record(report: &mut Report, key: Key, value: Secret, no: usize) -> Result<(), CoreError> {
    match key {
        Key::Id => report.id = Some(value.expose().to_string()),
        Key::ErrorCode => report.error_code = Some(value.expose().to_string()),
        Key::ErrorMessage => report.error_message = Some(value.expose().to_string()),
        Key::AlreadyGone => {
            report.already_gone = parse_boolean(value.expose().trim()).ok_or_else(|| {
                CoreError::HookOutput(format!("line {no}: `{ALREADY_GONE}` must be `true` or `false`"))
            })?;
        }
        Key::Output(n) => report.values.push((n, value)),
    }
    Ok(())
}

/// Whether `raw` is a syntactically valid name: letters, digits and `_`.
fn is_name(raw: &str) -> bool {
    !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether a valid name also reads like a variable name rather than a value:
/// at most 64 characters, starting with a letter, all in one letter case.
/// Any other text before `=` is treated as a value.
fn reads_like_a_name(raw: &str) -> bool {
    let one_case = !raw.bytes().any(|b| b.is_ascii_lowercase()) || !raw.bytes().any(|b| b.is_ascii_uppercase());
    is_name(raw) && raw.len() <= 64 && raw.as_bytes()[0].is_ascii_alphabetic() && one_case
}

/// Whether an undeclared name may be quoted in a message: it reads like a
/// name and is short (a long one is registered as a possible value).
fn quotable(raw: &str) -> bool {
    reads_like_a_name(raw) && raw.len() < 16
}

fn resolve(no: usize, raw: &str, schema: &Schema) -> Result<Key, CoreError> {
    if !is_name(raw) {
        // The text before `=` may be part of a secret: it is never quoted.
        return Err(CoreError::HookOutput(format!(
            "line {no}: the text before `=` or `<<` is not a valid name; names are letters, digits and `_`"
        )));
    }
    let lower = raw.to_ascii_lowercase();
    let name = match lower.strip_prefix("smout_") {
        Some(n) => n.to_string(),
        None => match lower.as_str() {
            "id" => return Ok(Key::Id),
            "error_code" => return Ok(Key::ErrorCode),
            "error_message" => return Ok(Key::ErrorMessage),
            ALREADY_GONE => return Ok(Key::AlreadyGone),
            _ => lower.clone(),
        },
    };
    if schema.output(&name).is_none() {
        let known: Vec<String> = schema.outputs.iter().map(Field::api_name).collect();
        let known = if known.is_empty() {
            String::from("none")
        } else {
            known.join(", ")
        };
        // A bare value (`c2VjcmV0==`) parses as a name too: quote only
        // what reads like a variable name.
        return Err(CoreError::HookOutput(if quotable(raw) {
            format!(
                "line {no}: `{raw}` is not an output of the schema (outputs: {known}); declare SMOUT_{} or remove the line",
                name.to_ascii_uppercase()
            )
        } else {
            format!(
                "line {no}: the name is not an output of the schema (outputs: {known}); write only declared outputs there"
            )
        }));
    }
    Ok(Key::Output(name))
}

/// Registers every value the hook wrote, read leniently from output that
/// may be cut short, broken or not UTF-8: each line's value part, each
/// multi-line body (closed or not), and every line that is neither (a bare
/// value). Exempt: the protocol's own `id`, `error_code` and
/// `error_message` (metadata, by the contract), integer or boolean values
/// of outputs the schema types so, and values of outputs the job declares
/// public (`CREDHOOK_PUBLIC_OUTPUTS`; a multi-line one only when closed).
pub(crate) fn register_values(bytes: &[u8], schema: &Schema, registry: &mut Registry) {
    let text = alloc::string::String::from_utf8_lossy(bytes);
    let lines = lines_of(&text);
    let mut i = 0;
    while let Some(token) = next_token(&lines, &mut i) {
        let (name, value) = match &token {
            Entry::Ignored => continue,
            Entry::Other { raw, .. } => {
                registry.register(raw);
                continue;
            }
            Entry::Pair { name, value, .. } => (*name, *value),
            Entry::Heredoc {
                name,
                delim,
                body,
                closed: false,
                rest,
                ..
            } => {
                // Never closed: its body is registered whole, and what
                // follows is read again line by line (as find_ids does), so
                // an exempt name cannot hide the values after it. `value<<`
                // with no delimiter is a value.
                registry.register(body.expose());
                if delim.is_empty() || !quotable(name) {
                    registry.register(name);
                }
                i = *rest;
                continue;
            }
            Entry::Heredoc { name, body, .. } => (*name, body.expose()),
        };
        if is_bare_value(name, value) || !reads_like_a_name(name) {
            // `postgresql://user:pw@host/db?sslmode=require`, `c2VjcmV0==`:
            // a value, not a name; the whole line.
            if let Entry::Pair { name, value, .. } = &token {
                registry.register(&format!("{name}={value}"));
            }
            registry.register(name);
            registry.register(value);
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if matches!(lower.as_str(), "id" | "error_code" | "error_message" | ALREADY_GONE) {
            continue;
        }
        let output = lower.strip_prefix("smout_").unwrap_or(&lower);
        let field = schema.output(output);
        if field.is_some() && schema.is_public(output) {
            // CREDHOOK_PUBLIC_OUTPUTS: the job's owner says it is no secret.
            continue;
        }
        if field.is_none() && name.len() >= 16 {
            // An undeclared long "name" may well be a value.
            registry.register(name);
        }
        registry.register_output(value, field.map(|f| &f.kind));
    }
}

/// `c2VjcmV0==`, `JBSWY3DP======`: text before `=` with nothing but `=`
/// after it is a padded base64/base32 value, not `name=value`.
fn is_bare_value(name: &str, value: &str) -> bool {
    !name.is_empty() && !value.is_empty() && value.bytes().all(|b| b == b'=')
}

/// Every credentials id the hook wrote, read leniently from output that may
/// break the protocol elsewhere: credentials it created must never be
/// orphaned. Near misses count (`id = x`, ` id=x`, `ID=x`, an `id=` after a
/// multi-line value that is never closed), and every id is returned once, in
/// the order written.
pub(crate) fn find_ids(bytes: &[u8]) -> Vec<String> {
    let text = alloc::string::String::from_utf8_lossy(bytes);
    let lines = lines_of(&text);
    let mut ids: Vec<String> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut add = |v: &str| {
        let v = v.trim();
        if !v.is_empty() && seen.insert(v.to_string()) {
            ids.push(v.to_string());
        }
    };
    let mut i = 0;
    while let Some(token) = next_token(&lines, &mut i) {
        match token {
            Entry::Pair { name, value, .. } if name.trim().eq_ignore_ascii_case("id") => add(value),
            Entry::Heredoc {
                name,
                body,
                closed: true,
                ..
            } if name.trim().eq_ignore_ascii_case("id") => add(body.expose()),
            // Never closed: what follows was not a value after all.
            Entry::Heredoc {
                closed: false, rest, ..
            } => i = rest,
            _ => {}
        }
    }
    ids
}

/// Whether a credentials id can be reported and given to the hook's
/// delete as `SM_CREDENTIALS_ID`: no control character (NUL cannot be in
/// an environment variable at all, and the others are no one's ids).
pub(crate) fn usable_id(id: &str) -> bool {
    !id.chars().any(char::is_control)
}

/// Whether a delete wrote `already_gone=true` (read leniently, like
/// [`find_ids`]: any letter case, white space around the value).
pub(crate) fn said_already_gone(bytes: &[u8]) -> bool {
    let text = alloc::string::String::from_utf8_lossy(bytes);
    let lines = lines_of(&text);
    let mut i = 0;
    let mut gone = false;
    while let Some(token) = next_token(&lines, &mut i) {
        match token {
            Entry::Pair { name, value, .. } if name.trim().eq_ignore_ascii_case(ALREADY_GONE) => {
                gone = parse_boolean(value.trim()) == Some(true);
            }
            Entry::Heredoc {
                closed: false, rest, ..
            } => i = rest,
            _ => {}
        }
    }
    gone
}

/// A hook that exited 0 must not report an error.
pub(crate) fn reject_error_fields(report: &Report) -> Result<(), CoreError> {
    if report.error_code.is_some() || report.error_message.is_some() {
        return Err(CoreError::HookOutput(String::from(
            "the hook exited 0 but wrote `error_code`/`error_message`; exit non-zero to report a failure",
        )));
    }
    Ok(())
}

/// The credentials of a successful create: the id, every required output,
/// each value checked against its type.
pub(crate) fn credentials(schema: &Schema, report: Report) -> Result<Credentials, CoreError> {
    reject_error_fields(&report)?;
    if report.already_gone {
        return Err(CoreError::HookOutput(format!(
            "the hook's create wrote `{ALREADY_GONE}`, which only a delete may write; write the id and the outputs"
        )));
    }
    let id = match report.id {
        Some(id) if !id.trim().is_empty() => id,
        _ => {
            return Err(CoreError::HookOutput(String::from(
                "the hook exited 0 but wrote no `id`; write `id=<credentials id>` to $CREDHOOK_OUTPUT",
            )));
        }
    };
    if !usable_id(&id) {
        return Err(CoreError::HookOutput(String::from(
            "the credentials id the hook wrote holds a control character (a NUL, a tab, an escape…), which no \
             environment variable can carry to its delete; write the id as plain text (reject a vendor's id that is not)",
        )));
    }
    let mut missing = Vec::new();
    let mut payload = Vec::new();
    let mut values = report.values;
    for field in &schema.outputs {
        let name = field.api_name();
        let pos = values.iter().position(|(n, v)| *n == name && !v.is_empty());
        let Some(pos) = pos else {
            if field.required {
                missing.push(name);
            }
            continue;
        };
        let (_, value) = values.swap_remove(pos);
        let typed = match &field.kind {
            Kind::Integer => Typed::Int(parse_integer(value.expose()).ok_or_else(|| type_error(field))?),
            Kind::Boolean => Typed::Bool(parse_boolean(value.expose()).ok_or_else(|| type_error(field))?),
            Kind::Enum(members) if !members.iter().any(|m| m == value.expose()) => {
                return Err(type_error(field));
            }
            _ => Typed::Str(value),
        };
        payload.push((name, typed));
    }
    if !missing.is_empty() {
        return Err(CoreError::HookOutput(format!(
            "the hook did not write the required output{} {}; write `name=value` for each",
            if missing.len() > 1 { "s" } else { "" },
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(Credentials { id, payload })
}

fn type_error(field: &Field) -> CoreError {
    let what = match &field.kind {
        Kind::Integer => String::from("a whole number that fits in 64 bits"),
        Kind::Boolean => String::from("`true` or `false`"),
        Kind::Enum(m) => format!("one of {}", m.join(", ")),
        k => format!("a {k}"),
    };
    CoreError::HookOutput(format!(
        "output `{}` must be {what}; fix the value the hook writes",
        field.api_name()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::schema::from_env;

    fn schema() -> Schema {
        let env = [
            ("SMOUT_USERNAME", "type:string, required:true"),
            ("SMOUT_PORT", "type:integer"),
            ("SMOUT_ADMIN", "type:boolean"),
            ("SMOUT_CERT", "type:string"),
            ("SMOUT_ID", "type:string"),
            ("SMOUT_MODE", "type:enum[ro|rw]"),
        ];
        from_env(env.iter().map(|(k, v)| (*k, *v))).0
    }

    #[test]
    fn full_report() {
        let out = "# comment\n\nid=cred-1\nusername=alice\nSMOUT_PORT=5432\r\nadmin=TRUE\ncert<<EOF\n-----BEGIN-----\nabc\n-----END-----\nEOF\nSMOUT_ID=inner\nmode=ro\n";
        let r = parse(out.as_bytes(), &schema()).unwrap();
        assert_eq!(r.id.as_deref(), Some("cred-1"));
        let c = credentials(&schema(), r).unwrap();
        assert_eq!(c.id, "cred-1");
        let get = |n: &str| c.payload.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("port"), Some(Typed::Int(5432)));
        assert_eq!(get("admin"), Some(Typed::Bool(true)));
        assert_eq!(get("id"), Some(Typed::Str("inner".into())));
        assert_eq!(
            get("cert"),
            Some(Typed::Str("-----BEGIN-----\nabc\n-----END-----".into()))
        );
        assert_eq!(get("mode"), Some(Typed::Str("ro".into())));
    }

    #[test]
    fn protocol_errors_name_the_problem_without_values() {
        let s = schema();
        let cases = [
            ("id=1\nid=2", "written twice"),
            ("username=a\nSMOUT_USERNAME=b", "written twice"),
            ("nosuch=topsecret", "not an output of the schema"),
            ("just text topsecret", "neither `name=value`"),
            ("cert<<EOF\nabc", "never closed"),
            ("cert<<\nx", "needs a delimiter"),
            ("bad-name=topsecret", "not a valid name"),
            ("dG9wc2VjcmV0==", "is a bare value"),
            ("JBSWY3DPEHPK3PXP======", "is a bare value"),
            ("JBSWY3DPEHPK3PXPX=1", "the name is not an output"),
            ("topsecret<<", "needs a delimiter"),
            ("postgresql://u:topsecret@h/db?x=1", "not a valid name"),
            ("smout_=x", "not an output"),
        ];
        for (out, want) in cases {
            let e = parse(out.as_bytes(), &s).unwrap_err().to_string();
            assert!(e.contains(want), "{out:?}: {e}");
            assert!(
                !e.contains("topsecret") && !e.contains("dG9wc2VjcmV0") && !e.contains("JBSWY3DP"),
                "{e}"
            );
        }
        assert!(
            parse(b"id=\xff", &s)
                .unwrap_err()
                .to_string()
                .contains("not valid UTF-8")
        );
        let long = format!("username={}", "x".repeat(MAX_VALUE_CHARS + 1));
        assert!(
            parse(long.as_bytes(), &s)
                .unwrap_err()
                .to_string()
                .contains("longer than")
        );
    }

    #[test]
    fn find_ids_despite_protocol_errors() {
        let ids = |b: &[u8]| find_ids(b);
        assert_eq!(ids(b"garbage\nid=c-9\nmore garbage"), ["c-9"]);
        assert_eq!(ids(b"cert<<EOF\nid=inside\nEOF\nID=outer"), ["outer"]);
        assert!(ids(b"id=\n").is_empty());
        assert_eq!(ids(b"x=1\nid<<EOF\ncred-h\nEOF\n"), ["cred-h"]);
        // Found by fuzzing: a comment that looks like a heredoc opener.
        assert_eq!(ids(b"#<<EOF\nid=c-7\n"), ["c-7"]);
        // Near misses, an id after an unclosed heredoc, and every id once.
        assert_eq!(ids(b"id = c-1\n id=c-2\nid=c-1\n"), ["c-1", "c-2"]);
        assert_eq!(ids(b"cert<<EOF\nabc\nid=c-3\n"), ["c-3"]);
        assert_eq!(ids(b"id=a\nid=b\n"), ["a", "b"]);
    }

    #[test]
    fn every_written_value_is_registered_before_judgement() {
        let s = schema();
        let mut r = Registry::default();
        let out = "username=alice-user\nport=5432\nadmin=true\nnosuch=undeclared-secret\nQmFyZVZhbHVl==\nbare value line\npostgresql://u:pw-Secret1@h/db?sslmode=require\ncert<<EOF\nnever-closed-body\n";
        register_values(out.as_bytes(), &s, &mut r);
        let masked = r.mask(out);
        for leaked in [
            "alice-user",
            "undeclared-secret",
            "QmFyZVZhbHVl==",
            "pw-Secret1",
            "never-closed-body",
        ] {
            assert!(!masked.contains(leaked), "{leaked}: {masked}");
        }
        // Typed outputs are exempt.
        assert!(
            masked.contains("port=5432") && masked.contains("admin=true"),
            "{masked}"
        );
        // The id is metadata; a string output that looks like a number is not exempt.
        let mut r = Registry::default();
        register_values(b"id=cred-123\nusername=987654\nSMOUT_USERNAME=x", &s, &mut r);
        assert_eq!(r.mask("cred-123 987654"), "cred-123 [REDACTED]");
    }

    #[test]
    fn credentials_checks() {
        let s = schema();
        let check = |out: &str| credentials(&s, parse(out.as_bytes(), &s).unwrap()).map_err(|e| e.to_string());
        assert!(check("username=a").unwrap_err().contains("no `id`"));
        assert!(check("id=1").unwrap_err().contains("required output `username`"));
        assert!(check("id=1\nusername=").unwrap_err().contains("required output"));
        assert!(
            check("id=1\nusername=a\nport=12x")
                .unwrap_err()
                .contains("`port` must be a whole number")
        );
        assert!(
            check("id=1\nusername=a\nadmin=yes")
                .unwrap_err()
                .contains("`admin` must be `true`")
        );
        assert!(check("id=1\nusername=a\nmode=x").unwrap_err().contains("one of ro, rw"));
        assert!(
            check("id=1\nusername=a\nerror_code=E1")
                .unwrap_err()
                .contains("exited 0")
        );
        assert!(check("id=1\nusername=a").is_ok());
    }
}
