//! When the hook's process group gets SIGTERM and SIGKILL, without I/O:
//! times are offsets from the hook's start, so the rules are unit-tested
//! without processes or clocks.
//!
//! - At its timeout, or `after_stop` after a stop (a run that starts after
//!   the stop counts from its own start), the group gets SIGTERM — once,
//!   whichever comes first, and that decides how the run ended.
//! - [`KILL_GRACE`] after the SIGTERM, SIGKILL.
//! - Once the hook's own process has ended, credhook reads its pipes for at
//!   most [`DRAIN_LIMIT`] more, and not past the moment its process group
//!   is gone (the driver sees that: docs/RELIABILITY.md, "When the hook
//!   exits").

use crate::core::hook::verdict::Ending;
use core::time::Duration;

/// SIGKILL follows SIGTERM after this long.
pub(crate) const KILL_GRACE: Duration = Duration::from_secs(5);
/// Pipes are read at most this long after the hook's own process ended.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    Term,
    Kill,
}

/// Why credhook ended the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EndedBy {
    Timeout,
    Stop,
}

impl EndedBy {
    pub(crate) fn ending(self) -> Ending {
        match self {
            EndedBy::Timeout => Ending::TimedOut,
            EndedBy::Stop => Ending::Stopped,
        }
    }
}

#[derive(Debug)]
pub(crate) struct HookClock {
    timeout: Duration,
    after_stop: Duration,
    ended_by: Option<EndedBy>,
    kill_at: Option<Duration>,
}

impl HookClock {
    pub(crate) fn new(timeout: Duration, after_stop: Duration) -> HookClock {
        HookClock {
            timeout,
            after_stop,
            ended_by: None,
            kill_at: None,
        }
    }

    /// When the stop (received at `stopped_at`, which may be before this
    /// run started: then 0) ends the run.
    fn stop_deadline(&self, stopped_at: Option<Duration>) -> Option<Duration> {
        stopped_at.map(|at| at + self.after_stop)
    }

    /// The signal to send at `now`, if any.
    pub(crate) fn tick(&mut self, now: Duration, stopped_at: Option<Duration>) -> Option<Signal> {
        if self.ended_by.is_none() {
            let by = if self.stop_deadline(stopped_at).is_some_and(|at| now >= at) {
                Some(EndedBy::Stop)
            } else if now >= self.timeout {
                Some(EndedBy::Timeout)
            } else {
                None
            };
            if let Some(by) = by {
                self.ended_by = Some(by);
                self.kill_at = Some(now + KILL_GRACE);
                return Some(Signal::Term);
            }
        }
        if self.kill_at.is_some_and(|k| now >= k) {
            self.kill_at = None;
            return Some(Signal::Kill);
        }
        None
    }

    /// The next time something is due, for a `poll` timeout.
    pub(crate) fn next_due(&self, stopped_at: Option<Duration>) -> Option<Duration> {
        let pending = |d: Option<Duration>| d.filter(|_| self.ended_by.is_none());
        [
            pending(Some(self.timeout)),
            pending(self.stop_deadline(stopped_at)),
            self.kill_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether credhook ended the run, and why.
    pub(crate) fn ended_by(&self) -> Option<EndedBy> {
        self.ended_by
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_timeout_is_term_then_kill_five_seconds_later() {
        let mut c = HookClock::new(S(10), S(0));
        assert_eq!(c.tick(S(9), None), None);
        assert_eq!(c.next_due(None), Some(S(10)));
        assert_eq!(c.tick(S(10), None), Some(Signal::Term));
        assert_eq!(c.ended_by(), Some(EndedBy::Timeout));
        assert_eq!(c.tick(S(12), None), None);
        assert_eq!(c.next_due(None), Some(S(15)));
        assert_eq!(c.tick(S(15), None), Some(Signal::Kill));
        assert_eq!(c.tick(S(30), None), None);
    }

    #[test]
    fn a_stop_ends_the_hook_at_once_or_after_its_grace() {
        let mut c = HookClock::new(S(300), S(0));
        assert_eq!(c.tick(S(1), Some(S(1))), Some(Signal::Term));
        assert_eq!(c.ended_by(), Some(EndedBy::Stop));
        // A rollback started after the stop gets 15 s, then TERM, then KILL.
        let mut r = HookClock::new(S(300), S(15));
        assert_eq!(r.tick(S(14), Some(S(0))), None);
        assert_eq!(r.next_due(Some(S(0))), Some(S(15)));
        assert_eq!(r.tick(S(15), Some(S(0))), Some(Signal::Term));
        assert_eq!(r.tick(S(20), Some(S(0))), Some(Signal::Kill));
    }

    #[test]
    fn the_first_reason_wins_and_term_is_sent_once() {
        let mut c = HookClock::new(S(5), S(0));
        assert_eq!(c.tick(S(5), None), Some(Signal::Term));
        assert_eq!(c.tick(S(6), Some(S(6))), None);
        assert_eq!(c.ended_by(), Some(EndedBy::Timeout));
    }
}
