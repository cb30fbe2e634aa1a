//! The flow of one secret task, without I/O: which step comes next and every
//! decision between steps (ureq's Sans-IO split). The driver performs each
//! [`Step`] and reports what happened as an [`Event`]; [`Flow::next`] says
//! what to do then.
//!
//! token → referenced secrets → (on create, with `CREDHOOK_PREVIOUS_CREDENTIALS`)
//! the task's own secret → hook → task update, and:
//! - a problem with the inputs is reported only once a token is had (it can
//!   be reported only with one), before any secret is read;
//! - a stop before the hook ends the task as `ERR10007`;
//! - a secret that cannot be read, referenced or the task's own, ends it as
//!   `ERR10002` (a 404 for the task's own is no previous version: the driver
//!   reports it as read);
//! - a create that failed after the hook wrote an id rolls back every id it
//!   wrote, then reports `failed` with what became of them;
//! - a `credentials_created` update that Secrets Manager did not get rolls
//!   back; one it *may* have got does not (the credentials may be in use):
//!   the task ends unreported and the log says what to check.

use crate::core::hook::channel::Credentials;
use crate::core::hook::verdict::Verdict;
use crate::core::job::error_codes::{ErrorCode, FailureCode};
use crate::core::job::settings::Action;
use crate::core::net::delivery::Delivery;
use alloc::string::String;
use alloc::vec::Vec;

/// Exit statuses.
pub(crate) const EXIT_SUCCESS: u8 = 0;
pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_NOT_REPORTED: u8 = 2;

/// What the driver must do next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Get an IAM token (or a fresh one).
    GetToken,
    /// Read the `i`-th referenced secret (of those with a value).
    ReadSecret(usize),
    /// Read the task's own secret for its current version's credentials.
    ReadPrevious,
    /// Run the hook with the action's argument.
    RunHook,
    /// Send this task update.
    Update(Update),
    /// Delete these credentials through the hook's `delete`.
    RollBack(Vec<String>),
    /// The task is over.
    Finish(Outcome),
}

/// A task update to send.
#[derive(Debug)]
pub(crate) enum Update {
    Created(Credentials),
    Deleted,
    /// `what` went wrong, and what became of the credentials the hook had
    /// created; the driver masks both and composes the description.
    Failed {
        code: FailureCode,
        what: String,
        rollback: Option<String>,
    },
}

/// What happened in the step the driver was asked to perform.
#[derive(Debug)]
pub(crate) enum Event {
    Start,
    TokenHad,
    /// No token: IAM refused or could not be reached.
    TokenRefused(String),
    SecretRead,
    SecretUnreadable(String),
    /// The task's own secret was read (or is not there: no previous version).
    PreviousRead,
    PreviousUnreadable(String),
    /// The hook ended; `ids` are every credentials id it wrote (read
    /// leniently, for the rollback).
    HookEnded {
        verdict: Verdict,
        ids: Vec<String>,
    },
    /// The rollback ended; the sentence for the description.
    RolledBack(Option<String>),
    /// Secrets Manager acknowledged the update (a 2xx).
    Delivered,
    /// Secrets Manager did not get the update.
    NotDelivered(String),
    /// An attempt may have reached Secrets Manager before the update failed.
    MaybeDelivered(String),
}

impl Event {
    /// The task update's end, from what became of it ([`Delivery`], as the
    /// HTTP call classified it) and, unless it was sent, why not: the flow
    /// rolls back an undelivered create, never one that may have arrived.
    pub(crate) fn update_ended(delivery: Delivery, why: &dyn core::fmt::Display) -> Event {
        match delivery {
            Delivery::Sent => Event::Delivered,
            Delivery::MayHaveArrived => Event::MaybeDelivered(alloc::format!(
                "the task update may or may not have been delivered: {why}"
            )),
            Delivery::Unsent => Event::NotDelivered(alloc::format!("the task update was not delivered: {why}")),
        }
    }
}

/// How the task ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Reported {
        status: &'static str,
        exit: u8,
    },
    /// The task could not be updated. `unconfirmed`: the id of credentials
    /// Secrets Manager may or may not hold (not rolled back).
    NotReported {
        why: String,
        unconfirmed: Option<String>,
    },
}

