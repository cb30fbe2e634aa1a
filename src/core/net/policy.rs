//! Each call's policy as data. The one HTTP engine (`driver/http`) performs
//! a call as its [`CallPolicy`] says, within its engine's [`Limits`]: the
//! job's calls get theirs here ([`for_job`], [`job_limits`]), `credhook
//! http`'s from its flags ([`crate::core::tools::http_rules::policy`]).

use super::redirect::Redirects;
use super::retry::{
    MAX_RETRY_AFTER_JITTER_MS, MAX_RETRY_AFTER_S, REPORT_AFTER_STOP_MS, Repeatable, RetryPolicy, RetryStatuses,
};
use core::time::Duration;

/// What the engine is told about one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CallPolicy {
    pub(crate) retry: RetryPolicy,
    pub(crate) redirects: Redirects,
    /// Whether a final status other than a 2xx is the call's reply
    /// (`credhook http`, which turns it into an exit status) instead of a
    /// failure (credhook's own calls: only a 2xx is success).
    pub(crate) any_status: bool,
    /// Only the status matters: a 2xx whose body then breaks off still
    /// counts (the task update; [`super::delivery::status_without_body`]).
    pub(crate) status_suffices: bool,
}

impl CallPolicy {
    /// Whether a final `status` (no retry follows) is the call's reply: a
    /// 2xx, or any status when the policy says so; else the call failed.
    pub(crate) fn is_reply(&self, status: u16) -> bool {
        super::retry::is_success(status) || self.any_status
    }
}

/// An engine's limits, the same for each of its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Largest reply body; a larger one is a malformed reply, not retried.
    pub(crate) max_body: usize,
    /// Resolving and connecting, the TLS handshake included.
    pub(crate) connect: Duration,
    /// Each later phase: sending, waiting for the reply, reading it.
    pub(crate) phase: Duration,
    /// One whole attempt; then it is abandoned.
    pub(crate) attempt: Duration,
    /// Nothing of a call goes on past this from its start, retries
    /// included (`credhook http --max-time`); `None` for the job, whose
    /// window bounds when retries start and each attempt has its own limit.
    pub(crate) deadline: Option<Duration>,
    /// What messages name.
    pub(crate) names: Names,
}

impl Limits {
    /// How long the next attempt may take, `elapsed` into the call: its own
    /// limit, or what is left of the call's deadline if that is less; `None`
    /// once the deadline has passed (the call gives up, timed out).
    pub(crate) fn attempt_time(&self, elapsed: Duration) -> Option<Duration> {
        let left = match self.deadline {
            Some(d) => d.saturating_sub(elapsed).min(self.attempt),
            None => self.attempt,
        };
        (!left.is_zero()).then_some(left)
    }
}

/// The settings or flags behind the limits, for messages that say which
/// one to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Names {
    /// The setting of the body cap; empty when it is fixed.
    pub(crate) max_body: &'static str,
    pub(crate) connect: &'static str,
    pub(crate) reply: &'static str,
    pub(crate) attempt: &'static str,
    /// Where the certificates a server's must chain to come from.
    pub(crate) trust: &'static str,
}

/// The job's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Token,
    SecretRead,
    /// Only its status matters, and it goes on after a stop: reporting is
    /// the point.
    TaskUpdate,
}

impl Call {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Call::Token => "iam_token",
            Call::SecretRead => "secret_read",
            Call::TaskUpdate => "task_update",
        }
    }
}

/// The job's retry settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetrySettings {
    /// `CREDHOOK_RETRIES`: most retries after the first attempt. Defaults to
    /// none: the window alone decides.
    pub(crate) retries: Option<u32>,
    /// `CREDHOOK_RETRY_BASE_MS`. Defaults to 500.
    pub(crate) base_ms: u64,
    /// `CREDHOOK_RETRY_WINDOW`, seconds, for Secrets Manager calls. Defaults
    /// to 60: IBM says a failover can last 30 s.
    pub(crate) window_s: u64,
    /// `CREDHOOK_IAM_RETRY_WINDOW`, seconds, for IAM token calls. Defaults
    /// to 30.
    pub(crate) iam_window_s: u64,
}

impl Default for RetrySettings {
    fn default() -> RetrySettings {
        RetrySettings {
            retries: None,
            base_ms: 500,
            window_s: 60,
            iam_window_s: 30,
        }
    }
}

/// The longest backoff wait of the job's calls, in ms (or the base, if
/// larger): after an outage ends a call tries again within this long.
pub(crate) const JOB_MAX_WAIT_MS: u64 = 5_000;

/// Largest reply body the job accepts.
pub(crate) const JOB_MAX_BODY: usize = 1 << 20;

/// The policy of one of the job's calls. `for_report`: the call is part of
/// the report (a token refresh for the task update), so it shares the
/// report's time after a stop.
pub(crate) fn for_job(call: Call, s: &RetrySettings, for_report: bool) -> CallPolicy {
    let reports = for_report || call == Call::TaskUpdate;
    let window_s = match call {
        Call::Token => s.iam_window_s,
        Call::SecretRead | Call::TaskUpdate => s.window_s,
    };
    CallPolicy {
        retry: RetryPolicy {
            statuses: RetryStatuses::ServerErrors,
            methods: Repeatable::Any,
            retries: s.retries,
            window_ms: window_s.saturating_mul(1000),
            base_ms: s.base_ms,
            max_wait_ms: JOB_MAX_WAIT_MS.max(s.base_ms),
            max_total_wait_ms: None,
            after_stop_ms: Some(if reports { REPORT_AFTER_STOP_MS } else { 0 }),
            last_try_at_window_end: true,
            jitter_retry_after: true,
        },
        redirects: Redirects::Never,
        any_status: false,
        status_suffices: call == Call::TaskUpdate,
    }
}

