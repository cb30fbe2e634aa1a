//! Secret task updates: the three bodies, credhook's own error codes, and the
//! limits on what a failed task may say.

use crate::json::write_string;
use crate::outputs::{Credentials, Typed};
use crate::secret::{Secret, SecretBuf};
use alloc::string::String;
use core::fmt::{self, Write};

/// credhook's own error codes, used as `errors[].code`. Stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// An input parameter is missing or invalid (also a broken declaration).
    InvalidInput,
    /// A referenced secret could not be read.
    SecretUnreadable,
    /// The hook could not be started.
    HookNotStarted,
    /// The hook failed: non-zero exit or killed by a signal.
    HookFailed,
    /// The hook ran past `CREDHOOK_HOOK_TIMEOUT`.
    HookTimedOut,
    /// The hook's output broke the protocol or the output schema.
    BadOutput,
    /// The job was told to stop (SIGTERM/SIGINT) before it finished.
    Stopped,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "ERR10001",
            ErrorCode::SecretUnreadable => "ERR10002",
            ErrorCode::HookNotStarted => "ERR10003",
            ErrorCode::HookFailed => "ERR10004",
            ErrorCode::HookTimedOut => "ERR10005",
            ErrorCode::BadOutput => "ERR10006",
            ErrorCode::Stopped => "ERR10007",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest description, in Unicode scalar values.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A hook's own error code is used when it is `[A-Za-z0-9_.-]{1,64}`.
pub fn is_valid_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// Cuts a description to its first 1 024 characters.
pub fn clamp_description(s: &str) -> &str {
    match s.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// `{"status":"credentials_created","credentials":{"id":…,"payload":{…}}}`.
/// It holds output values, so it is built in a zeroizing buffer.
pub fn created_body(c: &Credentials) -> Secret {
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

pub fn deleted_body() -> String {
    String::from(r#"{"status":"credentials_deleted"}"#)
}

/// `{"status":"failed","errors":[{"code":…,"description":…}]}`; the
/// description is cut to 1 024 characters.
pub fn failed_body(code: &str, description: &str) -> String {
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
    fn error_codes() {
        assert!(is_valid_error_code("ERR-1.x_2"));
        assert!(!is_valid_error_code(""));
        assert!(!is_valid_error_code("has space"));
        assert!(!is_valid_error_code(&"A".repeat(65)));
        assert_eq!(ErrorCode::Stopped.as_str(), "ERR10007");
    }
}
