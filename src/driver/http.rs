//! HTTP calls with the contract's rules: https only (http to loopback),
//! verified certificates, per-attempt timeouts, a body cap, retries with
//! backoff and jitter that honour `Retry-After`, one log line per attempt.

use super::log::{Log, LogValue};
use super::signals;
use crate::core::net::retry::{self, Ended, Next, Policy, Progress};
use crate::core::net::url;
use crate::core::secrets::secret::Secret;
use std::boxed::Box;
use std::fmt;
use std::io::Read;
use std::string::{String, ToString};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::vec::Vec;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use zeroize::Zeroizing;

/// Largest response body accepted; a larger one is a malformed reply.
pub(crate) const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        }
    }
}

/// Which call this is; it decides what the reply must hold and whether a
/// stop signal ends the retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    Token,
    SecretRead,
    /// Only its status matters: a 2xx with an odd body was still delivered
    /// (rolling back then would delete credentials Secrets Manager recorded).
    /// It keeps retrying after a stop, since reporting is the point.
    TaskUpdate,
}

impl Call {
    fn as_str(self) -> &'static str {
        match self {
            Call::Token => "iam_token",
            Call::SecretRead => "secret_read",
            Call::TaskUpdate => "task_update",
        }
    }
}

pub(crate) struct Request<'a> {
    pub(crate) call: Call,
    /// Part of the task update that began at this instant (the update
    /// itself, or the token refresh it needs): it gets the report's stop
    /// budget, counted from then.
    pub(crate) report: Option<Instant>,
    pub(crate) method: Method,
    pub(crate) url: &'a str,
    pub(crate) bearer: Option<&'a Secret>,
    pub(crate) content_type: Option<&'static str>,
    pub(crate) body: Option<&'a [u8]>,
}

/// A reply with a 2xx status.
pub(crate) struct Reply {
    pub(crate) body: Zeroizing<Vec<u8>>,
}

/// Why a call did not get a 2xx reply.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// The URL is malformed or plain http to a non-loopback host; nothing was sent.
    Refused(url::UrlError),
    /// No reply after every attempt: connection refused or reset, timeout, TLS.
    Transport(String),
    /// A non-2xx, non-3xx reply (after retries, for 429 and 5xx). The body is
    /// kept for the caller to summarise; it is not logged.
    Status { status: u16, body: Zeroizing<Vec<u8>> },
    /// A 3xx reply: final, never followed. Only the `Location` host is kept
    /// (its path or query could carry anything).
    Redirect { status: u16, location_host: Option<String> },
    /// The reply body was larger than [`MAX_BODY`].
    TooLarge,
    /// A stop signal ended the call before it got a reply.
    Stopped,
    /// The task update failed, but an earlier attempt (or the last one) may
    /// have reached Secrets Manager: it may hold the result. Rolling back
    /// blindly could delete credentials it has recorded.
    Ambiguous(Box<HttpError>),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Refused(e) => write!(f, "refused to connect: {e}"),
            HttpError::Transport(e) => write!(f, "no reply: {e}"),
            HttpError::Status { status, .. } => write!(f, "http status {status}"),
            HttpError::Redirect { status, location_host } => {
                write!(f, "http status {status}, a redirect")?;
                match location_host {
                    Some(h) => write!(f, " to host `{h}`")?,
                    None => f.write_str(" without a usable Location")?,
                }
                f.write_str(", which is not followed; configure the final address")
            }
            HttpError::TooLarge => write!(f, "the reply was larger than {MAX_BODY} bytes"),
            HttpError::Stopped => f.write_str("stopped by a signal before a reply came"),
            HttpError::Ambiguous(last) => {
                write!(f, "{last}, after an earlier attempt that may have reached the server")
            }
        }
    }
}

/// Why the HTTP client could not be set up.
#[derive(Debug)]
pub(crate) struct SetupError(pub String);

/// Largest `CREDHOOK_CA_FILE` read; a bundle of every public root is ~220 KiB.
pub(crate) const MAX_CA_FILE: u64 = 1 << 20;

