//! The hook step, shared by `run` and `dry-run`: the hook's environment,
//! judging what it did, logging its lines, and the rollback `delete`.

use super::child::{self, Ending, Spec};
use super::log::{Level, Log, LogValue};
use super::{Vars, known_secrets, signals};
use crate::core::hook::environment;
use crate::core::hook::rollback::{Deleted, Rollback, RollbackStep};
use crate::core::hook::verdict::{self, Judgement};
use crate::core::job::inputs::Input;
use crate::core::job::schema::Schema;
use crate::core::job::settings::Action;
use crate::core::secrets::secret::Secret;
use std::collections::BTreeSet;
use std::format;
use std::string::String;
use std::time::{Duration, Instant};
use std::vec::Vec;

/// Which hook, and how long it may run.
pub(crate) struct Hook<'a> {
    pub(crate) path: &'a str,
    pub(crate) timeout_s: u64,
}

/// Runs the hook with `arg` (`create` or `delete`) to its end, its timeout
/// or a stop.
pub(crate) fn run_hook(hook: &Hook<'_>, schema: &Schema, arg: &str, env: Vars) -> child::Run {
    run_hook_for(
        hook,
        schema,
        arg,
        env,
        Duration::from_secs(hook.timeout_s),
        Duration::ZERO,
    )
}

/// `after_stop`: how long after a stop (or after its start, if it starts
/// after the stop) the run may go on before it gets SIGTERM.
fn run_hook_for(
    hook: &Hook<'_>,
    schema: &Schema,
    arg: &str,
    env: Vars,
    timeout: Duration,
    after_stop: Duration,
) -> child::Run {
    let run = child::run(Spec {
        path: hook.path,
        arg,
        env,
        timeout,
        after_stop,
    });
    // Every value it wrote is a secret from now on, before anything is
    // judged or logged: valid or not, cut short or not.
    known_secrets::register_hook_output(&run.output, schema);
    run
}

/// The hook's environment: the job's, scrubbed, plus inputs, resolved secret
/// fields, the IAM token when asked for, and `CREDHOOK_OUTPUT`.
pub(crate) fn environment(
    job_env: &Vars,
    schema: &Schema,
    inputs: &[Input],
    resolved: Vec<(String, Secret)>,
    iam_token: Option<&Secret>,
) -> Vars {
    // Built inside `Vars` from the start, so every secret copy is zeroized.
    // A resolved field replaces a job variable of the same name: the job's
    // copy is never put in, so nothing is dropped unzeroized.
    let replaced: BTreeSet<&str> = resolved.iter().map(|(k, _)| k.as_str()).collect();
    let mut vars = Vars(Vec::new());
    let env = &mut vars.0;
    env.extend(
        job_env
            .0
            .iter()
            .filter(|(k, _)| {
                k.to_str()
                    .is_none_or(|k| environment::passes(k, schema) && !replaced.contains(k))
            })
            .cloned(),
    );
    for input in inputs {
        if let Some(v) = &input.value {
            env.push((format!("SMIN_{}", input.field.name).into(), v.into()));
        }
    }
    for (k, v) in &resolved {
        env.push((k.into(), v.expose().into()));
    }
    if let Some(t) = iam_token {
        env.push(("CREDHOOK_IAM_TOKEN".into(), t.expose().into()));
    }
    env.push(("CREDHOOK_OUTPUT".into(), child::OUTPUT_PATH.into()));
    vars
}

/// Judges the hook's run ([`crate::core::hook::verdict::judge`] decides);
/// its last stderr line is masked here, while it is known whether it was cut
/// (a cut may split a secret).
pub(crate) fn judge(action: Action, schema: &Schema, run: &child::Run, hook: &Hook<'_>, log: &Log) -> Judgement {
    let last_stderr = run.last_stderr.as_ref().map(|(line, cut)| {
        let line = zeroize::Zeroizing::new(String::from_utf8_lossy(line).into_owned());
        if *cut {
            known_secrets::mask_cut(&line)
        } else {
            known_secrets::mask(&line)
        }
    });
    let judgement = verdict::judge(
        action,
        schema,
        &verdict::HookRun {
            ending: &run.ending,
            output: &run.output,
            overflow: run.output_overflow,
            last_stderr: last_stderr.as_deref(),
            path: hook.path,
            timeout_s: hook.timeout_s,
        },
        |text| known_secrets::mask(text) != text,
    );
    if let Some(w) = &judgement.warning {
        log.warn(w, &[]);
    }
    judgement
}

