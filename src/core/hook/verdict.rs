//! Judging a hook run: how it ended and what it wrote become what the task
//! should say. Which code wins: credhook's own when credhook ended the hook
//! (timeout, stop), else the hook's valid `error_code`, else credhook's.

use crate::core::CoreError;
use crate::core::hook::channel::{self, Credentials};
use crate::core::job::error_codes::{ErrorCode, FailureCode, HookCode};
use crate::core::job::schema::Schema;
use crate::core::job::settings::Action;
use crate::core::job::task_update::MAX_DESCRIPTION_CHARS;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// How a hook run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ending {
    Exited(i32),
    Signaled(i32),
    /// Past its timeout; credhook ended it.
    TimedOut,
    /// credhook was told to stop and ended it.
    Stopped,
    /// It could not be started; the system's reason.
    NotStarted(String),
}

/// What the hook's run amounts to, before it is reported.
#[derive(Debug)]
pub(crate) enum Verdict {
    Created(Credentials),
    Deleted,
    Failed { code: FailureCode, description: String },
}

/// One finished hook run, as the judge sees it.
pub(crate) struct HookRun<'a> {
    pub(crate) ending: &'a Ending,
    /// What it wrote to its output channel.
    pub(crate) output: &'a [u8],
    /// It wrote more than the channel's limit.
    pub(crate) overflow: bool,
    /// Its last non-blank stderr line, already masked.
    pub(crate) last_stderr: Option<&'a str>,
    /// Its path and timeout, for the messages.
    pub(crate) path: &'a str,
    pub(crate) timeout_s: u64,
}

/// How much of the hook's last stderr line is kept for a description.
pub(crate) const LAST_STDERR_KEPT: usize = 4096;

/// Which stderr line a description may quote: a stderr line that is not
/// blank (`line`: what was kept of it, `len`: its whole length) becomes the
/// last one, its first [`LAST_STDERR_KEPT`] bytes cut at a character
/// boundary (half a character would become U+FFFD and hide the start of a
/// secret from the cut-aware mask), and whether it was cut; a blank line
/// leaves the last one as it was (`None`).
pub(crate) fn last_stderr_line(line: &[u8], len: usize) -> Option<(&[u8], bool)> {
    if line.trim_ascii().is_empty() {
        return None;
    }
    let mut n = line.len().min(LAST_STDERR_KEPT);
    while n > 0 && n < line.len() && (line[n] & 0xC0) == 0x80 {
        n -= 1;
    }
    Some((&line[..n], len > n))
}

/// What a hook run amounts to.
#[derive(Debug)]
pub(crate) struct Judgement {
    pub(crate) verdict: Verdict,
    /// Every credentials id a create wrote, read leniently (for the
    /// rollback); none for a delete.
    pub(crate) new_ids: Vec<String>,
    /// For the log: the output of a failed hook was unreadable (its
    /// `error_code`/`error_message` are then ignored).
    pub(crate) warning: Option<String>,
}

/// Judges a hook run. `holds_secret`: whether a text holds a known secret;
/// a hook's own error code that does gives way to credhook's `ERR10004`
/// (a code is sent as is, not masked like a description).
pub(crate) fn judge(
    action: Action,
    schema: &Schema,
    run: &HookRun<'_>,
    holds_secret: impl Fn(&str) -> bool,
) -> Judgement {
    let (verdict, warning) = verdict_of(action, schema, run);
    let verdict = match verdict {
        Verdict::Failed {
            code: FailureCode::Hook(c),
            description,
        } if holds_secret(c.as_str()) => Verdict::Failed {
            code: FailureCode::Own(ErrorCode::HookFailed),
            description,
        },
        v => v,
    };
    let new_ids = match action {
        Action::Create => channel::find_ids(run.output),
        Action::Delete => Vec::new(),
    };
    Judgement {
        verdict,
        new_ids,
        warning,
    }
}

/// What the hook wrote to its output channel, read.
fn report_of(schema: &Schema, run: &HookRun<'_>) -> Result<channel::Report, CoreError> {
    if run.overflow {
        return Err(CoreError::HookOutputTooLarge);
    }
    channel::parse(run.output, schema)
}

