//! `credhook json get|out|build`: read and build JSON in hooks without jq.
//! The rules (path grammar, protocol lines, the builder) live in the core;
//! this file reads stdin, prints, and maps errors to exit statuses.

use super::tool_io as input;
use super::{CliError, Echo, utf8};
use crate::core::json;
use crate::core::json::builder;
use crate::core::json::query::{self, Path};
use crate::core::secrets::secret::SecretBuf;
use crate::core::tools::json_out;
use crate::driver;
use crate::driver::Env;
use crate::driver::files::read_capped;
use std::ffi::OsString;
use std::format;
use std::string::{String, ToString};
use std::vec::Vec;

pub(crate) const USAGE: &str = "\
usage: credhook json get [--json] PATH          print the value at PATH of the JSON on stdin
       credhook json out NAME=PATH [NAME?=PATH]…  print values as hook output lines (for fd 3)
       credhook json build FIELD…                 print a JSON object; FIELD: key=text, key:=json,
                                                  key?=text, key?:=json; {{NAME}} expands
PATH: `.`, `.key`, `.\"key.with.dots\"`, `.list[0]`, chained (`.a.b[0].c`).
Exit status: 0 ok, 1 a path is absent, 2 usage error or input that is not JSON.";

/// Largest JSON document read from stdin, as `credhook http`'s default
/// `--max-size`. A document of tiny members costs ~33× its size once parsed
/// (measured: 4 MiB of `1,` took 134 MiB), so this also bounds memory.
pub(crate) const MAX_INPUT: usize = 1 << 20;

/// Exit 0; 1 when a path is absent ([`CliError::Absent`]); 2 for any other
/// error (bad arguments or input).
pub fn main(args: Vec<OsString>) -> u8 {
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            say(&e.to_string());
            if matches!(e, CliError::Absent(_)) { 1 } else { 2 }
        }
    }
}

/// One message on stderr. A closed stderr (`2>&1 | head -c 1`) loses the
/// message, never the documented exit status (`eprintln!` would panic,
/// and the release build aborts on a panic).
fn say(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "credhook json: {msg}");
}

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

fn run(args: Vec<OsString>) -> Result<(), CliError> {
    let mut p = lexopt::Parser::from_args(args);
    let mut json_strings = false;
    let mut positional: Vec<String> = Vec::new();
    let mut help = false;
    let bad = |e: lexopt::Error| usage(format!("{}\n{USAGE}", super::arg_error(e)));
    while let Some(arg) = p.next().map_err(bad)? {
        match arg {
            lexopt::Arg::Long("json") => json_strings = true,
            lexopt::Arg::Long("help") | lexopt::Arg::Short('h') => help = true,
            lexopt::Arg::Value(v) => {
                let what = format!("argument {}", positional.len() + 1);
                positional.push(utf8(&what, v, Echo::Never)?);
                // The fields of `out` and `build` are operands even when
                // they start with `-` (a key like `-x=1`).
                if positional.len() == 1 && matches!(positional[0].as_str(), "out" | "build") {
                    let mut first = true;
                    for rest in p.raw_args().map_err(bad)? {
                        if std::mem::take(&mut first) && rest == "--" {
                            continue;
                        }
                        let what = format!("argument {}", positional.len() + 1);
                        positional.push(utf8(&what, rest, Echo::Never)?);
                    }
                }
            }
            other => return Err(bad(other.unexpected())),
        }
    }
    if help {
        print_out(USAGE.as_bytes())?;
        print_out(b"\n")?;
        return Ok(());
    }
    let (cmd, rest) = positional
        .split_first()
        .ok_or_else(|| usage(format!("a subcommand is missing\n{USAGE}")))?;
    if json_strings && cmd != "get" {
        return Err(usage("--json applies to `credhook json get` only"));
    }
    match cmd.as_str() {
        "get" => match rest {
            [path] => get(path, json_strings),
            _ => Err(usage(format!("`get` takes one PATH\n{USAGE}"))),
        },
        "out" if !rest.is_empty() => out(rest),
        "out" => Err(usage(format!("`out` needs at least one NAME=PATH\n{USAGE}"))),
        "build" => build(rest),
        other => Err(usage(format!(
            "unknown subcommand `{other}`; use get, out or build\n{USAGE}"
        ))),
    }
}

fn read_stdin() -> Result<json::Value, CliError> {
    let bytes = read_capped(std::io::stdin().lock(), MAX_INPUT, 0).map_err(|e| match e {
        driver::DriverError::TooLarge(cap) => usage(format!("stdin holds more than {cap} bytes of JSON")),
        e => usage(format!("stdin cannot be read: {e}")),
    })?;
    json::parse(&bytes).map_err(|e| usage(format!("stdin is not valid JSON: {e}")))
}

fn print_out(bytes: &[u8]) -> Result<(), CliError> {
    input::write_stdout(bytes).map_err(|e| usage(format!("stdout cannot be written: {e}")))
}

fn get(path: &str, json_strings: bool) -> Result<(), CliError> {
    let path = query::parse(path)?;
    let doc = read_stdin()?;
    let value = path
        .lookup(&doc)
        .ok_or_else(|| CliError::Absent(format!("`{}` is not in the input", show(&path))))?;
    let mut text = SecretBuf::with_capacity(64);
    text.push_str(query::render(value, !json_strings).expose());
    text.push('\n');
    print_out(text.as_str().as_bytes())
}

/// A path as given (for messages; paths are never secret).
fn show(p: &Path) -> String {
    let mut s = String::new();
    if p.0.is_empty() {
        s.push('.');
    }
    for step in &p.0 {
        match step {
            query::Segment::Key(k) => {
                s.push('.');
                if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
                    s.push_str(k);
                } else {
                    json::write_string(&mut s, k);
                }
            }
            query::Segment::Index(n) => s.push_str(&format!("[{n}]")),
        }
    }
    s
}

fn out(specs: &[String]) -> Result<(), CliError> {
    let mut parsed = Vec::new();
    for spec in specs {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| usage(format!("`{spec}` is not NAME=PATH (e.g. `id=.token_id`)")))?;
        let (name, optional) = match name.strip_suffix('?') {
            Some(n) => (n, true),
            None => (name, false),
        };
        if !json_out::is_name(name) {
            return Err(usage(format!(
                "`{name}` is not a valid output name; names are letters, digits and `_`"
            )));
        }
        parsed.push((name, optional, query::parse(path)?));
    }
    let doc = read_stdin()?;
    let mut lines = SecretBuf::with_capacity(256);
    let mut missing = Vec::new();
    for (name, optional, path) in &parsed {
        match path.lookup(&doc) {
            Some(v) => {
                let text = query::render(v, true);
                json_out::write(&mut lines, name, text.expose())?;
            }
            None if *optional => {}
            None => missing.push(format!("{name} ({})", show(path))),
        }
    }
    if !missing.is_empty() {
        return Err(CliError::Absent(format!(
            "not in the input: {}; nothing was printed (write `NAME?=PATH` for a value that may be absent)",
            missing.join(", ")
        )));
    }
    print_out(lines.as_str().as_bytes())
}

fn build(fields: &[String]) -> Result<(), CliError> {
    let fields: Vec<_> = fields
        .iter()
        .map(|f| builder::parse_field(f))
        .collect::<Result<_, crate::core::CoreError>>()?;
    let env = Env::from_process();
    let obj = builder::build(&fields, input::lookup(&env))?;
    let mut text = SecretBuf::with_capacity(obj.expose().len() + 1);
    text.push_str(obj.expose());
    text.push('\n');
    print_out(text.as_str().as_bytes())
}