/// Logs the hook's held stdout/stderr, redacted now that its outputs are known.
pub(crate) fn log_run(log: &Log, run: &child::Run, what: &str) {
    for (stream, line) in run.lines.iter() {
        // Masked whole first, then split: a secret across a split point
        // would otherwise be logged as two unmasked halves.
        let line = zeroize::Zeroizing::new(String::from_utf8_lossy(line).into_owned());
        let masked = known_secrets::mask(&line);
        for piece in pieces(&masked, MAX_LOGGED_LINE) {
            log.info(
                piece,
                &[
                    ("stream", LogValue::Str(stream.as_str())),
                    ("source", LogValue::Str(what)),
                ],
            );
        }
    }
    if run.dropped_lines > 0 {
        log.warn(
            "hook log lines dropped: more than 256 KiB or 16384 lines",
            &[
                ("dropped_lines", LogValue::Num(run.dropped_lines)),
                ("source", LogValue::Str(what)),
            ],
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
            ("duration_ms", LogValue::Num(run.duration.as_millis() as u64)),
            ("source", LogValue::Str(what)),
        ],
    );
}

/// A logged hook line is at most this long; a longer one becomes several.
const MAX_LOGGED_LINE: usize = 16 * 1024;

/// `text` in pieces of at most `max` bytes, cut at character boundaries.
fn pieces(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    let mut first = true;
    std::iter::from_fn(move || {
        if rest.is_empty() && !std::mem::take(&mut first) {
            return None;
        }
        first = false;
        let mut end = rest.len().min(max);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        // Never through the middle of a mask.
        let mask = crate::core::secrets::registry::MASK;
        if let Some(k) = (1..mask.len()).find(|k| end > *k && rest.as_bytes()[end - k..].starts_with(mask.as_bytes())) {
            end -= k;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        Some(piece)
    })
}

/// The hook's environment for deleting `id`: the create's, with
/// `SM_CREDENTIALS_ID` set and `SM_ACTION=delete_credentials` (so a hook that
/// looks at `SM_ACTION` instead of `$1` still deletes).
pub(crate) fn delete_env(base_env: &Vars, id: &str) -> Vars {
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
/// hook's `delete`, as [`Rollback`] decides (at most 16 ids, one budget, a
/// shorter one after a stop). Every id is logged before the first delete,
/// so none is lost silently if the platform kills the job. Returns the
/// sentence for the task's description, or None when there was nothing to
/// delete.
pub(crate) fn rollback(
    log: &Log,
    hook: &Hook<'_>,
    schema: &Schema,
    base_env: &Vars,
    ids: Vec<String>,
) -> Option<String> {
    let mut rollback = Rollback::start(ids, Duration::from_secs(hook.timeout_s))?;
    log.warn(
        "rolling back: deleting the credentials just created",
        &[("credentials_ids", LogValue::Meta(&listed(rollback.ids())))],
    );
    let started = Instant::now();
    loop {
        let since_stop = signals::stopped_at().map(|at| at.elapsed());
        match rollback.next(started.elapsed(), since_stop) {
            RollbackStep::Delete {
                id,
                timeout,
                after_stop,
            } => {
                let run = run_hook_for(hook, schema, "delete", delete_env(base_env, &id), timeout, after_stop);
                log_run(log, &run, "rollback");
                let deleted = Deleted::of(&run.ending, &run.output);
                let (level, msg) = match deleted {
                    Deleted::Yes => (Level::Info, "rollback done: the credentials were deleted"),
                    Deleted::AlreadyGone => (
                        Level::Info,
                        "rollback done: the credentials were already gone (the delete wrote already_gone=true)",
                    ),
                    Deleted::No => (
                        Level::Error,
                        "rollback failed: the credentials may remain in the external system; delete them by hand",
                    ),
                };
                // Ids are metadata: never masked, even when an output holds the same text.
                log.event(level, msg, &[("credentials_id", LogValue::Meta(&id))]);
                rollback.record(&id, deleted);
            }
            RollbackStep::CutShort(rest) => log.error(
                "rollback cut short: these credentials were not deleted; delete them by hand",
                &[("credentials_ids", LogValue::Meta(&listed(&rest)))],
            ),
            RollbackStep::Unusable(id) => log.error(
                "rollback impossible: the credentials id holds a control character, which cannot be given to the \
                 hook's delete; delete the credentials by hand",
                &[("credentials_id", LogValue::Meta(&id))],
            ),
            RollbackStep::Done(sentence) => return Some(sentence),
        }
    }
}

/// Ids for one log field: the first hundred, then how many more.
fn listed(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(100).map(String::as_str).collect();
    let mut s = shown.join(", ");
    if ids.len() > shown.len() {
        s.push_str(&format!(" and {} more", ids.len() - shown.len()));
    }
    s
}
