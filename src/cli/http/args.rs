//! The command line of `credhook http`: parsed and checked, nothing sent.

use super::super::CliError;
use super::super::{Echo, utf8};
use super::usage;
use crate::core::net::method::Method;
use crate::core::net::retry::Repeatable;
use crate::core::tools::http_rules::{self, Flags};
use std::ffi::OsString;
use std::format;
use std::string::String;
use std::time::Duration;
use std::vec::Vec;

pub(crate) const USAGE: &str = "\
usage: credhook http [OPTIONS] METHOD URL
  METHOD  GET POST PUT PATCH DELETE HEAD
  URL     https://… (http:// only to 127.0.0.0/8, [::1] or localhost)
  -H, --header 'Name: value'   add a header (repeatable)
  -d, --data TEXT|@FILE|@-     the body; @FILE reads a file, @- stdin (sent as read)
      --json TEXT|@FILE|@-     a JSON body; sets Content-Type and Accept to application/json
      --form NAME=VALUE        an application/x-www-form-urlencoded field (repeatable)
  -o, --output FILE            write the body to FILE (mode 0600; not a symlink) instead of stdout
      --status                 print the 3-digit status as stdout's first line (000: no usable reply)
      --ok CODES               statuses that also succeed, e.g. --ok 404,409
      --cacert FILE            trust only the PEM certificates in FILE (else SSL_CERT_FILE, else Mozilla's roots)
      --connect-timeout S      seconds to connect, TLS included (default 10, at most 86400)
      --max-time S             seconds for the whole call, retries included (default 60, at most 86400)
      --max-size BYTES         largest response body (default 1048576, at most 67108864)
      --retry N                retry connect errors, timeouts, 429 and 503 N times (default 0);
                               GET HEAD PUT DELETE only, unless --retry-post (POST too)
                               or --retry-any (POST and PATCH too)
  -L, --location               follow redirects to the same scheme, host and port (at most 5)
      --check                  check the call as if to send it (URL, options, {{NAME}}s,
                               CREDHOOK_HTTP_ALLOW) and exit 0, or 2 saying why; nothing is sent
{{NAME}} in the URL, header values, --data/--json text and --form values is
replaced by the environment variable NAME (unset or empty: usage error).
CREDHOOK_HTTP_ALLOW=host[:port][,…] (a job setting: *.example.com for its
subdomains, a bare host for any port) refuses every other host, and any
redirect to one, before it is resolved: exit 2 (3 for a redirect).
Exit status: 0 2xx or an --ok status; 1 another status (the body is still
written); 2 usage error; 3 no usable reply (DNS, connect, TLS, timeout, too
large, redirect refused).";

pub(crate) enum BodySource {
    Text(String),
    File(String),
    Stdin,
}

pub(crate) struct Args {
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) headers: Vec<String>,
    pub(crate) body: Option<BodySource>,
    pub(crate) json: bool,
    pub(crate) form: Vec<String>,
    pub(crate) output: Option<String>,
    pub(crate) status: bool,
    pub(crate) cacert: Option<String>,
    /// `--check`: everything is checked, nothing is sent.
    pub(crate) check: bool,
    /// What the flags say about the call: retries, redirects, `--ok`, limits.
    pub(crate) flags: Flags,
}

fn seconds(flag: &str, v: &str) -> Result<Duration, CliError> {
    v.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0 && *s <= http_rules::MAX_SECONDS)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            usage(format!(
                "{flag} `{v}` is not a number of seconds greater than 0 and at most {}",
                http_rules::MAX_SECONDS
            ))
        })
}

/// `--max-size BYTES`.
fn max_size(v: &str) -> Result<usize, CliError> {
    v.parse::<usize>()
        .ok()
        .filter(|n| *n > 0 && *n <= http_rules::MAX_REPLY_SIZE)
        .ok_or_else(|| {
            usage(format!(
                "--max-size `{v}` is not a number of bytes from 1 to {}",
                http_rules::MAX_REPLY_SIZE
            ))
        })
}

/// `--retry N`.
fn retry_count(v: &str) -> Result<u32, CliError> {
    v.parse::<u32>()
        .ok()
        .filter(|n| *n <= 100)
        .ok_or_else(|| usage(format!("--retry `{v}` is not a count from 0 to 100")))
}

