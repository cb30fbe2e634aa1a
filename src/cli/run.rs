//! `credhook run`: one secret task from environment to task update.
//!
//! env → schema → inputs → token → secrets → hook → outputs → task update,
//! with a rollback `delete` whenever a create does not end reported.

use crate::core::job::flow::{EXIT_SUCCESS, Outcome};
use crate::core::job::inputs::Input;
use crate::core::job::settings;
use crate::core::job::start::{self, Unstartable};
use crate::driver::http::Http;
use crate::driver::job::Job;
use crate::driver::log::{Log, LogValue};
use crate::driver::secrets_manager::SecretsManager;
use crate::driver::token::Tokens;
use crate::driver::{Env, known_secrets, process, signals};
use std::string::ToString;
use std::time::Duration;

/// `credhook [run]`: one secret task, configured by the environment.
pub fn main() -> u8 {
    run(&Env::from_process())
}

/// `credhook run`: the first log line, the task, the last log line.
fn run(env: &Env) -> u8 {
    let log = start(env);
    let (outcome, credentials_id) = task(env, &log);
    finish(env, &log, &outcome, credentials_id.as_deref())
}

/// The log, the first line, and this process hardened.
fn start(env: &Env) -> Log {
    let log = Log::new(
        settings::log_format(env.utf8()),
        env.get("SM_SECRET_TASK_ID").unwrap_or(""),
        env.get("SM_ACTION").unwrap_or(""),
    );
    if let Some(key) = env.get("SM_ACCESS_APIKEY") {
        known_secrets::register(key);
    }
    let credential = if env.get("CREDHOOK_TRUSTED_PROFILE").is_some_and(|p| !p.is_empty()) {
        "trusted_profile"
    } else if env.get("SM_ACCESS_APIKEY").is_some_and(|k| !k.is_empty()) {
        "api_key"
    } else {
        "none"
    };
    log.info(
        "credhook started",
        &[
            ("version", LogValue::Str(crate::VERSION)),
            ("commit", LogValue::Str(env!("CREDHOOK_COMMIT"))),
            ("target", LogValue::Str(env!("CREDHOOK_TARGET"))),
            ("trigger", LogValue::Str(env.get("SM_TRIGGER").unwrap_or(""))),
            ("secret_id", LogValue::Meta(env.get("SM_SECRET_ID").unwrap_or(""))),
            ("credential", LogValue::Str(credential)),
        ],
    );
    if let Err(e) = process::harden() {
        log.warn(
            "could not turn off core dumps",
            &[("error", LogValue::Str(&e.to_string()))],
        );
    }
    if let Err(e) = signals::install() {
        log.warn(
            "could not install signal handlers",
            &[("error", LogValue::Str(&e.to_string()))],
        );
    }
    log
}

/// The settings, then the task itself; an environment that cannot be
/// trusted ends it unreported ([`start::settings`] decides). With the
/// outcome, the credentials id the task is about, once known.
fn task(env: &Env, log: &Log) -> (Outcome, Option<std::string::String>) {
    let started = start::settings(&env.duplicates, env.utf8()).and_then(|settings| {
        let timeout = Duration::from_secs(settings.http_timeout_s);
        Http::new(settings.retry, timeout, settings.ca_file.as_deref())
            .map(|http| (settings, http))
            .map_err(|e| Unstartable::HttpSetup(e.to_string()))
    });
    let (settings, http) = match started {
        Ok(s) => s,
        Err(why) => {
            for (message, variable) in why.problems() {
                log.error(&message, &[("variable", LogValue::Str(&variable))]);
            }
            return (why.outcome(), None);
        }
    };
    let platform = SecretsManager {
        settings: &settings,
        http,
        tokens: Tokens::new(&settings.credential, &settings.iam_url),
    };
    let resolve = |_: &Input| settings.resolve_secrets;
    let mut job = Job {
        env,
        settings: &settings,
        log,
        platform,
        resolve: &resolve,
        credentials_id: None,
    };
    let outcome = job.run();
    (outcome, job.credentials_id)
}

/// The last log line (outcome, exit status, the credentials id when there
/// is one, duration, CPU and memory); returns the exit status.
fn finish(env: &Env, log: &Log, outcome: &Outcome, credentials_id: Option<&str>) -> u8 {
    let (msg, status, exit) = match outcome {
        Outcome::Reported { status, exit } => ("credhook finished", *status, *exit),
        Outcome::NotReported { why, unconfirmed } => {
            if let Some(id) = unconfirmed {
                // Secrets Manager may hold these credentials: deleting them
                // could break a secret it reports as created.
                log.error(
                    "the task update may have been delivered before it failed: no rollback; \
                     check the secret's versions in Secrets Manager: if it has none with these \
                     credentials, delete them in the external system by hand",
                    &[
                        ("credentials_id", LogValue::Meta(id)),
                        ("secret_id", LogValue::Meta(env.get("SM_SECRET_ID").unwrap_or(""))),
                        ("task_id", LogValue::Meta(env.get("SM_SECRET_TASK_ID").unwrap_or(""))),
                    ],
                );
            }
            (why.as_str(), "not_reported", outcome.exit())
        }
    };
    let level = if exit == EXIT_SUCCESS {
        crate::driver::log::Level::Info
    } else {
        crate::driver::log::Level::Error
    };
    if let Some(signal) = signals::stop_signal_name() {
        log.warn("a stop signal was received", &[("signal", LogValue::Str(&signal))]);
    }
    let usage = process::own_usage();
    let mut fields = std::vec::Vec::with_capacity(7);
    fields.push(("outcome", LogValue::Str(status)));
    fields.push(("exit", LogValue::Num(u64::from(exit))));
    if let Some(id) = credentials_id {
        fields.push(("credentials_id", LogValue::Meta(id)));
    }
    fields.extend([
        ("duration_ms", LogValue::Num(log.elapsed_ms())),
        ("cpu_user_us", LogValue::Num(usage.user_us)),
        ("cpu_sys_us", LogValue::Num(usage.sys_us)),
        ("max_rss_kib", LogValue::Num(usage.max_rss_kib)),
    ]);
    log.event(level, msg, &fields);
    exit
}
