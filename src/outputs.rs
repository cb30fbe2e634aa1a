//! The hook's output protocol: `name=value` and `name<<DELIM … DELIM` lines on
//! the private output channel, and the credentials payload they make.

use crate::inputs::{parse_boolean, parse_integer};
use crate::schema::{Field, Kind, Schema};
use crate::secret::{Secret, SecretBuf};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// At most this many bytes on the output channel.
pub const MAX_OUTPUT_BYTES: usize = 1 << 20;
/// At most this many characters in one value.
pub const MAX_VALUE_CHARS: usize = 100_000;

/// What a hook wrote, parsed but not yet checked against success or failure.
#[derive(Debug, Default)]
pub struct Report {
    pub id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Outputs by their lower-case API name, in the order written.
    pub values: Vec<(String, Secret)>,
}

/// A typed payload value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Typed {
    Str(Secret),
    Int(i64),
    Bool(bool),
}

/// The credentials of a successful create.
#[derive(Debug)]
pub struct Credentials {
    pub id: String,
    /// Lower-case name and value, in schema order.
    pub payload: Vec<(String, Typed)>,
}

enum Key {
    Id,
    ErrorCode,
    ErrorMessage,
    Output(String),
}

/// Parses the output channel. Messages name the line and the fix, never a value.
pub fn parse(bytes: &[u8], schema: &Schema) -> Result<Report, String> {
    if bytes.len() > MAX_OUTPUT_BYTES {
        return Err(format!(
            "the hook wrote more than {MAX_OUTPUT_BYTES} bytes to $CREDHOOK_OUTPUT; write only the id and the outputs there"
        ));
    }
    let text = core::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
        format!("line {line} of the hook's output is not valid UTF-8; write text only (base64-encode binary values)")
    })?;
    let mut report = Report::default();
    let mut seen: Vec<String> = Vec::new();
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    // A final newline leaves one empty piece; it is ignored like any blank line.
    while let Some((no, line)) = lines.next() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<").filter(|h| eq.is_none_or(|e| *h < e));
        let (raw_name, value) = if let Some(h) = heredoc {
            let delim = &line[h + 2..];
            if delim.is_empty() {
                return Err(format!(
                    "line {no}: `{}<<` needs a delimiter, e.g. `{}<<EOF`",
                    &line[..h],
                    &line[..h]
                ));
            }
            let mut value = SecretBuf::with_capacity(256);
            let mut closed = false;
            let mut first = true;
            for (_, l) in lines.by_ref() {
                if l == delim {
                    closed = true;
                    break;
                }
                if !first {
                    value.push('\n');
                }
                value.push_str(l);
                first = false;
            }
            if !closed {
                return Err(format!(
                    "line {no}: the multi-line value started here is never closed; end it with a line holding only the delimiter"
                ));
            }
            (&line[..h], value.into_secret())
        } else if let Some(e) = eq {
            (&line[..e], Secret::from(&line[e + 1..]))
        } else {
            return Err(format!(
                "line {no} is neither `name=value` nor `name<<DELIM`; comment it with `#` or send it to stderr instead"
            ));
        };
        let key = resolve(no, raw_name, schema)?;
        let canonical = match &key {
            Key::Id => String::from("id"),
            Key::ErrorCode => String::from("error_code"),
            Key::ErrorMessage => String::from("error_message"),
            Key::Output(n) => format!("smout_{n}"),
        };
        if seen.contains(&canonical) {
            return Err(format!(
                "line {no}: `{raw_name}` is written twice; write each name once"
            ));
        }
        seen.push(canonical);
        if value.expose().chars().count() > MAX_VALUE_CHARS {
            return Err(format!(
                "line {no}: the value of `{raw_name}` is longer than {MAX_VALUE_CHARS} characters"
            ));
        }
        match key {
            Key::Id => report.id = Some(value.expose().to_string()),
            Key::ErrorCode => report.error_code = Some(value.expose().to_string()),
            Key::ErrorMessage => report.error_message = Some(value.expose().to_string()),
            Key::Output(n) => report.values.push((n, value)),
        }
    }
    Ok(report)
}

fn resolve(no: usize, raw: &str, schema: &Schema) -> Result<Key, String> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(format!(
            "line {no}: `{}` is not a valid name; names are letters, digits and `_`",
            clip_name(raw)
        ));
    }
    let lower = raw.to_ascii_lowercase();
    let name = match lower.strip_prefix("smout_") {
        Some(n) => n.to_string(),
        None => match lower.as_str() {
            "id" => return Ok(Key::Id),
            "error_code" => return Ok(Key::ErrorCode),
            "error_message" => return Ok(Key::ErrorMessage),
            _ => lower.clone(),
        },
    };
    if schema.output(&name).is_none() {
        let known: Vec<String> = schema.outputs.iter().map(Field::api_name).collect();
        return Err(format!(
            "line {no}: `{raw}` is not an output of the schema (outputs: {}); declare SMOUT_{} or remove the line",
            if known.is_empty() {
                String::from("none")
            } else {
                known.join(", ")
            },
            name.to_ascii_uppercase()
        ));
    }
    Ok(Key::Output(name))
}