pub(crate) struct Http {
    agent: ureq::Agent,
    policy: Policy,
    timeout: Duration,
    rng: u64,
}

impl Http {
    /// `ca_file`: trust exactly the certificates in this PEM file instead of
    /// the bundled Mozilla roots.
    pub(crate) fn new(policy: Policy, timeout: Duration, ca_file: Option<&str>) -> Result<Http, SetupError> {
        let roots = match ca_file {
            None => RootCerts::WebPki,
            Some(path) => RootCerts::new_with_certs(&load_pem(path)?),
        };
        let t = Some(timeout);
        let config = agent_config(roots)
            // Each phase gets the timeout, so an error says which phase it
            // was in (before or after the request went out).
            .timeout_resolve(t)
            .timeout_connect(t)
            .timeout_send_request(t)
            .timeout_send_body(t)
            .timeout_recv_response(t)
            .timeout_recv_body(t)
            .build();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()) << 32;
        Ok(Http {
            agent: config.new_agent(),
            policy,
            timeout,
            rng: seed | 1,
        })
    }

    fn random(&mut self) -> u64 {
        // xorshift64: jitter only needs to differ between jobs, not be secure.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Sends `req`, retrying as [`retry::decide`] says.
    pub(crate) fn send(&mut self, log: &Log, req: &Request<'_>) -> Result<Reply, HttpError> {
        let parsed = url::parse(req.url).map_err(HttpError::Refused)?;
        let (host, path) = (parsed.host.to_string(), parsed.path.to_string());
        let target = url::connect_url(req.url);
        let reports = req.report.is_some() || req.call == Call::TaskUpdate;
        let call_started = req.report.unwrap_or_else(Instant::now);
        let mut progress = Progress {
            reports,
            ..Progress::default()
        };
        let mut may_have_arrived = false;
        let result = loop {
            if stop_clock(call_started).is_some_and(|s| s >= stop_budget(reports)) {
                break Err(HttpError::Stopped);
            }
            let started = Instant::now();
            let result = self.attempt(req, &target, call_started);
            let ms = started.elapsed().as_millis() as u64;
            let (outcome, retry_after) = match &result {
                Ok(a) => (Ended::Status(a.status), a.retry_after),
                Err(AttemptError::Unsent(_)) => (Ended::Unsent, None),
                Err(_) => (Ended::NoReply, None),
            };
            may_have_arrived |= outcome.may_have_arrived();
            let mut fields = std::vec![
                ("call", LogValue::Str(req.call.as_str())),
                ("method", LogValue::Str(req.method.as_str())),
                ("host", LogValue::Str(&host)),
                ("path", LogValue::Str(&path)),
                ("attempt", LogValue::Num(u64::from(progress.attempt) + 1)),
                ("duration_ms", LogValue::Num(ms)),
            ];
            let err_text;
            match &result {
                Ok(a) => fields.push(("status", LogValue::Num(u64::from(a.status)))),
                Err(e) => {
                    err_text = e.to_string();
                    fields.push(("error", LogValue::Str(&err_text)));
                }
            }
            progress.since_stop_ms = stop_clock(call_started).map(|d| d.as_millis() as u64);
            let verdict = match &result {
                Err(AttemptError::TooLarge | AttemptError::Stopped) => Next::GiveUp,
                _ => retry::decide(self.policy, progress, outcome, retry_after, self.random()),
            };
            if let Next::RetryAfterMs(d) = verdict {
                fields.push(("retry_in_ms", LogValue::Num(d)));
            }
            log.info("http call", &fields);
            match (verdict, result) {
                (Next::Done, Ok(a)) => {
                    return Ok(Reply { body: a.body });
                }
                (Next::RetryAfterMs(d), _) => {
                    if !wait(Duration::from_millis(d), reports, call_started) {
                        break Err(HttpError::Stopped);
                    }
                    progress.waited_ms += d;
                    progress.attempt += 1;
                }
                (_, Ok(a)) if retry::is_redirect(a.status) => {
                    break Err(HttpError::Redirect {
                        status: a.status,
                        location_host: a.location_host,
                    });
                }
                (_, Ok(a)) => {
                    break Err(HttpError::Status {
                        status: a.status,
                        body: a.body,
                    });
                }
                (_, Err(AttemptError::TooLarge)) => break Err(HttpError::TooLarge),
                (_, Err(AttemptError::Stopped)) => break Err(HttpError::Stopped),
                (_, Err(AttemptError::Unsent(e) | AttemptError::NoReply(e))) => break Err(HttpError::Transport(e)),
            }
        };
        match result {
            Err(e) if reports && may_have_arrived => Err(HttpError::Ambiguous(Box::new(e))),
            other => other,
        }
    }

    /// One attempt, on a worker thread so that a stop is honoured even while
    /// a read blocks: the caller stops waiting once the call's stop budget is
    /// spent, and the abandoned worker ends with the process.
    fn attempt(&self, req: &Request<'_>, target: &str, call_started: Instant) -> Result<Answer, AttemptError> {
        let job = Attempt {
            agent: self.agent.clone(),
            call: req.call,
            method: req.method,
            url: Zeroizing::new(target.to_string()),
            bearer: req
                .bearer
                .map(|t| Zeroizing::new(std::format!("Bearer {}", t.expose()))),
            content_type: req.content_type,
            body: req.body.map(|b| Zeroizing::new(b.to_vec())),
        };
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name(String::from("http"))
            .spawn(move || {
                let _ = tx.send(job.run());
            })
            .map_err(|e| AttemptError::Unsent(std::format!("no thread for the request: {e}")))?;
        // The whole attempt: connect, send and receive, the timeout each.
        let deadline = Instant::now() + ATTEMPT_PHASES * self.timeout;
        let budget = stop_budget(req.report.is_some() || req.call == Call::TaskUpdate);
        loop {
            match rx.recv_timeout(STOP_POLL) {
                Ok(result) => return result,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(AttemptError::NoReply(String::from(
                        "the request ended without a result",
                    )));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if stop_clock(call_started).is_some_and(|s| s >= budget) {
                return Err(AttemptError::Stopped);
            }
            if Instant::now() >= deadline {
                return Err(AttemptError::NoReply(String::from(
                    "timeout: the attempt took too long",
                )));
            }
        }
    }
}

/// An attempt may take this many times `CREDHOOK_HTTP_TIMEOUT` in all
/// (connect, send, receive); then it is abandoned as a timeout.
const ATTEMPT_PHASES: u32 = 3;

/// How often a waiting call looks for a stop: the most a stop waits.
const STOP_POLL: Duration = Duration::from_millis(50);

fn stop_budget(reports: bool) -> Duration {
    Duration::from_millis(retry::stop_budget_ms(reports))
}

/// Time since the stop, counted from this call's start if it began later
/// (the task update's budget is its own, whatever came before it).
fn stop_clock(call_started: Instant) -> Option<Duration> {
    signals::stopped_at().map(|at| at.max(call_started).elapsed())
}

/// Waits `d` before a retry. A stop cuts the wait short, except for the task
/// update, which keeps its backoff while it fits in its stop budget. False:
/// give up.
fn wait(d: Duration, reports: bool, call_started: Instant) -> bool {
    let end = Instant::now() + d;
    if signals::sleep(d) {
        return true;
    }
    if !reports {
        return false;
    }
    let left = end.saturating_duration_since(Instant::now());
    match stop_clock(call_started) {
        Some(since) if since + left >= stop_budget(true) => false,
        _ => {
            std::thread::sleep(left);
            true
        }
    }
}

/// What a worker needs, owned; secrets in zeroizing buffers.
struct Attempt {
    agent: ureq::Agent,
    call: Call,
    method: Method,
    url: Zeroizing<String>,
    bearer: Option<Zeroizing<String>>,
    content_type: Option<&'static str>,
    body: Option<Zeroizing<Vec<u8>>>,
}

impl Attempt {
    fn run(self) -> Result<Answer, AttemptError> {
        let url = self.url.as_str();
        let response = match self.method {
            Method::Get => {
                let mut b = self.agent.get(url).header("Accept", "application/json");
                if let Some(h) = &self.bearer {
                    b = b.header("Authorization", h.as_str());
                }
                b.call()
            }
            Method::Post | Method::Put => {
                let mut b = match self.method {
                    Method::Post => self.agent.post(url),
                    _ => self.agent.put(url),
                }
                .header("Accept", "application/json");
                if let Some(h) = &self.bearer {
                    b = b.header("Authorization", h.as_str());
                }
                if let Some(ct) = self.content_type {
                    b = b.header("Content-Type", ct);
                }
                b.send(self.body.as_deref().map_or(&[][..], |v| v.as_slice()))
            }
        };
        let mut response = response.map_err(AttemptError::from)?;
        let status = response.status().as_u16();
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok());
        let retry_after = header("retry-after").and_then(retry::parse_retry_after);
        let location_host = header("location").map(|l| match url::host_of(l) {
            Some(h) => url::shown(h),
            None => String::from("(the same host)"),
        });
        let body = match read_capped(response.body_mut()) {
            // The status was received; a task update needs nothing more.
            Err(_) if self.call == Call::TaskUpdate && retry::is_success(status) => Zeroizing::new(Vec::new()),
            other => other?,
        };
        Ok(Answer {
            status,
            body,
            retry_after,
            location_host,
        })
    }
}