impl Outcome {
    pub(crate) fn exit(&self) -> u8 {
        match self {
            Outcome::Reported { exit, .. } => *exit,
            Outcome::NotReported { .. } => EXIT_NOT_REPORTED,
        }
    }
}

#[derive(Debug)]
enum State {
    Begin,
    Token,
    Secret(usize),
    Previous,
    Hook,
    /// Rolling back before reporting `failed`.
    RollBackThenFail {
        code: FailureCode,
        what: String,
    },
    /// Rolling back an undelivered `credentials_created`.
    RollBackThenEnd(String),
    Updating {
        created: Option<String>,
        status: &'static str,
        exit: u8,
    },
    Done,
}

/// One task's flow.
pub(crate) struct Flow {
    action: Action,
    /// Input problems, held until a token is had.
    invalid: Vec<String>,
    secrets: usize,
    /// Read the task's own secret before a create's hook.
    previous: bool,
    state: State,
}

impl Flow {
    /// `invalid`: every problem with the schema and inputs; `secrets`: how
    /// many referenced secrets to read.
    pub(crate) fn new(action: Action, invalid: Vec<String>, secrets: usize) -> Flow {
        Flow {
            action,
            invalid,
            secrets,
            previous: false,
            state: State::Begin,
        }
    }

    /// With `CREDHOOK_PREVIOUS_CREDENTIALS`: a create reads the task's own
    /// secret after the referenced ones, before the hook. A delete does not.
    pub(crate) fn with_previous(mut self, previous: bool) -> Flow {
        self.previous = previous;
        self
    }

    /// The next step after `event`; `stopped`: a stop signal has arrived.
    pub(crate) fn next(&mut self, event: Event, stopped: bool) -> Step {
        let state = core::mem::replace(&mut self.state, State::Done);
        match (state, event) {
            (State::Begin, Event::Start) => self.go(State::Token, Step::GetToken),
            (_, Event::TokenRefused(why)) => self.finish(Outcome::NotReported { why, unconfirmed: None }),
            (State::Token, Event::TokenHad) => self.token_had(stopped),
            (State::Secret(i), Event::SecretRead) => self.after_secret(i + 1, stopped),
            (State::Secret(_), Event::SecretUnreadable(why)) => self.unreadable(stopped, "a referenced secret", &why),
            (State::Previous, Event::PreviousRead) => self.before_hook(stopped),
            (State::Previous, Event::PreviousUnreadable(why)) => {
                self.unreadable(stopped, "the secret's previous version", &why)
            }
            (State::Hook, Event::HookEnded { verdict, ids }) => self.hook_ended(verdict, ids),
            (State::RollBackThenFail { code, what }, Event::RolledBack(sentence)) => {
                self.report_failed(code, what, sentence)
            }
            (State::RollBackThenEnd(why), Event::RolledBack(_)) => {
                self.finish(Outcome::NotReported { why, unconfirmed: None })
            }
            (State::Updating { status, exit, .. }, Event::Delivered) => self.finish(Outcome::Reported { status, exit }),
            (State::Updating { created, .. }, Event::NotDelivered(why)) => self.not_delivered(created, why),
            (State::Updating { created, .. }, Event::MaybeDelivered(why)) => {
                // Secrets Manager may hold these credentials: no rollback.
                self.finish(Outcome::NotReported {
                    why,
                    unconfirmed: created,
                })
            }
            (state, event) => {
                // A driver bug; end unreported rather than guess.
                let why = alloc::format!("internal error: event {event:?} in state {state:?}");
                self.finish(Outcome::NotReported { why, unconfirmed: None })
            }
        }
    }

    /// With a token, the task can be reported: a stop or bad inputs end it
    /// now, before any secret is read.
    fn token_had(&mut self, stopped: bool) -> Step {
        if stopped {
            return self.fail(ErrorCode::Stopped, "the job was told to stop before the hook ran");
        }
        if !self.invalid.is_empty() {
            let what = self.invalid.join("; ");
            return self.fail(ErrorCode::InvalidInput, &what);
        }
        self.after_secret(0, stopped)
    }

