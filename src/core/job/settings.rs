//! The job's environment, parsed once into typed settings.
//!
//! Pure: it takes the variables as an iterator, so tests need no real
//! environment. Every problem names the variable and how to fix it.

use crate::core::CoreError;
use crate::core::net::iam::{self, Profile};
use crate::core::net::policy::RetrySettings;
use crate::core::net::url;
use crate::core::secrets::secret::Secret;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Create,
    Delete,
}

impl Action {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create_credentials",
            Action::Delete => "delete_credentials",
        }
    }

    /// The hook's argument.
    pub(crate) fn hook_arg(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Delete => "delete",
        }
    }
}

/// How credhook logs in to IAM.
#[derive(Debug)]
pub(crate) enum Credential {
    ApiKey(Secret),
    /// The compute resource token file; `None` means the platform's default
    /// locations, searched at run time.
    TrustedProfile {
        profile: Profile,
        cr_token_file: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogFormat {
    Json,
    Text,
}

/// Everything `credhook run` needs from its environment.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) action: Action,
    /// Without a trailing `/`.
    pub(crate) instance_url: String,
    pub(crate) secret_id: String,
    pub(crate) task_id: String,
    pub(crate) credential: Credential,
    /// `CREDHOOK_IAM_URL`, or chosen from the instance host.
    pub(crate) iam_url: String,
    /// `CREDHOOK_CA_FILE`: trust only these certificates. Defaults to the
    /// bundled Mozilla roots.
    pub(crate) ca_file: Option<String>,
    /// `CREDHOOK_RETRIES`, `CREDHOOK_RETRY_BASE_MS`, `CREDHOOK_RETRY_WINDOW`,
    /// `CREDHOOK_IAM_RETRY_WINDOW`. Defaults to no count, 500 ms, 60 s, 30 s.
    pub(crate) retry: RetrySettings,
    /// `CREDHOOK_HTTP_TIMEOUT`, seconds per attempt. Defaults to 30.
    pub(crate) http_timeout_s: u64,
    /// `CREDHOOK_HOOK`. Defaults to `/hook`.
    pub(crate) hook: String,
    /// `CREDHOOK_HOOK_TIMEOUT`, seconds. Defaults to 300.
    pub(crate) hook_timeout_s: u64,
    /// `CREDHOOK_RESOLVE_SECRETS`. Defaults to true.
    pub(crate) resolve_secrets: bool,
    /// `CREDHOOK_HOOK_IAM_TOKEN`. Defaults to false.
    pub(crate) hook_iam_token: bool,
    /// `CREDHOOK_PREVIOUS_CREDENTIALS`: on create, read the task's own
    /// secret and give the hook its current version. Defaults to false.
    pub(crate) previous_credentials: bool,
    /// `CREDHOOK_SECRET_GROUPS`: the secret groups a `secret_id` input may
    /// name a secret in. Defaults to any group.
    pub(crate) secret_groups: Option<Vec<String>>,
}

pub(crate) const DEFAULT_HOOK: &str = "/hook";
pub(crate) const DEFAULT_HTTP_TIMEOUT_S: u64 = 30;
pub(crate) const DEFAULT_HOOK_TIMEOUT_S: u64 = 300;
/// Largest `CREDHOOK_RETRIES`.
pub(crate) const MAX_RETRIES: u64 = 20;
/// Largest `CREDHOOK_RETRY_WINDOW` and `CREDHOOK_IAM_RETRY_WINDOW`: an hour.
pub(crate) const MAX_WINDOW_S: u64 = 3600;

/// `CREDHOOK_LOG`: `text` for plain lines, anything else JSON. Read on its
/// own so that even a broken environment is logged in the chosen format.
pub(crate) fn log_format<'a>(vars: impl Iterator<Item = (&'a str, &'a str)>) -> LogFormat {
    let mut format = LogFormat::Json;
    for (k, v) in vars {
        if k == "CREDHOOK_LOG" && v.eq_ignore_ascii_case("text") {
            format = LogFormat::Text;
        }
    }
    format
}

/// The environment as the settings read it: empty values are unset, and
/// every problem is collected, not just the first (ripgrep's low-level
/// arguments, before they become [`Settings`]).
struct EnvReader<'a> {
    env: BTreeMap<&'a str, &'a str>,
    errors: Vec<CoreError>,
}

