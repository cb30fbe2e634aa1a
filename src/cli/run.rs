//! `credhook run`: one secret task from environment to task update.
//!
//! env → schema → inputs → token → secrets → hook → outputs → task update,
//! with a rollback `delete` whenever a create does not end reported.

use crate::core::hook::channel;
use crate::core::hook::environment;
use crate::core::job::flow::{EXIT_SUCCESS, Event, Flow, Outcome, Step, Update};
use crate::core::job::inputs::{self, Input};
use crate::core::job::schema::{self, Kind};
use crate::core::job::settings::{self, Action, Settings};
use crate::core::job::task_update;
use crate::core::net::api;
use crate::core::net::method::Method;
use crate::core::secrets::previous;
use crate::core::secrets::referenced;
use crate::core::secrets::secret::Secret;
use crate::driver::hook::{self, Hook};
use crate::driver::http::{Call, Failure, Http, HttpError, Reply, Request};
use crate::driver::log::{Log, LogValue};
use crate::driver::token::Tokens;
use crate::driver::{Env, Vars, known_secrets, process, signals};
use std::format;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;

fn not_reported(why: String) -> Outcome {
    Outcome::NotReported { why, unconfirmed: None }
}

/// `credhook [run]`: one secret task, configured by the environment.
pub fn main() -> u8 {
    run(&Env::from_process())
}

/// `credhook run`: the first log line, the task, the last log line.
fn run(env: &Env) -> u8 {
    let log = start(env);
    let outcome = task(env, &log);
    finish(env, &log, &outcome)
}

/// The log, the first line, and this process hardened.
fn start(env: &Env) -> Log {
    let log = Log::new(
        settings::log_format(env.utf8()),
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
            ("version", LogValue::Str(crate::VERSION)),
            ("commit", LogValue::Str(env!("CREDHOOK_COMMIT"))),
            ("target", LogValue::Str(env!("CREDHOOK_TARGET"))),
            ("trigger", LogValue::Str(env.get("SM_TRIGGER").unwrap_or(""))),
            ("secret_id", LogValue::Str(env.get("SM_SECRET_ID").unwrap_or(""))),
            ("credential", LogValue::Str(credential)),
        ],
    );
    if let Err(e) = process::harden() {
        log.warn(
            "could not turn off core dumps",
            &[("error", LogValue::Str(&e.to_string()))],
        );
    }
    if let Err(e) = signals::install() {
        log.warn(
            "could not install signal handlers",
            &[("error", LogValue::Str(&e.to_string()))],
        );
    }
    log
}

/// The settings, then the task itself; an environment that cannot be
/// trusted ends it unreported.
fn task(env: &Env, log: &Log) -> Outcome {
    if !env.duplicates.is_empty() {
        for name in &env.duplicates {
            log.error(
                &format!("invalid environment: {name} is set more than once; set it once"),
                &[("variable", LogValue::Str(name))],
            );
        }
        return not_reported(String::from(
            "the environment is not valid (duplicate variables); the task cannot be updated",
        ));
    }
    let settings = match settings::parse(env.utf8()) {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                log.error(
                    &format!("invalid environment: {e}"),
                    &[("variable", LogValue::Str(e.var))],
                );
            }
            return not_reported(format!(
                "the environment is not valid ({} problem{}); the task cannot be updated",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ));
        }
    };
    let http = match Http::new(
        settings.retry,
        Duration::from_secs(settings.http_timeout_s),
        settings.ca_file.as_deref(),
    ) {
        Ok(h) => h,
        Err(e) => {
            log.error(&e.0, &[("variable", LogValue::Str("CREDHOOK_CA_FILE"))]);
            return not_reported(String::from("the HTTP client could not be set up"));
        }
    };
    Job {
        env,
        settings: &settings,
        log,
        http,
        tokens: Tokens::new(&settings.credential, &settings.iam_url),
    }
    .run()
}

/// The last log line (outcome, exit status, duration, CPU and memory);
/// returns the exit status.
fn finish(env: &Env, log: &Log, outcome: &Outcome) -> u8 {
    let (msg, status, exit) = match outcome {
        Outcome::Reported { status, exit } => ("credhook finished", *status, *exit),
        Outcome::NotReported { why, unconfirmed } => {
            if let Some(id) = unconfirmed {
                // Secrets Manager may hold these credentials: deleting them
                // could break a secret it reports as created.
                log.error(
                    "the task update may have been delivered before it failed: no rollback; \
                     check the secret's versions in Secrets Manager: if it has none with these \
                     credentials, delete them in the external system by hand",
                    &[
                        ("credentials_id", LogValue::Str(id)),
                        ("secret_id", LogValue::Str(env.get("SM_SECRET_ID").unwrap_or(""))),
                        ("task_id", LogValue::Str(env.get("SM_SECRET_TASK_ID").unwrap_or(""))),
                    ],
                );
            }
            (why.as_str(), "not_reported", outcome.exit())
        }
    };
    let level = if exit == EXIT_SUCCESS {
        crate::driver::log::Level::Info
    } else {
        crate::driver::log::Level::Error
    };
    if let Some(signal) = signals::stop_signal_name() {
        log.warn("a stop signal was received", &[("signal", LogValue::Str(&signal))]);
    }
    let usage = process::own_usage();
    log.event(
        level,
        msg,
        &[
            ("outcome", LogValue::Str(status)),
            ("exit", LogValue::Num(u64::from(exit))),
            ("duration_ms", LogValue::Num(log.elapsed_ms())),
            ("cpu_user_us", LogValue::Num(usage.user_us)),
            ("cpu_sys_us", LogValue::Num(usage.sys_us)),
            ("max_rss_kib", LogValue::Num(usage.max_rss_kib)),
        ],
    );
    exit
}

