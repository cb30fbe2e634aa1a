//! HTTP calls with the contract's rules: https only (http to loopback),
//! verified certificates, per-attempt timeouts, a body cap, retries with
//! backoff and jitter that honour `Retry-After`, one log line per attempt.

use super::log::{Log, V};
use super::signals;
use crate::retry::{self, Outcome, Policy, Verdict};
use crate::secret::Secret;
use crate::url;
use std::fmt;
use std::io::Read;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};
use zeroize::Zeroizing;

/// Largest response body accepted; a larger one is a malformed reply.
pub const MAX_BODY: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
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
pub enum Call {
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

pub struct Request<'a> {
    pub call: Call,
    pub method: Method,
    pub url: &'a str,
    pub bearer: Option<&'a Secret>,
    pub content_type: Option<&'static str>,
    pub body: Option<&'a [u8]>,
}

/// A reply with a 2xx status.
pub struct Reply {
    pub status: u16,
    pub body: Zeroizing<Vec<u8>>,
}

/// Why a call did not get a 2xx reply.
#[derive(Debug)]
pub enum HttpError {
    /// The URL is malformed or plain http to a non-loopback host; nothing was sent.
    Refused(url::UrlError),
    /// No reply after every attempt: connection refused or reset, timeout, TLS.
    Transport(String),
    /// A non-2xx reply (after retries, for 429 and 5xx). The body is kept for
    /// the caller to summarise; it is not logged.
    Status { status: u16, body: Zeroizing<Vec<u8>> },
    /// The reply body was larger than [`MAX_BODY`].
    TooLarge,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Refused(e) => write!(f, "refused to connect: {e}"),
            HttpError::Transport(e) => write!(f, "no reply: {e}"),
            HttpError::Status { status, .. } => write!(f, "http status {status}"),
            HttpError::TooLarge => write!(f, "the reply was larger than {MAX_BODY} bytes"),
        }
    }
}

/// Why the HTTP client could not be set up.
#[derive(Debug)]
pub struct SetupError(pub String);

pub struct Http {
    agent: ureq::Agent,
    policy: Policy,
    rng: u64,
}

impl Http {
    /// `ca_file`: trust exactly the certificates in this PEM file instead of
    /// the bundled Mozilla roots.
    pub fn new(policy: Policy, timeout: Duration, ca_file: Option<&str>) -> Result<Http, SetupError> {
        let roots = match ca_file {
            None => RootCerts::WebPki,
            Some(path) => RootCerts::new_with_certs(&load_pem(path)?),
        };
        let t = Some(timeout);
        let config = agent_config(roots)
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

    /// Sends `req`, retrying connection errors, timeouts, 429 and 5xx.
    pub fn send(&mut self, log: &Log, req: &Request<'_>) -> Result<Reply, HttpError> {
        let parsed = url::parse(req.url).map_err(HttpError::Refused)?;
        let (host, path) = (parsed.host.to_string(), parsed.path.to_string());
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let result = self.attempt(req);
            let ms = started.elapsed().as_millis() as u64;
            let (outcome, retry_after) = match &result {
                Ok(a) => (Outcome::Status(a.status), a.retry_after),
                Err(_) => (Outcome::Transport, None),
            };
            let mut fields = std::vec![
                ("call", V::S(req.call.as_str())),
                ("method", V::S(req.method.as_str())),
                ("host", V::S(&host)),
                ("path", V::S(&path)),
                ("attempt", V::N(u64::from(attempt) + 1)),
                ("duration_ms", V::N(ms)),
            ];
            let err_text;
            match &result {
                Ok(a) => fields.push(("status", V::N(u64::from(a.status)))),
                Err(e) => {
                    err_text = e.to_string();
                    fields.push(("error", V::S(&err_text)));
                }
            }
            let verdict = match &result {
                Err(AttemptError::TooLarge) => Verdict::GiveUp,
                _ => match retry::decide(self.policy, attempt, outcome, retry_after, self.random()) {
                    Verdict::RetryAfterMs(_) if signals::stop_requested() && req.call != Call::TaskUpdate => {
                        Verdict::GiveUp
                    }
                    v => v,
                },
            };
            if let Verdict::RetryAfterMs(d) = verdict {
                fields.push(("retry_in_ms", V::N(d)));
            }
            log.info("http call", &fields);
            match (verdict, result) {
                (Verdict::Done, Ok(a)) => {
                    return Ok(Reply {
                        status: a.status,
                        body: a.body,
                    });
                }
                (Verdict::RetryAfterMs(d), _) => {
                    signals::sleep(Duration::from_millis(d));
                    attempt += 1;
                }
                (_, Ok(a)) => {
                    return Err(HttpError::Status {
                        status: a.status,
                        body: a.body,
                    });
                }
                (_, Err(AttemptError::TooLarge)) => return Err(HttpError::TooLarge),
                (_, Err(AttemptError::Transport(e))) => return Err(HttpError::Transport(e)),
            }
        }
    }

    fn attempt(&self, req: &Request<'_>) -> Result<Answer, AttemptError> {
        let bearer = req
            .bearer
            .map(|t| Zeroizing::new(std::format!("Bearer {}", t.expose())));
        let response = match req.method {
            Method::Get => {
                let mut b = self.agent.get(req.url).header("Accept", "application/json");
                if let Some(h) = &bearer {
                    b = b.header("Authorization", h.as_str());
                }
                b.call()
            }
            Method::Post | Method::Put => {
                let mut b = match req.method {
                    Method::Post => self.agent.post(req.url),
                    _ => self.agent.put(req.url),
                }
                .header("Accept", "application/json");
                if let Some(h) = &bearer {
                    b = b.header("Authorization", h.as_str());
                }
                if let Some(ct) = req.content_type {
                    b = b.header("Content-Type", ct);
                }
                b.send(req.body.unwrap_or(&[]))
            }
        };
        let mut response = response.map_err(AttemptError::from)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(retry::parse_retry_after);
        let body = match read_capped(response.body_mut()) {
            // The status was received; a task update needs nothing more.
            Err(_) if req.call == Call::TaskUpdate && (200..300).contains(&status) => Zeroizing::new(Vec::new()),
            other => other?,
        };
        Ok(Answer {
            status,
            body,
            retry_after,
        })
    }
}

/// One attempt's reply, whatever its status.
struct Answer {
    status: u16,
    body: Zeroizing<Vec<u8>>,
    retry_after: Option<u64>,
}

enum AttemptError {
    Transport(String),
    TooLarge,
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptError::Transport(e) => f.write_str(e),
            AttemptError::TooLarge => write!(f, "reply body larger than {MAX_BODY} bytes"),
        }
    }
}

impl From<ureq::Error> for AttemptError {
    fn from(e: ureq::Error) -> AttemptError {
        match e {
            ureq::Error::BodyExceedsLimit(_) => AttemptError::TooLarge,
            other => AttemptError::Transport(other.to_string()),
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
                    None => AttemptError::Transport(String::from("the connection broke while reading the reply")),
                });
            }
        };
        if buf.len() + n > MAX_BODY {
            return Err(AttemptError::TooLarge);
        }
        if buf.len() + n > buf.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity((buf.capacity() * 2).max(buf.len() + n)));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
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
pub fn agent_config(roots: RootCerts) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
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

/// The certificates of a PEM file; `what` names the setting or flag that
/// named the file, for the message.
pub fn load_pem_as(path: &str, what: &str) -> Result<Vec<Certificate<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| std::format!("{what} `{path}` cannot be read: {e}"))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
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
