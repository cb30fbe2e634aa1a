//! The hook step, shared by `run` and `dry-run`: the hook's environment,
//! judging what it did, logging its lines, and the rollback `delete`.

use super::hook::{self, Ending, Spec};
use super::log::{Log, V};
use super::{Vars, signals};
use crate::hookenv;
use crate::inputs::Input;
use crate::outputs::{self, Credentials};
use crate::schema::Schema;
use crate::secret::Secret;
use crate::settings::Action;
use crate::task::{self, ErrorCode};
use std::format;
use std::string::String;
use std::time::Duration;
use std::vec::Vec;

/// After a stop, a rollback gets this long, then SIGTERM, then SIGKILL
/// [`hook::KILL_GRACE`] later: at most 20 s in all.
const ROLLBACK_AFTER_STOP: Duration = Duration::from_secs(15);

/// Which hook, and how long it may run.
pub struct Hook<'a> {
    pub path: &'a str,
    pub timeout_s: u64,
}

/// Runs the hook with `arg` (`create` or `delete`) to its end or its timeout.
/// `honour_stop`: whether a stop signal ends it (not for a rollback started
/// after the stop, which has its own, shorter timeout).
pub fn run_hook(hook: &Hook<'_>, arg: &str, env: Vars, honour_stop: bool) -> hook::Run {
    run_hook_for(hook, arg, env, Duration::from_secs(hook.timeout_s), honour_stop)
}

fn run_hook_for(hook: &Hook<'_>, arg: &str, env: Vars, timeout: Duration, honour_stop: bool) -> hook::Run {
    hook::run(Spec {
        path: hook.path,
        arg,
        env,
        timeout,
        after_stop: if honour_stop {
            Duration::ZERO
        } else {
            ROLLBACK_AFTER_STOP
        },
    })
}

/// What the hook's run amounts to, before it is reported.
pub enum Verdict {
    Created(Credentials),
    Deleted,
    Failed { code: String, description: String },
}

/// The hook's environment: the job's, scrubbed, plus inputs, resolved secret
/// fields, the IAM token when asked for, and `CREDHOOK_OUTPUT`.
pub fn environment(
    job_env: &Vars,
    schema: &Schema,
    inputs: &[Input],
    resolved: Vec<(String, Secret)>,
    iam_token: Option<&Secret>,
) -> Vars {
    // Built inside `Vars` from the start, so every secret copy is zeroized.
    let mut vars = Vars(Vec::new());
    let env = &mut vars.0;
    env.extend(
        job_env
            .0
            .iter()
            .filter(|(k, _)| k.to_str().is_none_or(|k| hookenv::passes(k, schema)))
            .cloned(),
    );
    for input in inputs {
        if let Some(v) = &input.value {
            env.push((format!("SMIN_{}", input.field.name).into(), v.into()));
        }
    }
    for (k, v) in resolved {
        env.retain(|(name, _)| name.to_str() != Some(&k));
        env.push((k.into(), v.expose().into()));
    }
    if let Some(t) = iam_token {
        env.push(("CREDHOOK_IAM_TOKEN".into(), t.expose().into()));
    }
    env.push(("CREDHOOK_OUTPUT".into(), hook::OUTPUT_PATH.into()));
    vars
}

