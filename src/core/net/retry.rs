//! The retry policy as data, and the one function that applies it: what
//! counts as success, which outcomes are worth another attempt, how long to
//! wait, and when to give up (a count, a time window, a stop).
//!
//! Every HTTPS call credhook makes goes through [`decide`]: the job's calls
//! to IAM and Secrets Manager and the hook's `credhook http` alike. They
//! differ only in the [`RetryPolicy`] they pass (see
//! [`super::policy`] and [`crate::core::tools::http_rules::policy`]).

use super::method::Method;

/// Longest `Retry-After` honoured, in seconds.
pub(crate) const MAX_RETRY_AFTER_S: u64 = 60;
/// Most jitter added to a `Retry-After`, in ms (at most half of it): runs
/// told the same `Retry-After` at the same moment do not all come back at
/// once.
pub(crate) const MAX_RETRY_AFTER_JITTER_MS: u64 = 5_000;
/// After a stop, the report (the task update, and the token refresh it
/// needs) may go on this long, attempts and waits included.
pub(crate) const REPORT_AFTER_STOP_MS: u64 = 10_000;

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Nothing reached the server: no such host, connection refused or
    /// failed, the TLS handshake refused (see the driver's one rule).
    Unsent,
    /// The request may have reached the server, but no reply came: the
    /// connection broke or timed out after it was sent.
    NoReply,
    /// A reply whose body was over the cap: a malformed reply, never
    /// retried. The server got the request; what it did is unknown.
    TooLarge,
    /// A reply with this status.
    Status(u16),
}

/// Success is a 2xx, for every call.
pub(crate) fn is_success(status: u16) -> bool {
    (200..=299).contains(&status)
}

/// Which failed outcomes a policy repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryStatuses {
    /// No reply, 429 and any 5xx: credhook's own calls to IAM and Secrets
    /// Manager (a failover answers 5xx from whichever part is down).
    ServerErrors,
    /// No reply, 429 and 503: `credhook http --retry`. Other 5xx mean the
    /// server answered, and may have acted.
    Unavailable,
}

impl RetryStatuses {
    fn allow(self, outcome: Ended) -> bool {
        match (self, outcome) {
            (_, Ended::Unsent | Ended::NoReply) => true,
            (_, Ended::TooLarge) => false,
            (_, Ended::Status(429)) => true,
            (RetryStatuses::ServerErrors, Ended::Status(s)) => (500..=599).contains(&s),
            (RetryStatuses::Unavailable, Ended::Status(s)) => s == 503,
        }
    }
}

/// Which methods a policy may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Repeatable {
    /// GET, HEAD, PUT, DELETE: repeating them does no harm. `credhook
    /// http`'s default.
    #[default]
    Idempotent,
    /// `--retry-post`: POST too. A retried create can make a second credential.
    AlsoPost,
    /// `--retry-any`, and credhook's own calls (its one POST, the IAM token,
    /// creates nothing): every method.
    Any,
}

impl Repeatable {
    pub(crate) fn allows(self, m: Method) -> bool {
        match m {
            Method::Get | Method::Head | Method::Put | Method::Delete => true,
            Method::Post => self != Repeatable::Idempotent,
            Method::Patch => self == Repeatable::Any,
        }
    }
}

/// When and how often a call is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    pub(crate) statuses: RetryStatuses,
    pub(crate) methods: Repeatable,
    /// Most retries after the first attempt; `None`: the window alone decides.
    pub(crate) retries: Option<u32>,
    /// No retry starts later than this after the call's first attempt began,
    /// in ms.
    pub(crate) window_ms: u64,
    /// A wait that would end past the window: cut to end with it, for one
    /// last attempt (the job: an outage, or a `Retry-After`, that outlasts
    /// the backoff still gets a try before the window is spent), or no
    /// retry at all (`credhook http`: its window is `--max-time`, which would
    /// leave that attempt no time).
    pub(crate) last_try_at_window_end: bool,
    /// Whether a `Retry-After` is jittered (the job: a fleet of runs refused
    /// together must not all come back together), or honoured to the
    /// second (`credhook http`, one caller).
    pub(crate) jitter_retry_after: bool,
    /// The first backoff in ms, doubling each retry, jittered into its upper
    /// half.
    pub(crate) base_ms: u64,
    /// The longest backoff wait, in ms (a `Retry-After` may ask for more, up
    /// to [`MAX_RETRY_AFTER_S`]).
    pub(crate) max_wait_ms: u64,
    /// Most time spent waiting between attempts in all, in ms; `None`: the
    /// window alone bounds it.
    pub(crate) max_total_wait_ms: Option<u64>,
    /// After a stop signal, how long the call may go on, in ms (0: it ends
    /// at once); `None`: stops are not this call's to watch (`credhook
    /// http`, which a stop simply ends).
    pub(crate) after_stop_ms: Option<u64>,
}

