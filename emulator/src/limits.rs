//! IBM's documented failure modes, in time rather than per request: an
//! outage window (`--down`) and the instance's request rate limit
//! (`--rate-limit`).

use crate::Endpoint;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What an endpoint answers while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownReply {
    /// This status, with a JSON error body (`Retry-After: 1` on a 429).
    Status(u16),
    /// The connection is closed without a reply.
    Reset,
}

/// An outage: `endpoints` answer `reply` for `duration` from the first
/// request to any of them, then serve normally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub endpoints: Vec<Endpoint>,
    pub duration: Duration,
    pub reply: DownReply,
}

/// Names `--down` accepts, and what each covers.
pub const DOWN_ENDPOINTS: &str = "token (IAM's POST /identity/token), secret (GET /api/v2/secrets/{id}), \
task (PUT /api/v2/secrets/{id}/tasks/{id}) or sm (secret and task: the whole Secrets Manager instance)";

impl Outage {
    /// `ENDPOINT=SECONDS[:STATUS]`: `task=30`, `secret=30:502`,
    /// `token=5:reset`, `sm=2.5`. STATUS defaults to 503.
    pub fn parse(spec: &str) -> Result<Outage, String> {
        let usage = || format!("--down takes ENDPOINT=SECONDS[:STATUS] (e.g. task=30 or secret=30:502), got `{spec}`");
        let (name, rest) = spec.split_once('=').ok_or_else(usage)?;
        let endpoints = match name {
            "sm" | "secrets-manager" => vec![Endpoint::Secret, Endpoint::Task],
            _ => vec![
                Endpoint::parse(name)
                    .ok_or_else(|| format!("--down: unknown endpoint `{name}`; use {DOWN_ENDPOINTS}"))?,
            ],
        };
        let (secs, status) = match rest.split_once(':') {
            Some((s, st)) => (s, Some(st)),
            None => (rest, None),
        };
        let duration = secs
            .parse::<f64>()
            .ok()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .filter(|d| !d.is_zero() && *d <= Duration::from_secs(86_400))
            .ok_or_else(|| format!("--down {spec}: SECONDS must be a number above 0 and at most 86400"))?;
        let reply = match status {
            None => DownReply::Status(503),
            Some("reset") => DownReply::Reset,
            Some(st) => match st.parse::<u16>() {
                Ok(code) if (400..=599).contains(&code) => DownReply::Status(code),
                _ => {
                    return Err(format!(
                        "--down {spec}: STATUS must be an HTTP error status (400 to 599, e.g. 503 or 502) or `reset`"
                    ));
                }
            },
        };
        Ok(Outage {
            endpoints,
            duration,
            reply,
        })
    }
}

/// An outage and when its window opened (at its first request).
pub(crate) struct Window {
    pub outage: Outage,
    pub opened: Option<Instant>,
}

impl Window {
    /// Opens the window at its first request; whether `endpoint` is down now.
    pub fn down_at(&mut self, endpoint: Endpoint, now: Instant) -> Option<DownReply> {
        if !self.outage.endpoints.contains(&endpoint) {
            return None;
        }
        let opened = *self.opened.get_or_insert(now);
        (now.duration_since(opened) < self.outage.duration).then_some(self.outage.reply)
    }
}

/// A sliding one-second window over the requests served: a request is served
/// when fewer than `limit` were served in the second before it, else it gets
/// a 429. Refused requests do not count (the limit is on what is served).
pub(crate) struct RateLimit {
    pub limit: usize,
    served: VecDeque<Instant>,
}

const WINDOW: Duration = Duration::from_secs(1);

impl RateLimit {
    pub fn new(limit: usize) -> RateLimit {
        RateLimit {
            limit,
            // It grows with what is served; a huge limit must not reserve
            // memory it will never use (it aborted the emulator).
            served: VecDeque::with_capacity(limit.min(1024)),
        }
    }

    /// `None` when the request may be served (it is counted), else the
    /// `Retry-After` in whole seconds (at least 1).
    pub fn admit(&mut self, now: Instant) -> Option<u64> {
        while self.served.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            self.served.pop_front();
        }
        if self.served.len() < self.limit {
            self.served.push_back(now);
            return None;
        }
        // The oldest served request leaves the window within a second.
        let free_in = self.served.front().map_or(WINDOW, |t| WINDOW - now.duration_since(*t));
        Some(free_in.as_secs_f64().ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_down_specs() {
        let o = Outage::parse("task=30").unwrap();
        assert_eq!(o.endpoints, [Endpoint::Task]);
        assert_eq!(o.duration, Duration::from_secs(30));
        assert_eq!(o.reply, DownReply::Status(503));
        assert_eq!(Outage::parse("secret=1.5:502").unwrap().reply, DownReply::Status(502));
        assert_eq!(Outage::parse("token=2:reset").unwrap().reply, DownReply::Reset);
        assert_eq!(
            Outage::parse("sm=2").unwrap().endpoints,
            [Endpoint::Secret, Endpoint::Task]
        );
        for bad in [
            "task",
            "task=",
            "task=0",
            "task=-1",
            "task=x",
            "task=1:200",
            "task=1:600",
            "task=1:boom",
            "vault=1",
        ] {
            let e = Outage::parse(bad).unwrap_err();
            assert!(e.contains("--down"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_window_opens_at_its_first_request_and_closes_after_its_duration() {
        let mut w = Window {
            outage: Outage::parse("sm=1").unwrap(),
            opened: None,
        };
        let t0 = Instant::now();
        assert_eq!(w.down_at(Endpoint::Token, t0), None);
        assert_eq!(w.opened, None, "another endpoint does not open it");
        assert_eq!(w.down_at(Endpoint::Task, t0), Some(DownReply::Status(503)));
        assert_eq!(
            w.down_at(Endpoint::Secret, t0 + Duration::from_millis(999)),
            Some(DownReply::Status(503))
        );
        assert_eq!(w.down_at(Endpoint::Secret, t0 + Duration::from_secs(1)), None);
    }

    /// Found by a hostile review of issue 20: `--rate-limit
    /// 18446744073709551615` panicked (capacity overflow) and `--rate-limit
    /// 4000000000` aborted on a 64 GB allocation.
    #[test]
    fn a_huge_limit_serves_everything_without_reserving_memory() {
        for limit in [usize::MAX, 4_000_000_000] {
            let mut r = RateLimit::new(limit);
            let t0 = Instant::now();
            assert!((0..100).all(|_| r.admit(t0).is_none()));
        }
    }

    #[test]
    fn the_rate_limit_slides_over_served_requests() {
        let mut r = RateLimit::new(2);
        let t0 = Instant::now();
        assert_eq!(r.admit(t0), None);
        assert_eq!(r.admit(t0 + Duration::from_millis(400)), None);
        assert_eq!(r.admit(t0 + Duration::from_millis(500)), Some(1));
        assert_eq!(r.admit(t0 + Duration::from_millis(999)), Some(1));
        // The first leaves the window; the 429s were not counted.
        assert_eq!(r.admit(t0 + Duration::from_millis(1000)), None);
        assert_eq!(r.admit(t0 + Duration::from_millis(1100)), Some(1));
        assert_eq!(r.admit(t0 + Duration::from_millis(1400)), None);
    }
}
