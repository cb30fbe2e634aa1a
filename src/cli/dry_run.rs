//! `credhook dry-run`: the hook's create (and delete) locally, with no
//! Secrets Manager. Same environment rules as `run`, placeholder `SM_*`
//! metadata, `secret_id` inputs passed through unresolved.

use crate::core::hook::channel::{self, Typed};
use crate::core::job::inputs;
use crate::core::job::schema;
use crate::core::job::settings::{self, Action, LogFormat};
use crate::driver::hook::{self, Hook, Verdict};
use crate::driver::log::Log;
use crate::driver::{Env, Vars, known_secrets};
use std::ffi::OsString;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;
use std::{eprintln, println};

pub(crate) const USAGE: &str = "usage: credhook dry-run [--config FILE] [--input name=value]… [--keep]";

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

fn parse_args(args: Vec<OsString>) -> Result<Args, String> {
    use lexopt::Arg::Long;
    let mut a = Args {
        config: super::DEFAULT_CONFIG.into(),
        inputs: Vec::new(),
        keep: false,
    };
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(super::arg_error)? {
        match arg {
            Long("keep") => a.keep = true,
            Long("config") => {
                let v = parser.value().map_err(|_| String::from("--config needs a file"))?;
                a.config = super::utf8("--config file", v, super::Echo::Value)?;
            }
            Long("input") => {
                let v = parser.value().map_err(|_| String::from("--input needs name=value"))?;
                // The value may be a secret: never echoed.
                let pair = v
                    .into_string()
                    .map_err(|_| String::from("an --input is not valid UTF-8; give name=value in UTF-8"))?;
                a.inputs.push(input_arg(&pair)?);
            }
            other => return Err(super::arg_error(other.unexpected())),
        }
    }
    Ok(a)
}

/// `--input name=value`: the name as declared without `SMIN_` (the prefix,
/// in any case, is stripped once: `SMIN_SMIN_X` is input `SMIN_X`).
fn input_arg(pair: &str) -> Result<(String, String), String> {
    let (name, value) = pair
        .split_once('=')
        .ok_or_else(|| String::from("an --input is not name=value; write e.g. --input port=5432"))?;
    let name = match name.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("SMIN_") => &name[5..],
        _ => name,
    };
    if !crate::core::job::schema::is_valid_name(&name.to_ascii_uppercase()) {
        return Err(format!(
            "--input name `{}` must be letters, digits and `_`",
            name.escape_debug()
        ));
    }
    Ok((name.to_ascii_uppercase(), value.to_string()))
}

