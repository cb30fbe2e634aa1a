//! The tools' one error type: every fallible function of `src/cli/` (the
//! subcommands `new`, `check`, `ce-flags`, `dry-run`, `http`, `json`)
//! returns [`CliError`]. The core's and the driver's errors pass through it
//! unchanged ([`CliError::Core`], [`CliError::Driver`], each its `source`); the
//! other variants are the tools' own sentences, and their kind is the
//! command's exit status (each subcommand's `main` maps it: only there do
//! messages become stderr lines and statuses).

use crate::core;
use crate::driver;
use std::boxed::Box;
use std::fmt;
use std::string::String;

/// What went wrong in a tool.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The command line cannot be used (or, for `credhook http`, what it
    /// would send): nothing was done. Exit 2.
    Usage(String),
    /// A rule of the core refused something (a path, a field, a value).
    Core(core::CoreError),
    /// A file, a read or an HTTPS call failed.
    Driver(driver::DriverError),
    /// `error`, about `place` (a file's path): `place: error`.
    At { place: String, error: Box<CliError> },
    /// The command did its work and found a problem (a config that does
    /// not validate, a file it will not overwrite): the sentence. Exit 1.
    Failed(String),
    /// `credhook json`: a path is not in the input. Exit 1.
    Absent(String),
    /// `credhook http`: no usable reply. Exit 3.
    Transport(String),
    /// `credhook http`: `CREDHOOK_HTTP_ALLOW` refuses the host (or is
    /// broken); nothing was sent. Names the host, never the path or query.
    /// Exit 2.
    NotAllowed(String),
}

impl CliError {
    /// `self`, about `place`.
    pub(crate) fn at(self, place: &str) -> CliError {
        CliError::At {
            place: String::from(place),
            error: Box::new(self),
        }
    }
}

impl From<core::CoreError> for CliError {
    fn from(e: core::CoreError) -> CliError {
        CliError::Core(e)
    }
}

impl From<driver::DriverError> for CliError {
    fn from(e: driver::DriverError) -> CliError {
        CliError::Driver(e)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Core(e) => e.fmt(f),
            CliError::Driver(e) => e.fmt(f),
            CliError::At { place, error } => write!(f, "{place}: {error}"),
            CliError::Usage(what)
            | CliError::Failed(what)
            | CliError::Absent(what)
            | CliError::Transport(what)
            | CliError::NotAllowed(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Core(e) => Some(e),
            CliError::Driver(e) => Some(e),
            CliError::At { error, .. } => Some(error.as_ref()),
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
    fn wrapped_errors_keep_their_words() {
        let e = CliError::from(driver::DriverError::TooLarge(5)).at("job_config.json");
        assert_eq!(e.to_string(), "job_config.json: more than 5 bytes");
        let inner = e.source().unwrap();
        assert_eq!(inner.to_string(), "more than 5 bytes");
        assert!(inner.source().is_some());
        let e = CliError::from(core::CoreError::HeaderNoColon);
        assert_eq!(e.to_string(), core::CoreError::HeaderNoColon.to_string());
        assert!(CliError::Usage("x".into()).source().is_none());
    }
}
