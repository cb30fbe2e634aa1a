//! The subcommands: `run` (the job), the author's tools (`new`, `check`,
//! `ce-flags`, `dry-run`) and the hook's tools (`http`, `json`, with
//! `tool_io` for what both read and write), and `error` ([`CliError`]).
//! Each file owns one.

pub mod ce_flags;
pub mod check;
pub mod dry_run;
pub(crate) mod error;
pub mod http;
pub mod json;
pub mod new;
pub mod run;
pub(crate) mod tool_io;

pub(crate) use error::CliError;

/// Snapshots the CPU time spent before `main`, so that the finished line
/// reports credhook's own: call it first thing.
pub fn mark_start() {
    crate::driver::process::mark_start();
}

use crate::core::job::job_config;
use std::ffi::OsString;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

/// Largest job config read (real ones are a few KiB).
pub(crate) const MAX_CONFIG: u64 = 1 << 20;

/// Exit status for a command line credhook cannot use.
pub const EXIT_USAGE: u8 = 2;

pub(crate) const DEFAULT_CONFIG: &str = "./job_config.json";

/// Reads and parses a job config; the error is one line naming the file.
pub(crate) fn load(path: &str) -> Result<Vec<(String, String)>, CliError> {
    let bytes = crate::driver::files::read_regular(path, MAX_CONFIG).map_err(|e| CliError::from(e).at(path))?;
    job_config::parse(&bytes).map_err(|e| CliError::from(e).at(path))
}

/// `check` and `ce-flags` see job_config.json, not the job's settings:
/// `CREDHOOK_HTTP_ALLOW` in their own environment (scripts/deploy.sh
/// exports its --allow-host list) is checked, and without it they warn that
/// the job may reach any host. `Err`: the setting is broken.
pub(crate) fn egress_warning() -> Result<Option<String>, CliError> {
    let value = std::env::var(crate::core::net::http_allow::SETTING).ok();
    match crate::core::net::http_allow::from_setting(value.as_deref())? {
        Some(_) => Ok(None),
        None => Ok(Some(format!(
            "warning: unless the job sets {0}, its hook's `credhook http` calls can reach any host, so a \
             secret's creator can send the job's credentials anywhere its inputs point; set {0} to the hosts \
             the provider calls (scripts/deploy.sh --allow-host HOST)",
            crate::core::net::http_allow::SETTING
        ))),
    }
}

/// Whether an argument that is not UTF-8 is quoted in the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Echo {
    /// Quoted, escaped, so a terminal shows what was typed: a file name.
    Value,
    /// Never quoted: it may hold a secret (an input's value, or a hook
    /// tool's argument where someone typed one in place of a `{{NAME}}`).
    Never,
}

/// The crate's one UTF-8 argument helper: `v` as UTF-8, or an error that
/// names it (`what`) and says what to do.
pub(crate) fn utf8(what: &str, v: OsString, echo: Echo) -> Result<String, CliError> {
    v.into_string().map_err(|raw| {
        CliError::Usage(match echo {
            Echo::Value => format!(
                "{what} `{}` is not valid UTF-8; give it in UTF-8",
                raw.to_string_lossy().escape_debug()
            ),
            Echo::Never => format!("{what} is not valid UTF-8 (not shown: it may hold a secret); give it in UTF-8"),
        })
    })
}

/// lexopt's error, without echoing values that may be secret.
pub(crate) fn arg_error(e: lexopt::Error) -> CliError {
    CliError::Usage(match e {
        lexopt::Error::UnexpectedArgument(a) => format!("unexpected argument `{}`", a.to_string_lossy().escape_debug()),
        lexopt::Error::NonUnicodeValue(_) => String::from("an argument is not valid UTF-8; give it in UTF-8"),
        lexopt::Error::UnexpectedValue { option, .. } => format!("option `{option}` takes no value"),
        other => other.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn utf8_echoes_only_what_may_be_shown() {
        let e = utf8("file name", OsString::from_vec(b"\xff".to_vec()), Echo::Value)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "file name `\u{fffd}` is not valid UTF-8; give it in UTF-8");
        let e = utf8("a header", OsString::from_vec(b"s3cr\xffet".to_vec()), Echo::Never)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a header is not valid UTF-8") && !e.contains("s3cr"), "{e}");
    }
}
