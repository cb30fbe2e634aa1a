//! The retry policy as a pure function: what to do after an attempt.

/// Longest `Retry-After` honoured, in seconds.
pub const MAX_RETRY_AFTER_S: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Retries after the first attempt. Defaults to 3.
    pub retries: u32,
    /// First backoff in milliseconds, doubling each retry. Defaults to 500.
    pub base_ms: u64,
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
pub enum Outcome {
    /// Connection refused or reset, timeout, TLS failure mid-way: no reply.
    Transport,
    /// A reply with this status.
    Status(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Done,
    RetryAfterMs(u64),
    GiveUp,
}

/// Whether an outcome is worth another try: no reply, 429, 5xx.
pub fn retryable(outcome: Outcome) -> bool {
    match outcome {
        Outcome::Transport => true,
        Outcome::Status(s) => s == 429 || (500..=599).contains(&s),
    }
}

/// After attempt `attempt` (0 for the first) ended with `outcome`: done,
/// retry after a delay, or give up. `retry_after_s` is the server's
/// `Retry-After`; `random` any random number (the jitter).
///
/// The delay is `base × 2^attempt`, jittered into its upper half, and at least
/// the server's `Retry-After` (capped at 60 s).
pub fn decide(policy: Policy, attempt: u32, outcome: Outcome, retry_after_s: Option<u64>, random: u64) -> Verdict {
    if let Outcome::Status(s) = outcome
        && (200..=399).contains(&s)
    {
        return Verdict::Done;
    }
    if !retryable(outcome) || attempt >= policy.retries {
        return Verdict::GiveUp;
    }
    let backoff = policy.base_ms.saturating_mul(1u64 << attempt.min(20));
    let half = backoff / 2;
    let jittered = half + random % (backoff - half + 1);
    let floor = retry_after_s.map_or(0, |s| s.min(MAX_RETRY_AFTER_S) * 1000);
    Verdict::RetryAfterMs(jittered.max(floor))
}

/// `Retry-After` as delay-seconds. (The HTTP-date form is not used by IBM
/// Cloud; it is treated as absent.)
pub fn parse_retry_after(value: &str) -> Option<u64> {
    value.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        retries: 3,
        base_ms: 500,
    };

    #[test]
    fn what_is_retried() {
        assert_eq!(decide(P, 0, Outcome::Status(200), None, 0), Verdict::Done);
        for s in [400, 401, 403, 404, 409] {
            assert_eq!(decide(P, 0, Outcome::Status(s), None, 0), Verdict::GiveUp, "{s}");
        }
        for o in [
            Outcome::Transport,
            Outcome::Status(429),
            Outcome::Status(500),
            Outcome::Status(503),
        ] {
            assert!(matches!(decide(P, 0, o, None, 0), Verdict::RetryAfterMs(_)));
            assert_eq!(decide(P, 3, o, None, 0), Verdict::GiveUp);
        }
    }

    #[test]
    fn backoff_doubles_with_jitter_in_upper_half() {
        for (attempt, lo, hi) in [(0, 250, 500), (1, 500, 1000), (2, 1000, 2000)] {
            for r in [0, 1, 7, 499, 12345, u64::MAX] {
                let Verdict::RetryAfterMs(d) = decide(P, attempt, Outcome::Transport, None, r) else {
                    panic!()
                };
                assert!((lo..=hi).contains(&d), "{attempt} {r} {d}");
            }
        }
    }

    #[test]
    fn retry_after_is_a_floor_capped_at_60s() {
        assert_eq!(
            decide(P, 0, Outcome::Status(429), Some(2), 0),
            Verdict::RetryAfterMs(2000)
        );
        assert_eq!(
            decide(P, 0, Outcome::Status(429), Some(3600), 0),
            Verdict::RetryAfterMs(60_000)
        );
        assert_eq!(parse_retry_after(" 7 "), Some(7));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