/// `credhook dry-run`: parse, assemble the environment, create, print,
/// delete (unless `--keep`).
pub fn main(args: Vec<OsString>) -> u8 {
    let process_env = Env::from_process();
    // The hook's outputs are real secrets here too.
    if let Err(e) = crate::driver::process::harden() {
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
    let env = assemble(&config, &process_env, &args.inputs);
    let (settings, schema, inputs) = match check(&env) {
        Ok(checked) => checked,
        Err(problems) => {
            for p in problems {
                eprintln!("credhook dry-run: {p}");
            }
            return 1;
        }
    };
    let format = if env.get("CREDHOOK_LOG").is_some_and(|v| v.eq_ignore_ascii_case("json")) {
        LogFormat::Json
    } else {
        LogFormat::Text
    };
    let log = Log::new(format, "dry-run", Action::Create.as_str());
    let base_env = hook::environment(&env.all, &schema, &inputs, Vec::new(), None);
    let hook = Hook {
        path: &settings.hook,
        timeout_s: settings.hook_timeout_s,
    };
    let Some(c) = create(&log, &hook, &schema, &base_env) else {
        return 1;
    };
    print_created(&c);
    if args.keep {
        println!(
            "kept credentials {} (delete them with the hook: SM_CREDENTIALS_ID={} your-hook delete)",
            c.id, c.id
        );
        return 0;
    }
    delete(&log, &hook, &schema, &base_env, &c.id)
}

/// The job's variables, then this shell's (so CREDHOOK_HOOK can point at a
/// local file), then the inputs and the placeholders; built in a zeroizing
/// `Vars`, since it holds the shell's secrets too.
fn assemble(config: &[(String, String)], process_env: &Env, inputs: &[(String, String)]) -> Env {
    let mut all: Vars = config.iter().map(|(k, v)| (k.into(), v.into())).collect();
    for (k, v) in &process_env.all.0 {
        all.set(k.clone(), v.clone());
    }
    for (name, value) in inputs {
        let var: OsString = format!("SM_{name}_VALUE").into();
        all.set(var, value.into());
    }
    for (k, v) in PLACEHOLDERS {
        if !all.0.iter().any(|(n, _)| n == k) {
            all.0.push((k.into(), v.into()));
        }
    }
    all.remove("SM_CREDENTIALS_ID".as_ref());
    all.set("SM_ACTION".into(), "create_credentials".into());
    Env::new(all)
}

/// The settings, schema and inputs, or every problem with them.
fn check(env: &Env) -> Result<(settings::Settings, schema::Schema, Vec<inputs::Input>), Vec<String>> {
    let settings =
        settings::parse(env.utf8()).map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
    let (schema, problems) = schema::from_env(env.utf8());
    let mut problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let inputs = inputs::validate(&schema, |k| env.get(k)).unwrap_or_else(|p| {
        problems.extend(p);
        Vec::new()
    });
    if problems.is_empty() {
        Ok((settings, schema, inputs))
    } else {
        Err(problems)
    }
}

/// The hook's create, judged; on failure, what went wrong and the rollback
/// are printed.
fn create(log: &Log, hook: &Hook<'_>, schema: &schema::Schema, base_env: &Vars) -> Option<channel::Credentials> {
    let run = hook::run_hook(hook, schema, "create", base_env.clone(), true);
    let new_ids = channel::find_ids(&run.output);
    let verdict = hook::judge(Action::Create, schema, &run, hook, log);
    hook::log_run(log, &run, "hook");
    match verdict {
        Verdict::Created(c) => Some(c),
        Verdict::Failed { code, description } => {
            println!("create failed: {code}: {}", known_secrets::mask(&description));
            if let Some(sentence) = hook::rollback(log, hook, schema, base_env, &new_ids) {
                println!("rollback: {}", known_secrets::mask(&sentence));
            }
            None
        }
        Verdict::Deleted => None,
    }
}

/// The new credentials' id and outputs, values masked.
fn print_created(c: &channel::Credentials) {
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
}

/// The hook's delete of `id`; the exit status.
fn delete(log: &Log, hook: &Hook<'_>, schema: &schema::Schema, base_env: &Vars, id: &str) -> u8 {
    let run = hook::run_hook(hook, schema, "delete", hook::delete_env(base_env, id), true);
    let verdict = hook::judge(Action::Delete, schema, &run, hook, log);
    hook::log_run(log, &run, "hook");
    match verdict {
        Verdict::Deleted => {
            println!("deleted credentials {id}");
            0
        }
        Verdict::Failed { code, description } => {
            println!("delete failed: {code}: {}", known_secrets::mask(&description));
            println!("the credentials {id} may remain; delete them by hand");
            1
        }
        Verdict::Created(_) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    #[test]
    fn inputs_strip_the_prefix_once() {
        assert_eq!(input_arg("SMIN_SMIN_X=1").unwrap(), ("SMIN_X".into(), "1".into()));
        assert_eq!(input_arg("smin_port=5").unwrap(), ("PORT".into(), "5".into()));
        assert_eq!(input_arg("port=a=b").unwrap(), ("PORT".into(), "a=b".into()));
        assert!(input_arg("novalue").unwrap_err().contains("not name=value"));
        assert!(input_arg("bad name=x").unwrap_err().contains("letters, digits"));
    }

    #[test]
    fn non_utf8_arguments_are_errors_that_do_not_echo_values() {
        let args = |v: &[&[u8]]| v.iter().map(|b| OsString::from_vec(b.to_vec())).collect::<Vec<_>>();
        let e = parse_args(args(&[b"--input", b"pw=s3cr\xffet"])).err().unwrap();
        assert!(e.contains("not valid UTF-8") && !e.contains("s3cr"), "{e}");
        let e = parse_args(args(&[b"--config", b"\xff.json"])).err().unwrap();
        assert!(e.contains("not valid UTF-8"), "{e}");
        let a = parse_args(args(&[b"--config=x.json", b"--keep", b"--input", b"a=1"])).unwrap();
        assert!(a.keep && a.config == "x.json" && a.inputs.len() == 1);
        assert!(parse_args(args(&[b"--bogus"])).err().unwrap().contains("--bogus"));
    }
}
