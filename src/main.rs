//! The `credhook` binary: parse the command line, dispatch, exit.

use credhook::cli::{self, ce_flags, check, dry_run, http, json, new, run};
use std::ffi::OsString;
use std::process::ExitCode;

const HELP: &str = "\
credhook — a credentials provider job for IBM Cloud Secrets Manager custom credentials

Usage:
  credhook [run]              run one secret task (the default; configured by the environment)
  credhook new DIR [--name NAME] [--with TOOL]… [--http] [--force]
                              write a provider to start from: schema, hook (a stand-in does the
                              vendor's part), test.sh, Containerfile, README (`credhook new --help`)
  credhook check [FILE]       validate a job_config.json (default ./job_config.json)
  credhook dry-run [--config FILE] [--input NAME=VALUE]… [--secret NAME=@FILE]… [--keep | --delete ID]
                              run the hook as `run` would, locally: create, check, print, delete
  credhook ce-flags [--job-settings [--task-timeout 10m] [--hook-timeout 300] [--http-timeout 30] …] [FILE]
                              print the --env arguments for `ibmcloud ce job create|update`;
                              --job-settings adds --retrylimit 0, --cpu, --memory, --maxexecutiontime
  credhook http [OPTIONS] METHOD URL
                              for hooks: an HTTPS call with verified TLS (`credhook http --help`)
  credhook json get|out|build for hooks: read and build JSON (`credhook json --help`)
  credhook --version          print version, git commit and target
  credhook --help             print this help

Secrets Manager starts the job with SM_* variables; credhook exchanges an IAM
credential for a token, runs the hook (CREDHOOK_HOOK, default /hook) with
`create` or `delete`, and updates the secret task. Every setting, the hook
protocol, exit statuses and error codes: docs/REFERENCE.md; writing a provider,
step by step: docs/GUIDE.md.
";

fn main() -> ExitCode {
    // First: the finished line reports CPU time from here, not the runtime's.
    cli::mark_start();
    let mut args = std::env::args_os().skip(1);
    let command = args.next();
    let rest: Vec<OsString> = args.collect();
    let code = match command.as_ref().map(|c| c.to_str()) {
        None => run::main(),
        Some(Some("run")) if rest.is_empty() => run::main(),
        Some(Some("run")) if rest.len() == 1 && matches!(rest[0].to_str(), Some("--help" | "-h")) => {
            print!("{HELP}");
            0
        }
        Some(Some("new")) => new::main(rest),
        Some(Some("check")) => check::main(rest),
        Some(Some("ce-flags")) => ce_flags::main(rest),
        Some(Some("dry-run")) => dry_run::main(rest),
        Some(Some("http")) => http::main(rest),
        Some(Some("json")) => json::main(rest),
        Some(Some("--version" | "-V")) if rest.is_empty() => {
            println!(
                "credhook {} (commit {}, target {})",
                credhook::VERSION,
                env!("CREDHOOK_COMMIT"),
                env!("CREDHOOK_TARGET")
            );
            0
        }
        Some(Some("--help" | "-h" | "help")) => {
            print!("{HELP}");
            0
        }
        Some(_) => {
            let shown: Vec<String> = command
                .iter()
                .chain(&rest)
                .map(|a| a.to_string_lossy().escape_debug().to_string())
                .collect();
            eprintln!(
                "credhook: unknown arguments `{}`; see `credhook --help`",
                shown.join(" ")
            );
            cli::EXIT_USAGE
        }
    };
    ExitCode::from(code)
}
