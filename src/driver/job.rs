//! Performs one task's flow: [`Flow`] decides every step, this file makes
//! each one happen, against a [`Platform`] — Secrets Manager over HTTPS for
//! `run` ([`super::secrets_manager`]), a local stand-in for `dry-run`. Both
//! subcommands therefore resolve secrets, run the hook, judge it, roll back
//! and describe failures the same way.

use super::hook::{self, Hook};
use super::log::{Log, LogValue};
use super::{DriverError, Env, Vars, known_secrets, signals};
use crate::core::hook::environment;
use crate::core::hook::verdict::Verdict;
use crate::core::job::flow::{Event, Flow, Outcome, Step, Update};
use crate::core::job::inputs::{self, Input, SecretToRead};
use crate::core::job::schema::{self, Schema};
use crate::core::job::settings::{Action, Settings};
use crate::core::job::task_update;
use crate::core::net::api;
use crate::core::secrets::classify;
use crate::core::secrets::previous;
use crate::core::secrets::referenced;
use crate::core::secrets::secret::Secret;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;
use zeroize::Zeroizing;

/// The Secrets Manager side of a task.
pub(crate) trait Platform {
    /// Gets an IAM token; the error says why not.
    fn get_token(&mut self, log: &Log) -> Result<(), DriverError>;
    /// The current IAM token, for `CREDHOOK_HOOK_IAM_TOKEN`.
    fn hook_token(&self) -> Option<&Secret>;
    /// `GET /api/v2/secrets/{id}`: the reply body, or an
    /// [`DriverError::SecretRead`] (with the status, if it answered).
    fn read_secret(&mut self, log: &Log, id: &str) -> Result<Zeroizing<Vec<u8>>, DriverError>;
    /// Sends the task update whose JSON is `body` (`description`: a failed
    /// task's, masked): delivered, not delivered, or maybe delivered.
    fn send_update(&mut self, log: &Log, update: &Update, body: &Secret, description: Option<&str>) -> Event;
}

/// One task, performed.
pub(crate) struct Job<'a, P: Platform> {
    pub(crate) env: &'a Env,
    pub(crate) settings: &'a Settings,
    pub(crate) log: &'a Log,
    pub(crate) platform: P,
    /// Which `secret_id` inputs with a value are resolved.
    pub(crate) resolve: &'a dyn Fn(&Input) -> bool,
    /// The credentials id the task is about, once known (a delete's; the
    /// one a create's hook wrote), for the last log line. Start with None.
    pub(crate) credentials_id: Option<String>,
}

/// What the steps share: the schema, the inputs, what was resolved for the
/// hook, and the environment its create ran with (for the rollback).
struct Task {
    schema: Schema,
    inputs: Vec<Input>,
    reads: Vec<SecretToRead>,
    resolved: Vec<(String, Secret)>,
    hook_env: Option<Vars>,
    /// The task's own secret, when an input named it: the previous
    /// version's read uses this reply instead of reading it again.
    own_secret: Option<Zeroizing<Vec<u8>>>,
}