/// `-d`/`--json`'s value: `@FILE`, `@-` (stdin) or the text itself.
fn body_source(v: String) -> BodySource {
    match v.strip_prefix('@') {
        Some("-") => BodySource::Stdin,
        Some(file) => BodySource::File(String::from(file)),
        None => BodySource::Text(v),
    }
}

/// The arguments before any option is read: the defaults `--help` lists.
fn defaults() -> Args {
    Args {
        method: Method::Get,
        url: String::new(),
        headers: Vec::new(),
        body: None,
        json: false,
        form: Vec::new(),
        output: None,
        status: false,
        cacert: None,
        check: false,
        flags: Flags {
            retries: 0,
            scope: Repeatable::Idempotent,
            location: false,
            ok: Vec::new(),
            max_time: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_size: 1 << 20,
        },
    }
}

pub(crate) fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, CliError> {
    use lexopt::Arg::{Long, Short, Value};
    // Help only for `-h` written alone: a URL from an input that starts
    // with `-` (`-Lhttps://…`) is read as options, and its `h` must not
    // print the help and exit 0, which `--check` would take for a pass.
    let h_alone = args.iter().any(|a| a == "-h");
    let mut p = lexopt::Parser::from_args(args);
    let mut a = defaults();
    let mut positional = Vec::new();
    // lexopt's own messages may echo a value (`--status=…`); arg_error does not.
    let bad = |e: lexopt::Error| usage(format!("{}\n{USAGE}", super::super::arg_error(e)));
    while let Some(arg) = p.next().map_err(bad)? {
        let flag = match &arg {
            Short(c) => format!("-{c}"),
            Long(l) => format!("--{l}"),
            Value(_) => String::from("an operand"),
        };
        let value = |p: &mut lexopt::Parser| -> Result<String, CliError> {
            utf8(&format!("the value of {flag}"), p.value().map_err(bad)?, Echo::Never)
        };
        let f = &mut a.flags;
        match arg {
            Long("help") => return Ok(None),
            Short('h') if h_alone => return Ok(None),
            Short('h') => {
                return Err(usage(format!(
                    "invalid option '-h' inside another argument: an operand that starts with `-` is read as options; a URL starts with https://\n{USAGE}"
                )));
            }
            Short('H') | Long("header") => a.headers.push(value(&mut p)?),
            Short('d') | Long("data") | Long("json") => {
                if a.body.is_some() {
                    return Err(usage("give one body: --data or --json, once"));
                }
                a.json = matches!(arg, Long("json"));
                a.body = Some(body_source(value(&mut p)?));
            }
            Long("form") => a.form.push(value(&mut p)?),
            Short('o') | Long("output") => a.output = Some(value(&mut p)?),
            Long("status") => a.status = true,
            Long("ok") => f.ok.extend(http_rules::parse_ok_list(&value(&mut p)?)?),
            Long("cacert") => a.cacert = Some(value(&mut p)?),
            Long("connect-timeout") => f.connect_timeout = seconds(&flag, &value(&mut p)?)?,
            Long("max-time") => f.max_time = seconds(&flag, &value(&mut p)?)?,
            Long("max-size") => f.max_size = max_size(&value(&mut p)?)?,
            Long("retry") => f.retries = retry_count(&value(&mut p)?)?,
            // `--retry-any --retry-post` still allows PATCH.
            Long("retry-post") if f.scope != Repeatable::Any => f.scope = Repeatable::AlsoPost,
            Long("retry-post") => {}
            Long("retry-any") => f.scope = Repeatable::Any,
            Long("location") | Short('L') => f.location = true,
            Long("check") => a.check = true,
            Value(v) => positional.push(utf8("an operand", v, Echo::Never)?),
            other => return Err(bad(other.unexpected())),
        }
    }
    operands(a, positional).map(Some)
}

/// METHOD and URL, and what only the whole command line can refuse.
fn operands(mut a: Args, positional: Vec<String>) -> Result<Args, CliError> {
    let [method, url] = <[String; 2]>::try_from(positional).map_err(|_| {
        usage(format!(
            "give a METHOD and a URL, e.g. `credhook http GET https://api.example.com/`\n{USAGE}"
        ))
    })?;
    a.method = Method::parse(&method).ok_or_else(|| {
        usage(format!(
            "`{method}` is not a method; use GET, POST, PUT, PATCH, DELETE or HEAD"
        ))
    })?;
    a.url = url;
    if !a.form.is_empty() && a.body.is_some() {
        return Err(usage("give one body: --form, --data or --json"));
    }
    Ok(a)
}
