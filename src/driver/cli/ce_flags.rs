//! `credhook ce-flags [--job-settings …] [FILE]`: the arguments for
//! `ibmcloud ce job create|update`.

use super::load;
use crate::jobconfig::{self, JobSettings};
use std::format;
use std::string::String;

pub const USAGE: &str =
    "usage: credhook ce-flags [--job-settings [--task-timeout 10m] [--cpu 0.125] [--memory 0.25G]] [FILE]";

struct Args {
    file: String,
    /// Some: print the job settings before the `--env` pairs.
    settings: Option<JobSettings>,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut file = None;
    let mut job_settings = false;
    let mut s = JobSettings::default();
    let mut tuned = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |flag: &str| it.next().cloned().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--job-settings" => job_settings = true,
            "--task-timeout" => {
                s.task_timeout_s =
                    jobconfig::parse_duration(&value(arg)?).map_err(|e| format!("--task-timeout {e}"))?;
                tuned = Some(arg.clone());
            }
            "--cpu" => {
                s.cpu = value(arg)?;
                tuned = Some(arg.clone());
            }
            "--memory" => {
                s.memory = value(arg)?;
                tuned = Some(arg.clone());
            }
            f if f.starts_with('-') && f.len() > 1 => return Err(format!("unknown option `{f}`")),
            f if file.is_none() => file = Some(f.into()),
            f => return Err(format!("one FILE only; `{f}` is a second")),
        }
    }
    if let (false, Some(flag)) = (job_settings, tuned) {
        return Err(format!("{flag} only applies with --job-settings"));
    }
    Ok(Args {
        file: file.unwrap_or_else(|| super::DEFAULT_CONFIG.into()),
        settings: job_settings.then_some(s),
    })
}

/// `credhook ce-flags`: the `--env` arguments, shell-quoted, one pair per
/// line; with `--job-settings`, the job's retry, size and time limits first.
pub fn ce_flags(args: &[String]) -> u8 {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        std::println!("{USAGE}");
        return 0;
    }
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            std::eprintln!("credhook ce-flags: {e}\n{USAGE}");
            return 2;
        }
    };
    let vars = match load(&args.file) {
        Ok(v) => v,
        Err(e) => {
            std::eprintln!("credhook: {e}");
            return 1;
        }
    };
    let env = jobconfig::ce_flags(&vars);
    match args.settings {
        None => std::print!("{env}"),
        Some(s) => match jobconfig::job_settings(&vars, &s) {
            Ok(flags) if env.is_empty() => std::println!("{flags}"),
            Ok(flags) => std::print!("{flags} \\\n{env}"),
            Err(e) => {
                std::eprintln!("credhook ce-flags: {}: {e}", args.file);
                return 1;
            }
        },
    }
    0
}