impl<'a> EnvReader<'a> {
    fn new(vars: impl Iterator<Item = (&'a str, &'a str)>) -> EnvReader<'a> {
        EnvReader {
            env: vars.filter(|(_, v)| !v.is_empty()).collect(),
            errors: Vec::new(),
        }
    }

    fn get(&self, var: &str) -> Option<&'a str> {
        self.env.get(var).copied()
    }

    fn owned(&self, var: &str) -> Option<String> {
        self.get(var).map(str::to_string)
    }

    fn error(&mut self, var: &'static str, what: String) {
        self.errors.push(CoreError::Setting { var, what });
    }

    /// A variable that must be set; `fix` says how.
    fn required(&mut self, var: &'static str, fix: &str) -> String {
        match self.get(var) {
            Some(v) => v.to_string(),
            None => {
                self.error(var, format!("is not set; {fix}"));
                String::new()
            }
        }
    }

    /// A whole number from `min` to `max`, `default` when unset.
    fn number(&mut self, var: &'static str, default: u64, min: u64, max: u64) -> u64 {
        match self.get(var) {
            None => default,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    self.error(
                        var,
                        format!("is `{v}`; it must be a whole number from {min} to {max} (default {default})"),
                    );
                    default
                }
            },
        }
    }

    /// A whole number from 0 to `max`, `None` when unset (or broken: the
    /// error is kept).
    fn optional_number(&mut self, var: &'static str, max: u64) -> Option<u64> {
        let v = self.get(var)?;
        match v.trim().parse::<u64>() {
            Ok(n) if n <= max => Some(n),
            _ => {
                self.error(
                    var,
                    format!("is `{v}`; it must be a whole number from 0 to {max}, or unset (the default)"),
                );
                None
            }
        }
    }

    /// `true`/`false` in any case, `1`/`0`; `default` when unset.
    fn flag(&mut self, var: &'static str, default: bool) -> bool {
        match self.get(var) {
            None => default,
            Some(v) => parse_flag(v).unwrap_or_else(|| {
                self.error(var, format!("is `{v}`; it must be true, false, 1 or 0"));
                default
            }),
        }
    }
}

/// What Secrets Manager says of the task: the action, the instance and the ids.
struct TaskVars {
    action: Option<Action>,
    instance_url: String,
    secret_id: String,
    task_id: String,
}