/// One attempt's reply, whatever its status.
struct Answer {
    status: u16,
    body: Zeroizing<Vec<u8>>,
    retry_after: Option<u64>,
    location_host: Option<String>,
}

enum AttemptError {
    /// Nothing reached the server.
    Unsent(String),
    /// The request may have reached the server; no reply came.
    NoReply(String),
    TooLarge,
    /// Abandoned after a stop.
    Stopped,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptError::Unsent(e) | AttemptError::NoReply(e) => f.write_str(e),
            AttemptError::TooLarge => write!(f, "reply body larger than {MAX_BODY} bytes"),
            AttemptError::Stopped => f.write_str("abandoned after a stop signal"),
        }
    }
}

impl From<ureq::Error> for AttemptError {
    /// Whether the request may have reached the server decides whether a
    /// failed task update may be rolled back, so "may have arrived" is the
    /// default for anything that happens once a connection is up, and
    /// "unsent" is kept for errors that come before it: resolving,
    /// connecting, the TLS handshake.
    fn from(e: ureq::Error) -> AttemptError {
        use std::io::ErrorKind as K;
        use ureq::Timeout as T;
        // Only what provably fails before a byte of the request is written
        // counts as unsent: resolving, connecting, a handshake refused. Any
        // other error — a TLS record that cannot be decrypted after the
        // request went out, a reset, a timeout while sending or waiting —
        // may come after the server got the request.
        let unsent = match &e {
            ureq::Error::BodyExceedsLimit(_) => return AttemptError::TooLarge,
            ureq::Error::Timeout(T::Resolve | T::Connect)
            | ureq::Error::HostNotFound
            | ureq::Error::ConnectionFailed
            | ureq::Error::BadUri(_)
            | ureq::Error::RequireHttpsOnly(_)
            | ureq::Error::Rustls(_)
            | ureq::Error::Tls(_) => true,
            ureq::Error::Io(io) => io.kind() == K::ConnectionRefused,
            _ => false,
        };
        if unsent {
            AttemptError::Unsent(e.to_string())
        } else {
            AttemptError::NoReply(e.to_string())
        }
    }
}