    /// A secret could not be read: `ERR10002`, or `ERR10007` after a stop.
    fn unreadable(&mut self, stopped: bool, what: &str, why: &str) -> Step {
        if stopped {
            let what = alloc::format!("the job was told to stop while it read {what}, before the hook ran");
            self.fail(ErrorCode::Stopped, &what)
        } else {
            self.fail(ErrorCode::SecretUnreadable, why)
        }
    }

    /// The hook's verdict becomes the update; a failed create that wrote
    /// ids rolls them back first.
    fn hook_ended(&mut self, verdict: Verdict, ids: Vec<String>) -> Step {
        match verdict {
            Verdict::Created(c) => {
                let id = c.id.clone();
                self.update(Some(id), "credentials_created", EXIT_SUCCESS, Update::Created(c))
            }
            Verdict::Deleted => self.update(None, "credentials_deleted", EXIT_SUCCESS, Update::Deleted),
            Verdict::Failed { code, description } if self.action == Action::Create && !ids.is_empty() => self.go(
                State::RollBackThenFail {
                    code,
                    what: description,
                },
                Step::RollBack(ids),
            ),
            Verdict::Failed { code, description } => self.report_failed(code, description, None),
        }
    }

    /// Secrets Manager did not get the update: credentials it cannot know
    /// of are rolled back.
    fn not_delivered(&mut self, created: Option<String>, why: String) -> Step {
        match created {
            Some(id) => self.go(State::RollBackThenEnd(why), Step::RollBack(alloc::vec![id])),
            None => self.finish(Outcome::NotReported { why, unconfirmed: None }),
        }
    }

    fn after_secret(&mut self, next: usize, stopped: bool) -> Step {
        if stopped {
            return self.fail(ErrorCode::Stopped, "the job was told to stop before the hook ran");
        }
        if next < self.secrets {
            self.go(State::Secret(next), Step::ReadSecret(next))
        } else if self.previous && self.action == Action::Create {
            self.go(State::Previous, Step::ReadPrevious)
        } else {
            self.go(State::Hook, Step::RunHook)
        }
    }

    fn before_hook(&mut self, stopped: bool) -> Step {
        if stopped {
            return self.fail(ErrorCode::Stopped, "the job was told to stop before the hook ran");
        }
        self.go(State::Hook, Step::RunHook)
    }

    fn fail(&mut self, code: ErrorCode, what: &str) -> Step {
        self.report_failed(code.into(), String::from(what), None)
    }

    fn report_failed(&mut self, code: FailureCode, what: String, rollback: Option<String>) -> Step {
        self.update(None, "failed", EXIT_FAILED, Update::Failed { code, what, rollback })
    }

    fn update(&mut self, created: Option<String>, status: &'static str, exit: u8, update: Update) -> Step {
        self.go(State::Updating { created, status, exit }, Step::Update(update))
    }

    fn go(&mut self, state: State, step: Step) -> Step {
        self.state = state;
        step
    }

