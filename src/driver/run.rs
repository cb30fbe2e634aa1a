//! `credhook run`: one secret task from environment to task update.
//!
//! env → schema → inputs → token → secrets → hook → outputs → task update,
//! with a rollback `delete` whenever a create does not end reported.

use super::http::{Call, Http, HttpError, Method, Request};
use super::log::{Log, V};
use super::step::{self, Hook, Verdict};
use super::{Env, known_secrets, signals};
use crate::hookenv;
use crate::iam::{self, Grant, Token};
use crate::inputs::{self, Input};
use crate::outputs;
use crate::referenced;
use crate::schema::{self, Kind};
use crate::secret::Secret;
use crate::settings::{self, Action, Credential, Settings};
use crate::task::{self, ErrorCode, FailureCode};
use std::format;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;

/// Exit statuses.
pub const EXIT_SUCCESS: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_NOT_REPORTED: u8 = 2;

/// A token is refreshed when it expires within this long.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

/// The places the platform mounts a compute resource token, in order.
const CR_TOKEN_PATHS: [&str; 3] = [
    "/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token",
    "/var/run/secrets/tokens/vault-token",
    "/var/run/secrets/tokens/sa-token",
];

/// Largest compute resource token file read (a token is a few KiB).
const MAX_CR_TOKEN_FILE: u64 = 64 * 1024;

/// Why a task update did not get a 2xx.
enum Undelivered {
    /// Secrets Manager did not get it.
    No(String),
    /// An attempt may have reached Secrets Manager: it may hold the result.
    Ambiguous(String),
}

/// How the task ended, for the last log line.
enum Outcome {
    Reported { status: &'static str, exit: u8 },
    NotReported(String),
}

pub fn run(env: &Env) -> u8 {
    let format = settings::log_format(env.utf8());
    let mut log = Log::new(
        format,
        env.get("SM_SECRET_TASK_ID").unwrap_or(""),
        env.get("SM_ACTION").unwrap_or(""),
    );
    if let Some(key) = env.get("SM_ACCESS_APIKEY") {
        known_secrets::register(key);
    }
    let credential = if env.get("CREDHOOK_TRUSTED_PROFILE").is_some_and(|p| !p.is_empty()) {
        "trusted_profile"
    } else if env.get("SM_ACCESS_APIKEY").is_some_and(|k| !k.is_empty()) {
        "api_key"
    } else {
        "none"
    };
    log.info(
        "credhook started",
        &[
            ("version", V::S(crate::VERSION)),
            ("commit", V::S(env!("CREDHOOK_COMMIT"))),
            ("target", V::S(env!("CREDHOOK_TARGET"))),
            ("trigger", V::S(env.get("SM_TRIGGER").unwrap_or(""))),
            ("secret_id", V::S(env.get("SM_SECRET_ID").unwrap_or(""))),
            ("credential", V::S(credential)),
        ],
    );
    if let Err(e) = signals::harden() {
        log.warn("could not turn off core dumps", &[("error", V::S(&e.to_string()))]);
    }
    if let Err(e) = signals::install() {
        log.warn("could not install signal handlers", &[("error", V::S(&e.to_string()))]);
    }
    let outcome = match settings::parse(env.utf8()) {
        _ if !env.duplicates.is_empty() => {
            for name in &env.duplicates {
                log.error(
                    &format!("invalid environment: {name} is set more than once; set it once"),
                    &[("variable", V::S(name))],
                );
            }
            Outcome::NotReported(String::from(
                "the environment is not valid (duplicate variables); the task cannot be updated",
            ))
        }
        Err(errors) => {
            for e in &errors {
                log.error(&format!("invalid environment: {e}"), &[("variable", V::S(e.var))]);
            }
            Outcome::NotReported(format!(
                "the environment is not valid ({} problem{}); the task cannot be updated",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ))
        }
        Ok(settings) => match Http::new(
            settings.retry,
            Duration::from_secs(settings.http_timeout_s),
            settings.ca_file.as_deref(),
        ) {
            Err(e) => {
                log.error(&e.0, &[("variable", V::S("CREDHOOK_CA_FILE"))]);
                Outcome::NotReported(String::from("the HTTP client could not be set up"))
            }
            Ok(http) => {
                let mut job = Job {
                    env,
                    s: settings,
                    log,
                    http,
                    token: None,
                };
                let outcome = job.run();
                log = job.log;
                outcome
            }
        },
    };
    let (msg, status, exit) = match &outcome {
        Outcome::Reported { status, exit } => ("credhook finished", *status, *exit),
        Outcome::NotReported(why) => (why.as_str(), "not_reported", EXIT_NOT_REPORTED),
    };
    let level = if exit == EXIT_SUCCESS {
        super::log::Level::Info
    } else {
        super::log::Level::Error
    };
    let usage = signals::own_usage();
    log.event(
        level,
        msg,
        &[
            ("outcome", V::S(status)),
            ("exit", V::N(u64::from(exit))),
            ("duration_ms", V::N(log.elapsed_ms())),
            ("cpu_user_us", V::N(usage.user_us)),
            ("cpu_sys_us", V::N(usage.sys_us)),
            ("max_rss_kib", V::N(usage.max_rss_kib)),
        ],
    );
    exit
}

struct Job<'a> {
    env: &'a Env,
    s: Settings,
    log: Log,
    http: Http,
    token: Option<(Token, Instant)>,
}

