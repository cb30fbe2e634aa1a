//! `credhook check [FILE]`: validate a job_config.json.

use super::{CliError, EXIT_USAGE, load};
use crate::core::job::job_config;
use std::ffi::OsString;
use std::format;
use std::string::String;
use std::vec::Vec;

pub(crate) const USAGE: &str = "usage: credhook check [FILE]";

const HELP: &str = "\
credhook check [FILE]

Checks a job_config.json (default ./job_config.json) as Secrets Manager and
credhook will read it: SMIN_/SMOUT_ names of A-Z, 0-9 and _, valid types and
`required`, secret_id on inputs only, no name twice, at least one required
output. Prints `FILE: ok (N inputs, M outputs)` on stdout and exits 0, or one
line per problem on stderr, naming the variable and the fix, and exits 1.
Without CREDHOOK_HTTP_ALLOW in this environment it warns on stderr that the
job's hook may call any host.
";

/// `credhook check [FILE]`: `ok` on stdout, or one line per problem on
/// stderr (warnings go there too); exit 0 or 1.
fn check(path: &str) -> u8 {
    let vars = match load(path) {
        Ok(v) => v,
        Err(e) => {
            std::eprintln!("{e}");
            return 1;
        }
    };
    let mut problems = job_config::check(&vars);
    let warning = super::egress_warning().unwrap_or_else(|e| {
        problems.push(format!("{e} (from this environment)"));
        None
    });
    for p in &problems {
        std::eprintln!("{path}: {p}");
    }
    if !problems.is_empty() {
        return 1;
    }
    let count = |prefix: &str| vars.iter().filter(|(n, _)| n.starts_with(prefix)).count();
    std::println!("{path}: ok ({} inputs, {} outputs)", count("SMIN_"), count("SMOUT_"));
    if let Some(w) = warning {
        std::eprintln!("{path}: {w}");
    }
    0
}

/// The `[FILE]` argument: at most one, default `./job_config.json`; `None`
/// for `--help`.
fn file_arg(args: Vec<OsString>) -> Result<Option<String>, CliError> {
    use lexopt::Arg::{Long, Short, Value};
    let mut parser = lexopt::Parser::from_args(args);
    let mut file = None;
    while let Some(arg) = parser.next().map_err(super::arg_error)? {
        match arg {
            Long("help") | Short('h') => return Ok(None),
            Value(v) if file.is_none() => file = Some(super::utf8("file name", v, super::Echo::Value)?),
            other => return Err(super::arg_error(other.unexpected())),
        }
    }
    Ok(Some(file.unwrap_or_else(|| super::DEFAULT_CONFIG.into())))
}

/// `credhook check [FILE]` from its arguments.
pub fn main(args: Vec<OsString>) -> u8 {
    match file_arg(args) {
        Ok(Some(path)) => check(&path),
        Ok(None) => {
            std::print!("{HELP}");
            0
        }
        Err(e) => {
            std::eprintln!("credhook check: {e}\n{USAGE}");
            EXIT_USAGE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;
    use std::string::ToString;

    fn os(v: &[&[u8]]) -> Vec<OsString> {
        v.iter().map(|b| OsString::from_vec(b.to_vec())).collect()
    }

    #[test]
    fn file_args() {
        assert_eq!(file_arg(os(&[])).unwrap().unwrap(), super::super::DEFAULT_CONFIG);
        assert_eq!(file_arg(os(&[b"a.json"])).unwrap().unwrap(), "a.json");
        assert_eq!(file_arg(os(&[b"a.json", b"--help"])).unwrap(), None);
        assert_eq!(file_arg(os(&[b"--", b"--help"])).unwrap().unwrap(), "--help");
        let e = file_arg(os(&[b"\xff"])).unwrap_err().to_string();
        assert_eq!(e, "file name `\u{fffd}` is not valid UTF-8; give it in UTF-8");
        assert_eq!(
            file_arg(os(&[b"a", b"b"])).unwrap_err().to_string(),
            "unexpected argument `b`"
        );
        assert_eq!(file_arg(os(&[b"--x"])).unwrap_err().to_string(), "invalid option '--x'");
    }
}
