//! Judging a hook run: how it ended and what it wrote become what the task
//! should say. Which code wins: credhook's own when credhook ended the hook
//! (timeout, stop), else the hook's valid `error_code`, else credhook's.

use crate::core::hook::channel::{self, Credentials};
use crate::core::job::error_codes::{ErrorCode, FailureCode, HookCode};
use crate::core::job::schema::Schema;
use crate::core::job::settings::Action;
use alloc::format;
use alloc::string::String;
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

/// The verdict, and the warning.
fn verdict_of(action: Action, schema: &Schema, run: &HookRun<'_>) -> (Verdict, Option<String>) {
    let report = if run.overflow {
        Err(format!(
            "the hook wrote more than {} bytes to $CREDHOOK_OUTPUT; write only the id and the outputs there",
            channel::MAX_OUTPUT_BYTES
        ))
    } else {
        channel::parse(run.output, schema)
    };
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
            format!(
                "the hook did not finish within {} s (CREDHOOK_HOOK_TIMEOUT) and was stopped",
                run.timeout_s
            ),
        ),
        Ending::Stopped => fail(
            ErrorCode::Stopped,
            String::from("the job was told to stop while the hook was running"),
        ),
        Ending::Exited(0) => {
            let checked = report.and_then(|r| match action {
                Action::Create => channel::credentials(schema, r).map(Some),
                Action::Delete => channel::reject_error_fields(&r).map(|()| None),
            });
            match checked {
                Ok(Some(c)) => Verdict::Created(c),
                Ok(None) => Verdict::Deleted,
                Err(e) => fail(ErrorCode::BadOutput, e),
            }
        }
        Ending::Exited(_) | Ending::Signaled(_) => {
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
                    Some(line) => format!("{how}; its last error line: {}", line.trim()),
                    None => format!("{how} and wrote no error_message; write error_message=… to $CREDHOOK_OUTPUT"),
                });
            return (Verdict::Failed { code, description }, warning);
        }
    };
    (verdict, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::job::schema::from_env;

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
