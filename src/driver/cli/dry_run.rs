//! `credhook dry-run`: the hook's create (and delete) locally, with no
//! Secrets Manager. Same environment rules as `run`, placeholder `SM_*`
//! metadata, `secret_id` inputs passed through unresolved.

use crate::driver::log::Log;
use crate::driver::step::{self, Hook, Verdict};
use crate::driver::{Env, Vars};
use crate::inputs;
use crate::outputs::{self, Typed};
use crate::schema;
use crate::settings::{self, Action, LogFormat};
use std::ffi::OsString;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{eprintln, println};

pub const USAGE: &str = "usage: credhook dry-run [--config FILE] [--input name=value]… [--keep]";

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

struct Args {
    config: String,
    inputs: Vec<(String, String)>,
    keep: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        config: super::DEFAULT_CONFIG.into(),
        inputs: Vec::new(),
        keep: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--keep" => a.keep = true,
            "--config" => a.config = it.next().ok_or("--config needs a file")?.clone(),
            "--input" => {
                let pair = it.next().ok_or("--input needs name=value")?;
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| format!("--input `{pair}` is not name=value"))?;
                let name = name
                    .trim_start_matches("SMIN_")
                    .trim_start_matches("smin_")
                    .to_ascii_uppercase();
                a.inputs.push((name, value.to_string()));
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

pub fn dry_run(args: &[String], process_env: Env) -> u8 {
    // The hook's outputs are real secrets here too.
    if let Err(e) = crate::driver::signals::harden() {
        eprintln!("credhook dry-run: warning: could not turn off core dumps: {e}");
    }
    if let Err(e) = crate::driver::signals::install() {
        eprintln!("credhook dry-run: warning: could not install signal handlers: {e}");
    }
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("credhook dry-run: {e}\n{USAGE}");
            return 2;
        }
    };
    let config = match super::load(&args.config) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("credhook dry-run: {e}");
            return 1;
        }
    };
    // The job's variables, then this shell's (so CREDHOOK_HOOK can point at
    // a local file), then the inputs and the placeholders.
    let mut all: Vec<(OsString, OsString)> = config.iter().map(|(k, v)| (k.into(), v.into())).collect();
    for (k, v) in &process_env.all.0 {
        all.retain(|(n, _)| n != k);
        all.push((k.clone(), v.clone()));
    }
    for (name, value) in &args.inputs {
        let var: OsString = format!("SM_{name}_VALUE").into();
        all.retain(|(n, _)| *n != var);
        all.push((var, value.into()));
    }
    for (k, v) in PLACEHOLDERS {
        if !all.iter().any(|(n, _)| n == k) {
            all.push((k.into(), v.into()));
        }
    }
    all.retain(|(n, _)| n != "SM_ACTION" && n != "SM_CREDENTIALS_ID");
    all.push(("SM_ACTION".into(), "create_credentials".into()));
    let env = Env::new(Vars(all));

    let s = match settings::parse(env.utf8()) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("credhook dry-run: {e}");
            }
            return 1;
        }
    };
    let (schema, problems) = schema::from_env(env.utf8());
    let mut problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let inputs = inputs::validate(&schema, |k| env.get(k)).unwrap_or_else(|p| {
        problems.extend(p);
        Vec::new()
    });
    if !problems.is_empty() {
        for p in problems {
            eprintln!("credhook dry-run: {p}");
        }
        return 1;
    }
    let format = if env.get("CREDHOOK_LOG").is_some_and(|v| v.eq_ignore_ascii_case("json")) {
        LogFormat::Json
    } else {
        LogFormat::Text
    };
    let mut log = Log::new(format, "dry-run", Action::Create.as_str());
    let base_env = step::environment(&env.all, &schema, &inputs, Vec::new(), None);
    let hook = Hook {
        path: &s.hook,
        timeout_s: s.hook_timeout_s,
    };
    let run = step::run_hook(&hook, "create", base_env.clone(), true);
    let new_id = outputs::find_id(&run.output);
    let verdict = step::judge(Action::Create, &schema, &run, &hook, &mut log);
    step::log_run(&log, &run, "hook");
    let c = match verdict {
        Verdict::Created(c) => c,
        Verdict::Failed { code, description } => {
            let description = log.redactor.apply(&description);
            println!("create failed: {code}: {description}");
            if let Some(id) = new_id {
                println!("rollback:{}", step::rollback(&log, &hook, &base_env, &id));
            }
            return 1;
        }
        Verdict::Deleted => return 1,
    };
    println!("created credentials {}", c.id);
    let width = c.payload.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in &c.payload {
        let (kind, len) = match value {
            Typed::Str(s) => ("string", s.expose().chars().count()),
            Typed::Int(n) => ("integer", n.to_string().len()),
            Typed::Bool(b) => ("boolean", b.to_string().len()),
        };
        println!("  {name:<width$}  {kind:<7}  {len} characters (value masked)");
    }
    if args.keep {
        println!(
            "kept credentials {} (delete them with the hook: SM_CREDENTIALS_ID={} your-hook delete)",
            c.id, c.id
        );
        return 0;
    }
    let del_env = step::delete_env(&base_env, &c.id);
    let run = step::run_hook(&hook, "delete", del_env, true);
    let verdict = step::judge(Action::Delete, &schema, &run, &hook, &mut log);
    step::log_run(&log, &run, "hook");
    match verdict {
        Verdict::Deleted => {
            println!("deleted credentials {}", c.id);
            0
        }
        Verdict::Failed { code, description } => {
            println!("delete failed: {code}: {}", log.redactor.apply(&description));
            println!("the credentials {} may remain; delete them by hand", c.id);
            1
        }
        Verdict::Created(_) => 1,
    }
}
