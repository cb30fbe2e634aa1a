//! The one HTTP engine. Every HTTPS call credhook makes — the job's calls to
//! IAM and Secrets Manager ([`Http`]) and the hook's `credhook http` — goes
//! through [`Engine::call`], with its policy passed in as data
//! ([`CallPolicy`]: what is retried and for how long, redirects, what is a
//! reply; [`Limits`]: body cap, timeouts). For every call: https only (http
//! to loopback), certificates verified, no proxy, a timeout per phase and
//! per attempt, a body cap. Every decision — retry or give up, success,
//! where a redirect may go, what was delivered — is the core's
//! (`core/net`); this module performs it and reports each attempt.

mod attempt;
mod job;
mod tls;

use self::attempt::Answer;
pub(crate) use self::attempt::{AttemptError, Outgoing};
pub(crate) use self::job::{Http, Request};
pub(crate) use self::tls::load_pem_as;
use super::DriverError;
use super::signals;
use crate::core::net::delivery::Delivery;
use crate::core::net::method::Method;
pub(crate) use crate::core::net::policy::Call;
use crate::core::net::policy::{CallPolicy, Limits};
use crate::core::net::redirect::method_after_redirect;
use crate::core::net::retry::{self, Ended, Next, Progress};
use crate::core::net::url;
use crate::core::secrets::secret::Secret;
use std::boxed::Box;
use std::fmt;
use std::string::String;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use std::vec::Vec;
use ureq::tls::RootCerts;
use zeroize::Zeroizing;

/// A call's reply: a 2xx, or any final status when the policy says every
/// status is a reply.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Zeroizing<Vec<u8>>,
    /// Over every attempt (a 2xx is [`Delivery::Sent`]; a 502 reply, or one
    /// after an attempt that got none, may have been acted on before).
    pub(crate) delivery: Delivery,
}

/// Why a call did not end in a reply, and what became of its request:
/// the payload of [`DriverError::Http`].
#[derive(Debug)]
pub(crate) struct FailedCall {
    pub(crate) why: CallFailure,
    /// Over every attempt: the task update's rollback is decided from it.
    pub(crate) delivery: Delivery,
    /// Attempts made, and the time from the first one's start to the end.
    pub(crate) attempts: u32,
    pub(crate) took: Duration,
}

#[derive(Debug)]
pub(crate) enum CallFailure {
    /// The URL is malformed or plain http to a non-loopback host; nothing
    /// was sent.
    Refused(crate::core::CoreError),
    /// The last attempt got no usable reply.
    NoReply(AttemptError),
    /// A final status that is not a success (the body is kept for the
    /// caller to summarise; it is not logged).
    Status { status: u16, body: Zeroizing<Vec<u8>> },
    /// A redirect the policy does not follow.
    Redirect(crate::core::CoreError),
}