/// Reads a body of at most [`MAX_BODY`] bytes into a buffer that is zeroized
/// on drop, and zeroizes each smaller buffer it outgrows.
fn read_capped(body: &mut ureq::Body) -> Result<Zeroizing<Vec<u8>>, AttemptError> {
    let hint = body.content_length().unwrap_or(0).min(MAX_BODY as u64 + 1) as usize;
    let mut buf = Zeroizing::new(Vec::with_capacity(hint.max(1024)));
    let mut reader = body.with_config().limit(MAX_BODY as u64 + 1).reader();
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                return Err(match e.into_inner().and_then(|i| i.downcast::<ureq::Error>().ok()) {
                    Some(inner) => AttemptError::from(*inner),
                    None => AttemptError::NoReply(String::from("the connection broke while reading the reply")),
                });
            }
        };
        if buf.len() + n > MAX_BODY {
            return Err(AttemptError::TooLarge);
        }
        crate::core::secrets::secret::extend_zeroizing(&mut buf, &chunk[..n]);
    }
    Ok(buf)
}

fn load_pem(path: &str) -> Result<Vec<Certificate<'static>>, SetupError> {
    load_pem_as(path, "CREDHOOK_CA_FILE").map_err(SetupError)
}

/// The settings every credhook HTTP client shares (the job's calls and
/// `credhook http`): statuses are replies, not errors; no proxy from the
/// environment; redirects returned as replies; certificates verified against
/// `roots`. Timeouts are the caller's.
pub(crate) fn agent_config(roots: RootCerts) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Proxies are not read from the environment: nothing reroutes
        // bearer tokens without the operator saying so.
        .proxy(None)
        .max_redirects(0)
        .user_agent(std::format!("credhook/{}", crate::VERSION))
        // The default 128 KiB buffers cost ~0.5 MiB of RSS for replies of
        // a few KiB.
        .input_buffer_size(20 * 1024)
        .output_buffer_size(20 * 1024)
        .tls_config(TlsConfig::builder().root_certs(roots).build())
}

