//! The rollback policy, without I/O: which of the ids a failed create wrote
//! are deleted, within what time, and what the task's description says of
//! them afterwards. The driver runs each [`RollbackStep::Delete`] through the
//! hook's `delete` and tells [`Rollback::record`] how it went; time is
//! injected (offsets from the rollback's start and from the stop), so every
//! rule is unit-tested without processes or clocks.
//!
//! - At most [`MAX_ROLLBACK_IDS`] ids are deleted; the rest are named to be
//!   deleted by hand.
//! - One budget for them all: the hook timeout, however many ids there are.
//! - After a stop the whole rollback gets [`ROLLBACK_AFTER_STOP`] (counted
//!   from the stop, or from the rollback's start if it began later), then its
//!   hook SIGTERM and SIGKILL [`KILL_GRACE`] later: at most 20 s in all, the
//!   platform's grace period.
//! - A delete succeeded when the hook exited 0; it found the credentials
//!   already gone when it also wrote `already_gone=true` on its output
//!   channel. The sentence says "deleted" and "already gone" only so.
//! - An id holding a control character cannot be given to the hook's
//!   delete (`SM_CREDENTIALS_ID` cannot carry a NUL; no vendor's id holds
//!   one): it is named to be deleted by hand, and the others are deleted.
//! - Ids are metadata: the sentence names them as written (control
//!   characters escaped) and is never masked; its other words are credhook's.

use crate::core::hook::channel;
use crate::core::hook::clock::KILL_GRACE;
use crate::core::hook::verdict::Ending;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;

/// At most this many ids are deleted by one rollback.
pub(crate) const MAX_ROLLBACK_IDS: usize = 16;
/// After a stop the whole rollback may run this long before its hook gets
/// SIGTERM (then SIGKILL [`KILL_GRACE`] later).
pub(crate) const ROLLBACK_AFTER_STOP: Duration = Duration::from_secs(15);

const _: () = assert!(ROLLBACK_AFTER_STOP.as_secs() + KILL_GRACE.as_secs() <= 20);

/// What the driver does next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RollbackStep {
    /// Run the hook's `delete` for `id`: at most `timeout`, and at most
    /// `after_stop` after a stop (or after its start, if it starts after one).
    Delete {
        id: String,
        timeout: Duration,
        after_stop: Duration,
    },
    /// These ids will not be deleted: past [`MAX_ROLLBACK_IDS`] or the
    /// budget. Log them to be deleted by hand; the next step is `Done`.
    CutShort(Vec<String>),
    /// This id holds a control character: no delete can be given it. Log it
    /// to be deleted by hand; then ask for the next step.
    Unusable(String),
    /// Over: the sentence for the task's description.
    Done(String),
}

/// How one delete went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deleted {
    Yes,
    No,
    /// It succeeded and wrote `already_gone=true`: there was nothing to delete.
    AlreadyGone,
}

impl Deleted {
    /// A rollback's delete succeeded when the hook exited 0.
    pub(crate) fn from_ending(ending: &Ending) -> Deleted {
        if matches!(ending, Ending::Exited(0)) {
            Deleted::Yes
        } else {
            Deleted::No
        }
    }

    /// As [`Deleted::from_ending`], and already gone when a successful
    /// delete's `output` says so.
    pub(crate) fn of(ending: &Ending, output: &[u8]) -> Deleted {
        match Deleted::from_ending(ending) {
            Deleted::Yes if channel::said_already_gone(output) => Deleted::AlreadyGone,
            d => d,
        }
    }
}

/// One rollback of the ids a create wrote.
#[derive(Debug)]
pub(crate) struct Rollback {
    ids: Vec<String>,
    next: usize,
    budget: Duration,
    /// Deletes started.
    attempts: usize,
    deleted: Vec<String>,
    gone: Vec<String>,
    failed: Vec<String>,
    unusable: Vec<String>,
    cut_short: bool,
}

impl Rollback {
    /// `budget`: the hook timeout, for all the deletes together.
    pub(crate) fn new(ids: Vec<String>, budget: Duration) -> Rollback {
        Rollback {
            ids,
            next: 0,
            budget,
            attempts: 0,
            deleted: Vec::new(),
            gone: Vec::new(),
            failed: Vec::new(),
            unusable: Vec::new(),
            cut_short: false,
        }
    }

