//! `job_config.json`: the Code Engine job's environment variables, as IBM's
//! providers ship them — `{"job_env_variables":[{"name":…,"value":…},…]}` —
//! and the rules `credhook check` applies to them.

use crate::core::CoreError;
use crate::core::hook::clock::{DRAIN_LIMIT, KILL_GRACE};
use crate::core::job::schema::{self, Direction, Kind};
use crate::core::json::{self, Value};
use crate::core::net::policy::{self, RetrySettings};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The variables of a job config, in file order; [`CoreError::ConfigNotJson`],
/// [`CoreError::ConfigShape`] or [`CoreError::ConfigEntry`] for a file that is not
/// one.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<(String, String)>, CoreError> {
    let v = json::parse(bytes).map_err(|e| match e {
        CoreError::Json { offset, what } => CoreError::ConfigNotJson { offset, what },
        other => other,
    })?;
    let Some(Value::Array(items)) = v.get("job_env_variables") else {
        return Err(CoreError::ConfigShape);
    };
    let mut vars = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match (
            item.get("name").and_then(Value::as_str),
            item.get("value").and_then(Value::as_str),
        ) {
            (Some(n), Some(v)) => vars.push((n.to_string(), v.to_string())),
            _ => return Err(CoreError::ConfigEntry(i)),
        }
    }
    Ok(vars)
}

/// Every problem with the schema the variables declare, one sentence each,
/// naming the variable and the fix. Empty means the config is good.
pub(crate) fn check(vars: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut required_outputs = 0;
    for (name, value) in vars {
        if seen.contains(&name.as_str()) {
            problems.push(format!("{name}: declared more than once; keep one"));
            continue;
        }
        seen.push(name);
        let upper = name.to_ascii_uppercase();
        // Case-insensitive here, so `smin_x` is reported rather than ignored.
        let Some(dir) = Direction::of(&upper) else {
            // IBM's generator takes only `^(SMIN_|SMOUT_)[A-Z0-9_]+$`.
            problems.push(if upper.starts_with("CREDHOOK_") {
                format!(
                    "{name}: only SMIN_/SMOUT_ declarations belong in job_config.json; set credhook's settings on the \
                     job itself (`ibmcloud ce job update --env {name}=…`)"
                )
            } else {
                format!(
                    "{name}: not a declaration; names must start with `SMIN_` (input) or `SMOUT_` (output), \
                     e.g. `SMIN_{}`",
                    upper.trim_start_matches(|c: char| !c.is_ascii_alphanumeric())
                )
            });
            continue;
        };
        if !name.starts_with(dir.prefix()) {
            problems.push(format!(
                "{name}: the prefix must be `{}`; rename it to `{upper}`",
                dir.prefix()
            ));
            continue;
        }
        if upper.ends_with("_VALUE") {
            problems.push(format!(
                "{name}: a name ending in `_VALUE` is read as a value, never a declaration; rename it"
            ));
            continue;
        }
        match schema::parse_declaration(dir, name, value) {
            Ok(field) => {
                if dir == Direction::Output && field.required {
                    required_outputs += 1;
                }
            }
            Err(p) => problems.push(p.to_string()),
        }
    }
    // Two names that differ only in case are the same name in the secret's API.
    for (i, (a, _)) in vars.iter().enumerate() {
        for (b, _) in &vars[i + 1..] {
            if a != b && a.eq_ignore_ascii_case(b) && (a.starts_with("SM") || b.starts_with("SM")) {
                problems.push(format!(
                    "{b}: differs from {a} only in letter case; they would be one name"
                ));
            }
        }
    }
    if required_outputs == 0 {
        problems.push(String::from(
            "no required output: mark at least one SMOUT_ variable `required:true` (the credentials must hold something)",
        ));
    }
    problems
}

/// Shell-quotes `s` with single quotes, so the shell reads it back exactly.
pub(crate) fn shell_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// The `--env NAME=VALUE` arguments for `ibmcloud ce job create|update`, one
/// pair per line, every line but the last continued with ` \`.
pub(crate) fn ce_flags(vars: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in vars.iter().enumerate() {
        out.push_str("--env ");
        out.push_str(&shell_quote(&format!("{name}={value}")));
        out.push_str(if i + 1 < vars.len() { " \\\n" } else { "\n" });
    }
    out
}

