//! The driver's one error type: every fallible function of `src/driver/`
//! returns [`DriverError`]. A core rule's refusal passes through it unchanged
//! ([`DriverError::Core`], its `source`); the other variants are what only I/O
//! can go wrong with: a file, a read, an HTTPS call, the IAM token, a
//! secret's read. Each `Display` says what was wrong and how to fix it, in
//! the words the log and the task's description show (tests compare them);
//! a caller that knows which setting, flag or file it was adds that in
//! front. The tools' error ([`crate::cli`]) wraps this one.

use super::http::FailedCall;
use crate::core;
use crate::core::net::delivery::Delivery;
use std::boxed::Box;
use std::fmt;
use std::io;
use std::string::String;

/// What went wrong in the driver.
#[derive(Debug)]
pub(crate) enum DriverError {
    /// A rule of the core refused something (a reply, a URL, a value).
    Core(core::CoreError),
    /// A file cannot be used: the sentence says why and what to do (the
    /// caller names the setting or flag, and the path).
    File(String),
    /// The capped reader met more than this many bytes.
    TooLarge(usize),
    /// Reading failed.
    Io(io::Error),
    /// An HTTPS call ended without a usable reply: why, and what became of
    /// its request ([`DriverError::delivery`]).
    Http(Box<FailedCall>),
    /// The HTTP client cannot be set up: the CA file named by
    /// `CREDHOOK_CA_FILE` or `--cacert` is unusable (the sentence names it).
    Setup(String),
    /// No IAM token: the sentence for the task's description.
    Token(String),
    /// A secret could not be read: the status Secrets Manager answered, if
    /// it answered, and what went wrong.
    SecretRead { status: Option<u16>, what: String },
    /// A referenced secret, or the previous version, cannot be given to
    /// the hook: the sentence for the task's description (names the input
    /// and the secret's id, never a value).
    Unresolvable(String),
}

impl DriverError {
    /// The HTTP status a call, or a secret's read, ended with, if any.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            DriverError::Http(f) => f.status(),
            DriverError::SecretRead { status, .. } => *status,
            _ => None,
        }
    }

    /// What became of a call's request: only an HTTPS call sends one.
    pub(crate) fn delivery(&self) -> Delivery {
        match self {
            DriverError::Http(f) => f.delivery,
            _ => Delivery::Unsent,
        }
    }
}

impl From<core::CoreError> for DriverError {
    fn from(e: core::CoreError) -> DriverError {
        DriverError::Core(e)
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Core(e) => e.fmt(f),
            DriverError::File(what)
            | DriverError::Setup(what)
            | DriverError::Token(what)
            | DriverError::Unresolvable(what) => f.write_str(what),
            DriverError::TooLarge(cap) => write!(f, "more than {cap} bytes"),
            DriverError::Io(e) => e.fmt(f),
            DriverError::Http(call) => call.fmt(f),
            DriverError::SecretRead { what, .. } => f.write_str(what),
        }
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DriverError::Core(e) => Some(e),
            DriverError::Io(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;
    use std::string::ToString;

    #[test]
    fn the_core_passes_through() {
        let e = DriverError::from(core::CoreError::RedirectTooMany);
        assert_eq!(e.to_string(), core::CoreError::RedirectTooMany.to_string());
        assert!(e.source().is_some() && e.status().is_none());
        assert_eq!(e.delivery(), Delivery::Unsent);
        let e = DriverError::SecretRead {
            status: Some(404),
            what: "gone".into(),
        };
        assert_eq!((e.status(), e.to_string().as_str()), (Some(404), "gone"));
        assert_eq!(DriverError::TooLarge(5).to_string(), "more than 5 bytes");
    }
}