    /// The rollback of `ids`, or `None` when there is nothing to delete:
    /// then nothing is logged and the description says nothing of it.
    pub(crate) fn start(ids: Vec<String>, budget: Duration) -> Option<Rollback> {
        (!ids.is_empty()).then(|| Rollback::new(ids, budget))
    }

    /// Every id, for the line logged before the first delete (so none is
    /// lost silently if the platform kills the job).
    pub(crate) fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The next step. `elapsed`: since the rollback started;
    /// `since_stop`: since the stop signal, if one came (counted from the
    /// rollback's start if it came before).
    pub(crate) fn next(&mut self, elapsed: Duration, since_stop: Option<Duration>) -> RollbackStep {
        if self.next >= self.ids.len() || self.cut_short {
            return RollbackStep::Done(self.sentence());
        }
        if !channel::usable_id(&self.ids[self.next]) {
            let id = self.ids[self.next].clone();
            self.next += 1;
            self.unusable.push(id.clone());
            return RollbackStep::Unusable(id);
        }
        let left = self.budget.saturating_sub(elapsed);
        let since_stop = since_stop.map(|s| s.min(elapsed));
        let after_stop = ROLLBACK_AFTER_STOP.saturating_sub(since_stop.unwrap_or(Duration::ZERO));
        if self.attempts >= MAX_ROLLBACK_IDS || left.is_zero() || after_stop.is_zero() {
            self.cut_short = true;
            let rest: Vec<String> = self.ids[self.next..].to_vec();
            self.failed.extend(rest.iter().cloned());
            return RollbackStep::CutShort(rest);
        }
        let id = self.ids[self.next].clone();
        self.next += 1;
        self.attempts += 1;
        RollbackStep::Delete {
            id,
            timeout: left,
            after_stop,
        }
    }

    /// How the delete of the id the last [`RollbackStep::Delete`] named went.
    pub(crate) fn record(&mut self, id: &str, outcome: Deleted) {
        match outcome {
            Deleted::Yes => self.deleted.push(String::from(id)),
            Deleted::No => self.failed.push(String::from(id)),
            Deleted::AlreadyGone => self.gone.push(String::from(id)),
        }
    }