/// Code Engine job settings that fit a credhook job (`ce-flags --job-settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JobSettings {
    /// `--cpu`. Defaults to `0.125`: the smallest vCPU Code Engine accepts for jobs.
    pub(crate) cpu: String,
    /// `--memory`. Defaults to `0.25G`: the memory that goes with 0.125 vCPU.
    pub(crate) memory: String,
    /// The engine configuration's `task_timeout`, seconds. Defaults to 600
    /// (`10m`, as IBM's examples create it).
    pub(crate) task_timeout_s: u64,
    /// The job's `CREDHOOK_HOOK_TIMEOUT`, seconds. Defaults to credhook's 300.
    pub(crate) hook_timeout_s: u64,
    /// The job's `CREDHOOK_RETRY_WINDOW` and `CREDHOOK_IAM_RETRY_WINDOW`
    /// (the rest is not used). Defaults to credhook's 60 and 30 s.
    pub(crate) retry: RetrySettings,
    /// The job's `CREDHOOK_HTTP_TIMEOUT`, seconds. Defaults to credhook's 30.
    pub(crate) http_timeout_s: u64,
    /// The `secret_id` inputs the configuration declares: at most this many
    /// secrets are read before the hook ([`secret_reads`]).
    pub(crate) secret_reads: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            cpu: String::from("0.125"),
            memory: String::from("0.25G"),
            task_timeout_s: 600,
            hook_timeout_s: crate::core::job::settings::DEFAULT_HOOK_TIMEOUT_S,
            retry: RetrySettings::default(),
            http_timeout_s: crate::core::job::settings::DEFAULT_HTTP_TIMEOUT_S,
            secret_reads: 0,
        }
    }
}

/// How many `secret_id` inputs `vars` declare: the most secrets a run reads
/// before the hook (two inputs naming one secret share a read).
pub(crate) fn secret_reads(vars: &[(String, String)]) -> u64 {
    vars.iter()
        .filter(|(name, value)| {
            Direction::of(name) == Some(Direction::Input)
                && schema::parse_declaration(Direction::Input, name, value).is_ok_and(|f| f.kind == Kind::SecretId)
        })
        .count() as u64
}

/// The longest a run can take, in s, whatever IAM and Secrets Manager do
/// (each call at its [`policy::call_bound_s`]) and however long the hook
/// runs: the IAM token; the secret reads, and the previous version's
/// (`CREDHOOK_PREVIOUS_CREDENTIALS` is the job's: counted); the hook and
/// one rollback, each its timeout, then SIGKILL's grace and the pipes'
/// drain; a token refresh for the report (an IAM token lives an hour: at
/// most one) and the task update. `--maxexecutiontime` is at least this, so
/// that Code Engine never stops a run credhook would have ended itself.
pub(crate) fn run_bound_s(s: &JobSettings) -> u64 {
    let token = policy::call_bound_s(s.retry.iam_window_s, s.http_timeout_s);
    let sm = policy::call_bound_s(s.retry.window_s, s.http_timeout_s);
    let hook = s
        .hook_timeout_s
        .saturating_add(KILL_GRACE.as_secs() + DRAIN_LIMIT.as_secs());
    token
        .saturating_mul(2)
        .saturating_add(sm.saturating_mul(s.secret_reads.saturating_add(2)))
        .saturating_add(hook.saturating_mul(2))
}

/// Slack for what credhook does around the hook (token, task update, their
/// retries) when sizing `--maxexecutiontime`.
const OVERHEAD_S: u64 = 60;

/// A task timeout as the engine configuration's `task_timeout` takes it: a
/// whole number of seconds, or a number with `s`, `m` or `h` (`600`, `10m`,
/// `2h`); Secrets Manager accepts 5 minutes to 24 hours
/// ([`CoreError::DurationMalformed`], [`CoreError::DurationOutOfRange`]).
pub(crate) fn parse_duration(text: &str) -> Result<u64, CoreError> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().last() {
        Some((i, c @ ('s' | 'm' | 'h'))) => (&t[..i], c),
        _ => (t, 's'),
    };
    let n: u64 = match digits.parse() {
        Ok(n) if n > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => return Err(CoreError::DurationMalformed(String::from(text))),
    };
    let scale = match unit {
        'h' => 3600,
        'm' => 60,
        _ => 1,
    };
    match n.checked_mul(scale) {
        Some(s) if (300..=86_400).contains(&s) => Ok(s),
        _ => Err(CoreError::DurationOutOfRange(String::from(text))),
    }
}