/// Performs the flow's steps for one task.
struct Job<'a> {
    env: &'a Env,
    settings: &'a Settings,
    log: &'a Log,
    http: Http,
    tokens: Tokens<'a>,
}

impl Job<'_> {
    /// Drives [`Flow`] to its end: every decision is the flow's, every
    /// call and process is made here.
    fn run(&mut self) -> Outcome {
        // Schema and inputs are checked first, but a problem can only be
        // reported with a token: the flow holds it until then.
        let (schema, problems) = schema::from_env(self.env.utf8());
        let mut invalid: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let inputs = match inputs::validate(&schema, |k| self.env.get(k)) {
            Ok(i) => i,
            Err(p) => {
                invalid.extend(p);
                Vec::new()
            }
        };
        let to_read: Vec<&Input> = inputs
            .iter()
            .filter(|i| self.settings.resolve_secrets && i.field.kind == Kind::SecretId && i.value.is_some())
            .collect();
        let action = self.settings.action;
        let mut flow = Flow::new(action, invalid, to_read.len()).with_previous(self.settings.previous_credentials);
        let hook = Hook {
            path: &self.settings.hook,
            timeout_s: self.settings.hook_timeout_s,
        };
        let mut resolved: Vec<(String, Secret)> = Vec::new();
        let mut base_env: Option<Vars> = None;
        let mut event = Event::Start;
        loop {
            let step = flow.next(event, signals::stop_requested());
            event = match step {
                Step::GetToken => match self.tokens.fresh(&mut self.http, self.log, None) {
                    Ok(_) => Event::TokenHad,
                    Err(why) => Event::TokenRefused(why),
                },
                Step::ReadSecret(i) => match self.read_secret(to_read[i], &mut resolved) {
                    Ok(()) => Event::SecretRead,
                    Err(why) => Event::SecretUnreadable(why),
                },
                Step::ReadPrevious => match self.read_previous(&mut resolved) {
                    Ok(()) => Event::PreviousRead,
                    Err(why) => Event::PreviousUnreadable(why),
                },
                Step::RunHook => {
                    let iam_token = self.tokens.current().filter(|_| self.settings.hook_iam_token);
                    let env = hook::environment(
                        &self.env.all,
                        &schema,
                        &inputs,
                        std::mem::take(&mut resolved),
                        iam_token,
                    );
                    let run = hook::run_hook(&hook, &schema, action.hook_arg(), env.clone(), true);
                    base_env = Some(env);
                    let ids = match action {
                        Action::Create => channel::find_ids(&run.output),
                        Action::Delete => Vec::new(),
                    };
                    let verdict = hook::judge(action, &schema, &run, &hook, self.log);
                    hook::log_run(self.log, &run, "hook");
                    Event::HookEnded { verdict, ids }
                }
                Step::RollBack(ids) => {
                    let env = base_env.get_or_insert_with(Vars::default);
                    Event::RolledBack(hook::rollback(self.log, &hook, &schema, env, &ids))
                }
                Step::Update(update) => self.update(update),
                Step::Finish(outcome) => return outcome,
            };
        }
    }

    /// Sends a task update; `PUT …/secrets/{id}/tasks/{task}`.
    fn update(&mut self, update: Update) -> Event {
        let body = match &update {
            Update::Created(c) => task_update::created_body(c),
            Update::Deleted => Secret::from(task_update::deleted_body().as_str()),
            Update::Failed { code, what, rollback } => {
                // Whatever its source, the description is masked with every
                // secret known by now.
                let what = known_secrets::mask(what);
                let rollback = rollback.as_deref().map(known_secrets::mask);
                let description = task_update::describe(&what, rollback.as_deref());
                self.log.error(
                    "task failed",
                    &[
                        ("code", LogValue::Str(code.as_str())),
                        ("description", LogValue::Str(&description)),
                    ],
                );
                Secret::from(task_update::failed_body(code.as_str(), &description).as_str())
            }
        };
        // The report's stop budget covers the token refresh it may need.
        let report = Instant::now();
        let token = match self.tokens.fresh(&mut self.http, self.log, Some(report)) {
            Ok(t) => t.clone(),
            Err(why) => return Event::NotDelivered(why),
        };
        let url = api::task_url(
            &self.settings.instance_url,
            &self.settings.secret_id,
            &self.settings.task_id,
        );
        let req = Request {
            call: Call::TaskUpdate,
            report: Some(report),
            method: Method::Put,
            url: &url,
            bearer: Some(&token),
            content_type: Some("application/json"),
            body: Some(body.expose().as_bytes()),
        };
        match self.http.send(self.log, &req) {
            Ok(_) => Event::Delivered,
            Err(e) => Event::update_ended(e.delivery, &e),
        }
    }

    /// `GET /api/v2/secrets/{id}` with `token`.
    fn get_secret(&mut self, id: &str, token: &Secret) -> Result<Reply, HttpError> {
        let url = api::secret_url(&self.settings.instance_url, id);
        let req = Request {
            call: Call::SecretRead,
            report: None,
            method: Method::Get,
            url: &url,
            bearer: Some(token),
            content_type: None,
            body: None,
        };
        self.http.send(self.log, &req)
    }

    /// `GET /api/v2/secrets/{id}` for one `secret_id` input; its fields are
    /// added to `vars`. With `CREDHOOK_SECRET_GROUPS`, a secret in another
    /// group is refused before any field is used.
    fn read_secret(&mut self, input: &Input, vars: &mut Vec<(String, Secret)>) -> Result<(), String> {
        let Some(id) = &input.value else { return Ok(()) };
        let token = self.tokens.fresh(&mut self.http, self.log, None)?.clone();
        let name = input.field.api_name();
        let reply = self.get_secret(id, &token).map_err(|e| {
            format!(
                "input `{name}`: secret {id} could not be read ({e}); {}",
                api::secret_read_hint(e.status())
            )
        })?;
        if let Some(groups) = &self.settings.secret_groups {
            referenced::check_group(&reply.body, groups).map_err(|e| format!("input `{name}`: secret {id} {e}"))?;
        }
        let fields = referenced::hook_vars(&input.field.name, &reply.body)
            .map_err(|e| format!("input `{name}`: secret {id} could not be read: {e}"))?;
        for (var, value) in fields {
            // Every field, and every string and number inside a JSON one
            // (kv data, credentials), is a secret from here on.
            if !var.ends_with("_TYPE") {
                known_secrets::register(value.expose());
            }
            environment::check_value(&var, value.expose())
                .map_err(|e| format!("input `{name}`: secret {id} cannot be given to the hook: {e}"))?;
            vars.push((var, value));
        }
        environment::check_total(vars.iter().map(|(k, v): &(String, Secret)| (k.as_str(), v.expose())))
            .map_err(|e| format!("input `{name}`: secret {id}: {e}"))
    }

    /// `CREDHOOK_PREVIOUS_CREDENTIALS`: the task's own secret, read like a
    /// referenced one (a 404 is no previous version); its current version's
    /// fields become `CREDHOOK_PREVIOUS_<FIELD>` (secrets), with
    /// `CREDHOOK_PREVIOUS=present` or `none`, added to `vars`.
    /// `CREDHOOK_SECRET_GROUPS` does not apply: it is the task's own secret.
    fn read_previous(&mut self, vars: &mut Vec<(String, Secret)>) -> Result<(), String> {
        let id = self.settings.secret_id.clone();
        let token = self.tokens.fresh(&mut self.http, self.log, None)?.clone();
        let found = match self.get_secret(&id, &token) {
            Ok(reply) => Some(reply),
            Err(HttpError {
                why: Failure::Status { status: 404, .. },
                ..
            }) => None,
            Err(e) => {
                return Err(format!(
                    "the secret's previous version (CREDHOOK_PREVIOUS_CREDENTIALS) could not be read: secret {id} ({e}); {}",
                    api::secret_read_hint(e.status())
                ));
            }
        };
        let prev = match found {
            Some(reply) => previous::from_reply(&reply.body).map_err(|e| {
                format!(
                    "the secret's previous version (CREDHOOK_PREVIOUS_CREDENTIALS) could not be read: secret {id}: {e}"
                )
            })?,
            None => previous::Previous::default(),
        };
        if !prev.skipped.is_empty() {
            self.log.warn(
                "previous version: fields whose names cannot be environment variables were not given to the hook",
                &[("fields", LogValue::Str(&prev.skipped.join(", ")))],
            );
        }
        let status = prev.status();
        for f in prev.fields {
            if f.secret {
                known_secrets::register(f.value.expose());
            }
            environment::check_value(&f.var, f.value.expose())
                .map_err(|e| format!("the secret's previous version (secret {id}) cannot be given to the hook: {e}"))?;
            vars.push((f.var, f.value));
        }
        vars.push((String::from(previous::STATUS_VAR), Secret::from(status)));
        self.log.info(
            "previous version read",
            &[("previous", LogValue::Str(status)), ("secret_id", LogValue::Str(&id))],
        );
        environment::check_total(vars.iter().map(|(k, v): &(String, Secret)| (k.as_str(), v.expose())))
            .map_err(|e| format!("the secret's previous version (secret {id}): {e}"))
    }
}
