//! Secret task updates: the three bodies, and the limits on what a failed
//! task may say (credhook's codes are in [`super::error_codes`]).

use crate::core::hook::channel::{Credentials, Typed};
use crate::core::json::write_string;
use crate::core::secrets::secret::{Secret, SecretBuf};
use alloc::string::String;
use core::fmt::Write;

/// A failed task's description: what went wrong, then what became of the
/// credentials the hook had created. Both must already be masked. The
/// rollback sentence always survives the cut to 1 024 characters: `what` is
/// cut to make room for it.
pub(crate) fn describe(what: &str, rollback: Option<&str>) -> String {
    let what = what.trim();
    let Some(rollback) = rollback.map(str::trim).filter(|r| !r.is_empty()) else {
        return String::from(clamp_description(what));
    };
    let rollback = clamp_description(rollback);
    // "what. rollback": a full stop unless `what` ends a sentence already.
    let stop = if what.is_empty() || what.ends_with(['.', '!', '?']) {
        ""
    } else {
        "."
    };
    let room = MAX_DESCRIPTION_CHARS.saturating_sub(rollback.chars().count() + 1);
    let mut out = String::new();
    if what.chars().count() + stop.len() <= room {
        out.push_str(what);
        out.push_str(stop);
    } else if room > 0 {
        // Cut, ending on an ellipsis, within the room.
        let keep = what.char_indices().nth(room - 1).map_or(what.len(), |(i, _)| i);
        out.push_str(&what[..keep]);
        out.push('…');
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(rollback);
    String::from(clamp_description(&out))
}

/// Longest description, in Unicode scalar values.
pub(crate) const MAX_DESCRIPTION_CHARS: usize = 1024;

/// Cuts a description to its first 1 024 characters.
pub(crate) fn clamp_description(s: &str) -> &str {
    match s.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `{"status":"credentials_created","credentials":{"id":…,"payload":{…}}}`.
/// It holds output values, so it is built in a zeroizing buffer.
pub(crate) fn created_body(c: &Credentials) -> Secret {
    let mut out = SecretBuf::with_capacity(256);
    out.push_str(r#"{"status":"credentials_created","credentials":{"id":"#);
    write_string(&mut out, &c.id);
    out.push_str(r#","payload":{"#);
    for (i, (name, value)) in c.payload.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, name);
        out.push(':');
        // Writing into a SecretBuf cannot fail.
        let _ = match value {
            Typed::Str(s) => {
                write_string(&mut out, s.expose());
                Ok(())
            }
            Typed::Int(n) => write!(out, "{n}"),
            Typed::Bool(b) => write!(out, "{b}"),
        };
    }
    out.push_str("}}}");
    out.into_secret()
}

pub(crate) fn deleted_body() -> String {
    String::from(r#"{"status":"credentials_deleted"}"#)
}

/// `{"status":"failed","errors":[{"code":…,"description":…}]}`; the
/// description is cut to 1 024 characters.
pub(crate) fn failed_body(code: &str, description: &str) -> String {
    let mut out = String::from(r#"{"status":"failed","errors":[{"code":"#);
    write_string(&mut out, code);
    out.push_str(r#","description":"#);
    write_string(&mut out, clamp_description(description));
    out.push_str("}]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn bodies() {
        let c = Credentials {
            id: "c-1".into(),
            payload: vec![
                ("user".into(), Typed::Str("a\"b".into())),
                ("port".into(), Typed::Int(-5)),
                ("ok".into(), Typed::Bool(false)),
            ],
        };
        assert_eq!(
            created_body(&c).expose(),
            r#"{"status":"credentials_created","credentials":{"id":"c-1","payload":{"user":"a\"b","port":-5,"ok":false}}}"#
        );
        assert_eq!(deleted_body(), r#"{"status":"credentials_deleted"}"#);
        assert_eq!(
            failed_body("ERR10004", "it\nbroke"),
            r#"{"status":"failed","errors":[{"code":"ERR10004","description":"it\nbroke"}]}"#
        );
    }

    #[test]
    fn descriptions_are_cut_by_characters() {
        let long: String = core::iter::repeat_n('é', 2000).collect();
        assert_eq!(clamp_description(&long).chars().count(), 1024);
        assert_eq!(clamp_description("short"), "short");
    }

    #[test]
    fn the_rollback_sentence_survives_the_cut() {
        let long: String = core::iter::repeat_n('x', 3000).collect();
        let d = describe(
            &long,
            Some("Deleting the credentials it had created (c-1) failed too; delete them by hand."),
        );
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(d.ends_with("(c-1) failed too; delete them by hand."), "{d}");
        assert!(d.contains("x… Deleting"), "{d}");
        assert_eq!(
            describe(
                "the hook failed instead",
                Some("The credentials it had created (c-2) were deleted again.")
            ),
            "the hook failed instead. The credentials it had created (c-2) were deleted again."
        );
        assert_eq!(describe("Stopped.", None), "Stopped.");
        assert_eq!(describe(&long, None).chars().count(), MAX_DESCRIPTION_CHARS);
    }
}