impl FailedCall {
    /// The status of a refusal, if the last attempt got one.
    pub(crate) fn status(&self) -> Option<u16> {
        match &self.why {
            CallFailure::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for FailedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.why {
            CallFailure::Refused(e) => write!(f, "refused to connect: {e}")?,
            CallFailure::NoReply(e) => e.fmt(f)?,
            CallFailure::Status { status, .. } => write!(f, "http status {status}")?,
            CallFailure::Redirect(e) => e.fmt(f)?,
        }
        if self.attempts > 1 {
            write!(
                f,
                ", after {} attempts in {:.1} s",
                self.attempts,
                self.took.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// One attempt, as the caller reports it.
pub(crate) struct Attempted<'a> {
    /// 1 for the call's first attempt, 2 for its first retry (a request
    /// made to follow a redirect is not a retry: it keeps the number).
    pub(crate) number: u32,
    pub(crate) method: Method,
    pub(crate) duration: Duration,
    /// The status, or why there was none.
    pub(crate) result: Result<u16, &'a AttemptError>,
    /// The wait before the next attempt, when one is made.
    pub(crate) retry_in: Option<Duration>,
    /// Whether a redirect was followed before this attempt.
    pub(crate) redirected: bool,
}

/// How often an attempt or a wait looks for a stop: the most a stop waits.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The time since a stop, for a call that watches stops: counted from when
/// the call (or the report it is part of) began, if that was later.
struct StopClock {
    from: Instant,
    watched: bool,
}

impl StopClock {
    fn since_ms(&self) -> Option<u64> {
        if !self.watched {
            return None;
        }
        signals::stopped_at().map(|at| at.max(self.from).elapsed().as_millis() as u64)
    }
}

/// Where a call stands: since when, its attempts and waits, what became of
/// its request, the redirects it followed.
struct Tally {
    start: Instant,
    progress: Progress,
    delivery: Delivery,
    redirects: u32,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            start: Instant::now(),
            progress: Progress::default(),
            delivery: Delivery::Unsent,
            redirects: 0,
        }
    }

    /// The call failed: why, and how far it got.
    fn fail(&self, why: CallFailure) -> DriverError {
        DriverError::Http(Box::new(FailedCall {
            why,
            delivery: self.delivery,
            attempts: self.progress.attempt + 1,
            took: self.start.elapsed(),
        }))
    }
}

pub(crate) struct Engine {
    agent: ureq::Agent,
    limits: Limits,
    rng: u64,
}

impl Engine {
    /// Calls that trust `roots`, within `limits`.
    pub(crate) fn new(roots: RootCerts, limits: Limits) -> Engine {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        Engine {
            agent: tls::agent(roots, &limits),
            limits,
            rng: seed | 1,
        }
    }

    fn random(&mut self) -> u64 {
        // xorshift64: jitter only needs to differ between runs, not be secure.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Performs one call as `policy` says, telling `seen` of each attempt.
    /// `stop_from`: after a stop, the call's budget counts from here if it
    /// is later (the report's start); `None`: from the call's start.
    pub(crate) fn call(
        &mut self,
        out: Outgoing,
        policy: &CallPolicy,
        stop_from: Option<Instant>,
        seen: &mut dyn FnMut(&Attempted<'_>),
    ) -> Result<Reply, DriverError> {
        let mut t = Tally::new();
        if let Err(e) = url::parse(out.url.expose()) {
            return Err(t.fail(CallFailure::Refused(e)));
        }
        let clock = StopClock {
            from: stop_from.unwrap_or(t.start).max(t.start),
            watched: policy.retry.after_stop_ms.is_some(),
        };
        let mut out = Arc::new(out);
        loop {
            let time_left = self
                .may_start(policy, &clock, t.start)
                .map_err(|e| t.fail(CallFailure::NoReply(e)))?;
            let began = Instant::now();
            let result = self.attempt(&out, policy, time_left, &clock);
            let ended = result
                .as_ref()
                .map_or_else(AttemptError::ended, |a| Ended::Status(a.status));
            t.delivery = t.delivery.and(ended);
            let mut report = Attempted {
                number: t.progress.attempt + 1,
                method: out.method,
                duration: began.elapsed(),
                result: result.as_ref().map(|a| a.status),
                retry_in: None,
                redirected: t.redirects > 0,
            };
            if let Ok(a) = &result
                && let Some(step) =
                    policy
                        .redirects
                        .after(out.url.expose(), a.status, a.location.as_deref(), t.redirects)
            {
                seen(&report);
                let target = step.map_err(|e| t.fail(CallFailure::Redirect(e)))?;
                out = Arc::new(redirected(&out, target, a.status));
                t.redirects += 1;
                continue;
            }
            t.progress.elapsed_ms = t.start.elapsed().as_millis() as u64;
            t.progress.since_stop_ms = clock.since_ms();
            let retry_after = result.as_ref().ok().and_then(|a| a.retry_after);
            let next = retry::decide(&policy.retry, out.method, t.progress, ended, retry_after, self.random());
            let Next::RetryAfterMs(wait) = next else {
                seen(&report);
                return finish(result, policy, t.delivery).map_err(|why| t.fail(why));
            };
            report.retry_in = Some(Duration::from_millis(wait));
            seen(&report);
            if !self.wait(Duration::from_millis(wait), policy, &clock) {
                return Err(t.fail(CallFailure::NoReply(AttemptError::Stopped)));
            }
            t.progress.waited_ms += wait;
            t.progress.attempt += 1;
        }
    }

    /// Whether another attempt may start, and how long it may take: its
    /// own limit, or what is left of the call's deadline. Not once a stop
    /// has spent the call's budget, nor once the deadline has passed.
    fn may_start(&self, policy: &CallPolicy, clock: &StopClock, start: Instant) -> Result<Duration, AttemptError> {
        if retry::stopped(&policy.retry, clock.since_ms()) {
            return Err(AttemptError::Stopped);
        }
        self.limits
            .attempt_time(start.elapsed())
            .ok_or_else(|| self.timed_out())
    }

    fn timed_out(&self) -> AttemptError {
        let limit = self.limits.deadline.unwrap_or(self.limits.attempt);
        AttemptError::timeout(limit, self.limits.names.attempt)
    }

    /// One attempt, on a worker thread so that the call can stop waiting
    /// for it: when a stop has spent the call's budget, or its time is up,
    /// the worker is abandoned (it ends with its own timeouts, or the
    /// process).
    fn attempt(
        &self,
        out: &Arc<Outgoing>,
        policy: &CallPolicy,
        time_left: Duration,
        clock: &StopClock,
    ) -> Result<Answer, AttemptError> {
        let (agent, job, limits) = (self.agent.clone(), Arc::clone(out), self.limits);
        let suffices = policy.status_suffices;
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(String::from("http"))
            .spawn(move || {
                let _ = tx.send(attempt::run(&agent, &job, &limits, time_left, suffices));
            })
            .map_err(|e| AttemptError::Failed {
                ended: Ended::Unsent,
                what: std::format!("no thread for the request: {e}"),
            })?;
        let deadline = Instant::now() + time_left;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let poll = if clock.watched { left.min(STOP_POLL) } else { left };
            match rx.recv_timeout(poll) {
                Ok(result) => return result,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(AttemptError::Failed {
                        ended: Ended::NoReply,
                        what: String::from("the request ended without a result"),
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if retry::stopped(&policy.retry, clock.since_ms()) {
                return Err(AttemptError::Stopped);
            }
            if Instant::now() >= deadline {
                return Err(self.timed_out());
            }
        }
    }

    /// Waits `d` before a retry. A stop cuts the wait short, unless the
    /// rest of it still fits in the call's budget after the stop (the
    /// report keeps its backoff). False: give up.
    fn wait(&self, d: Duration, policy: &CallPolicy, clock: &StopClock) -> bool {
        if !clock.watched {
            std::thread::sleep(d);
            return true;
        }
        let end = Instant::now() + d;
        if signals::sleep(d) {
            return true;
        }
        let left = end.saturating_duration_since(Instant::now());
        if !retry::wait_survives_stop(&policy.retry, clock.since_ms(), left.as_millis() as u64) {
            return false;
        }
        std::thread::sleep(left);
        true
    }
}

/// The request a followed redirect makes: to `target`, with the method the
/// status says; the body goes only if the method stays.
fn redirected(out: &Outgoing, target: String, status: u16) -> Outgoing {
    let method = method_after_redirect(status, out.method);
    Outgoing {
        method,
        url: Secret::new(target),
        headers: out.headers.clone(),
        body: out.body.clone().filter(|_| method == out.method),
    }
}

/// The call's end once no retry follows: a reply if the policy takes its
/// status as one, else why not.
fn finish(result: Result<Answer, AttemptError>, policy: &CallPolicy, delivery: Delivery) -> Result<Reply, CallFailure> {
    match result {
        Ok(a) if policy.is_reply(a.status) => Ok(Reply {
            status: a.status,
            body: a.body,
            delivery,
        }),
        Ok(a) => Err(CallFailure::Status {
            status: a.status,
            body: a.body,
        }),
        Err(e) => Err(CallFailure::NoReply(e)),
    }
}