impl EnvReader<'_> {
    /// `SM_ACTION`, `SM_INSTANCE_URL`, `SM_SECRET_ID`, `SM_SECRET_TASK_ID`
    /// (and a delete's `SM_CREDENTIALS_ID`).
    fn task(&mut self) -> TaskVars {
        let set_by_sm = "Secrets Manager sets it when it starts the job; for a local run, export it";
        let action_raw = self.required("SM_ACTION", set_by_sm);
        let instance_url = self.required("SM_INSTANCE_URL", set_by_sm);
        let secret_id = self.required("SM_SECRET_ID", set_by_sm);
        let task_id = self.required("SM_SECRET_TASK_ID", set_by_sm);
        for (var, id) in [("SM_SECRET_ID", &secret_id), ("SM_SECRET_TASK_ID", &task_id)] {
            if !id.is_empty() && id.bytes().all(|b| b == b'.') {
                self.error(var, format!("is `{id}`; an ID cannot be only dots (a path's `.`/`..`)"));
            }
        }
        let action = match action_raw.as_str() {
            "create_credentials" => Some(Action::Create),
            "delete_credentials" => Some(Action::Delete),
            "" => None,
            other => {
                self.error(
                    "SM_ACTION",
                    format!("is `{other}`; it must be `create_credentials` or `delete_credentials`"),
                );
                None
            }
        };
        if action == Some(Action::Delete) && self.get("SM_CREDENTIALS_ID").is_none() {
            self.error(
                "SM_CREDENTIALS_ID",
                String::from("is not set; a delete needs the ID reported at creation"),
            );
        }
        TaskVars {
            action,
            instance_url: instance_url.trim_end_matches('/').to_string(),
            secret_id,
            task_id,
        }
    }

    /// `CREDHOOK_IAM_URL`, or IAM's endpoint for the instance's host.
    fn iam_url(&mut self, instance_url: &str) -> String {
        let mut instance_host = "";
        if !instance_url.is_empty() {
            match url::parse_base(instance_url) {
                Ok(u) => instance_host = u.host,
                Err(e) => self.error("SM_INSTANCE_URL", e.to_string()),
            }
        }
        let iam_url = iam::endpoint(self.get("CREDHOOK_IAM_URL"), instance_host).to_string();
        if let Err(e) = url::parse_base(&iam_url) {
            self.error("CREDHOOK_IAM_URL", e.to_string());
        }
        iam_url
    }

    /// A trusted profile (it wins), else the API key.
    fn credential(&mut self) -> Option<Credential> {
        match (self.get("CREDHOOK_TRUSTED_PROFILE"), self.get("SM_ACCESS_APIKEY")) {
            (Some(p), _) => Some(Credential::TrustedProfile {
                profile: Profile::from_setting(p),
                cr_token_file: self.owned("CREDHOOK_CR_TOKEN_FILE"),
            }),
            (None, Some(key)) => Some(Credential::ApiKey(Secret::from(key))),
            (None, None) => {
                self.error(
                    "SM_ACCESS_APIKEY",
                    String::from(
                        "is not set and neither is CREDHOOK_TRUSTED_PROFILE; give the engine configuration an IAM \
                         credentials secret, or set CREDHOOK_TRUSTED_PROFILE to a trusted profile ID or name",
                    ),
                );
                None
            }
        }
    }

    fn retry(&mut self) -> RetrySettings {
        let defaults = RetrySettings::default();
        RetrySettings {
            retries: self.optional_number("CREDHOOK_RETRIES", MAX_RETRIES).map(|n| n as u32),
            base_ms: self.number("CREDHOOK_RETRY_BASE_MS", defaults.base_ms, 0, 60_000),
            window_s: self.number("CREDHOOK_RETRY_WINDOW", defaults.window_s, 0, MAX_WINDOW_S),
            iam_window_s: self.number("CREDHOOK_IAM_RETRY_WINDOW", defaults.iam_window_s, 0, MAX_WINDOW_S),
        }
    }

    /// `CREDHOOK_SECRET_GROUPS` (checked on the secrets credhook reads:
    /// without resolving, the hook would read them itself, unchecked), and
    /// `CREDHOOK_HTTP_ALLOW`, checked here so that a broken value stops the
    /// job before it runs (the hook's `credhook http` applies it).
    fn owner_allowlists(&mut self, resolve_secrets: bool) -> Option<Vec<String>> {
        use crate::core::net::http_allow::{SETTING, from_setting};
        let groups = self.secret_groups(resolve_secrets);
        match from_setting(self.get(SETTING)) {
            Ok(_) => {}
            Err(CoreError::HttpAllow(what)) => self.error(SETTING, what),
            Err(other) => self.error(SETTING, other.to_string()),
        }
        groups
    }

    fn secret_groups(&mut self, resolve_secrets: bool) -> Option<Vec<String>> {
        match self.get("CREDHOOK_SECRET_GROUPS").map(parse_groups)? {
            Ok(_) if !resolve_secrets => {
                self.error(
                    "CREDHOOK_SECRET_GROUPS",
                    String::from(
                        "is set, but CREDHOOK_RESOLVE_SECRETS=false: credhook then reads no secret_id input, so no \
                         group would be checked; let credhook resolve them (unset CREDHOOK_RESOLVE_SECRETS) or unset \
                         CREDHOOK_SECRET_GROUPS",
                    ),
                );
                None
            }
            Ok(groups) => Some(groups),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }
}

/// Parses the environment. Every problem is reported, not just the first:
/// one [`CoreError::Setting`] each.
pub(crate) fn parse<'a>(vars: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Settings, Vec<CoreError>> {
    let mut env = EnvReader::new(vars);
    let task = env.task();
    let iam_url = env.iam_url(&task.instance_url);
    let credential = env.credential();
    let retry = env.retry();
    let http_timeout_s = env.number("CREDHOOK_HTTP_TIMEOUT", DEFAULT_HTTP_TIMEOUT_S, 1, 3600);
    let hook_timeout_s = env.number("CREDHOOK_HOOK_TIMEOUT", DEFAULT_HOOK_TIMEOUT_S, 1, 86_400);
    let resolve_secrets = env.flag("CREDHOOK_RESOLVE_SECRETS", true);
    let hook_iam_token = env.flag("CREDHOOK_HOOK_IAM_TOKEN", false);
    let previous_credentials = env.flag("CREDHOOK_PREVIOUS_CREDENTIALS", false);
    let secret_groups = env.owner_allowlists(resolve_secrets);
    match (task.action, credential) {
        (Some(action), Some(credential)) if env.errors.is_empty() => Ok(Settings {
            action,
            instance_url: task.instance_url,
            secret_id: task.secret_id,
            task_id: task.task_id,
            credential,
            iam_url,
            ca_file: env.owned("CREDHOOK_CA_FILE"),
            retry,
            http_timeout_s,
            hook: env.get("CREDHOOK_HOOK").unwrap_or(DEFAULT_HOOK).to_string(),
            hook_timeout_s,
            resolve_secrets,
            hook_iam_token,
            previous_credentials,
            secret_groups,
        }),
        _ => Err(env.errors),
    }
}