/// The verdict, and the warning.
fn verdict_of(action: Action, schema: &Schema, run: &HookRun<'_>) -> (Verdict, Option<String>) {
    let report = report_of(schema, run);
    let fail = |code: ErrorCode, description: String| Verdict::Failed {
        code: code.into(),
        description,
    };
    let verdict = match run.ending {
        Ending::NotStarted(e) => fail(
            ErrorCode::HookNotStarted,
            format!(
                "the hook `{}` could not be started: {e}; check that it exists, is executable and starts with a valid #! line",
                run.path
            ),
        ),
        Ending::TimedOut => fail(
            ErrorCode::HookTimedOut,
            with_last_line(
                format!(
                    "the hook did not finish within {} s (CREDHOOK_HOOK_TIMEOUT) and was stopped",
                    run.timeout_s
                ),
                run.last_stderr,
            ),
        ),
        Ending::Stopped => fail(
            ErrorCode::Stopped,
            with_last_line(
                String::from("the job was told to stop while the hook was running"),
                run.last_stderr,
            ),
        ),
        Ending::Exited(0) => {
            let checked = report.and_then(|r| match action {
                Action::Create => channel::credentials(schema, r).map(Some),
                Action::Delete => channel::reject_error_fields(&r).map(|()| None),
            });
            match checked {
                Ok(Some(c)) => Verdict::Created(c),
                Ok(None) => Verdict::Deleted,
                Err(e) => fail(ErrorCode::BadOutput, e.to_string()),
            }
        }
        Ending::Exited(_) | Ending::Signaled(_) => return failed_run(run, report),
    };
    (verdict, None)
}

/// A hook that exited non-zero or was killed: its own `error_code` and
/// `error_message` when it wrote usable ones, else credhook's; a broken
/// output is ignored, with a warning.
fn failed_run(run: &HookRun<'_>, report: Result<channel::Report, CoreError>) -> (Verdict, Option<String>) {
    let how = match run.ending {
        Ending::Signaled(s) => format!("the hook was killed by signal {s}"),
        Ending::Exited(c) => format!("the hook exited with status {c}"),
        _ => String::from("the hook failed"),
    };
    let (code, message, warning) = match report {
        Ok(r) => (r.error_code, r.error_message, None),
        Err(e) => (None, None, Some(format!("the hook's output was ignored: {e}"))),
    };
    let code = code
        .as_deref()
        .and_then(HookCode::new)
        .map_or(FailureCode::Own(ErrorCode::HookFailed), FailureCode::Hook);
    let description = message
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| match run.last_stderr {
            Some(_) => with_last_line(how, run.last_stderr),
            None => format!("{how} and wrote no error_message; write error_message=… to $CREDHOOK_OUTPUT"),
        });
    (Verdict::Failed { code, description }, warning)
}

