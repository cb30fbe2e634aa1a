//! `credhook dry-run`: the hook's create (and delete) locally, with no
//! Secrets Manager. It drives the same flow as `run` ([`Job`]): the same
//! environment rules, the same resolution of `secret_id` inputs (those
//! `--secret` gives), the same judging, rollback and masking; only the
//! Secrets Manager side is [`Local`]: no IAM, updates printed.

mod args;
mod local;

use self::args::{Args, SecretSource, USAGE, parse_args};
use self::local::{Local, LocalSecret, local_secret, shown_id};
use super::CliError;
use crate::core::job::flow::Outcome;
use crate::core::job::inputs::{self, Input};
use crate::core::job::schema::{self, Kind};
use crate::core::job::settings::{self, Action, LogFormat, Settings};
use crate::driver::job::Job;
use crate::driver::log::Log;
use crate::driver::{Env, Vars, files};
use std::ffi::OsString;
use std::format;
use std::io::Write;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{eprintln, println};

/// What `SM_*` metadata a dry run makes up, unless the environment has it.
const PLACEHOLDERS: [(&str, &str); 8] = [
    ("SM_TRIGGER", "manual_secret_rotation"),
    ("SM_INSTANCE_URL", "https://dry-run.invalid"),
    ("SM_SECRET_ID", "00000000-0000-4000-8000-000000000000"),
    ("SM_SECRET_TASK_ID", "dry-run"),
    ("SM_SECRET_NAME", "dry-run"),
    ("SM_SECRET_GROUP_ID", "default"),
    ("SM_SECRET_VERSION_ID", "00000000-0000-4000-8000-000000000001"),
    // Never reaches the hook (it is scrubbed, as in `run`); it only lets
    // the settings parse.
    ("SM_ACCESS_APIKEY", "dry-run-placeholder"),
];

/// Largest `--secret` read (what Secrets Manager's reply may be).
const MAX_SECRET: usize = 1 << 20;

/// `credhook dry-run`: parse, read the secrets, create, print, delete
/// (unless `--keep`); or only delete (`--delete ID`).
pub fn main(args: Vec<OsString>) -> u8 {
    let args = match parse_args(args) {
        Ok(a) if a.help => {
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return 0;
        }
        Ok(a) => a,
        Err(e) => {
            eprintln!("credhook dry-run: {e}\n{USAGE}");
            return super::EXIT_USAGE;
        }
    };
    // The hook's outputs and the secrets are real secrets here too.
    if let Err(e) = crate::driver::process::harden() {
        eprintln!("credhook dry-run: warning: could not turn off core dumps: {e}");
    }
    match prepare(&args) {
        Ok(dry) => {
            // Only now: a stop must end a dry run still reading a `--secret`
            // from stdin (nothing made yet); from here on, it stops the hook
            // and undoes what it made, as in `run`.
            if let Err(e) = crate::driver::signals::install() {
                eprintln!("credhook dry-run: warning: could not install signal handlers: {e}");
            }
            dry.run(&args)
        }
        // A problem found before the hook runs: exit 1.
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("credhook dry-run: {line}");
            }
            1
        }
    }
}

/// Everything a dry run needs before its first hook runs.
struct DryRun {
    /// The job's variables, this shell's, the inputs and the placeholders.
    env: Vars,
    secrets: Vec<LocalSecret>,
}

/// The config, the `--secret`s and the environment, checked: every problem
/// is found before a credential can be created.
fn prepare(args: &Args) -> Result<DryRun, CliError> {
    let config_path = args.config.as_deref().unwrap_or(super::DEFAULT_CONFIG);
    let config = super::load(config_path)?;
    let mut secrets = Vec::new();
    for (n, (name, source)) in args.secrets.iter().enumerate() {
        let at = format!("--secret {}", flag_name(name));
        let body = read_secret_source(source).map_err(|e| e.at(&at))?;
        let secret = local_secret(name.clone(), body, n).map_err(|e| e.at(&at))?;
        // The hook would be given the first one's fields for both inputs.
        if let Some(other) = secrets
            .iter()
            .find(|s: &&LocalSecret| s.id == secret.id && s.body != secret.body)
        {
            return Err(CliError::Failed(format!(
                "--secret {} and --secret {} are different secrets with the same `id` {}: give each its own id",
                flag_name(name),
                flag_name(&other.input),
                secret.id
            )));
        }
        secrets.push(secret);
    }
    let env = assemble(&config, config_path, args, &secrets);
    let checked = Env::new(env.clone());
    check(&checked, &args.secrets)?;
    Ok(DryRun { env, secrets })
}