/// Where one call stands when an attempt has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Progress {
    /// 0 for the first attempt.
    pub(crate) attempt: u32,
    /// Time since the call's first attempt began, ms.
    pub(crate) elapsed_ms: u64,
    /// Backoff already waited in this call, ms.
    pub(crate) waited_ms: u64,
    /// Time since the stop signal (or since this call began, if later), ms;
    /// `None` without one.
    pub(crate) since_stop_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Done,
    RetryAfterMs(u64),
    GiveUp,
}

/// After an attempt of `method` ended with `outcome`: done, retry after a
/// delay, or give up. `retry_after_s` is the server's `Retry-After`;
/// `random` any random number (the jitter).
///
/// The delay is `base × 2^attempt` capped at the policy's `max_wait_ms`,
/// jittered into its upper half, and at least the server's `Retry-After`
/// (capped at [`MAX_RETRY_AFTER_S`]), plus a jitter of up to half of it
/// ([`MAX_RETRY_AFTER_JITTER_MS`] at most) when the policy says so. A backoff that would end past the
/// window is cut to end with it when the policy makes a last try there (a
/// `Retry-After` is still honoured, even past the window's end); else, and
/// once the window is spent, no retry is made. Nor is one when the policy's
/// count is spent, or its wait would go past the total-wait cap or the
/// call's stop budget.
pub(crate) fn decide(
    policy: &RetryPolicy,
    method: Method,
    p: Progress,
    outcome: Ended,
    retry_after_s: Option<u64>,
    random: u64,
) -> Next {
    if let Ended::Status(s) = outcome
        && is_success(s)
    {
        return Next::Done;
    }
    if !policy.statuses.allow(outcome) || !policy.methods.allows(method) {
        return Next::GiveUp;
    }
    if policy.retries.is_some_and(|n| p.attempt >= n) {
        return Next::GiveUp;
    }
    let floor = retry_after_floor_ms(retry_after_s, policy.jitter_retry_after.then_some(random));
    let mut delay = backoff_ms(policy, p.attempt, random).max(floor);
    if p.elapsed_ms.saturating_add(delay) >= policy.window_ms {
        if !policy.last_try_at_window_end || p.elapsed_ms >= policy.window_ms {
            return Next::GiveUp;
        }
        // The backoff ends with the window; the server's Retry-After is
        // still honoured, even past it.
        delay = (policy.window_ms - p.elapsed_ms).max(floor);
    }
    if policy
        .max_total_wait_ms
        .is_some_and(|max| p.waited_ms.saturating_add(delay) > max)
    {
        return Next::GiveUp;
    }
    if let (Some(budget), Some(since)) = (policy.after_stop_ms, p.since_stop_ms)
        && since.saturating_add(delay) >= budget
    {
        return Next::GiveUp;
    }
    Next::RetryAfterMs(delay)
}

/// The server's `Retry-After` (capped), plus, given a `random` number, a
/// jitter of up to half of it (at most [`MAX_RETRY_AFTER_JITTER_MS`]); 0
/// without one. Without the jitter, a fleet of runs refused together would
/// all retry together.
fn retry_after_floor_ms(retry_after_s: Option<u64>, random: Option<u64>) -> u64 {
    let floor = retry_after_s.map_or(0, |s| s.min(MAX_RETRY_AFTER_S) * 1000);
    let spread = (floor / 2).min(MAX_RETRY_AFTER_JITTER_MS);
    // Other bits of the random number than the backoff's jitter uses.
    floor + random.map_or(0, |r| r.rotate_left(32) % (spread + 1))
}

/// The backoff before retry number `attempt + 1`: doubling from the base,
/// capped, jittered into its upper half.
fn backoff_ms(policy: &RetryPolicy, attempt: u32, random: u64) -> u64 {
    let backoff = policy
        .base_ms
        .saturating_mul(1u64 << attempt.min(32))
        .min(policy.max_wait_ms);
    let half = backoff / 2;
    half + random % (backoff - half + 1)
}

