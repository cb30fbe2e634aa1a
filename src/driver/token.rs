//! The IAM token: got before anything else, refreshed when it would expire
//! within five minutes, registered as a secret the moment it arrives.

use super::DriverError;
use super::http::{Call, CallFailure, Http, Request};
use super::log::{Log, LogValue};
use super::{known_secrets, signals};
use crate::core::job::settings::Credential;
use crate::core::net::api;
use crate::core::net::iam::{self, Grant, IamToken};
use crate::core::net::method::Method;
use crate::core::secrets::secret::Secret;
use std::format;
use std::string::{String, ToString};
use std::time::Instant;

/// The places the platform mounts a compute resource token, in order.
const CR_TOKEN_PATHS: [&str; 3] = [
    "/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token",
    "/var/run/secrets/tokens/vault-token",
    "/var/run/secrets/tokens/sa-token",
];

/// Largest compute resource token file read (a token is a few KiB).
const MAX_CR_TOKEN_FILE: u64 = 64 * 1024;

/// Where tokens come from, and the current one.
pub(crate) struct Tokens<'a> {
    pub(crate) credential: &'a Credential,
    pub(crate) iam_url: &'a str,
    current: Option<(IamToken, Instant)>,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(credential: &'a Credential, iam_url: &'a str) -> Tokens<'a> {
        Tokens {
            credential,
            iam_url,
            current: None,
        }
    }

    /// The current token, if one was had.
    pub(crate) fn current(&self) -> Option<&Secret> {
        self.current.as_ref().map(|(t, _)| &t.access_token)
    }

    /// A token good for the next call: the current one, or a fresh one when
    /// it expires within five minutes.
    /// `report`: the task update this token is for, and when it began (a
    /// refresh for it shares its stop budget).
    /// If the refresh fails, the current token is used while it has not
    /// expired.
    pub(crate) fn fresh(
        &mut self,
        http: &mut Http,
        log: &Log,
        report: Option<Instant>,
    ) -> Result<&Secret, DriverError> {
        let age_ms = |at: &Instant| at.elapsed().as_millis() as u64;
        let stale = self
            .current
            .as_ref()
            .is_some_and(|(t, at)| !iam::token_still_good(age_ms(at), t.expires_in, signals::stop_requested()));
        if stale {
            log.info("refreshing the IAM token", &[]);
        }
        if stale || self.current.is_none() {
            match self.get(http, log, report) {
                Ok(token) => self.current = Some((token, Instant::now())),
                Err(why) => {
                    let unexpired = self
                        .current
                        .as_ref()
                        .is_some_and(|(t, at)| iam::token_unexpired(age_ms(at), t.expires_in));
                    if !unexpired {
                        self.current = None;
                        return Err(why);
                    }
                    log.warn(
                        "the IAM token could not be refreshed; the current one has not expired yet and is used",
                        &[("error", LogValue::Str(&why.to_string()))],
                    );
                }
            }
        }
        self.current
            .as_ref()
            .map(|(t, _)| &t.access_token)
            .ok_or_else(|| DriverError::Token(String::from("no IAM token")))
    }

    fn get(&self, http: &mut Http, log: &Log, report: Option<Instant>) -> Result<IamToken, DriverError> {
        let cr_token;
        let grant = match self.credential {
            Credential::ApiKey(key) => Grant::ApiKey(key),
            Credential::TrustedProfile { profile, cr_token_file } => {
                cr_token = read_cr_token(cr_token_file.as_deref())?;
                known_secrets::register(cr_token.expose());
                Grant::TrustedProfile {
                    cr_token: &cr_token,
                    profile,
                }
            }
        };
        let form = iam::token_form(&grant);
        let url = api::token_url(self.iam_url);
        let req = Request {
            call: Call::Token,
            report,
            method: Method::Post,
            url: &url,
            bearer: None,
            content_type: Some("application/x-www-form-urlencoded"),
            body: Some(form.expose().as_bytes()),
        };
        let reply = match http.send(log, &req) {
            Ok(r) => r,
            Err(e) => return Err(refusal(&e).unwrap_or_else(|| DriverError::Token(format!("no IAM token: {e}")))),
        };
        let token = iam::parse_token_reply(&reply.body)
            .map_err(|e| DriverError::Token(format!("IAM's token reply is not usable: {e}")))?;
        known_secrets::register(token.access_token.expose());
        Ok(token)
    }
}

/// IAM's refusal of the credential (a 4xx other than 429), in IAM's own
/// words, if that is how the call ended.
fn refusal(e: &DriverError) -> Option<DriverError> {
    let DriverError::Http(call) = e else { return None };
    let CallFailure::Status { status, body } = &call.why else {
        return None;
    };
    if !iam::refused(*status) {
        return None;
    }
    let said = iam::error_summary(body).unwrap_or_default();
    Some(DriverError::Token(format!(
        "IAM refused the credential (http status {status}{}{said}); check SM_ACCESS_APIKEY or the trusted profile",
        if said.is_empty() { "" } else { ": " }
    )))
}

fn read_cr_token(file: Option<&str>) -> Result<Secret, DriverError> {
    let path = match file {
        Some(f) => f,
        None => CR_TOKEN_PATHS.iter().copied().find(|p| std::path::Path::new(p).exists()).ok_or_else(|| {
            DriverError::Token(format!(
                "no compute resource token: none of {} exists; enable the compute resource token for the job or set CREDHOOK_CR_TOKEN_FILE",
                CR_TOKEN_PATHS.join(", ")
            ))
        })?,
    };
    let raw = super::files::read_regular(path, MAX_CR_TOKEN_FILE)
        .map_err(|e| DriverError::Token(format!("the compute resource token file `{path}` {e}")))?;
    let text = std::str::from_utf8(&raw)
        .map_err(|_| DriverError::Token(format!("the compute resource token file `{path}` is not text")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(DriverError::Token(format!(
            "the compute resource token file `{path}` is empty"
        )));
    }
    Ok(Secret::from(token))
}
