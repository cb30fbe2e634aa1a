//! `credhook check` and `credhook ce-flags`: read a job_config.json, print.

use crate::jobconfig;
use std::format;
use std::string::String;
use std::vec::Vec;

pub const DEFAULT_CONFIG: &str = "./job_config.json";

/// Reads and parses a job config; the error is one line naming the file.
pub fn load(path: &str) -> Result<Vec<(String, String)>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: cannot be read: {e}"))?;
    jobconfig::parse(&bytes).map_err(|e| format!("{path}: {e}"))
}

/// `credhook check [FILE]`: one line per problem on stdout (none when the
/// config is good; the summary goes to stderr); exit 0 or 1.
pub fn check(path: &str) -> u8 {
    let vars = match load(path) {
        Ok(v) => v,
        Err(e) => {
            std::println!("{e}");
            return 1;
        }
    };
    let problems = jobconfig::check(&vars);
    for p in &problems {
        std::println!("{path}: {p}");
    }
    if !problems.is_empty() {
        return 1;
    }
    let count = |prefix: &str| vars.iter().filter(|(n, _)| n.starts_with(prefix)).count();
    std::eprintln!("{path}: ok ({} inputs, {} outputs)", count("SMIN_"), count("SMOUT_"));
    0
}

/// `credhook ce-flags [FILE]`: the `--env` arguments, shell-quoted.
pub fn ce_flags(path: &str) -> u8 {
    match load(path) {
        Ok(vars) => {
            std::print!("{}", jobconfig::ce_flags(&vars));
            0
        }
        Err(e) => {
            std::eprintln!("credhook: {e}");
            1
        }
    }
}
