//! The previous version's credentials (`CREDHOOK_PREVIOUS_CREDENTIALS=true`):
//! on create, the task's own secret (`GET /api/v2/secrets/{SM_SECRET_ID}`, a
//! `custom_credentials` secret) becomes the hook's `CREDHOOK_PREVIOUS_<FIELD>`
//! variables, one per member of its `credentials_content`, and
//! `CREDHOOK_PREVIOUS=present`; a secret with no version yet (or none at
//! all: a 404) gives `CREDHOOK_PREVIOUS=none` alone.
//!
//! `<FIELD>` is the member's name upper-cased: the output's name, e.g.
//! `slack_refresh_token` → `CREDHOOK_PREVIOUS_SLACK_REFRESH_TOKEN`.

use crate::core::CoreError;
use crate::core::json::{self, Value};
use crate::core::secrets::secret::Secret;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Set to `present` or `none`.
pub(crate) const STATUS_VAR: &str = "CREDHOOK_PREVIOUS";
/// Each field's variable is this and the upper-cased name.
pub(crate) const FIELD_PREFIX: &str = "CREDHOOK_PREVIOUS_";

/// One variable for the hook.
#[derive(Debug)]
pub(crate) struct PreviousVar {
    pub(crate) var: String,
    pub(crate) value: Secret,
    /// A JSON string (or object): a secret. Numbers and booleans are the
    /// values of integer and boolean outputs, which are not (contract §7).
    pub(crate) secret: bool,
}

/// What the task's own secret gave.
#[derive(Debug, Default)]
pub(crate) struct Previous {
    /// Empty: `CREDHOOK_PREVIOUS=none`.
    pub(crate) fields: Vec<PreviousVar>,
    /// Members that could not become a variable (a name outside
    /// `[A-Za-z0-9_]`, or the same name in another letter case), for a
    /// warning: the first [`SKIPPED_SHOWN`] names, and how many more.
    pub(crate) skipped: Vec<String>,
    pub(crate) skipped_more: usize,
}

/// Most skipped names a warning shows: a reply with thousands of them must
/// not make one log line of megabytes.
const SKIPPED_SHOWN: usize = 10;

impl Previous {
    /// The skipped names for the warning, with how many more there were.
    pub(crate) fn skipped_shown(&self) -> String {
        match self.skipped_more {
            0 => self.skipped.join(", "),
            more => format!("{}, and {more} more", self.skipped.join(", ")),
        }
    }

    /// The `CREDHOOK_PREVIOUS` value.
    pub(crate) fn status(&self) -> &'static str {
        if self.fields.is_empty() { "none" } else { "present" }
    }
}