fn read_secret_source(source: &SecretSource) -> Result<zeroize::Zeroizing<Vec<u8>>, CliError> {
    match source {
        SecretSource::File(path) => {
            files::read_regular(path, MAX_SECRET as u64).map_err(|e| CliError::Failed(format!("`{path}` {e}")))
        }
        SecretSource::Stdin => files::read_capped(std::io::stdin().lock(), MAX_SECRET, 0)
            .map_err(|e| CliError::Failed(format!("stdin cannot be read: {e}"))),
    }
}

/// The job's variables, then this shell's (so CREDHOOK_HOOK can point at a
/// local file), then the inputs (a `--secret`'s input set to its id) and the
/// placeholders; the directory of this credhook first on `PATH`, and
/// `CREDHOOK_HOOK` defaulting to `hook.sh` beside the config. Built in a
/// zeroizing `Vars`, since it holds the shell's secrets too.
fn assemble(config: &[(String, String)], config_path: &str, args: &Args, secrets: &[LocalSecret]) -> Vars {
    let mut all: Vars = config.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let process_env = Env::from_process();
    for (k, v) in &process_env.all.0 {
        all.set(k.clone(), v.clone());
    }
    for s in secrets {
        all.set(format!("SM_{}_VALUE", s.input).into(), s.id.as_str().into());
    }
    for (name, value) in &args.inputs {
        if !secrets.iter().any(|s| &s.input == name) {
            all.set(format!("SM_{name}_VALUE").into(), value.into());
        }
    }
    for (k, v) in PLACEHOLDERS {
        if !all.0.iter().any(|(n, _)| n == k) {
            all.0.push((k.into(), v.into()));
        }
    }
    // Each task sets its own action (and a delete its id).
    all.remove("SM_CREDENTIALS_ID".as_ref());
    all.set("SM_ACTION".into(), Action::Create.as_str().into());
    if !all.0.iter().any(|(n, v)| n == "CREDHOOK_HOOK" && !v.is_empty()) {
        let beside = std::path::Path::new(config_path).with_file_name("hook.sh");
        if beside.is_file() {
            all.set("CREDHOOK_HOOK".into(), beside.into_os_string());
        }
    }
    if let Some(path) = hook_path(all.0.iter().find(|(n, _)| n == "PATH").map(|(_, v)| v.as_os_str())) {
        all.set("PATH".into(), path);
    }
    all
}

/// The search path a shell uses when `PATH` is unset.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The hook's `PATH`: this credhook's directory, then `old` (or, unset or
/// empty, the shell's default: the directory alone would hide `sh`'s
/// tools). None when the directory cannot be named on a `PATH` (it holds a
/// `:`), said on stderr.
fn hook_path(old: Option<&std::ffi::OsStr>) -> Option<OsString> {
    use std::os::unix::ffi::OsStrExt;
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    if dir.as_os_str().as_bytes().contains(&b':') {
        eprintln!(
            "credhook dry-run: warning: {} holds a `:`, so it cannot go on the hook's PATH: the hook's `credhook` \
             calls find another credhook, or none",
            dir.display()
        );
        return None;
    }
    let mut path = OsString::from(dir.as_os_str());
    path.push(":");
    path.push(old.filter(|p| !p.is_empty()).unwrap_or(DEFAULT_PATH.as_ref()));
    Some(path)
}

