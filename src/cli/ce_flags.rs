//! `credhook ce-flags [--job-settings …] [FILE]`: the arguments for
//! `ibmcloud ce job create|update`.

use super::{CliError, Echo, load};
use crate::core::job::job_config::{self, JobSettings};
use std::ffi::OsString;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

pub(crate) const USAGE: &str = "usage: credhook ce-flags [--job-settings [--task-timeout 10m] [--hook-timeout 300] [--retry-window 60] [--iam-retry-window 30] [--http-timeout 30] [--cpu 0.125] [--memory 0.25G]] [FILE]";

struct Args {
    file: String,
    /// Some: print the job settings before the `--env` pairs.
    settings: Option<JobSettings>,
    help: bool,
}

/// A whole number of seconds, as the job's setting takes it.
fn seconds(flag: &str, v: &str) -> Result<u64, CliError> {
    v.trim()
        .parse()
        .map_err(|_| CliError::Usage(format!("{flag} `{v}` is not a whole number of seconds")))
}

fn parse_args(args: Vec<OsString>) -> Result<Args, CliError> {
    use lexopt::Arg::{Long, Short, Value};
    let mut parser = lexopt::Parser::from_args(args);
    let mut file = None;
    let mut job_settings = false;
    let mut help = false;
    let mut s = JobSettings::default();
    let mut tuned = None;
    while let Some(arg) = parser.next().map_err(|e| CliError::Usage(e.to_string()))? {
        match arg {
            Long("job-settings") => job_settings = true,
            Long("help") | Short('h') => help = true,
            Long(
                flag @ ("task-timeout" | "hook-timeout" | "retry-window" | "iam-retry-window" | "http-timeout" | "cpu"
                | "memory"),
            ) => {
                let flag = format!("--{flag}");
                let v = parser
                    .value()
                    .map_err(|_| CliError::Usage(format!("{flag} needs a value")))?;
                let v = super::utf8(&flag, v, Echo::Value)?;
                match flag.as_str() {
                    "--task-timeout" => {
                        s.task_timeout_s = job_config::parse_duration(&v)
                            .map_err(|e| CliError::Usage(format!("--task-timeout {e}")))?
                    }
                    "--hook-timeout" => s.hook_timeout_s = seconds(&flag, &v)?,
                    "--retry-window" => s.retry.window_s = seconds(&flag, &v)?,
                    "--iam-retry-window" => s.retry.iam_window_s = seconds(&flag, &v)?,
                    "--http-timeout" => s.http_timeout_s = seconds(&flag, &v)?,
                    "--cpu" => s.cpu = v,
                    _ => s.memory = v,
                }
                tuned = Some(flag);
            }
            Long(other) => return Err(CliError::Usage(format!("unknown option `--{}`", other.escape_debug()))),
            Short(c) => return Err(CliError::Usage(format!("unknown option `-{}`", c.escape_debug()))),
            Value(v) if file.is_none() => file = Some(super::utf8("file name", v, Echo::Value)?),
            Value(v) => {
                return Err(CliError::Usage(format!(
                    "one FILE only; `{}` is a second",
                    v.to_string_lossy().escape_debug()
                )));
            }
        }
    }
    if let (false, Some(flag)) = (job_settings, tuned) {
        return Err(CliError::Usage(format!("{flag} only applies with --job-settings")));
    }
    Ok(Args {
        file: file.unwrap_or_else(|| super::DEFAULT_CONFIG.into()),
        settings: job_settings.then_some(s),
        help,
    })
}

/// `credhook ce-flags`: the `--env` arguments, shell-quoted, one pair per
/// line; with `--job-settings`, the job's retry, size and time limits first.
pub fn main(args: Vec<OsString>) -> u8 {
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            std::eprintln!("credhook ce-flags: {e}\n{USAGE}");
            return 2;
        }
    };
    if args.help {
        std::println!(
            "{USAGE}\n\nPrints the --env arguments `ibmcloud ce job create|update` needs for the schema in FILE\n\
             (default ./job_config.json), shell-quoted, one pair per line, lines continued with ` \\`,\n\
             so that `eval \"set -- $(credhook ce-flags)\"` gives exactly those arguments. With\n\
             --job-settings, first the job's settings: --retrylimit 0, --cpu, --memory and a\n\
             --maxexecutiontime that covers the task timeout and one more hook timeout; the hook\n\
             timeout plus credhook's retry windows must fit in the task timeout."
        );
        return 0;
    }
    let vars = match load(&args.file) {
        Ok(v) => v,
        Err(e) => {
            std::eprintln!("credhook: {e}");
            return 1;
        }
    };
    // Warned on stderr: stdout stays the arguments, for `eval`.
    match super::egress_warning() {
        Ok(Some(w)) => std::eprintln!("credhook ce-flags: {w}"),
        Ok(None) => {}
        Err(e) => {
            std::eprintln!("credhook ce-flags: {e} (from this environment)");
            return 1;
        }
    }
    let env = job_config::ce_flags(&vars);
    let Some(mut s) = args.settings else {
        std::print!("{env}");
        return 0;
    };
    // The run's longest time counts the secrets it may read.
    s.secret_reads = job_config::secret_reads(&vars);
    match job_config::job_settings(&s) {
        Ok(flags) if env.is_empty() => std::println!("{flags}"),
        Ok(flags) => std::print!("{flags} \\\n{env}"),
        Err(e) => {
            std::eprintln!("credhook ce-flags: {}: {e}", args.file);
            return 1;
        }
    }
    0
}