impl Job<'_> {
    fn run(&mut self) -> Outcome {
        // Schema and inputs are checked first, but a problem can only be
        // reported with a token, so it is held until then.
        let (schema, problems) = schema::from_env(self.env.utf8());
        let mut invalid: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let inputs = match inputs::validate(&schema, |k| self.env.get(k)) {
            Ok(i) => i,
            Err(p) => {
                invalid.extend(p);
                Vec::new()
            }
        };
        if let Err(why) = self.ensure_token() {
            return Outcome::NotReported(why);
        }
        if signals::stop_requested() {
            return self.fail(
                ErrorCode::Stopped.into(),
                "the job was told to stop before the hook ran",
                None,
            );
        }
        if !invalid.is_empty() {
            let description = invalid.join("; ");
            return self.fail(ErrorCode::InvalidInput.into(), &description, None);
        }
        let resolved = match self.resolve_secrets(&inputs) {
            Ok(r) => r,
            Err(_) if signals::stop_requested() => {
                return self.fail(
                    ErrorCode::Stopped.into(),
                    "the job was told to stop while it read a referenced secret, before the hook ran",
                    None,
                );
            }
            Err(description) => {
                return self.fail(ErrorCode::SecretUnreadable.into(), &description, None);
            }
        };
        if signals::stop_requested() {
            return self.fail(
                ErrorCode::Stopped.into(),
                "the job was told to stop before the hook ran",
                None,
            );
        }
        let iam_token = self
            .token
            .as_ref()
            .filter(|_| self.s.hook_iam_token)
            .map(|(t, _)| &t.access_token);
        let base_env = step::environment(&self.env.all, &schema, &inputs, resolved, iam_token);
        let hook_path = self.s.hook.clone();
        let hook = Hook {
            path: &hook_path,
            timeout_s: self.s.hook_timeout_s,
        };
        let action = self.s.action;
        let run = step::run_hook(&hook, &schema, action.hook_arg(), base_env.clone(), true);
        let new_ids = match action {
            Action::Create => outputs::find_ids(&run.output),
            Action::Delete => Vec::new(),
        };
        let verdict = step::judge(action, &schema, &run, &hook, &self.log);
        step::log_run(&self.log, &run, "hook");
        match verdict {
            Verdict::Created(c) => {
                let body = task::created_body(&c);
                match self.update(body.expose().as_bytes()) {
                    Ok(()) => Outcome::Reported {
                        status: "credentials_created",
                        exit: EXIT_SUCCESS,
                    },
                    Err(Undelivered::Ambiguous(why)) => {
                        // Secrets Manager may hold these credentials: deleting
                        // them could break a secret it reports as created.
                        self.log.error(
                            "the task update may have been delivered before it failed: no rollback; \
                             check the secret's versions in Secrets Manager: if it has none with these \
                             credentials, delete them in the external system by hand",
                            &[
                                ("credentials_id", V::S(&c.id)),
                                ("secret_id", V::S(&self.s.secret_id)),
                                ("task_id", V::S(&self.s.task_id)),
                            ],
                        );
                        Outcome::NotReported(why)
                    }
                    Err(Undelivered::No(why)) => {
                        step::rollback(&self.log, &hook, &schema, &base_env, core::slice::from_ref(&c.id));
                        Outcome::NotReported(why)
                    }
                }
            }
            Verdict::Deleted => match self.update(task::deleted_body().as_bytes()) {
                Ok(()) => Outcome::Reported {
                    status: "credentials_deleted",
                    exit: EXIT_SUCCESS,
                },
                Err(Undelivered::No(why) | Undelivered::Ambiguous(why)) => Outcome::NotReported(why),
            },
            Verdict::Failed { code, description } => {
                let rollback = step::rollback(&self.log, &hook, &schema, &base_env, &new_ids);
                self.fail(code, &description, rollback.as_deref())
            }
        }
    }

    /// Reports `failed`; exit 1 when delivered, else 2. Whatever its source,
    /// the description is masked with every secret known by now.
    fn fail(&mut self, code: FailureCode, what: &str, rollback: Option<&str>) -> Outcome {
        let what = known_secrets::mask(what);
        let rollback = rollback.map(known_secrets::mask);
        let description = task::describe(&what, rollback.as_deref());
        let code = code.as_str();
        self.log.error(
            "task failed",
            &[("code", V::S(code)), ("description", V::S(&description))],
        );
        match self.update(task::failed_body(code, &description).as_bytes()) {
            Ok(()) => Outcome::Reported {
                status: "failed",
                exit: EXIT_FAILED,
            },
            Err(Undelivered::No(why) | Undelivered::Ambiguous(why)) => Outcome::NotReported(why),
        }
    }

    /// `PUT …/secrets/{id}/tasks/{task}`. A 400/404 is final.
    fn update(&mut self, body: &[u8]) -> Result<(), Undelivered> {
        self.ensure_token().map_err(Undelivered::No)?;
        let url = format!(
            "{}/api/v2/secrets/{}/tasks/{}",
            self.s.instance_url,
            path_segment(&self.s.secret_id),
            path_segment(&self.s.task_id)
        );
        let token = self.token.as_ref().map(|(t, _)| &t.access_token);
        let req = Request {
            call: Call::TaskUpdate,
            method: Method::Put,
            url: &url,
            bearer: token,
            content_type: Some("application/json"),
            body: Some(body),
        };
        match self.http.send(&self.log, &req) {
            Ok(_) => Ok(()),
            Err(e @ HttpError::Ambiguous(_)) => Err(Undelivered::Ambiguous(format!(
                "the task update may or may not have been delivered: {e}"
            ))),
            Err(e) => Err(Undelivered::No(format!("the task update was not delivered: {e}"))),
        }
    }

    /// Gets a token, or a fresh one when it expires within five minutes.
    fn ensure_token(&mut self) -> Result<(), String> {
        if let Some((t, at)) = &self.token {
            let lifetime = Duration::from_secs(t.expires_in.unwrap_or(3600));
            if at.elapsed() + TOKEN_MARGIN < lifetime {
                return Ok(());
            }
            self.log.info("refreshing the IAM token", &[]);
        }
        let cr_token;
        let grant = match &self.s.credential {
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
        let url = format!("{}/identity/token", self.s.iam_url);
        let req = Request {
            call: Call::Token,
            method: Method::Post,
            url: &url,
            bearer: None,
            content_type: Some("application/x-www-form-urlencoded"),
            body: Some(form.expose().as_bytes()),
        };
        let reply = match self.http.send(&self.log, &req) {
            Ok(r) => r,
            Err(HttpError::Status { status, body }) => {
                let said = iam::error_summary(&body).unwrap_or_default();
                return Err(format!(
                    "IAM refused the credential (http status {status}{}{said}); check SM_ACCESS_APIKEY or the trusted profile",
                    if said.is_empty() { "" } else { ": " }
                ));
            }
            Err(e) => return Err(format!("no IAM token: {e}")),
        };
        let token = iam::parse_token_reply(&reply.body).map_err(|e| format!("IAM's token reply is not usable: {e}"))?;
        known_secrets::register(token.access_token.expose());
        self.token = Some((token, Instant::now()));
        Ok(())
    }

    /// `GET /api/v2/secrets/{id}` for every `secret_id` input with a value.
    fn resolve_secrets(&mut self, inputs: &[Input]) -> Result<Vec<(String, Secret)>, String> {
        let mut vars = Vec::new();
        if !self.s.resolve_secrets {
            return Ok(vars);
        }
        for input in inputs.iter().filter(|i| i.field.kind == Kind::SecretId) {
            let Some(id) = &input.value else { continue };
            self.ensure_token()?;
            let url = format!("{}/api/v2/secrets/{}", self.s.instance_url, path_segment(id));
            let token = self.token.as_ref().map(|(t, _)| &t.access_token);
            let req = Request {
                call: Call::SecretRead,
                method: Method::Get,
                url: &url,
                bearer: token,
                content_type: None,
                body: None,
            };
            let name = input.field.api_name();
            let reply = self.http.send(&self.log, &req).map_err(|e| {
                let hint = match &e {
                    HttpError::Status { status: 404, .. } => "check that the secret exists",
                    HttpError::Status { status: 401 | 403, .. } => {
                        "give the job's service ID the SecretsReader role on the secret's group"
                    }
                    _ => "the job will try again at the next task",
                };
                format!("input `{name}`: secret {id} could not be read ({e}); {hint}")
            })?;
            let fields = referenced::hook_vars(&input.field.name, &reply.body)
                .map_err(|e| format!("input `{name}`: secret {id} could not be read: {e}"))?;
            for (var, value) in fields {
                // Every field, and every string and number inside a JSON
                // one (kv data, credentials), is a secret from here on.
                if !var.ends_with("_TYPE") {
                    known_secrets::register(value.expose());
                }
                hookenv::check_value(&var, value.expose())
                    .map_err(|e| format!("input `{name}`: secret {id} cannot be given to the hook: {e}"))?;
                vars.push((var, value));
            }
            hookenv::check_total(vars.iter().map(|(k, v): &(String, Secret)| (k.as_str(), v.expose())))
                .map_err(|e| format!("input `{name}`: secret {id}: {e}"))?;
        }
        Ok(vars)
    }
}

fn read_cr_token(file: Option<&str>) -> Result<Secret, String> {
    let path = match file {
        Some(f) => f,
        None => CR_TOKEN_PATHS.iter().copied().find(|p| std::path::Path::new(p).exists()).ok_or_else(|| {
            format!(
                "no compute resource token: none of {} exists; enable the compute resource token for the job or set CREDHOOK_CR_TOKEN_FILE",
                CR_TOKEN_PATHS.join(", ")
            )
        })?,
    };
    let raw = super::files::read_regular(path, MAX_CR_TOKEN_FILE)
        .map_err(|e| format!("the compute resource token file `{path}` {}", e.0))?;
    let text =
        std::str::from_utf8(&raw).map_err(|_| format!("the compute resource token file `{path}` is not text"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!("the compute resource token file `{path}` is empty"));
    }
    Ok(Secret::from(token))
}

/// Percent-encodes an ID for use as one URL path segment.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