/// Turns the hook's run into what the task should say.
pub fn judge(action: Action, schema: &Schema, run: &hook::Run, hook: &Hook<'_>, log: &mut Log) -> Verdict {
    let report = if run.output_overflow {
        Err(format!(
            "the hook wrote more than {} bytes to $CREDHOOK_OUTPUT; write only the id and the outputs there",
            outputs::MAX_OUTPUT_BYTES
        ))
    } else {
        outputs::parse(&run.output, schema)
    };
    if let Ok(r) = &report {
        for (_, v) in &r.values {
            log.redactor.add(v.expose());
        }
    }
    let fail = |code: ErrorCode, description: String| Verdict::Failed {
        code: code.as_str().into(),
        description,
    };
    let timeout = hook.timeout_s;
    match &run.ending {
        Ending::NotStarted(e) => fail(
            ErrorCode::HookNotStarted,
            format!(
                "the hook `{}` could not be started: {e}; check that it exists, is executable and starts with a valid #! line",
                hook.path
            ),
        ),
        Ending::TimedOut => fail(
            ErrorCode::HookTimedOut,
            format!("the hook did not finish within {timeout} s (CREDHOOK_HOOK_TIMEOUT) and was stopped"),
        ),
        Ending::Stopped => fail(
            ErrorCode::Stopped,
            String::from("the job was told to stop while the hook was running"),
        ),
        Ending::Exited(0) => {
            let checked = report.and_then(|r| match action {
                Action::Create => outputs::credentials(schema, r).map(Some),
                Action::Delete => outputs::reject_error_fields(&r).map(|()| None),
            });
            match checked {
                Ok(Some(c)) => Verdict::Created(c),
                Ok(None) => Verdict::Deleted,
                Err(e) => fail(ErrorCode::BadOutput, e),
            }
        }
        ending => {
            let how = match ending {
                Ending::Signaled(s) => format!("the hook was killed by signal {s}"),
                Ending::Exited(c) => format!("the hook exited with status {c}"),
                _ => String::from("the hook failed"),
            };
            let (code, message) = match &report {
                Ok(r) => (r.error_code.clone(), r.error_message.clone()),
                Err(e) => {
                    log.warn(&format!("the hook's output was ignored: {e}"), &[]);
                    (None, None)
                }
            };
            let code = code
                .filter(|c| task::is_valid_error_code(c))
                .unwrap_or_else(|| ErrorCode::HookFailed.as_str().into());
            let description = message
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| match &run.last_stderr {
                    Some(line) => format!("{how}; its last error line: {}", line.trim()),
                    None => format!("{how} and wrote no error_message; write error_message=… to $CREDHOOK_OUTPUT"),
                });
            Verdict::Failed { code, description }
        }
    }
}

/// Logs the hook's held stdout/stderr, redacted now that its outputs are known.
pub fn log_run(log: &Log, run: &hook::Run, what: &str) {
    for (stream, line) in &run.lines {
        log.info(line, &[("stream", V::S(stream.as_str())), ("source", V::S(what))]);
    }
    if run.dropped_lines > 0 {
        log.warn(
            "hook log lines dropped: more than 256 KiB",
            &[("dropped_lines", V::N(run.dropped_lines)), ("source", V::S(what))],
        );
    }
    let ending = match &run.ending {
        Ending::Exited(c) => format!("exited with status {c}"),
        Ending::Signaled(s) => format!("killed by signal {s}"),
        Ending::TimedOut => String::from("timed out"),
        Ending::Stopped => String::from("stopped"),
        Ending::NotStarted(e) => format!("not started: {e}"),
    };
    log.info(
        &format!("{what} {ending}"),
        &[
            ("duration_ms", V::N(run.duration.as_millis() as u64)),
            ("source", V::S(what)),
        ],
    );
}

/// The hook's environment for deleting `id`: the create's, with
/// `SM_CREDENTIALS_ID` set and `SM_ACTION=delete_credentials` (so a hook that
/// looks at `SM_ACTION` instead of `$1` still deletes).
pub fn delete_env(base_env: &Vars, id: &str) -> Vars {
    let mut env: Vars = base_env
        .0
        .iter()
        .filter(|(k, _)| k != "SM_CREDENTIALS_ID" && k != "SM_ACTION")
        .cloned()
        .collect();
    env.0.push(("SM_CREDENTIALS_ID".into(), id.into()));
    env.0.push(("SM_ACTION".into(), Action::Delete.as_str().into()));
    env
}

/// Deletes credentials a create made but could not report, through the
/// hook's `delete`. Returns a sentence for the task's description.
pub fn rollback(log: &Log, hook: &Hook<'_>, base_env: &Vars, id: &str) -> String {
    log.warn(
        "rolling back: deleting the credentials just created",
        &[("credentials_id", V::S(id))],
    );
    let env = delete_env(base_env, id);
    let mut timeout = Duration::from_secs(hook.timeout_s);
    if signals::stop_requested() {
        timeout = timeout.min(ROLLBACK_AFTER_STOP);
    }
    let run = run_hook_for(hook, "delete", env, timeout, false);
    log_run(log, &run, "rollback");
    if matches!(run.ending, Ending::Exited(0)) {
        log.info(
            "rollback done: the credentials were deleted",
            &[("credentials_id", V::S(id))],
        );
        format!(" The credentials it had created ({id}) were deleted again.")
    } else {
        log.error(
            "rollback failed: the credentials may remain in the external system; delete them by hand",
            &[("credentials_id", V::S(id))],
        );
        format!(" Deleting the credentials it had created ({id}) failed too; delete them by hand.")
    }
}