/// `what`, then what the hook was doing: its last stderr line (already
/// masked), cut so that the whole stays within the 1 024 characters of a
/// description, ending on `…` where it was cut.
fn with_last_line(what: String, last_stderr: Option<&str>) -> String {
    let Some(line) = last_stderr.map(str::trim).filter(|l| !l.is_empty()) else {
        return what;
    };
    let mut out = format!("{what}; its last error line: ");
    let room = MAX_DESCRIPTION_CHARS.saturating_sub(out.chars().count());
    if line.chars().count() <= room {
        out.push_str(line);
    } else if room > 0 {
        out.extend(line.chars().take(room - 1));
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_stderr_line_is_a_non_blank_one_cut_at_a_character() {
        assert_eq!(last_stderr_line(b"  \t", 3), None);
        assert_eq!(last_stderr_line(b"", 0), None);
        assert_eq!(last_stderr_line(b"boom", 4), Some((&b"boom"[..], false)));
        // Held shorter than it was: cut.
        assert_eq!(last_stderr_line(b"boom", 9000), Some((&b"boom"[..], true)));
        let mut long = alloc::vec![b'a'; LAST_STDERR_KEPT - 1];
        long.extend_from_slice("é and more".as_bytes());
        let (kept, cut) = last_stderr_line(&long, long.len()).unwrap();
        assert_eq!(kept.len(), LAST_STDERR_KEPT - 1);
        assert!(cut);
        let exact = alloc::vec![b'x'; LAST_STDERR_KEPT];
        assert_eq!(last_stderr_line(&exact, exact.len()), Some((&exact[..], false)));
    }
    use crate::core::job::schema::from_env;
    use crate::core::job::task_update::describe;

    fn schema() -> Schema {
        let env = [("SMOUT_USERNAME", "type:string, required:true")];
        from_env(env.iter().map(|(k, v)| (*k, *v))).0
    }

    fn judged(ending: Ending, output: &str, stderr: Option<&str>) -> (Verdict, Option<String>) {
        let run = HookRun {
            ending: &ending,
            output: output.as_bytes(),
            overflow: false,
            last_stderr: stderr,
            path: "/hook",
            timeout_s: 7,
        };
        let j = judge(Action::Create, &schema(), &run, |_| false);
        (j.verdict, j.warning)
    }

    fn failed(v: (Verdict, Option<String>)) -> (String, String) {
        match v.0 {
            Verdict::Failed { code, description } => (code.as_str().into(), description),
            other => panic!("not failed: {other:?}"),
        }
    }

    #[test]
    fn credhook_s_code_wins_when_credhook_ended_the_hook() {
        let out = "error_code=MINE\nerror_message=mine";
        assert_eq!(failed(judged(Ending::TimedOut, out, None)).0, "ERR10005");
        assert_eq!(failed(judged(Ending::Stopped, out, None)).0, "ERR10007");
        assert!(failed(judged(Ending::TimedOut, out, None)).1.contains("within 7 s"));
    }

    #[test]
    fn a_timeout_and_a_stop_say_what_the_hook_was_doing() {
        let (code, d) = failed(judged(Ending::TimedOut, "", Some("  waiting for db.internal:5432 ")));
        assert_eq!(code, "ERR10005");
        assert_eq!(
            d,
            "the hook did not finish within 7 s (CREDHOOK_HOOK_TIMEOUT) and was stopped; \
             its last error line: waiting for db.internal:5432"
        );
        let (code, d) = failed(judged(Ending::Stopped, "", Some("copying [REDACTED]")));
        assert_eq!(code, "ERR10007");
        assert!(
            d.ends_with("while the hook was running; its last error line: copying [REDACTED]"),
            "{d}"
        );
        // Nothing on stderr: the sentence alone.
        assert!(
            failed(judged(Ending::TimedOut, "", None))
                .1
                .ends_with("and was stopped")
        );
    }

    #[test]
    fn a_long_last_line_is_cut_to_fit_and_a_rollback_sentence_survives() {
        let long: String = core::iter::repeat_n('é', 3000).collect();
        let (_, d) = failed(judged(Ending::TimedOut, "", Some(&long)));
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(
            d.starts_with("the hook did not finish within 7 s") && d.ends_with("éé…"),
            "{d}"
        );
        let rollback = "The credentials it had created (c-1) were deleted again.";
        let with = describe(&d, Some(rollback));
        assert_eq!(with.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(
            with.starts_with("the hook did not finish") && with.ends_with(rollback),
            "{with}"
        );
    }

    #[test]
    fn the_hook_s_valid_code_and_message_win_when_it_failed() {
        let (code, d) = failed(judged(
            Ending::Exited(3),
            "error_code=E_TAKEN\nerror_message=taken",
            None,
        ));
        assert_eq!((code.as_str(), d.as_str()), ("E_TAKEN", "taken"));
        let (code, d) = failed(judged(Ending::Signaled(9), "error_code=bad code", Some("boom")));
        assert_eq!(code, "ERR10004");
        assert_eq!(d, "the hook was killed by signal 9; its last error line: boom");
    }

    #[test]
    fn unreadable_output_of_a_failed_hook_is_a_warning() {
        let (v, warning) = judged(Ending::Exited(1), "garbage", None);
        assert!(warning.unwrap().contains("line 1 is neither"));
        assert!(failed((v, None)).1.contains("wrote no error_message"));
    }

    #[test]
    fn a_hook_code_that_holds_a_secret_gives_way_and_creates_name_their_ids() {
        let run = HookRun {
            ending: &Ending::Exited(1),
            output: b"id=c-7\nerror_code=S3CRET_CODE\n",
            overflow: false,
            last_stderr: None,
            path: "/hook",
            timeout_s: 7,
        };
        let j = judge(Action::Create, &schema(), &run, |c| c == "S3CRET_CODE");
        assert_eq!(failed((j.verdict, None)).0, "ERR10004");
        assert_eq!(j.new_ids, ["c-7"]);
        let j = judge(Action::Delete, &schema(), &run, |_| false);
        assert_eq!(failed((j.verdict, None)).0, "S3CRET_CODE");
        assert!(j.new_ids.is_empty());
    }

    #[test]
    fn success_needs_valid_outputs() {
        assert!(matches!(
            judged(Ending::Exited(0), "id=c\nusername=u", None).0,
            Verdict::Created(_)
        ));
        assert_eq!(failed(judged(Ending::Exited(0), "username=u", None)).0, "ERR10006");
        assert_eq!(
            failed(judged(Ending::NotStarted("No such file".into()), "", None)).0,
            "ERR10003"
        );
    }
}
