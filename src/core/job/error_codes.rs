//! credhook's own error codes (stable, sent as `errors[].code`), a hook's own
//! code, and which of them a failed task carries.

use alloc::string::String;
use core::fmt;

/// credhook's own error codes, used as `errors[].code`. Stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorCode {
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
    pub(crate) fn as_str(self) -> &'static str {
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

/// A hook's own error code, valid by construction: `[A-Za-z0-9_.-]{1,64}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HookCode(String);

impl HookCode {
    /// The code, if it is valid; an invalid one is replaced by credhook's.
    pub(crate) fn new(code: &str) -> Option<HookCode> {
        is_valid_error_code(code).then(|| HookCode(String::from(code)))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// The `errors[].code` of a failed task: credhook's own, or the hook's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FailureCode {
    Own(ErrorCode),
    Hook(HookCode),
}

impl FailureCode {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            FailureCode::Own(c) => c.as_str(),
            FailureCode::Hook(HookCode(c)) => c,
        }
    }
}

impl From<ErrorCode> for FailureCode {
    fn from(c: ErrorCode) -> FailureCode {
        FailureCode::Own(c)
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A hook's own error code is used when it is `[A-Za-z0-9_.-]{1,64}`.
pub(crate) fn is_valid_error_code(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes() {
        assert!(is_valid_error_code("ERR-1.x_2"));
        assert!(!is_valid_error_code(""));
        assert!(!is_valid_error_code("has space"));
        assert!(!is_valid_error_code(&"A".repeat(65)));
        assert_eq!(ErrorCode::Stopped.as_str(), "ERR10007");
        assert_eq!(
            HookCode::new("E_TAKEN").map(FailureCode::Hook).unwrap().as_str(),
            "E_TAKEN"
        );
        assert_eq!(HookCode::new("bad code"), None);
    }
}
