//! The `credhook` binary: parse the command line, dispatch, exit.

use credhook::driver::cli::{self, ce_flags, check, dry_run, http, json};
use credhook::driver::{Env, run};
use std::process::ExitCode;

const HELP: &str = "\
credhook — a credentials provider job for IBM Cloud Secrets Manager custom credentials

Usage:
  credhook [run]              run one secret task (the default; configured by the environment)
  credhook check [FILE]       validate a job_config.json (default ./job_config.json)
  credhook dry-run [--config FILE] [--input name=value]… [--keep]
                              run the hook's create locally, check its outputs, then delete
  credhook ce-flags [--job-settings [--task-timeout 10m] [--cpu 0.125] [--memory 0.25G]] [FILE]
                              print the --env arguments for `ibmcloud ce job create|update`;
                              --job-settings adds --retrylimit 0, --cpu, --memory, --maxexecutiontime
  credhook http [OPTIONS] METHOD URL
                              for hooks: an HTTPS call with verified TLS (`credhook http --help`)
  credhook json get|out|build for hooks: read and build JSON (`credhook json --help`)
  credhook --version          print version, git commit and target
  credhook --help             print this help

Secrets Manager starts the job with SM_* variables; credhook exchanges an IAM
credential for a token, runs the hook (CREDHOOK_HOOK, default /hook) with
`create` or `delete`, and updates the secret task. See the README for every
setting, the hook protocol, exit statuses and error codes.
";

fn main() -> ExitCode {
    // The hook tools take their arguments as OsStrings: a non-UTF-8
    // argument is their usage error, not a panic.
    let mut os_args = std::env::args_os().skip(1);
    match os_args.next().as_ref().and_then(|a| a.to_str()) {
        Some("http") => return ExitCode::from(http::main(os_args.collect())),
        Some("json") => return ExitCode::from(json::main(os_args.collect())),
        Some("ce-flags") => return ExitCode::from(ce_flags::main(os_args.collect())),
        _ => {}
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] | ["run"] => ExitCode::from(run::run(&Env::from_process())),
        ["check"] => ExitCode::from(check::check(cli::DEFAULT_CONFIG)),
        ["check", file] => ExitCode::from(check::check(file)),
        ["dry-run", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            ExitCode::from(dry_run::dry_run(&rest, Env::from_process()))
        }
        ["--version" | "-V"] => {
            println!(
                "credhook {} (commit {}, target {})",
                credhook::VERSION,
                env!("CREDHOOK_COMMIT"),
                env!("CREDHOOK_TARGET")
            );
            ExitCode::SUCCESS
        }
        ["--help" | "-h" | "help"] => {
            print!("{HELP}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!(
                "credhook: unknown arguments `{}`; see `credhook --help`",
                other.join(" ")
            );
            ExitCode::from(2)
        }
    }
}