/// `--retrylimit 0 --cpu … --memory … --maxexecutiontime …`, one flag and its
/// value per line, each line continued with ` \` (the `--env` lines follow).
///
/// - `--retrylimit 0`: Code Engine reruns a failed job run 3 times by
///   default, and a rerun would create credentials again for a task already
///   reported.
/// - `--maxexecutiontime`: the task timeout, plus one more hook timeout (a
///   create still running when the task times out is rolled back by a
///   `delete`, which needs the time), plus a minute; and at least the
///   longest a run can take ([`run_bound_s`]: every call of it at its
///   worst), so that Code Engine never stops a run mid-way.
///
/// The task timeout must cover the hook timeout (the job's
/// `CREDHOOK_HOOK_TIMEOUT`, `--hook-timeout`) plus the time credhook may
/// spend riding out an outage ([`policy::retry_budget_s`]: the IAM token's
/// retry window and a Secrets Manager window on either side of the hook), so
/// that a run that meets a failover still reports before its task times out.
pub(crate) fn job_settings(s: &JobSettings) -> Result<String, CoreError> {
    let hook_timeout_s = s.hook_timeout_s;
    if !(1..=86_400).contains(&hook_timeout_s) {
        return Err(CoreError::HookTimeoutRange(hook_timeout_s));
    }
    if hook_timeout_s >= s.task_timeout_s {
        return Err(CoreError::HookTimeoutNotBelowTask {
            hook_s: hook_timeout_s,
            task_s: s.task_timeout_s,
        });
    }
    let budget = policy::retry_budget_s(&s.retry);
    if hook_timeout_s.saturating_add(budget) >= s.task_timeout_s {
        return Err(CoreError::RetryBudgetNotBelowTask {
            hook_s: hook_timeout_s,
            budget_s: budget,
            iam_window_s: s.retry.iam_window_s,
            window_s: s.retry.window_s,
            task_s: s.task_timeout_s,
        });
    }
    if !(1..=3600).contains(&s.http_timeout_s) {
        return Err(CoreError::HttpTimeoutRange(s.http_timeout_s));
    }
    for (flag, v) in [("--cpu", &s.cpu), ("--memory", &s.memory)] {
        let ok = !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
        if !ok {
            return Err(CoreError::ResourceMalformed { flag, value: v.clone() });
        }
    }
    let max = (s.task_timeout_s + hook_timeout_s + OVERHEAD_S).max(run_bound_s(s));
    Ok(format!(
        "--retrylimit 0 \\\n--cpu {} \\\n--memory {} \\\n--maxexecutiontime {max}",
        s.cpu, s.memory
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn parses_ibm_shape() {
        let v = parse(br#"{"job_env_variables":[{"name":"SMIN_A","value":"type:string"}]}"#).unwrap();
        assert_eq!(v, vars(&[("SMIN_A", "type:string")]));
        assert!(parse(b"{").unwrap_err().to_string().contains("malformed JSON"));
        assert!(parse(b"{}").unwrap_err().to_string().contains("job_env_variables"));
        assert!(
            parse(br#"{"job_env_variables":[{"name":"X"}]}"#)
                .unwrap_err()
                .to_string()
                .contains("[0]")
        );
    }

    #[test]
    fn check_rules() {
        assert!(
            check(&vars(&[
                ("SMOUT_TOKEN", "type:string, required:true"),
                ("SMIN_NOTE", "type:string")
            ]))
            .is_empty()
        );
        let p = check(&vars(&[
            ("smin_port", "type:integer"),
            ("SMIN_BAD", "type:float"),
            ("SMOUT_REF", "type:secret_id"),
            ("SMOUT_A", "type:string"),
            ("SMOUT_A", "type:string"),
            ("SMIN_X_VALUE", "type:string"),
        ]));
        assert!(p[0].starts_with("smin_port: the prefix must be `SMIN_`"), "{p:?}");
        assert!(p[1].contains("unknown type `float`"), "{p:?}");
        assert!(p[2].contains("input type only"), "{p:?}");
        assert!(p[3].contains("more than once"), "{p:?}");
        assert!(p[4].contains("_VALUE"), "{p:?}");
        assert!(p[5].contains("no required output"), "{p:?}");
    }

    #[test]
    fn every_name_must_be_a_declaration() {
        let p = check(&vars(&[
            ("SMOUT_PW", "type:string, required:true"),
            ("MY_SETTING", "type:string"),
            ("CREDHOOK_HOOK_TIMEOUT", "120"),
            ("PATH", "/bin"),
        ]));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(
            p[0].starts_with("MY_SETTING: not a declaration") && p[0].contains("SMIN_MY_SETTING"),
            "{p:?}"
        );
        assert!(p[1].starts_with("CREDHOOK_HOOK_TIMEOUT: only SMIN_/SMOUT_"), "{p:?}");
        assert!(p[2].starts_with("PATH: not a declaration"), "{p:?}");
    }

    #[test]
    fn flags_quote_for_the_shell() {
        let f = ce_flags(&vars(&[("SMIN_A", "type:string, required:true"), ("X", "it's")]));
        assert_eq!(f, "--env 'SMIN_A=type:string, required:true' \\\n--env 'X=it'\\''s'\n");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(600));
        assert_eq!(parse_duration("300s"), Ok(300));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration(" 900 "), Ok(900));
        for bad in ["", "m", "0", "-5m", "1.5h", "10d", "+3", "99999999999999999999"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("4m").unwrap_err().to_string().contains("5m to 24h"));
        assert!(parse_duration("25h").unwrap_err().to_string().contains("5m to 24h"));
    }

    #[test]
    fn job_settings_fit_the_job() {
        let d = JobSettings::default();
        assert_eq!(
            job_settings(&d).unwrap(),
            "--retrylimit 0 \\\n--cpu 0.125 \\\n--memory 0.25G \\\n--maxexecutiontime 1412"
        );
        let s = JobSettings {
            cpu: "1".into(),
            memory: "4G".into(),
            task_timeout_s: 3600,
            hook_timeout_s: 100,
            ..JobSettings::default()
        };
        assert!(
            job_settings(&s)
                .unwrap()
                .ends_with("--cpu 1 \\\n--memory 4G \\\n--maxexecutiontime 3760")
        );
        let long_hook = JobSettings {
            hook_timeout_s: 600,
            ..JobSettings::default()
        };
        let e = job_settings(&long_hook).unwrap_err().to_string();
        assert!(e.contains("not below the task timeout"), "{e}");
        // The hook fits, but not with the time a failover may take.
        let no_room = JobSettings {
            hook_timeout_s: 500,
            ..JobSettings::default()
        };
        let e = job_settings(&no_room).unwrap_err().to_string();
        assert!(
            e.contains("CREDHOOK_HOOK_TIMEOUT (500 s) plus credhook's retry windows (150 s")
                && e.contains("not below the task timeout (600 s)"),
            "{e}"
        );
        let short_windows = JobSettings {
            retry: RetrySettings {
                window_s: 20,
                iam_window_s: 10,
                ..RetrySettings::default()
            },
            ..no_room
        };
        assert!(job_settings(&short_windows).is_ok());
        let bad = JobSettings {
            cpu: "1; rm -rf /".into(),
            ..JobSettings::default()
        };
        assert!(job_settings(&bad).unwrap_err().to_string().contains("--cpu"));
        let slow = JobSettings {
            http_timeout_s: 0,
            ..JobSettings::default()
        };
        assert!(
            job_settings(&slow)
                .unwrap_err()
                .to_string()
                .contains("--http-timeout 0")
        );
    }

    /// Found by a hostile review of issue 20: `--maxexecutiontime` was the
    /// task timeout + the hook timeout + 60 s (960 s for the defaults), but
    /// a run can take longer than that without anything going wrong in
    /// credhook: each call may end a window, a `Retry-After` and one slow
    /// attempt late (215 s for a Secrets Manager call), and a failed create
    /// runs the hook twice (create, then the rollback's delete). Code Engine
    /// would stop it mid-way.
    #[test]
    fn the_execution_time_covers_the_longest_run() {
        let d = JobSettings::default();
        // token + a previous version's read + hook + rollback + refresh + update
        let longest = 185 + 215 + (300 + 5 + 1) * 2 + 185 + 215;
        assert_eq!(run_bound_s(&d), longest);
        let max = |s: &JobSettings| {
            let flags = job_settings(s).unwrap();
            flags.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
        };
        assert!(max(&d) >= longest && max(&d) > d.task_timeout_s + d.hook_timeout_s);
        // Each secret a run may read, and a longer HTTP timeout, count.
        let reads = JobSettings {
            secret_reads: 3,
            ..JobSettings::default()
        };
        assert_eq!(run_bound_s(&reads) - run_bound_s(&d), 3 * 215);
        let slow = JobSettings {
            http_timeout_s: 60,
            ..JobSettings::default()
        };
        // Four calls (two IAM, two Secrets Manager), 3 × 30 s more each.
        assert_eq!(run_bound_s(&slow) - run_bound_s(&d), 4 * 90);
        assert!(max(&slow) >= run_bound_s(&slow));
        let vars = vars(&[
            ("SMIN_A", "type:secret_id, required:true"),
            ("SMIN_B", "type:secret_id"),
            ("SMIN_C", "type:string"),
            ("SMOUT_D", "type:string, required:true"),
            ("SMIN_BROKEN", "type:secret"),
        ]);
        assert_eq!(secret_reads(&vars), 2);
    }
}
