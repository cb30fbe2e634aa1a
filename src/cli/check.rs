//! `credhook check [FILE]`: validate a job_config.json.

use super::{EXIT_USAGE, file_arg, load};
use crate::core::job::job_config;
use std::ffi::OsString;
use std::format;
use std::vec::Vec;

/// `credhook check [FILE]`: one line per problem on stdout (none when the
/// config is good; the summary goes to stderr); exit 0 or 1.
pub(crate) fn check(path: &str) -> u8 {
    let vars = match load(path) {
        Ok(v) => v,
        Err(e) => {
            std::println!("{e}");
            return 1;
        }
    };
    let mut problems = job_config::check(&vars);
    let warning = super::egress_warning().unwrap_or_else(|e| {
        problems.push(format!("{e} (from this environment)"));
        None
    });
    for p in &problems {
        std::println!("{path}: {p}");
    }
    if !problems.is_empty() {
        return 1;
    }
    let count = |prefix: &str| vars.iter().filter(|(n, _)| n.starts_with(prefix)).count();
    std::eprintln!("{path}: ok ({} inputs, {} outputs)", count("SMIN_"), count("SMOUT_"));
    if let Some(w) = warning {
        std::eprintln!("{path}: {w}");
    }
    0
}

/// `credhook check [FILE]` from its arguments.
pub fn main(args: Vec<OsString>) -> u8 {
    match file_arg(args) {
        Ok(path) => check(&path),
        Err(e) => {
            std::eprintln!("credhook check: {e}; usage: credhook check [FILE]");
            EXIT_USAGE
        }
    }
}
