//! The retry and stop policy as pure functions: what counts as success, what
//! to do after an attempt, and how long a call may go on after a stop.
//!
//! Every HTTP call goes through [`decide`]; nothing else decides whether to
//! try again.

/// Longest `Retry-After` honoured, in seconds.
pub(crate) const MAX_RETRY_AFTER_S: u64 = 60;
/// Longest backoff wait before one retry (before `Retry-After`), in ms.
pub(crate) const MAX_BACKOFF_MS: u64 = 30_000;
/// Most time one call spends waiting between its attempts, in ms. A retry
/// whose wait would go past it is not made.
pub(crate) const MAX_TOTAL_WAIT_MS: u64 = 120_000;
/// After a stop, the task update (the call that reports the stop) may go on
/// this long, attempts and waits included; every other call ends at once.
pub(crate) const REPORT_AFTER_STOP_MS: u64 = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Policy {
    /// Retries after the first attempt. Defaults to 3.
    pub(crate) retries: u32,
    /// First backoff in milliseconds, doubling each retry. Defaults to 500.
    pub(crate) base_ms: u64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            retries: 3,
            base_ms: 500,
        }
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Nothing reached the server: refused, no such host, connect or TLS
    /// handshake failure.
    Unsent,
    /// The request may have reached the server, but no reply came: the
    /// connection broke or timed out after it was sent.
    NoReply,
    /// A reply with this status.
    Status(u16),
}

impl Ended {
    /// Whether the server may have acted on the request without our knowing:
    /// a later failure of the same call is then ambiguous. A 502 or 504 comes
    /// from a gateway that may have passed the request on before it failed.
    pub(crate) fn may_have_arrived(self) -> bool {
        matches!(self, Ended::NoReply | Ended::Status(502 | 504))
    }
}

/// Success is a 2xx, for every call. A 3xx is a final failure (redirects are
/// never followed: a bearer token goes nowhere the job did not name).
pub(crate) fn is_success(status: u16) -> bool {
    (200..=299).contains(&status)
}

/// Whether this status is a redirect, reported with its `Location` host.
pub(crate) fn is_redirect(status: u16) -> bool {
    (300..=399).contains(&status)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Done,
    RetryAfterMs(u64),
    GiveUp,
}

/// Whether an outcome is worth another try: no reply, 429, 5xx.
pub(crate) fn retryable(outcome: Ended) -> bool {
    match outcome {
        Ended::Unsent | Ended::NoReply => true,
        Ended::Status(s) => s == 429 || (500..=599).contains(&s),
    }
}

/// Where one call stands when an attempt has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Progress {
    /// 0 for the first attempt.
    pub(crate) attempt: u32,
    /// Backoff already waited in this call, ms.
    pub(crate) waited_ms: u64,
    /// Time since the stop signal, ms; `None` without one.
    pub(crate) since_stop_ms: Option<u64>,
    /// Whether this call reports the task (the task update): it survives a
    /// stop, for [`REPORT_AFTER_STOP_MS`].
    pub(crate) reports: bool,
}

/// After an attempt ended with `outcome`: done, retry after a delay, or give
/// up. `retry_after_s` is the server's `Retry-After`; `random` any random
/// number (the jitter).
///
/// The delay is `base × 2^attempt` capped at [`MAX_BACKOFF_MS`], jittered
/// into its upper half, and at least the server's `Retry-After` (capped at
/// 60 s). A retry is not made when its wait would take the call past
/// [`MAX_TOTAL_WAIT_MS`] of waiting, or past its stop budget.
pub(crate) fn decide(policy: Policy, p: Progress, outcome: Ended, retry_after_s: Option<u64>, random: u64) -> Next {
    if let Ended::Status(s) = outcome
        && is_success(s)
    {
        return Next::Done;
    }
    if !retryable(outcome) || p.attempt >= policy.retries {
        return Next::GiveUp;
    }
    let backoff = policy
        .base_ms
        .saturating_mul(1u64 << p.attempt.min(32))
        .min(MAX_BACKOFF_MS);
    let half = backoff / 2;
    let jittered = half + random % (backoff - half + 1);
    let floor = retry_after_s.map_or(0, |s| s.min(MAX_RETRY_AFTER_S) * 1000);
    let delay = jittered.max(floor);
    if p.waited_ms.saturating_add(delay) > MAX_TOTAL_WAIT_MS {
        return Next::GiveUp;
    }
    if let Some(since) = p.since_stop_ms
        && since.saturating_add(delay) >= stop_budget_ms(p.reports)
    {
        return Next::GiveUp;
    }
    Next::RetryAfterMs(delay)
}

/// How long after a stop a call may still run: the task update
/// [`REPORT_AFTER_STOP_MS`], any other call nothing (its attempt in flight is
/// abandoned).
pub(crate) fn stop_budget_ms(reports: bool) -> u64 {
    if reports { REPORT_AFTER_STOP_MS } else { 0 }
}