/// Every problem with the settings, the schema, the inputs and the
/// `--secret`s, before any hook runs: one per line.
fn check(env: &Env, secrets: &[(String, SecretSource)]) -> Result<(), CliError> {
    let mut problems: Vec<String> = match settings::parse(env.utf8()) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(ToString::to_string).collect(),
    };
    let (schema, schema_problems) = schema::from_env(env.utf8());
    problems.extend(schema_problems.iter().map(ToString::to_string));
    if let Err(p) = inputs::validate(&schema, |k| env.get(k)) {
        problems.extend(p.iter().map(|m| flag_hint(m.to_string(), &schema)));
    }
    for (name, _) in secrets {
        if !schema
            .inputs
            .iter()
            .any(|f| &f.name == name && f.kind == Kind::SecretId)
        {
            problems.push(format!(
                "--secret {}: the config declares no `secret_id` input `{}` (SMIN_{name} with type:secret_id)",
                name.to_ascii_lowercase(),
                name.to_ascii_lowercase()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(problems.join("\n")))
    }
}

impl DryRun {
    fn run(&self, args: &Args) -> u8 {
        if let Some(id) = &args.delete {
            return self.delete(id);
        }
        let (outcome, created) = self.task(Action::Create, None);
        let Some(id) = created.filter(|_| outcome.exit() == 0) else {
            return outcome.exit();
        };
        if args.keep {
            print_delete_command(
                &format!("kept credentials {}; to delete them", shown_id(&id)),
                args,
                &id,
            );
            return 0;
        }
        let code = self.delete(&id);
        if code != 0 {
            print_delete_command("to try the delete again", args, &id);
        }
        code
    }

    fn delete(&self, id: &str) -> u8 {
        self.task(Action::Delete, Some(id)).0.exit()
    }

    /// One task through the same flow as `run`; the id a create reported.
    fn task(&self, action: Action, credentials_id: Option<&str>) -> (Outcome, Option<String>) {
        let mut vars = self.env.clone();
        vars.set("SM_ACTION".into(), action.as_str().into());
        match credentials_id {
            Some(id) => vars.set("SM_CREDENTIALS_ID".into(), id.into()),
            None => vars.remove("SM_CREDENTIALS_ID".as_ref()),
        }
        let env = Env::new(vars);
        let settings: Settings = match settings::parse(env.utf8()) {
            Ok(s) => s,
            // Checked before the first hook ran; the environment is the same.
            Err(e) => {
                let why = e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
                eprintln!("credhook dry-run: {why}");
                return (Outcome::NotReported { why, unconfirmed: None }, None);
            }
        };
        let format = if env.get("CREDHOOK_LOG").is_some_and(|v| v.eq_ignore_ascii_case("json")) {
            LogFormat::Json
        } else {
            LogFormat::Text
        };
        let log = Log::new(format, "dry-run", action.as_str());
        let given: Vec<&str> = self.secrets.iter().map(|s| s.input.as_str()).collect();
        let resolve = |i: &Input| given.contains(&i.field.name.as_str());
        let mut job = Job {
            env: &env,
            settings: &settings,
            log: &log,
            platform: Local {
                secrets: &self.secrets,
                credentials_id,
                created: None,
                public: schema::from_env(env.utf8()).0.public,
            },
            resolve: &resolve,
            credentials_id: None,
        };
        let outcome = job.run();
        (outcome, job.platform.created)
    }
}

/// `lead`, then the command that deletes the credentials `id`, on stdout.
fn print_delete_command(lead: &str, args: &Args, id: &str) {
    let (cmd, masked) = delete_command(args, id);
    if masked {
        println!("{lead} (fill in what is [REDACTED]: it holds a secret, so it is not shown):");
    } else {
        println!("{lead}:");
    }
    println!("  {cmd}");
}

/// The command that deletes kept credentials: this dry run's own arguments
/// with `--delete ID` (shell-quoted), and whether a secret in it (an id or
/// an input that holds a `--secret`'s value) was masked: stdout is no
/// place for it, even when a hook made a secret its id.
fn delete_command(args: &Args, id: &str) -> (String, bool) {
    let q = crate::core::job::job_config::shell_quote;
    let mut masked = false;
    let mut shown = |v: &str| {
        let m = crate::driver::known_secrets::mask_meta(v);
        masked |= m != v;
        m
    };
    let mut cmd = format!("credhook dry-run --delete {}", q(&shown(id)));
    if let Some(c) = &args.config {
        cmd.push_str(&format!(" --config {}", q(c)));
    }
    for (name, value) in &args.inputs {
        cmd.push_str(&format!(
            " --input {}",
            q(&format!("{}={}", flag_name(name), shown(value)))
        ));
    }
    for (name, source) in &args.secrets {
        let from = match source {
            SecretSource::File(path) => format!("@{path}"),
            // Read once already: it must be given again.
            SecretSource::Stdin => String::from("-"),
        };
        cmd.push_str(&format!(" --secret {}", q(&format!("{}={from}", flag_name(name)))));
    }
    (cmd, masked)
}

/// `inputs::validate` ends a missing input's message with the variable
/// `run` reads (`; set SM_<NAME>_VALUE`); a dry run takes inputs as flags,
/// so its message names the flag instead.
fn flag_hint(problem: String, schema: &schema::Schema) -> String {
    for field in &schema.inputs {
        let Some(head) = problem.strip_suffix(&format!("; set SM_{}_VALUE", field.name)) else {
            continue;
        };
        let name = flag_name(&field.name);
        return if field.kind == Kind::SecretId {
            format!("{head}; give --secret {name}=@FILE (or --input {name}=ID to pass the id unresolved)")
        } else {
            format!("{head}; give --input {name}=VALUE")
        };
    }
    problem
}

/// An input's name as `--input` reads it back: lower-case, and `smin_`
/// again in front of one that starts with `SMIN_` (the flag strips one).
fn flag_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("smin_") {
        format!("smin_{lower}")
    } else {
        lower
    }
}