/// `CREDHOOK_SECRET_GROUPS=id[,…]`: secret group ids (`default` or a UUID),
/// comma-separated, whitespace around each ignored; an [`CoreError::Setting`]
/// about it when broken.
pub(crate) fn parse_groups(v: &str) -> Result<Vec<String>, CoreError> {
    let broken = |what: String| CoreError::Setting {
        var: "CREDHOOK_SECRET_GROUPS",
        what,
    };
    let mut groups = Vec::new();
    for g in v.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        if !g.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(broken(format!(
                "`{g}` is not a secret group id; list group ids (`default` or a UUID), comma-separated"
            )));
        }
        groups.push(g.to_string());
    }
    if groups.is_empty() {
        return Err(broken(String::from(
            "holds no group id; list the groups referenced secrets may be in, e.g. default,<group UUID>",
        )));
    }
    Ok(groups)
}

/// A boolean setting: `true`/`false` in any case, `1`/`0`.
pub(crate) fn parse_flag(v: &str) -> Option<bool> {
    match v {
        "1" => Some(true),
        "0" => Some(false),
        _ => crate::core::job::inputs::parse_boolean(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const BASE: [(&str, &str); 5] = [
        ("SM_ACTION", "create_credentials"),
        (
            "SM_INSTANCE_URL",
            "https://abc.us-south.secrets-manager.appdomain.cloud/",
        ),
        ("SM_SECRET_ID", "s1"),
        ("SM_SECRET_TASK_ID", "t1"),
        ("SM_ACCESS_APIKEY", "key-123456"),
    ];

    /// A problem's sentence, without its variable.
    fn what(e: &CoreError) -> &str {
        match e {
            CoreError::Setting { what, .. } => what,
            other => panic!("not a setting's problem: {other:?}"),
        }
    }

    fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v: Vec<_> = BASE.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn defaults() {
        let s = parse(BASE.iter().copied()).unwrap();
        assert_eq!(s.action, Action::Create);
        assert_eq!(s.instance_url, "https://abc.us-south.secrets-manager.appdomain.cloud");
        assert_eq!(s.iam_url, iam::IAM_PUBLIC);
        assert_eq!(
            s.retry,
            RetrySettings {
                retries: None,
                base_ms: 500,
                window_s: 60,
                iam_window_s: 30
            }
        );
        assert_eq!((s.http_timeout_s, s.hook_timeout_s), (30, 300));
        assert_eq!(s.hook, "/hook");
        assert!(s.resolve_secrets && !s.hook_iam_token && !s.previous_credentials);
        assert_eq!(s.secret_groups, None);
        assert!(matches!(crate::core::net::http_allow::from_setting(None), Ok(None)));
        assert!(matches!(s.credential, Credential::ApiKey(_)));
    }

    #[test]
    fn trusted_profile_wins() {
        let s = parse(with(&[("CREDHOOK_TRUSTED_PROFILE", "Profile-9")]).into_iter()).unwrap();
        assert!(matches!(
            s.credential,
            Credential::TrustedProfile {
                profile: Profile::Id(_),
                ..
            }
        ));
    }

    #[test]
    fn retry_settings() {
        let s = parse(
            with(&[
                ("CREDHOOK_RETRIES", "3"),
                ("CREDHOOK_RETRY_WINDOW", "120"),
                ("CREDHOOK_IAM_RETRY_WINDOW", "0"),
            ])
            .into_iter(),
        )
        .unwrap();
        assert_eq!(s.retry.retries, Some(3));
        assert_eq!((s.retry.window_s, s.retry.iam_window_s), (120, 0));
        let errors = parse(
            with(&[
                ("CREDHOOK_RETRIES", "21"),
                ("CREDHOOK_RETRY_WINDOW", "3601"),
                ("CREDHOOK_IAM_RETRY_WINDOW", "-1"),
            ])
            .into_iter(),
        )
        .unwrap_err();
        let vars: Vec<&str> = errors.iter().filter_map(CoreError::variable).collect();
        assert_eq!(
            vars,
            ["CREDHOOK_RETRIES", "CREDHOOK_RETRY_WINDOW", "CREDHOOK_IAM_RETRY_WINDOW"]
        );
        assert!(
            what(&errors[0]).contains("from 0 to 20, or unset"),
            "{}",
            what(&errors[0])
        );
        assert!(
            what(&errors[1]).contains("from 0 to 3600 (default 60)"),
            "{}",
            what(&errors[1])
        );
    }

    #[test]
    fn every_problem_is_named() {
        let env = vec![
            ("SM_ACTION", "rotate"),
            ("SM_INSTANCE_URL", "http://sm.example.com"),
            ("CREDHOOK_RETRIES", "many"),
            ("CREDHOOK_RESOLVE_SECRETS", "maybe"),
        ];
        let errors = parse(env.into_iter()).unwrap_err();
        let vars: Vec<&str> = errors.iter().filter_map(CoreError::variable).collect();
        assert_eq!(
            vars,
            [
                "SM_SECRET_ID",
                "SM_SECRET_TASK_ID",
                "SM_ACTION",
                "SM_INSTANCE_URL",
                "SM_ACCESS_APIKEY",
                "CREDHOOK_RETRIES",
                "CREDHOOK_RESOLVE_SECRETS"
            ]
        );
        assert!(what(&errors[2]).contains("`rotate`"));
        assert!(what(&errors[3]).contains("only allowed to a loopback host"));
    }

    #[test]
    fn owner_settings() {
        let s = parse(
            with(&[
                ("CREDHOOK_PREVIOUS_CREDENTIALS", "TRUE"),
                (
                    "CREDHOOK_SECRET_GROUPS",
                    " default, 0f9a2b1c-1111-4222-8333-944455556666 ,",
                ),
                ("CREDHOOK_HTTP_ALLOW", "api.example.com,*.example.net:443"),
            ])
            .into_iter(),
        )
        .unwrap();
        assert!(s.previous_credentials);
        assert_eq!(
            s.secret_groups.unwrap(),
            ["default", "0f9a2b1c-1111-4222-8333-944455556666"]
        );
        // Checked by `parse`, applied by the hook's `credhook http`.
        let allow = crate::core::net::http_allow::from_setting(Some("api.example.com,*.example.net:443"));
        assert_eq!(allow.unwrap().unwrap().to_string(), "api.example.com,*.example.net:443");
        let errors = parse(
            with(&[
                ("CREDHOOK_PREVIOUS_CREDENTIALS", "yes"),
                ("CREDHOOK_SECRET_GROUPS", "a b"),
                ("CREDHOOK_HTTP_ALLOW", "*"),
            ])
            .into_iter(),
        )
        .unwrap_err();
        let vars: Vec<&str> = errors.iter().filter_map(CoreError::variable).collect();
        assert_eq!(
            vars,
            [
                "CREDHOOK_PREVIOUS_CREDENTIALS",
                "CREDHOOK_SECRET_GROUPS",
                "CREDHOOK_HTTP_ALLOW"
            ]
        );
        assert!(what(&errors[2]).starts_with("`*`"), "{}", what(&errors[2]));
        assert!(parse_groups(",").is_err());
        // Groups checked on secrets credhook does not read would check nothing.
        let errors = parse(
            with(&[
                ("CREDHOOK_SECRET_GROUPS", "default"),
                ("CREDHOOK_RESOLVE_SECRETS", "false"),
            ])
            .into_iter(),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].variable().unwrap(), "CREDHOOK_SECRET_GROUPS");
        assert!(
            what(&errors[0]).contains("CREDHOOK_RESOLVE_SECRETS=false"),
            "{}",
            what(&errors[0])
        );
    }

    #[test]
    fn delete_needs_credentials_id() {
        let mut env = with(&[]);
        env[0] = ("SM_ACTION", "delete_credentials");
        let errors = parse(env.into_iter()).unwrap_err();
        assert_eq!(errors[0].variable().unwrap(), "SM_CREDENTIALS_ID");
    }

    #[test]
    fn flags() {
        for (v, want) in [("TRUE", true), ("1", true), ("False", false), ("0", false)] {
            assert_eq!(parse_flag(v), Some(want));
        }
        assert_eq!(parse_flag("yes"), None);
    }
}