fn clip_name(raw: &str) -> &str {
    match raw.char_indices().nth(40) {
        Some((i, _)) => &raw[..i],
        None => raw,
    }
}

/// The `id` a hook wrote, read leniently from output that may break the
/// protocol elsewhere: credentials it created must never be orphaned.
pub fn find_id(bytes: &[u8]) -> Option<String> {
    let text = alloc::string::String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    while let Some(line) = lines.next() {
        // Exactly the lines the parser ignores.
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let eq = line.find('=');
        if let Some(h) = line.find("<<").filter(|h| eq.is_none_or(|e| *h < e)) {
            let delim = &line[h + 2..];
            if delim.is_empty() {
                continue;
            }
            // The id may itself be written as a multi-line value.
            let mut body: Vec<&str> = Vec::new();
            let mut closed = false;
            for l in lines.by_ref() {
                if l == delim {
                    closed = true;
                    break;
                }
                body.push(l);
            }
            let value = body.join("\n");
            if closed && line[..h].eq_ignore_ascii_case("id") && !value.trim().is_empty() {
                return Some(value);
            }
            continue;
        }
        if let Some(e) = eq
            && line[..e].eq_ignore_ascii_case("id")
            && !line[e + 1..].trim().is_empty()
        {
            return Some(line[e + 1..].to_string());
        }
    }
    None
}

/// A hook that exited 0 must not report an error.
pub fn reject_error_fields(report: &Report) -> Result<(), String> {
    if report.error_code.is_some() || report.error_message.is_some() {
        return Err(String::from(
            "the hook exited 0 but wrote `error_code`/`error_message`; exit non-zero to report a failure",
        ));
    }
    Ok(())
}

/// The credentials of a successful create: the id, every required output,
/// each value checked against its type.
pub fn credentials(schema: &Schema, report: Report) -> Result<Credentials, String> {
    reject_error_fields(&report)?;
    let id = match report.id {
        Some(id) if !id.trim().is_empty() => id,
        _ => {
            return Err(String::from(
                "the hook exited 0 but wrote no `id`; write `id=<credentials id>` to $CREDHOOK_OUTPUT",
            ));
        }
    };
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
        return Err(format!(
            "the hook did not write the required output{} {}; write `name=value` for each",
            if missing.len() > 1 { "s" } else { "" },
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Credentials { id, payload })
}

fn type_error(field: &Field) -> String {
    let what = match &field.kind {
        Kind::Integer => String::from("a whole number that fits in 64 bits"),
        Kind::Boolean => String::from("`true` or `false`"),
        Kind::Enum(m) => format!("one of {}", m.join(", ")),
        k => format!("a {k}"),
    };
    format!(
        "output `{}` must be {what}; fix the value the hook writes",
        field.api_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::from_env;

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
            ("smout_=x", "not an output"),
        ];
        for (out, want) in cases {
            let e = parse(out.as_bytes(), &s).unwrap_err();
            assert!(e.contains(want), "{out:?}: {e}");
            assert!(!e.contains("topsecret"), "{e}");
        }
        assert!(parse(b"id=\xff", &s).unwrap_err().contains("not valid UTF-8"));
        let long = format!("username={}", "x".repeat(MAX_VALUE_CHARS + 1));
        assert!(parse(long.as_bytes(), &s).unwrap_err().contains("longer than"));
    }

    #[test]
    fn find_id_despite_protocol_errors() {
        assert_eq!(find_id(b"garbage\nid=c-9\nmore garbage").as_deref(), Some("c-9"));
        assert_eq!(
            find_id(b"cert<<EOF\nid=inside\nEOF\nID=outer").as_deref(),
            Some("outer")
        );
        assert_eq!(find_id(b"id=\n"), None);
        assert_eq!(find_id(b"x=1\nid<<EOF\ncred-h\nEOF\n").as_deref(), Some("cred-h"));
        // Found by fuzzing: a comment that looks like a heredoc opener.
        assert_eq!(find_id(b"#<<EOF\nid=c-7\n").as_deref(), Some("c-7"));
    }

    #[test]
    fn credentials_checks() {
        let s = schema();
        let check = |out: &str| credentials(&s, parse(out.as_bytes(), &s).unwrap());
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