/// The certificates of a PEM file (a regular file of at most
/// `MAX_CA_FILE` bytes); `what` names the setting or flag that named it.
pub(crate) fn load_pem_as(path: &str, what: &str) -> Result<Vec<Certificate<'static>>, String> {
    let pem = super::files::read_regular(path, MAX_CA_FILE).map_err(|e| std::format!("{what} `{path}` {}", e.0))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => {
                // rustls would skip it silently, and every server then fails
                // as "unknown issuer": say so now.
                if let Err(e) = webpki::anchor_from_trusted_cert(&pki_types::CertificateDer::from(c.der())) {
                    return Err(std::format!(
                        "{what} `{path}`: certificate {} is not a valid X.509 certificate ({e:?}); check the file's contents",
                        certs.len() + 1
                    ));
                }
                certs.push(c)
            }
            Ok(_) => {}
            Err(e) => return Err(std::format!("{what} `{path}` is not valid PEM: {e}")),
        }
    }
    if certs.is_empty() {
        return Err(std::format!(
            "{what} `{path}` holds no `-----BEGIN CERTIFICATE-----` block; point it at a PEM CA bundle"
        ));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn unsent(e: ureq::Error) -> bool {
        matches!(AttemptError::from(e), AttemptError::Unsent(_))
    }

    #[test]
    fn only_errors_before_the_request_is_written_count_as_unsent() {
        assert!(unsent(ureq::Error::HostNotFound));
        assert!(unsent(ureq::Error::ConnectionFailed));
        assert!(unsent(ureq::Error::Timeout(ureq::Timeout::Connect)));
        assert!(unsent(ureq::Error::Io(Error::from(ErrorKind::ConnectionRefused))));
        // A TLS record that cannot be decrypted after the request went out
        // surfaces as InvalidData; a reset, a send or receive timeout: all
        // may come after the server got the request.
        for kind in [ErrorKind::InvalidData, ErrorKind::ConnectionReset, ErrorKind::Other] {
            assert!(!unsent(ureq::Error::Io(Error::from(kind))), "{kind:?}");
        }
        assert!(!unsent(ureq::Error::Timeout(ureq::Timeout::RecvResponse)));
    }
}