/// How many times `CREDHOOK_HTTP_TIMEOUT` one attempt may take in all
/// (connect, send, receive); then it is abandoned as a timeout.
pub(crate) const ATTEMPT_PHASES: u32 = 3;

/// The job's limits: `CREDHOOK_HTTP_TIMEOUT` for each phase,
/// [`ATTEMPT_PHASES`] times that for a whole attempt, 1 MiB bodies.
pub(crate) fn job_limits(http_timeout_s: u64) -> Limits {
    let t = Duration::from_secs(http_timeout_s);
    Limits {
        max_body: JOB_MAX_BODY,
        connect: t,
        phase: t,
        attempt: t * ATTEMPT_PHASES,
        deadline: None,
        names: Names {
            max_body: "",
            connect: "CREDHOOK_HTTP_TIMEOUT",
            reply: "CREDHOOK_HTTP_TIMEOUT",
            attempt: "3 × CREDHOOK_HTTP_TIMEOUT",
            trust: "CREDHOOK_CA_FILE (or Mozilla's roots without it)",
        },
    }
}

/// The time a run may spend retrying, for sizing the task timeout: the IAM
/// token's window, and one Secrets Manager window on either side of the
/// hook (the secret reads before it, the task update after it).
pub(crate) fn retry_budget_s(s: &RetrySettings) -> u64 {
    s.iam_window_s.saturating_add(s.window_s.saturating_mul(2))
}

/// The longest one of the job's calls can take, in s, whatever the server
/// does: no retry starts after its `window_s`, except the one a
/// `Retry-After` delays past it (up to [`MAX_RETRY_AFTER_S`] plus its
/// jitter), and that last attempt is abandoned after [`ATTEMPT_PHASES`] ×
/// `CREDHOOK_HTTP_TIMEOUT`.
pub(crate) fn call_bound_s(window_s: u64, http_timeout_s: u64) -> u64 {
    window_s
        .saturating_add(MAX_RETRY_AFTER_S + MAX_RETRY_AFTER_JITTER_MS.div_ceil(1000))
        .saturating_add(http_timeout_s.saturating_mul(u64::from(ATTEMPT_PHASES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_final_status_is_a_reply_if_2xx_or_if_the_policy_takes_any() {
        let mut p = for_job(Call::SecretRead, &RetrySettings::default(), false);
        assert!(p.is_reply(200) && p.is_reply(204));
        assert!(!p.is_reply(404) && !p.is_reply(503) && !p.is_reply(302));
        p.any_status = true;
        assert!(p.is_reply(404) && p.is_reply(503));
    }

    #[test]
    fn an_attempt_gets_its_limit_or_what_is_left_of_the_deadline() {
        let s = Duration::from_secs;
        let mut l = job_limits(30);
        let own = l.attempt;
        assert_eq!(l.attempt_time(s(10_000)), Some(own));
        l.deadline = Some(own + s(5));
        assert_eq!(l.attempt_time(s(0)), Some(own));
        assert_eq!(l.attempt_time(own), Some(s(5)));
        assert_eq!(l.attempt_time(own + s(5)), None);
        assert_eq!(l.attempt_time(own + s(9)), None);
    }

    #[test]
    fn each_job_call_gets_its_window_and_stop_budget() {
        let s = RetrySettings::default();
        let token = for_job(Call::Token, &s, false);
        let read = for_job(Call::SecretRead, &s, false);
        let update = for_job(Call::TaskUpdate, &s, false);
        let refresh = for_job(Call::Token, &s, true);
        assert_eq!(token.retry.window_ms, 30_000);
        assert_eq!((read.retry.window_ms, update.retry.window_ms), (60_000, 60_000));
        assert_eq!(token.retry.after_stop_ms, Some(0));
        assert_eq!(read.retry.after_stop_ms, Some(0));
        assert_eq!(update.retry.after_stop_ms, Some(REPORT_AFTER_STOP_MS));
        assert_eq!(refresh.retry.after_stop_ms, Some(REPORT_AFTER_STOP_MS));
        assert!(update.status_suffices && !read.status_suffices && !token.status_suffices);
        for p in [&token, &read, &update] {
            assert_eq!(p.retry.retries, None, "the window alone decides");
            assert_eq!(p.retry.statuses, RetryStatuses::ServerErrors);
            assert_eq!(p.redirects, Redirects::Never);
            assert!(!p.any_status);
            assert_eq!(p.retry.max_wait_ms, 5_000);
            assert!(
                p.retry.jitter_retry_after,
                "a fleet refused together does not retry together"
            );
        }
        let counted = RetrySettings {
            retries: Some(3),
            base_ms: 20_000,
            ..s
        };
        let p = for_job(Call::SecretRead, &counted, false);
        assert_eq!((p.retry.retries, p.retry.max_wait_ms), (Some(3), 20_000));
    }

    #[test]
    fn limits_and_budget() {
        let l = job_limits(30);
        assert_eq!(l.attempt, Duration::from_secs(90));
        assert_eq!(l.max_body, 1 << 20);
        assert_eq!(l.deadline, None);
        assert_eq!(retry_budget_s(&RetrySettings::default()), 150);
        // A Secrets Manager call: 60 s of window, a Retry-After of 60 s
        // (and its 5 s of jitter) at its end, one attempt of 3 × 30 s.
        assert_eq!(call_bound_s(60, 30), 215);
        assert_eq!(call_bound_s(30, 30), 185);
        assert_eq!(call_bound_s(u64::MAX, 30), u64::MAX);
    }
}