    fn finish(&mut self, outcome: Outcome) -> Step {
        self.state = State::Done;
        Step::Finish(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn created(id: &str) -> Verdict {
        Verdict::Created(Credentials {
            id: id.into(),
            payload: Vec::new(),
        })
    }

    fn failed(code: ErrorCode) -> Verdict {
        Verdict::Failed {
            code: code.into(),
            description: "it broke".into(),
        }
    }

    /// Drives a flow through `events` (none stopped unless `stop_at`),
    /// returning every step's short name.
    fn steps(action: Action, invalid: &[&str], secrets: usize, events: Vec<Event>, stop_from: usize) -> Vec<String> {
        steps_of(
            Flow::new(action, invalid.iter().map(|s| s.to_string()).collect(), secrets),
            events,
            stop_from,
        )
    }

    fn steps_of(mut f: Flow, events: Vec<Event>, stop_from: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            let step = f.next(e, i >= stop_from);
            out.push(match step {
                Step::GetToken => "token".into(),
                Step::ReadSecret(i) => alloc::format!("secret {i}"),
                Step::ReadPrevious => "previous".into(),
                Step::RunHook => "hook".into(),
                Step::Update(Update::Created(c)) => alloc::format!("update created {}", c.id),
                Step::Update(Update::Deleted) => "update deleted".into(),
                Step::Update(Update::Failed { code, rollback, .. }) => {
                    alloc::format!(
                        "update failed {code}{}",
                        if rollback.is_some() { " +rollback" } else { "" }
                    )
                }
                Step::RollBack(ids) => alloc::format!("rollback {}", ids.join(",")),
                Step::Finish(Outcome::Reported { status, exit }) => alloc::format!("end {status} {exit}"),
                Step::Finish(Outcome::NotReported { unconfirmed, .. }) => {
                    alloc::format!(
                        "end not_reported{}",
                        unconfirmed
                            .map(|u| alloc::format!(" unconfirmed {u}"))
                            .unwrap_or_default()
                    )
                }
            });
        }
        out
    }

    const NEVER: usize = usize::MAX;

    #[test]
    fn a_create_that_is_delivered() {
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::SecretRead,
            Event::HookEnded {
                verdict: created("c-1"),
                ids: vec!["c-1".into()],
            },
            Event::Delivered,
        ];
        assert_eq!(
            steps(Action::Create, &[], 1, ev, NEVER),
            [
                "token",
                "secret 0",
                "hook",
                "update created c-1",
                "end credentials_created 0"
            ]
        );
    }

    #[test]
    fn invalid_inputs_are_reported_once_a_token_is_had() {
        let ev = vec![Event::Start, Event::TokenHad, Event::Delivered];
        assert_eq!(
            steps(Action::Create, &["bad input"], 2, ev, NEVER),
            ["token", "update failed ERR10001", "end failed 1"]
        );
        let ev = vec![Event::Start, Event::TokenRefused("no".into())];
        assert_eq!(
            steps(Action::Create, &["bad input"], 0, ev, NEVER),
            ["token", "end not_reported"]
        );
    }