    /// What the description says of the credentials the create had made:
    /// ids no delete could be given, ids whose delete failed or never ran,
    /// ids deleted, ids already gone.
    fn sentence(&self) -> String {
        let list = |ids: &[String]| -> String {
            let shown: Vec<String> = ids.iter().map(|id| id.escape_debug().collect()).collect();
            shown.join(", ")
        };
        let mut parts: Vec<String> = Vec::new();
        if !self.unusable.is_empty() {
            parts.push(format!(
                "The credentials id it wrote ({}) holds a control character, so credhook could not delete \
                 those credentials; delete them by hand.",
                list(&self.unusable)
            ));
        }
        if !self.failed.is_empty() {
            parts.push(format!(
                "Deleting the credentials it had created ({}) failed too; delete them by hand.",
                list(&self.failed)
            ));
        }
        if !self.deleted.is_empty() {
            parts.push(format!(
                "The credentials it had created ({}) were deleted again.",
                list(&self.deleted)
            ));
        }
        if !self.gone.is_empty() {
            parts.push(format!(
                "The credentials it named ({}) were already gone, its delete said: there was nothing to delete.",
                list(&self.gone)
            ));
        }
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| alloc::format!("c-{i}")).collect()
    }

    #[test]
    fn no_ids_no_rollback() {
        assert!(Rollback::start(Vec::new(), S(300)).is_none());
        assert_eq!(Rollback::start(ids(1), S(300)).map(|r| r.ids().len()), Some(1));
    }

    #[test]
    fn every_id_is_deleted_within_one_budget() {
        let mut r = Rollback::new(ids(2), S(300));
        assert_eq!(
            r.next(S(0), None),
            RollbackStep::Delete {
                id: "c-0".into(),
                timeout: S(300),
                after_stop: ROLLBACK_AFTER_STOP
            }
        );
        r.record("c-0", Deleted::Yes);
        // The second gets what the first left of the budget.
        assert!(matches!(r.next(S(100), None), RollbackStep::Delete { timeout, .. } if timeout == S(200)));
        r.record("c-1", Deleted::No);
        assert_eq!(
            r.next(S(120), None),
            RollbackStep::Done(
                "Deleting the credentials it had created (c-1) failed too; delete them by hand. \
                 The credentials it had created (c-0) were deleted again."
                    .to_string()
            )
        );
    }

    #[test]
    fn at_most_sixteen_ids_the_rest_by_hand() {
        let mut r = Rollback::new(ids(20), S(300));
        for i in 0..MAX_ROLLBACK_IDS {
            let RollbackStep::Delete { id, .. } = r.next(S(0), None) else {
                panic!("delete {i}")
            };
            r.record(&id, Deleted::Yes);
        }
        assert_eq!(
            r.next(S(1), None),
            RollbackStep::CutShort(vec!["c-16".into(), "c-17".into(), "c-18".into(), "c-19".into()])
        );
        let RollbackStep::Done(s) = r.next(S(1), None) else {
            panic!()
        };
        assert!(s.starts_with("Deleting the credentials it had created (c-16, c-17, c-18, c-19) failed too"));
    }

    #[test]
    fn a_spent_budget_or_stop_window_cuts_it_short() {
        let mut r = Rollback::new(ids(3), S(10));
        assert!(matches!(r.next(S(0), None), RollbackStep::Delete { .. }));
        r.record("c-0", Deleted::Yes);
        assert_eq!(
            r.next(S(10), None),
            RollbackStep::CutShort(vec!["c-1".into(), "c-2".into()])
        );
        // After a stop: what is left of the 15 s, counted from the stop or
        // from the rollback's start if the stop came before it.
        let mut r = Rollback::new(ids(2), S(300));
        assert!(
            matches!(r.next(S(0), Some(S(40))), RollbackStep::Delete { after_stop, .. } if after_stop == ROLLBACK_AFTER_STOP)
        );
        r.record("c-0", Deleted::No);
        assert!(matches!(r.next(S(5), Some(S(5))), RollbackStep::Delete { after_stop, .. } if after_stop == S(10)));
        let mut r = Rollback::new(ids(1), S(300));
        assert_eq!(r.next(S(15), Some(S(15))), RollbackStep::CutShort(vec!["c-0".into()]));
    }

    #[test]
    fn the_sentence_says_deleted_and_already_gone_only_when_so() {
        let mut r = Rollback::new(ids(3), S(300));
        for d in [Deleted::AlreadyGone, Deleted::No, Deleted::Yes] {
            let RollbackStep::Delete { id, .. } = r.next(S(0), None) else {
                panic!()
            };
            r.record(&id, d);
        }
        let RollbackStep::Done(s) = r.next(S(0), None) else {
            panic!()
        };
        assert_eq!(
            s,
            "Deleting the credentials it had created (c-1) failed too; delete them by hand. \
             The credentials it had created (c-2) were deleted again. \
             The credentials it named (c-0) were already gone, its delete said: there was nothing to delete."
        );
        assert_eq!(
            Deleted::of(&Ending::Exited(0), b"already_gone=true\n"),
            Deleted::AlreadyGone
        );
        assert_eq!(
            Deleted::of(&Ending::Exited(0), b"ALREADY_GONE = TRUE\n"),
            Deleted::AlreadyGone
        );
        assert_eq!(Deleted::of(&Ending::Exited(0), b"already_gone=false\n"), Deleted::Yes);
        assert_eq!(Deleted::of(&Ending::Exited(1), b"already_gone=true\n"), Deleted::No);
    }

    #[test]
    fn an_id_with_a_control_character_is_named_and_the_others_deleted() {
        let mut r = Rollback::new(vec!["c\0nul".into(), "c-ok".into()], S(300));
        assert_eq!(r.next(S(0), None), RollbackStep::Unusable("c\0nul".into()));
        let RollbackStep::Delete { id, .. } = r.next(S(0), None) else {
            panic!()
        };
        assert_eq!(id, "c-ok");
        r.record(&id, Deleted::Yes);
        let RollbackStep::Done(s) = r.next(S(0), None) else {
            panic!()
        };
        assert!(
            s.starts_with("The credentials id it wrote (c\\0nul) holds a control character"),
            "{s}"
        );
        assert!(s.ends_with("(c-ok) were deleted again."), "{s}");
    }

    #[test]
    fn success_is_exit_zero() {
        assert_eq!(Deleted::from_ending(&Ending::Exited(0)), Deleted::Yes);
        for e in [
            Ending::Exited(1),
            Ending::Signaled(9),
            Ending::TimedOut,
            Ending::Stopped,
        ] {
            assert_eq!(Deleted::from_ending(&e), Deleted::No, "{e:?}");
        }
    }
}