/// `Retry-After` as delay-seconds. (The HTTP-date form is not used by IBM
/// Cloud; it is treated as absent.)
pub(crate) fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        retries: 3,
        base_ms: 500,
    };

    fn at(attempt: u32) -> Progress {
        Progress {
            attempt,
            ..Progress::default()
        }
    }

    #[test]
    fn only_2xx_is_success() {
        for s in [200, 201, 204, 299] {
            assert_eq!(decide(P, at(0), Ended::Status(s), None, 0), Next::Done, "{s}");
        }
        for s in [300, 301, 302, 304, 307, 308, 399] {
            assert_eq!(decide(P, at(0), Ended::Status(s), None, 0), Next::GiveUp, "{s}");
            assert!(is_redirect(s) && !is_success(s));
        }
        assert!(!is_success(199) && !is_redirect(400));
    }

    #[test]
    fn what_is_retried() {
        for s in [400, 401, 403, 404, 409] {
            assert_eq!(decide(P, at(0), Ended::Status(s), None, 0), Next::GiveUp, "{s}");
        }
        for o in [
            Ended::Unsent,
            Ended::NoReply,
            Ended::Status(429),
            Ended::Status(500),
            Ended::Status(503),
        ] {
            assert!(matches!(decide(P, at(0), o, None, 0), Next::RetryAfterMs(_)));
            assert_eq!(decide(P, at(3), o, None, 0), Next::GiveUp);
        }
        assert!(Ended::NoReply.may_have_arrived());
        assert!(!Ended::Unsent.may_have_arrived() && !Ended::Status(500).may_have_arrived());
    }

    #[test]
    fn backoff_doubles_with_jitter_in_upper_half() {
        for (attempt, lo, hi) in [(0, 250, 500), (1, 500, 1000), (2, 1000, 2000)] {
            for r in [0, 1, 7, 499, 12345, u64::MAX] {
                let Next::RetryAfterMs(d) = decide(P, at(attempt), Ended::Unsent, None, r) else {
                    panic!()
                };
                assert!((lo..=hi).contains(&d), "{attempt} {r} {d}");
            }
        }
    }

    #[test]
    fn every_wait_and_the_whole_sequence_are_capped() {
        let p = Policy {
            retries: 20,
            base_ms: 60_000,
        };
        let mut waited = 0;
        let mut attempt = 0;
        loop {
            let prog = Progress {
                attempt,
                waited_ms: waited,
                ..Progress::default()
            };
            match decide(p, prog, Ended::Status(503), None, u64::MAX) {
                Next::RetryAfterMs(d) => {
                    assert!(d <= MAX_BACKOFF_MS, "{d}");
                    waited += d;
                    attempt += 1;
                }
                v => {
                    assert_eq!(v, Next::GiveUp);
                    break;
                }
            }
        }
        assert!(waited <= MAX_TOTAL_WAIT_MS, "{waited}");
        assert!(attempt >= 4, "{attempt}");
        // Retry-After is a floor, capped, and counts against the total too.
        let prog = Progress {
            attempt: 1,
            waited_ms: 100_000,
            ..Progress::default()
        };
        assert_eq!(decide(p, prog, Ended::Status(429), Some(60), 0), Next::GiveUp);
    }

    #[test]
    fn retry_after_is_a_floor_capped_at_60s() {
        assert_eq!(
            decide(P, at(0), Ended::Status(429), Some(2), 0),
            Next::RetryAfterMs(2000)
        );
        assert_eq!(
            decide(P, at(0), Ended::Status(429), Some(3600), 0),
            Next::RetryAfterMs(60_000)
        );
        assert_eq!(parse_retry_after(" 7 "), Some(7));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn a_stop_ends_retries_except_the_reports_within_its_budget() {
        let stopped = |reports, since| Progress {
            attempt: 0,
            waited_ms: 0,
            since_stop_ms: Some(since),
            reports,
        };
        // Other calls: no retry after a stop.
        assert_eq!(decide(P, stopped(false, 0), Ended::Unsent, None, 0), Next::GiveUp);
        // The task update keeps its backoff and Retry-After (no back-to-back
        // retries), within its budget.
        assert_eq!(
            decide(P, stopped(true, 0), Ended::Status(503), None, 0),
            Next::RetryAfterMs(250)
        );
        assert_eq!(
            decide(P, stopped(true, 1000), Ended::Status(429), Some(2), 0),
            Next::RetryAfterMs(2000)
        );
        assert_eq!(
            decide(P, stopped(true, 9000), Ended::Status(429), Some(2), 0),
            Next::GiveUp
        );
        assert_eq!(stop_budget_ms(false), 0);
        assert_eq!(stop_budget_ms(true), REPORT_AFTER_STOP_MS);
    }
}
