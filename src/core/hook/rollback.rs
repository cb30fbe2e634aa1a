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
//! - A delete succeeded when the hook exited 0.

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
    /// Over: the sentence for the task's description.
    Done(String),
}

/// How one delete went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deleted {
    Yes,
    No,
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
}

/// One rollback of the ids a create wrote.
#[derive(Debug)]
pub(crate) struct Rollback {
    ids: Vec<String>,
    next: usize,
    budget: Duration,
    deleted: Vec<String>,
    failed: Vec<String>,
    cut_short: bool,
}

impl Rollback {
    /// `budget`: the hook timeout, for all the deletes together.
    pub(crate) fn new(ids: Vec<String>, budget: Duration) -> Rollback {
        Rollback {
            ids,
            next: 0,
            budget,
            deleted: Vec::new(),
            failed: Vec::new(),
            cut_short: false,
        }
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
        let left = self.budget.saturating_sub(elapsed);
        let since_stop = since_stop.map(|s| s.min(elapsed));
        let after_stop = ROLLBACK_AFTER_STOP.saturating_sub(since_stop.unwrap_or(Duration::ZERO));
        if self.next >= MAX_ROLLBACK_IDS || left.is_zero() || after_stop.is_zero() {
            self.cut_short = true;
            let rest: Vec<String> = self.ids[self.next..].to_vec();
            self.failed.extend(rest.iter().cloned());
            return RollbackStep::CutShort(rest);
        }
        let id = self.ids[self.next].clone();
        self.next += 1;
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
        }
    }

    /// What the description says of the credentials the create had made.
    fn sentence(&self) -> String {
        let mut sentence = String::new();
        if !self.failed.is_empty() {
            sentence.push_str(&format!(
                "Deleting the credentials it had created ({}) failed too; delete them by hand.",
                self.failed.join(", ")
            ));
        }
        if !self.deleted.is_empty() {
            if !sentence.is_empty() {
                sentence.push(' ');
            }
            sentence.push_str(&format!(
                "The credentials it had created ({}) were deleted again.",
                self.deleted.join(", ")
            ));
        }
        sentence
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