/// Whether a stop has ended the call: its budget after the stop is spent.
/// (`None` when stops are not the call's to watch, or none came.)
pub(crate) fn stopped(policy: &RetryPolicy, since_stop_ms: Option<u64>) -> bool {
    matches!((policy.after_stop_ms, since_stop_ms), (Some(budget), Some(since)) if since >= budget)
}

/// Whether a backoff wait a stop interrupted goes on: only if the rest of
/// it (`left_ms`) still ends before the call's budget after the stop is spent (the
/// report keeps its backoff); else the call gives up now.
pub(crate) fn wait_survives_stop(policy: &RetryPolicy, since_stop_ms: Option<u64>, left_ms: u64) -> bool {
    !stopped(policy, since_stop_ms.map(|s| s.saturating_add(left_ms)))
}

/// `Retry-After` as delay-seconds. (The HTTP-date form is not used by IBM
/// Cloud; it is treated as absent.)
pub(crate) fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The job's old defaults: 3 retries, 500 ms, a 30 s cap.
    const P: RetryPolicy = RetryPolicy {
        statuses: RetryStatuses::ServerErrors,
        methods: Repeatable::Any,
        retries: Some(3),
        window_ms: 600_000,
        base_ms: 500,
        max_wait_ms: 30_000,
        max_total_wait_ms: Some(120_000),
        after_stop_ms: Some(0),
        last_try_at_window_end: false,
        jitter_retry_after: true,
    };

    fn at(attempt: u32) -> Progress {
        Progress {
            attempt,
            ..Progress::default()
        }
    }

    fn get(policy: &RetryPolicy, p: Progress, o: Ended, ra: Option<u64>, r: u64) -> Next {
        decide(policy, Method::Get, p, o, ra, r)
    }

    #[test]
    fn only_2xx_is_success() {
        for s in [200, 201, 204, 299] {
            assert_eq!(get(&P, at(0), Ended::Status(s), None, 0), Next::Done, "{s}");
        }
        for s in [199, 300, 301, 302, 304, 307, 308, 399, 400] {
            assert_eq!(get(&P, at(0), Ended::Status(s), None, 0), Next::GiveUp, "{s}");
        }
    }

    #[test]
    fn what_each_policy_retries() {
        let tool = RetryPolicy {
            statuses: RetryStatuses::Unavailable,
            ..P
        };
        for s in [400, 401, 403, 404, 409] {
            assert_eq!(get(&P, at(0), Ended::Status(s), None, 0), Next::GiveUp, "{s}");
        }
        for o in [Ended::Unsent, Ended::NoReply, Ended::Status(429), Ended::Status(503)] {
            for policy in [&P, &tool] {
                assert!(matches!(get(policy, at(0), o, None, 0), Next::RetryAfterMs(_)), "{o:?}");
                assert_eq!(get(policy, at(3), o, None, 0), Next::GiveUp, "{o:?}: count spent");
            }
        }
        for s in [500, 502, 504, 599] {
            assert!(matches!(
                get(&P, at(0), Ended::Status(s), None, 0),
                Next::RetryAfterMs(_)
            ));
            assert_eq!(get(&tool, at(0), Ended::Status(s), None, 0), Next::GiveUp, "{s}");
        }
        // A body over the cap is a malformed reply: never repeated.
        assert_eq!(get(&P, at(0), Ended::TooLarge, None, 0), Next::GiveUp);
    }

    #[test]
    fn methods_are_repeated_only_as_the_policy_allows() {
        use Method::*;
        let with = |methods| RetryPolicy { methods, ..P };
        for m in [Get, Head, Put, Delete] {
            assert!(Repeatable::Idempotent.allows(m), "{m:?}");
        }
        for (m, scope, yes) in [
            (Post, Repeatable::Idempotent, false),
            (Patch, Repeatable::Idempotent, false),
            (Post, Repeatable::AlsoPost, true),
            (Patch, Repeatable::AlsoPost, false),
            (Patch, Repeatable::Any, true),
        ] {
            let next = decide(&with(scope), m, at(0), Ended::Unsent, None, 0);
            assert_eq!(matches!(next, Next::RetryAfterMs(_)), yes, "{m:?} {scope:?}");
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_in_upper_half() {
        for (attempt, lo, hi) in [(0, 250, 500), (1, 500, 1000), (2, 1000, 2000)] {
            for r in [0, 1, 7, 499, 12345, u64::MAX] {
                let Next::RetryAfterMs(d) = get(&P, at(attempt), Ended::Unsent, None, r) else {
                    panic!()
                };
                assert!((lo..=hi).contains(&d), "{attempt} {r} {d}");
            }
        }
    }

    #[test]
    fn every_wait_and_the_whole_sequence_are_capped() {
        let p = RetryPolicy {
            retries: Some(20),
            base_ms: 60_000,
            ..P
        };
        let (mut waited, mut attempt) = (0, 0);
        while let Next::RetryAfterMs(d) = get(
            &p,
            Progress {
                attempt,
                waited_ms: waited,
                ..Progress::default()
            },
            Ended::Status(503),
            None,
            u64::MAX,
        ) {
            assert!(d <= p.max_wait_ms, "{d}");
            waited += d;
            attempt += 1;
        }
        assert!(waited <= 120_000 && attempt >= 4, "{waited} {attempt}");
        // Retry-After is a floor, capped at 60 s, and counts against the total too.
        let late = Progress {
            attempt: 1,
            waited_ms: 100_000,
            ..Progress::default()
        };
        assert_eq!(get(&p, late, Ended::Status(429), Some(60), 0), Next::GiveUp);
        assert_eq!(get(&P, at(0), Ended::Status(429), Some(2), 0), Next::RetryAfterMs(2000));
        assert_eq!(
            get(&P, at(0), Ended::Status(429), Some(99_999), 0),
            Next::RetryAfterMs(60_000)
        );
        assert_eq!(parse_retry_after(" 7 "), Some(7));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    /// Found by a hostile review of issue 20: 200 runs refused with the
    /// same `Retry-After` came back within the same 750 ms (the herd
    /// re-formed). The wait is jittered over up to half of it, at most 5 s.
    #[test]
    fn a_retry_after_is_jittered_so_a_fleet_does_not_come_back_at_once() {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for (ra, lo, spread) in [(1, 1_000, 500), (20, 20_000, 5_000), (99_999, 60_000, 5_000)] {
            let delays: alloc::vec::Vec<u64> = (0..200)
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    match get(&P, at(0), Ended::Status(429), Some(ra), rng) {
                        Next::RetryAfterMs(d) => d,
                        other => panic!("{other:?}"),
                    }
                })
                .collect();
            let (min, max) = (delays.iter().min().copied(), delays.iter().max().copied());
            assert!(
                delays.iter().all(|d| (lo..=lo + spread).contains(d)),
                "{ra}: {delays:?}"
            );
            // Spread over most of the range, not bunched.
            let span = max.zip(min).map_or(0, |(a, b)| a - b);
            assert!(span * 10 >= spread * 9, "{ra}: {min:?}..{max:?}");
            let mut sorted = delays.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert!(sorted.len() * 2 > delays.len(), "{ra}: too few distinct waits");
        }
        // credhook http, one caller, waits exactly as asked.
        let exact = RetryPolicy {
            jitter_retry_after: false,
            ..P
        };
        assert_eq!(
            get(&exact, at(0), Ended::Status(429), Some(20), rng),
            Next::RetryAfterMs(20_000)
        );
    }

    #[test]
    fn the_window_alone_decides_without_a_count() {
        let p = RetryPolicy {
            retries: None,
            window_ms: 60_000,
            max_wait_ms: 5_000,
            max_total_wait_ms: None,
            last_try_at_window_end: true,
            ..P
        };
        // Attempts keep coming, each wait capped, the last at the window's
        // end.
        let (mut elapsed, mut attempt) = (0u64, 0u32);
        while let Next::RetryAfterMs(d) = get(
            &p,
            Progress {
                attempt,
                elapsed_ms: elapsed,
                ..Progress::default()
            },
            Ended::Status(503),
            None,
            u64::MAX,
        ) {
            assert!(d <= 5_000);
            elapsed += d + 100; // the attempt itself
            attempt += 1;
        }
        assert!(
            (60_000..60_000 + 100 * u64::from(attempt)).contains(&elapsed),
            "{elapsed}"
        );
        assert!(attempt > 10, "{attempt}");
    }

    #[test]
    fn past_the_window_a_last_try_and_retry_after() {
        let p = RetryPolicy {
            retries: None,
            window_ms: 60_000,
            max_wait_ms: 5_000,
            max_total_wait_ms: None,
            last_try_at_window_end: true,
            ..P
        };
        // A backoff past the window ends with it, for a last try; a
        // Retry-After is honoured even past it (credhook http: no last try,
        // its window leaves that try no time).
        let late = Progress {
            attempt: 12,
            elapsed_ms: 58_000,
            ..Progress::default()
        };
        assert_eq!(
            get(&p, late, Ended::Status(503), None, u64::MAX),
            Next::RetryAfterMs(2_000)
        );
        assert_eq!(
            get(&p, late, Ended::Status(429), Some(30), 0),
            Next::RetryAfterMs(30_000)
        );
        assert_eq!(get(&p, late, Ended::Status(429), Some(1), 0), Next::RetryAfterMs(2_000));
        let first = get(&p, at(0), Ended::Status(429), Some(99_999), 0);
        assert_eq!(
            first,
            Next::RetryAfterMs(60_000),
            "Retry-After: 99999 waits 60 s, then a last try"
        );
        let strict = RetryPolicy {
            last_try_at_window_end: false,
            ..p
        };
        assert_eq!(get(&strict, late, Ended::Status(429), Some(30), 0), Next::GiveUp);
        let spent = Progress {
            elapsed_ms: 60_000,
            ..Progress::default()
        };
        assert_eq!(get(&p, spent, Ended::Status(503), None, 0), Next::GiveUp);
        // A count, when set, ends it first.
        let counted = RetryPolicy { retries: Some(2), ..p };
        assert_eq!(get(&counted, at(2), Ended::NoReply, None, 0), Next::GiveUp);
        // A window of 0: one attempt.
        let none = RetryPolicy { window_ms: 0, ..p };
        assert_eq!(get(&none, at(0), Ended::NoReply, None, 0), Next::GiveUp);
    }

    #[test]
    fn a_stop_ends_retries_except_the_reports_within_its_budget() {
        let stopped_at = |since| Progress {
            since_stop_ms: Some(since),
            ..Progress::default()
        };
        let report = RetryPolicy {
            after_stop_ms: Some(REPORT_AFTER_STOP_MS),
            ..P
        };
        // Other calls: no retry after a stop.
        assert_eq!(get(&P, stopped_at(0), Ended::Unsent, None, 0), Next::GiveUp);
        assert!(stopped(&P, Some(0)) && !stopped(&P, None));
        // The report keeps its backoff and Retry-After (no back-to-back
        // retries), within its budget.
        assert_eq!(
            get(&report, stopped_at(0), Ended::Status(503), None, 0),
            Next::RetryAfterMs(250)
        );
        assert_eq!(
            get(&report, stopped_at(1000), Ended::Status(429), Some(2), 0),
            Next::RetryAfterMs(2000)
        );
        assert_eq!(
            get(&report, stopped_at(9000), Ended::Status(429), Some(2), 0),
            Next::GiveUp
        );
        assert!(!stopped(&report, Some(9_999)) && stopped(&report, Some(10_000)));
        // A call that does not watch stops ignores them.
        let tool = RetryPolicy {
            after_stop_ms: None,
            ..P
        };
        assert!(matches!(
            get(&tool, stopped_at(99_000), Ended::Unsent, None, 0),
            Next::RetryAfterMs(_)
        ));
        assert!(!stopped(&tool, Some(99_000)));
    }

    #[test]
    fn a_wait_a_stop_interrupts_goes_on_only_if_it_ends_within_the_budget() {
        let report = RetryPolicy {
            after_stop_ms: Some(10_000),
            ..P
        };
        assert!(wait_survives_stop(&report, Some(1_000), 8_999));
        // Ending as the budget is spent is ending stopped.
        assert!(!wait_survives_stop(&report, Some(1_000), 9_000));
        assert!(!wait_survives_stop(&report, Some(10_000), 0));
        // Other calls give up at once; one that does not watch stops waits.
        assert!(!wait_survives_stop(&P, Some(0), 0));
        let tool = RetryPolicy {
            after_stop_ms: None,
            ..P
        };
        assert!(wait_survives_stop(&tool, Some(99_000), 5_000));
        assert!(wait_survives_stop(&report, None, u64::MAX));
    }
}