    #[test]
    fn a_stop_before_the_hook_is_err10007() {
        let ev = vec![Event::Start, Event::TokenHad, Event::Delivered];
        assert_eq!(
            steps(Action::Create, &[], 1, ev, 1),
            ["token", "update failed ERR10007", "end failed 1"]
        );
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::SecretUnreadable("x".into()),
            Event::Delivered,
        ];
        assert_eq!(
            steps(Action::Create, &[], 1, ev, 2),
            ["token", "secret 0", "update failed ERR10007", "end failed 1"]
        );
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::SecretUnreadable("x".into()),
            Event::Delivered,
        ];
        assert_eq!(
            steps(Action::Create, &[], 1, ev, NEVER),
            ["token", "secret 0", "update failed ERR10002", "end failed 1"]
        );
    }

    #[test]
    fn a_failed_create_rolls_back_every_id_then_reports() {
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::HookEnded {
                verdict: failed(ErrorCode::BadOutput),
                ids: vec!["a".into(), "b".into()],
            },
            Event::RolledBack(Some("deleted".into())),
            Event::NotDelivered("down".into()),
        ];
        assert_eq!(
            steps(Action::Create, &[], 0, ev, NEVER),
            [
                "token",
                "hook",
                "rollback a,b",
                "update failed ERR10006 +rollback",
                "end not_reported"
            ]
        );
        // A delete never rolls back.
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::HookEnded {
                verdict: failed(ErrorCode::HookFailed),
                ids: vec!["a".into()],
            },
            Event::Delivered,
        ];
        assert_eq!(
            steps(Action::Delete, &[], 0, ev, NEVER),
            ["token", "hook", "update failed ERR10004", "end failed 1"]
        );
    }

    #[test]
    fn an_undelivered_create_rolls_back_unless_it_may_have_been_delivered() {
        let base = || {
            vec![
                Event::Start,
                Event::TokenHad,
                Event::HookEnded {
                    verdict: created("c-9"),
                    ids: vec![],
                },
            ]
        };
        let mut ev = base();
        ev.extend([Event::NotDelivered("404".into()), Event::RolledBack(None)]);
        assert_eq!(
            steps(Action::Create, &[], 0, ev, NEVER),
            [
                "token",
                "hook",
                "update created c-9",
                "rollback c-9",
                "end not_reported"
            ]
        );
        let mut ev = base();
        ev.push(Event::MaybeDelivered("lost reply then 409".into()));
        assert_eq!(
            steps(Action::Create, &[], 0, ev, NEVER),
            [
                "token",
                "hook",
                "update created c-9",
                "end not_reported unconfirmed c-9"
            ]
        );
    }

    #[test]
    fn the_delivery_classification_decides_the_event() {
        let why = "http status 409";
        assert!(matches!(Event::update_ended(Delivery::Sent, &why), Event::Delivered));
        match Event::update_ended(Delivery::Unsent, &why) {
            Event::NotDelivered(w) => assert_eq!(w, "the task update was not delivered: http status 409"),
            e => panic!("{e:?}"),
        }
        match Event::update_ended(Delivery::MayHaveArrived, &why) {
            Event::MaybeDelivered(w) => assert!(w.contains("may or may not have been delivered: http status 409")),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_delete_that_is_delivered_or_not() {
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::HookEnded {
                verdict: Verdict::Deleted,
                ids: vec![],
            },
            Event::MaybeDelivered("x".into()),
        ];
        assert_eq!(
            steps(Action::Delete, &[], 0, ev, NEVER),
            ["token", "hook", "update deleted", "end not_reported"]
        );
    }

    fn with_previous(action: Action, secrets: usize) -> Flow {
        Flow::new(action, Vec::new(), secrets).with_previous(true)
    }

    #[test]
    fn a_create_reads_its_previous_version_after_the_referenced_secrets() {
        let ev = vec![
            Event::Start,
            Event::TokenHad,
            Event::SecretRead,
            Event::PreviousRead,
            Event::HookEnded {
                verdict: created("c-2"),
                ids: vec!["c-2".into()],
            },
            Event::Delivered,
        ];
        assert_eq!(
            steps_of(with_previous(Action::Create, 1), ev, NEVER),
            [
                "token",
                "secret 0",
                "previous",
                "hook",
                "update created c-2",
                "end credentials_created 0"
            ]
        );
        // Without referenced secrets, right after the token.
        let ev = vec![Event::Start, Event::TokenHad];
        assert_eq!(
            steps_of(with_previous(Action::Create, 0), ev, NEVER),
            ["token", "previous"]
        );
        // A delete never reads it.
        let ev = vec![Event::Start, Event::TokenHad];
        assert_eq!(steps_of(with_previous(Action::Delete, 0), ev, NEVER), ["token", "hook"]);
    }

    #[test]
    fn an_unreadable_previous_version_is_err10002_and_a_stop_err10007() {
        let ev = || {
            vec![
                Event::Start,
                Event::TokenHad,
                Event::PreviousUnreadable("403".into()),
                Event::Delivered,
            ]
        };
        assert_eq!(
            steps_of(with_previous(Action::Create, 0), ev(), NEVER),
            ["token", "previous", "update failed ERR10002", "end failed 1"]
        );
        assert_eq!(
            steps_of(with_previous(Action::Create, 0), ev(), 2),
            ["token", "previous", "update failed ERR10007", "end failed 1"]
        );
        let ev = vec![Event::Start, Event::TokenHad, Event::PreviousRead, Event::Delivered];
        assert_eq!(
            steps_of(with_previous(Action::Create, 0), ev, 2),
            ["token", "previous", "update failed ERR10007", "end failed 1"],
            "a stop after the read, before the hook"
        );
        // Invalid inputs are reported before it is read.
        let ev = vec![Event::Start, Event::TokenHad, Event::Delivered];
        assert_eq!(
            steps_of(
                Flow::new(Action::Create, vec!["bad".into()], 0).with_previous(true),
                ev,
                NEVER
            ),
            ["token", "update failed ERR10001", "end failed 1"]
        );
    }

    #[test]
    fn an_unexpected_event_ends_unreported() {
        let ev = vec![Event::Delivered];
        assert_eq!(steps(Action::Create, &[], 0, ev, NEVER), ["end not_reported"]);
    }
}