impl<P: Platform> Job<'_, P> {
    /// Drives [`Flow`] to its end: every decision is the flow's, every call
    /// and process is made here.
    pub(crate) fn run(&mut self) -> Outcome {
        // Schema and inputs are checked first, but a problem can only be
        // reported with a token: the flow holds it until then.
        let (schema, problems) = schema::from_env(self.env.utf8());
        // Fields of referenced secrets the environment already holds are
        // registered as if credhook had resolved them.
        known_secrets::register_given_fields(&schema, self.env);
        if self.settings.action == Action::Delete {
            self.credentials_id = self.env.get("SM_CREDENTIALS_ID").map(String::from);
        }
        let mut invalid: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let inputs = inputs::validate(&schema, |k| self.env.get(k)).unwrap_or_else(|p| {
            invalid.extend(p.iter().map(ToString::to_string));
            Vec::new()
        });
        let reads = inputs::secrets_to_read(&inputs, self.resolve);
        let mut flow =
            Flow::new(self.settings.action, invalid, reads.len()).with_previous(self.settings.previous_credentials);
        let mut task = Task {
            schema,
            inputs,
            reads,
            resolved: Vec::new(),
            hook_env: None,
            own_secret: None,
        };
        let mut event = Event::Start;
        loop {
            event = match flow.next(event, signals::stop_requested()) {
                Step::GetToken => match self.platform.get_token(self.log) {
                    Ok(()) => Event::TokenHad,
                    Err(why) => Event::TokenRefused(why.to_string()),
                },
                Step::ReadSecret(i) => {
                    match self.read_secret(&task.reads[i], &task.inputs, &mut task.resolved, &mut task.own_secret) {
                        Ok(()) => Event::SecretRead,
                        Err(why) => Event::SecretUnreadable(why.to_string()),
                    }
                }
                Step::ReadPrevious => {
                    match self.read_previous(&mut task.resolved, &task.schema.public, task.own_secret.take()) {
                        Ok(()) => Event::PreviousRead,
                        Err(why) => Event::PreviousUnreadable(why.to_string()),
                    }
                }
                Step::RunHook => self.run_hook(&mut task),
                Step::RollBack(ids) => {
                    let env = task.hook_env.get_or_insert_with(Vars::default);
                    Event::RolledBack(hook::rollback(self.log, &self.hook(), &task.schema, env, ids))
                }
                Step::Update(update) => self.update(update),
                Step::Finish(outcome) => return outcome,
            };
        }
    }

    fn hook(&self) -> Hook<'_> {
        Hook {
            path: &self.settings.hook,
            timeout_s: self.settings.hook_timeout_s,
        }
    }

    /// The hook, with the action's argument; its run judged and logged.
    fn run_hook(&mut self, task: &mut Task) -> Event {
        let action = self.settings.action;
        let iam_token = self.platform.hook_token().filter(|_| self.settings.hook_iam_token);
        let env = hook::environment(
            &self.env.all,
            &task.schema,
            &task.inputs,
            std::mem::take(&mut task.resolved),
            iam_token,
        );
        let hook = self.hook();
        let run = hook::run_hook(&hook, &task.schema, action.hook_arg(), env.clone());
        task.hook_env = Some(env);
        let judged = hook::judge(action, &task.schema, &run, &hook, self.log);
        if let Verdict::Created(c) = &judged.verdict {
            self.credentials_id = Some(c.id.clone());
        } else if let Some(first) = judged.new_ids.first() {
            self.credentials_id = Some(first.clone());
        }
        hook::log_run(self.log, &run, "hook");
        Event::HookEnded {
            verdict: judged.verdict,
            ids: judged.new_ids,
        }
    }

    /// Sends a task update; what went wrong is masked with every secret
    /// known by now, whatever its source. The rollback sentence is
    /// credhook's own words and the ids (metadata): masked only with the
    /// job's own secrets ([`known_secrets::mask_meta`]).
    fn update(&mut self, update: Update) -> Event {
        let mut description_of = None;
        let body = match &update {
            Update::Created(c) => task_update::created_body(c),
            Update::Deleted => Secret::from(task_update::deleted_body().as_str()),
            Update::Failed { code, what, rollback } => {
                let what = known_secrets::mask(what);
                let rollback = rollback.as_deref().map(known_secrets::mask_meta);
                let description = task_update::describe(&what, rollback.as_deref());
                // Logged as sent: masked already, its ids (metadata) readable.
                self.log.error(
                    "task failed",
                    &[
                        ("code", LogValue::Str(code.as_str())),
                        ("description", LogValue::Meta(&description)),
                    ],
                );
                let body = Secret::from(task_update::failed_body(code.as_str(), &description).as_str());
                description_of = Some(description);
                body
            }
        };
        self.platform
            .send_update(self.log, &update, &body, description_of.as_deref())
    }

    /// One referenced secret, read once; its fields are added to `vars` for
    /// every input that names it. With `CREDHOOK_SECRET_GROUPS`, a secret in
    /// another group is refused before any field is used. The task's own
    /// secret's reply is kept in `own` for the previous version's read.
    fn read_secret(
        &mut self,
        read: &SecretToRead,
        inputs: &[Input],
        vars: &mut Vec<(String, Secret)>,
        own: &mut Option<Zeroizing<Vec<u8>>>,
    ) -> Result<(), DriverError> {
        let id = &read.id;
        let names: Vec<String> = read.inputs.iter().map(|&i| inputs[i].field.api_name()).collect();
        let name = names.join("`, `");
        let body = self.platform.read_secret(self.log, id).map_err(|e| {
            DriverError::Unresolvable(format!(
                "input `{name}`: secret {id} could not be read ({e}); {}",
                api::secret_read_hint(e.status())
            ))
        })?;
        if let Some(groups) = &self.settings.secret_groups {
            referenced::check_group(&body, groups)
                .map_err(|e| DriverError::Unresolvable(format!("input `{name}`: secret {id} {e}")))?;
        }
        if *id == self.settings.secret_id {
            *own = Some(body.clone());
        }
        for &i in &read.inputs {
            let fields = referenced::hook_vars(&inputs[i].field.name, &body).map_err(|e| {
                DriverError::Unresolvable(format!("input `{name}`: secret {id} could not be read: {e}"))
            })?;
            let secret_type = fields
                .first()
                .map(|(_, t)| String::from(t.expose()))
                .unwrap_or_default();
            for (var, value) in fields {
                // Every secret field, and every string and number inside a
                // JSON one (kv data, credentials), is a secret from here on;
                // service credentials field by field.
                known_secrets::register_resolved(classify::resolved(&secret_type, &var), value.expose());
                environment::check_value(&var, value.expose()).map_err(|e| {
                    DriverError::Unresolvable(format!("input `{name}`: secret {id} cannot be given to the hook: {e}"))
                })?;
                vars.push((var, value));
            }
        }
        environment::check_total(vars.iter().map(|(k, v): &(String, Secret)| (k.as_str(), v.expose())))
            .map_err(|e| DriverError::Unresolvable(format!("input `{name}`: secret {id}: {e}")))
    }

    /// `CREDHOOK_PREVIOUS_CREDENTIALS`: the task's own secret, read like a
    /// referenced one (a 404 is no previous version); its current version's
    /// fields become `CREDHOOK_PREVIOUS_<FIELD>` (secrets), with
    /// `CREDHOOK_PREVIOUS=present` or `none`, added to `vars`.
    /// `CREDHOOK_SECRET_GROUPS` does not apply: it is the task's own secret.
    fn read_previous(
        &mut self,
        vars: &mut Vec<(String, Secret)>,
        public: &[String],
        already_read: Option<Zeroizing<Vec<u8>>>,
    ) -> Result<(), DriverError> {
        let id = self.settings.secret_id.clone();
        let what = "the secret's previous version (CREDHOOK_PREVIOUS_CREDENTIALS)";
        let reply = match already_read {
            Some(body) => Ok(body),
            None => self.platform.read_secret(self.log, &id),
        };
        let prev = match reply {
            Ok(body) => previous::from_reply(&body)
                .map_err(|e| DriverError::Unresolvable(format!("{what} could not be read: secret {id}: {e}")))?,
            Err(e) if previous::read_failure_is_absence(e.status()) => previous::Previous::default(),
            Err(e) => {
                return Err(DriverError::Unresolvable(format!(
                    "{what} could not be read: secret {id} ({e}); {}",
                    api::secret_read_hint(e.status())
                )));
            }
        };
        if !prev.skipped.is_empty() {
            self.log.warn(
                "previous version: fields whose names cannot be environment variables were not given to the hook",
                &[("fields", LogValue::Str(&prev.skipped_shown()))],
            );
        }
        let status = prev.status();
        for f in prev.fields {
            let name = f.var.strip_prefix(previous::FIELD_PREFIX).unwrap_or(&f.var);
            known_secrets::register_as(classify::previous(name, f.secret, public), f.value.expose());
            environment::check_value(&f.var, f.value.expose()).map_err(|e| {
                DriverError::Unresolvable(format!(
                    "the secret's previous version (secret {id}) cannot be given to the hook: {e}"
                ))
            })?;
            vars.push((f.var, f.value));
        }
        vars.push((String::from(previous::STATUS_VAR), Secret::from(status)));
        self.log.info(
            "previous version read",
            &[("previous", LogValue::Str(status)), ("secret_id", LogValue::Meta(&id))],
        );
        environment::check_total(vars.iter().map(|(k, v): &(String, Secret)| (k.as_str(), v.expose())))
            .map_err(|e| DriverError::Unresolvable(format!("the secret's previous version (secret {id}): {e}")))
    }
}
