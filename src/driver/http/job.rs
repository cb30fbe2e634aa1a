//! The job's calls to IAM and Secrets Manager through the engine: each
//! [`Call`] with its policy from the core ([`policy::for_job`]), and one
//! log line per attempt.

use super::super::DriverError;
use super::super::log::{Log, LogValue};
use super::{Attempted, Call, Engine, Outgoing, Reply};
use crate::core::net::method::Method;
use crate::core::net::policy::{self, RetrySettings};
use crate::core::net::url;
use crate::core::secrets::secret::Secret;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;
use ureq::tls::RootCerts;
use zeroize::Zeroizing;

/// One of the job's requests.
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

/// The job's HTTP client.
pub(crate) struct Http {
    engine: Engine,
    retry: RetrySettings,
}

impl Http {
    /// `timeout`: each phase of an attempt (`CREDHOOK_HTTP_TIMEOUT`);
    /// `ca_file`: trust exactly the certificates in this PEM file instead
    /// of the bundled Mozilla roots.
    pub(crate) fn new(retry: RetrySettings, timeout: Duration, ca_file: Option<&str>) -> Result<Http, DriverError> {
        let roots = match ca_file {
            None => RootCerts::WebPki,
            Some(path) => RootCerts::new_with_certs(&super::load_pem_as(path, "CREDHOOK_CA_FILE")?),
        };
        Ok(Http {
            engine: Engine::new(roots, policy::job_limits(timeout.as_secs())),
            retry,
        })
    }

    /// Sends `req` as its call's policy says, logging each attempt.
    pub(crate) fn send(&mut self, log: &Log, req: &Request<'_>) -> Result<Reply, DriverError> {
        let policy = policy::for_job(req.call, &self.retry, req.report.is_some());
        let mut headers = std::vec![(String::from("Accept"), Secret::from("application/json"))];
        if let Some(t) = req.bearer {
            headers.push((
                String::from("Authorization"),
                Secret::new(std::format!("Bearer {}", t.expose())),
            ));
        }
        if let Some(ct) = req.content_type {
            headers.push((String::from("Content-Type"), Secret::from(ct)));
        }
        let out = Outgoing {
            method: req.method,
            url: Secret::from(req.url),
            headers,
            body: req.body.map(|b| Zeroizing::new(b.to_vec())),
        };
        let (host, path) = match url::parse(req.url) {
            Ok(u) => (u.host.to_string(), u.path.to_string()),
            Err(_) => (String::new(), String::new()),
        };
        self.engine.call(out, &policy, req.report, &mut |a| {
            log_attempt(log, req.call, &host, &path, a)
        })
    }
}

/// The attempt's log line: call, method, host and path (never the query),
/// attempt, duration, status or error, and the wait before the next.
fn log_attempt(log: &Log, call: Call, host: &str, path: &str, a: &Attempted<'_>) {
    let mut fields: Vec<(&str, LogValue<'_>)> = std::vec![
        ("call", LogValue::Str(call.as_str())),
        ("method", LogValue::Str(a.method.as_str())),
        ("host", LogValue::Str(host)),
        ("path", LogValue::Str(path)),
        ("attempt", LogValue::Num(u64::from(a.number))),
        ("duration_ms", LogValue::Num(a.duration.as_millis() as u64)),
    ];
    let error;
    match &a.result {
        Ok(status) => fields.push(("status", LogValue::Num(u64::from(*status)))),
        Err(e) => {
            error = e.to_string();
            fields.push(("error", LogValue::Str(&error)));
        }
    }
    if let Some(d) = a.retry_in {
        fields.push(("retry_in_ms", LogValue::Num(d.as_millis() as u64)));
    }
    log.info("http call", &fields);
}
