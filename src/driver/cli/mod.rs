//! The subcommands other than `run`: the author's tools (`check`,
//! `ce-flags`, `dry-run`) and the hook's tools (`http`, `json`, with
//! `input` for what both read). Each file owns one.

pub mod ce_flags;
pub mod check;
pub mod dry_run;
pub mod http;
pub mod input;
pub mod json;

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