/// A secret type as a message may show it: at most 64 visible ASCII characters.
fn shown(t: &str) -> String {
    t.chars()
        .take(64)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

/// Whether a failed read of the task's own secret means "no previous
/// version" rather than a failure: a 404 (the secret has no version yet, or
/// is gone). Any other status, or none, fails the task.
pub(crate) fn read_failure_is_absence(status: Option<u16>) -> bool {
    status == Some(404)
}

/// Reads a `GET /api/v2/secrets/{id}` reply for the task's own secret.
/// No `credentials_content` (or `versions_total` 0) is no previous version.
pub(crate) fn from_reply(reply: &[u8]) -> Result<Previous, CoreError> {
    let v = json::parse(reply)?;
    match v.get("secret_type").and_then(Value::as_str) {
        None | Some("custom_credentials") => {}
        Some(other) => return Err(CoreError::NotCustomCredentials(shown(other))),
    }
    if matches!(v.get("versions_total"), Some(Value::Number(n)) if n == "0") {
        return Ok(Previous::default());
    }
    let members = match v.get("credentials_content") {
        None | Some(Value::Null) => return Ok(Previous::default()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(CoreError::PreviousNotAnObject),
    };
    let mut p = Previous::default();
    // The names seen, for the same name in another letter case: a set, so
    // that a reply with many members costs n log n, not n².
    let mut seen = BTreeSet::new();
    for (name, value) in members {
        let (value, secret) = match value {
            Value::Null => continue,
            Value::String(s) => (s.clone(), true),
            Value::Number(_) | Value::Bool(_) => (value.to_compact(), false),
            Value::Array(_) | Value::Object(_) => (value.to_compact(), true),
        };
        let var = format!("{FIELD_PREFIX}{}", name.to_ascii_uppercase());
        let usable = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !usable || !seen.insert(var.clone()) {
            if p.skipped.len() < SKIPPED_SHOWN {
                p.skipped.push(shown(name));
            } else {
                p.skipped_more += 1;
            }
            continue;
        }
        p.fields.push(PreviousVar { var, value, secret });
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(reply: &str) -> Vec<(String, String, bool)> {
        from_reply(reply.as_bytes())
            .unwrap()
            .fields
            .into_iter()
            .map(|f| (f.var, String::from(f.value.expose()), f.secret))
            .collect()
    }

    #[test]
    fn only_a_404_is_no_previous_version() {
        assert!(read_failure_is_absence(Some(404)));
        for status in [None, Some(401), Some(403), Some(410), Some(500), Some(503)] {
            assert!(!read_failure_is_absence(status), "{status:?}");
        }
    }

    #[test]
    fn each_member_is_a_variable() {
        let reply = r#"{"id":"s","secret_type":"custom_credentials","versions_total":3,
            "credentials_content":{"slack_refresh_token":"xoxe-1-abc","port":5432,"admin":true,"gone":null,
            "extra":{"b":[1]}}}"#;
        assert_eq!(
            vars(reply),
            [
                (
                    "CREDHOOK_PREVIOUS_SLACK_REFRESH_TOKEN".into(),
                    "xoxe-1-abc".into(),
                    true
                ),
                ("CREDHOOK_PREVIOUS_PORT".into(), "5432".into(), false),
                ("CREDHOOK_PREVIOUS_ADMIN".into(), "true".into(), false),
                ("CREDHOOK_PREVIOUS_EXTRA".into(), r#"{"b":[1]}"#.into(), true),
            ]
        );
        assert_eq!(from_reply(reply.as_bytes()).unwrap().status(), "present");
    }

    #[test]
    fn no_version_is_none() {
        for reply in [
            r#"{"secret_type":"custom_credentials","versions_total":0,"credentials_content":{"a":"b"}}"#,
            r#"{"secret_type":"custom_credentials","versions_total":0}"#,
            r#"{"secret_type":"custom_credentials","credentials_content":null}"#,
            r#"{"secret_type":"custom_credentials","credentials_content":{}}"#,
            r#"{"secret_type":"custom_credentials","credentials_content":{"only":null}}"#,
        ] {
            let p = from_reply(reply.as_bytes()).unwrap();
            assert_eq!(p.status(), "none", "{reply}");
        }
    }

    #[test]
    fn names_that_cannot_be_variables_are_skipped() {
        let p = from_reply(br#"{"credentials_content":{"a-b":"x","ok":"y","OK":"z","":"w"}}"#).unwrap();
        assert_eq!(p.fields.len(), 1);
        assert_eq!(p.fields[0].var, "CREDHOOK_PREVIOUS_OK");
        assert_eq!(p.skipped, ["a-b", "OK", ""]);
        assert_eq!(p.skipped_shown(), "a-b, OK, ");
    }

    #[test]
    fn many_members_each_once_and_few_skipped_names_shown() {
        // Many members (a set finds each case twin, not a scan per member),
        // and many bad names: ten are named, the rest counted.
        let mut reply = String::from(r#"{"credentials_content":{"#);
        for i in 0..50_000 {
            reply.push_str(&format!(r#""f{i}":{i},"bad-{i}":"x","#));
        }
        reply.push_str(r#""F7":"twin"}}"#);
        let p = from_reply(reply.as_bytes()).unwrap();
        assert_eq!(p.fields.len(), 50_000);
        assert_eq!(p.skipped.len(), 10);
        assert_eq!(p.skipped_more, 50_000 - 10 + 1);
        let shown = p.skipped_shown();
        assert!(
            shown.starts_with("bad-0, bad-1,") && shown.ends_with(", and 49991 more"),
            "{shown}"
        );
    }

    #[test]
    fn other_replies_are_errors() {
        assert_eq!(
            from_reply(br#"{"secret_type":"arbitrary\n","payload":"x"}"#).unwrap_err(),
            CoreError::NotCustomCredentials("arbitrary?".into())
        );
        assert_eq!(
            from_reply(br#"{"credentials_content":"x"}"#).unwrap_err(),
            CoreError::PreviousNotAnObject
        );
        assert!(from_reply(b"{").is_err());
    }
}
