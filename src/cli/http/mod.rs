//! `credhook http [OPTIONS] METHOD URL`: one HTTPS call for a hook, with
//! verified TLS, `{{NAME}}` expansion (secrets stay off the command line),
//! bounded time and size, and retries only where repeating is safe. The
//! rules live in [`crate::core::tools::http_rules`]; this file does the I/O.

mod args;

use self::args::{Args, BodySource, USAGE, parse_args};
use super::tool_io as input;
use super::{CliError, Echo, utf8};
use crate::core::net::delivery::Delivery;
use crate::core::net::http_allow::{self, Allowlist};
use crate::core::net::url;
use crate::core::secrets::secret::{Secret, SecretBuf};
use crate::core::tools::expand;
use crate::core::tools::http_rules;
use crate::driver;
use crate::driver::Env;
use crate::driver::files::read_capped;
use crate::driver::http::{Engine, Outgoing, Reply, load_pem_as};
use std::ffi::OsString;
use std::format;
use std::io::Write;
use std::string::{String, ToString};
use std::vec::Vec;
use ureq::tls::RootCerts;
use zeroize::Zeroizing;

// Each kind of [`CliError`] is one exit status: 2 nothing was sent
// ([`CliError::NotAllowed`] names only the host); 3 no usable reply
// ([`CliError::Transport`]: `--status` prints `000`, even when a status line
// came before a refused redirect or an oversized body: a script that reads
// only the status must not take it for success).

fn usage(msg: impl Into<String>) -> CliError {
    CliError::Usage(msg.into())
}

/// One line on stderr. A closed stderr (`2>&1 | head -c 100`) loses the
/// line, never the exit status (`eprintln!` would panic).
fn say(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "credhook http: {line}");
}

/// `host/path` of a URL as the user wrote it (before expansion), without
/// the query: what error messages name.
fn place(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    // Nor `user:password@` (refused anyway, but not echoed).
    let host_start = rest[..rest.find('/').unwrap_or(rest.len())]
        .rfind('@')
        .map_or(0, |i| i + 1);
    String::from(&rest[host_start..])
}

/// What is sent, once expanded.
struct Prepared {
    url: Secret,
    headers: Vec<(String, Secret)>,
    body: Option<Zeroizing<Vec<u8>>>,
    /// `CREDHOOK_HTTP_ALLOW`, for the redirects too.
    allow: Option<Allowlist>,
}

/// The authority of a URL as written, without `user@`: what a refusal
/// names when the host is made by `{{NAME}}` expansion.
fn written_authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let auth = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    auth.rfind('@').map_or(auth, |i| &auth[i + 1..])
}

/// `CREDHOOK_HTTP_ALLOW` (read from this process's environment) against
/// the expanded `url`, before anything is resolved or sent.
fn check_allowed(env: &Env, written: &str, url: &str) -> Result<Option<Allowlist>, CliError> {
    let value = env.get(http_allow::SETTING);
    if value.is_none() && env.is_set(http_allow::SETTING) {
        // Unreadable is not unset: closed, not open.
        return Err(CliError::NotAllowed(format!(
            "{} is not valid UTF-8; nothing was sent",
            http_allow::SETTING
        )));
    }
    let allow = http_allow::from_setting(value).map_err(|e| CliError::NotAllowed(format!("{e}; nothing was sent")))?;
    if let Some(a) = &allow {
        let Some((host, port)) = http_allow::host_port(url) else {
            return Err(CliError::NotAllowed(String::from(
                "the URL has no host it could allow; nothing was sent",
            )));
        };
        if !a.allows(host, port) {
            // A host made by expansion is named as written: its value may be a secret.
            let written = written_authority(written);
            let shown = if written.contains("{{") {
                format!("the host `{written}` (once expanded)")
            } else {
                http_allow::shown(host, port)
            };
            return Err(CliError::NotAllowed(http_allow::refusal(&shown)));
        }
    }
    Ok(allow)
}

fn has_header(headers: &[(String, Secret)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// `{{NAME}}` references in `text` expanded; `what` names it in an error.
fn expanded<'e>(lookup: impl Fn(&str) -> Option<&'e [u8]>, what: &str, text: &str) -> Result<Secret, CliError> {
    expand::expand(text, lookup).map_err(|e| usage(format!("{what}: {e}")))
}

/// The URL once expanded, if it may be sent. Messages name the URL as
/// written, never the expanded one.
fn expanded_url(a: &Args, env: &Env) -> Result<Secret, CliError> {
    let url = expanded(input::lookup(env), "the URL", &a.url)?;
    match url::parse(url.expose()) {
        Ok(_) => {}
        Err(crate::core::CoreError::UrlPlainHttp(_)) => {
            return Err(usage(format!(
                "`http://{}` is refused: http:// is only allowed to a loopback address (127.0.0.0/8, [::1], localhost); use https://",
                place(&a.url)
            )));
        }
        // `UrlMalformed` (`parse` gives no other).
        Err(_) => {
            return Err(usage(format!(
                "`{}` is not an absolute https:// URL with a host (no spaces, control characters or user:password@)",
                place(&a.url)
            )));
        }
    }
    if ureq::http::Uri::try_from(url.expose()).is_err() {
        return Err(usage(format!(
            "the URL `{}` is not valid once {{{{NAME}}}} references are expanded; percent-encode what goes into it",
            place(&a.url)
        )));
    }
    Ok(url)
}

fn prepare(a: &Args, env: &Env) -> Result<Prepared, CliError> {
    let lookup = input::lookup(env);
    let url = expanded_url(a, env)?;
    let allow = check_allowed(env, &a.url, url.expose())?;
    let mut headers = Vec::new();
    for h in &a.headers {
        let (name, value) = http_rules::split_header(h)?;
        let value = expanded(lookup, &format!("header {name}"), value)?;
        http_rules::check_header_value(value.expose()).map_err(|e| usage(format!("header {name}: {e}")))?;
        headers.push((String::from(name), value));
    }
    let head = http_rules::request_head_len(url.expose(), headers.iter().map(|(n, v)| (n.as_str(), v.expose())));
    if head > http_rules::MAX_REQUEST_HEAD {
        return Err(usage(format!(
            "the URL and -H headers come to more than {} bytes once expanded; send large values in the body",
            http_rules::MAX_REQUEST_HEAD
        )));
    }
    if let Some(path) = &a.output {
        check_output(path)?;
    }
    let body = body(a, env, &mut headers)?;
    if a.json {
        for (n, v) in [("Content-Type", "application/json"), ("Accept", "application/json")] {
            if !has_header(&headers, n) {
                headers.push((n.into(), Secret::from(v)));
            }
        }
    }
    Ok(Prepared {
        url,
        headers,
        body,
        allow,
    })
}

/// The body: `--form` fields (with their Content-Type unless `-H` gave
/// one), `--data`/`--json` text expanded, a file or stdin as read.
fn body(a: &Args, env: &Env, headers: &mut Vec<(String, Secret)>) -> Result<Option<Zeroizing<Vec<u8>>>, CliError> {
    let lookup = input::lookup(env);
    if !a.form.is_empty() {
        let mut out = SecretBuf::with_capacity(64);
        for (i, field) in a.form.iter().enumerate() {
            let (name, value) = field
                .split_once('=')
                .ok_or_else(|| usage("a --form value has no `=`; write NAME=VALUE"))?;
            let value = expanded(lookup, &format!("--form {name}"), value)?;
            if i > 0 {
                out.push('&');
            }
            http_rules::form_encode(&mut out, name);
            out.push('=');
            http_rules::form_encode(&mut out, value.expose());
        }
        if !has_header(headers, "content-type") {
            headers.push(("Content-Type".into(), Secret::from("application/x-www-form-urlencoded")));
        }
        return Ok(Some(Zeroizing::new(out.into_secret().expose().as_bytes().to_vec())));
    }
    Ok(match &a.body {
        None => None,
        Some(BodySource::Text(t)) => {
            let what = if a.json { "--json" } else { "--data" };
            Some(Zeroizing::new(expanded(lookup, what, t)?.expose().as_bytes().to_vec()))
        }
        Some(BodySource::File(f)) => {
            let file = std::fs::File::open(f).map_err(|e| usage(format!("body file `{f}` cannot be read: {e}")))?;
            Some(read_body_input(file, &format!("body file `{f}`"))?)
        }
        Some(BodySource::Stdin) => Some(read_body_input(std::io::stdin().lock(), "stdin")?),
    })
}

/// `-o FILE` must be a file credhook may replace: not a symbolic link (it
/// could point anywhere a secret should not go), not a directory. Checked
/// before anything is sent; the open refuses a link made in between.
fn check_output(path: &str) -> Result<(), CliError> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Err(usage(format!(
            "--output `{path}` is a symbolic link; give the path of a regular file (or a new one)"
        ))),
        Ok(m) if m.is_dir() => Err(usage(format!("--output `{path}` is a directory; give a file's path"))),
        Ok(m) if crate::driver::files::is_refused_special(&m) => Err(usage(format!(
            "--output `{path}` is a FIFO, socket or block device; give a regular file's path (or a character device such as /dev/null)"
        ))),
        Ok(_) => Ok(()),
        Err(_) => match std::path::Path::new(path).parent() {
            Some(dir) if dir.as_os_str().is_empty() || dir.is_dir() => Ok(()),
            _ => Err(usage(format!(
                "--output `{path}`: its directory does not exist; create it first"
            ))),
        },
    }
}

/// Largest request body read from a file or stdin.
const MAX_REQUEST_BODY: usize = 16 << 20;

fn read_body_input(r: impl std::io::Read, what: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    read_capped(r, MAX_REQUEST_BODY, 0).map_err(|e| match e {
        driver::DriverError::TooLarge(cap) => usage(format!(
            "{what} holds more than {cap} bytes; a request body is at most that"
        )),
        e => usage(format!("{what} cannot be read: {e}")),
    })
}

fn roots(a: &Args) -> Result<RootCerts, CliError> {
    let (path, what) = match (&a.cacert, std::env::var_os("SSL_CERT_FILE")) {
        (Some(p), _) => (p.clone(), "--cacert"),
        (None, Some(p)) if !p.is_empty() => (utf8("SSL_CERT_FILE", p, Echo::Never)?, "SSL_CERT_FILE"),
        _ => return Ok(RootCerts::WebPki),
    };
    Ok(RootCerts::new_with_certs(&load_pem_as(&path, what)?))
}

/// Sends the call through the engine, as the flags say; a retry is said on
/// stderr. `log_place` becomes the place as written, "(redirected)", once a
/// redirect is followed.
fn call(a: &Args, env: &Env, log_place: &mut String) -> Result<Reply, CliError> {
    let p = prepare(a, env)?;
    let policy = http_rules::policy(&a.flags, p.allow);
    let mut engine = Engine::new(roots(a)?, http_rules::limits(&a.flags));
    let out = Outgoing {
        method: a.method,
        url: p.url,
        headers: p.headers,
        body: p.body,
    };
    let written = place(&a.url);
    let result = engine.call(out, &policy, None, &mut |at| {
        if at.redirected {
            // The URL as written: the target holds the expansion and the
            // server's path, which may echo a secret.
            *log_place = format!("{written} (redirected)");
        }
        if let Some(wait) = at.retry_in {
            let what = match &at.result {
                Ok(status) => format!("HTTP {status}"),
                Err(e) => e.to_string(),
            };
            say(format_args!(
                "{} {log_place}: {what}; retry {} of {} in {:.1} s",
                at.method.as_str(),
                at.number,
                a.flags.retries,
                wait.as_secs_f64()
            ));
        }
    });
    result.map_err(|e| CliError::Transport(format!("{e}{}", arrival(e.delivery()))))
}

/// What a failure says of its request: whether the server may have acted
/// on it (the engine's one rule), for a hook that must not repeat a create.
fn arrival(d: Delivery) -> &'static str {
    match d {
        Delivery::MayHaveArrived => " (the request may have reached the server)",
        Delivery::Unsent | Delivery::Sent => "",
    }
}

/// Writes the status line (with `--status`) and the body to stdout, or the
/// body to FILE: created 0600, an existing file made 0600 before the body is
/// written (it may hold a secret); a symbolic link, FIFO, socket or block
/// device refused, and the open never waits ([`crate::driver::files::open_output`]).
fn deliver(a: &Args, status: Option<u16>, body: &[u8]) -> Result<(), CliError> {
    let to_stdout = |bytes: &[u8]| {
        input::write_stdout(bytes).map_err(|e| CliError::Failed(format!("stdout cannot be written: {e}")))
    };
    if a.status {
        to_stdout(format!("{:03}\n", status.unwrap_or(0)).as_bytes())?;
    }
    match &a.output {
        Some(path) => {
            let mut f = crate::driver::files::open_output(path)
                .map_err(|e| CliError::Failed(format!("--output `{path}` {e}")))?;
            f.write_all(body)
                .map_err(|e| CliError::Failed(format!("--output `{path}` cannot be written: {e}")))
        }
        None => to_stdout(body),
    }
}

pub fn main(args: Vec<OsString>) -> u8 {
    // Headers and replies hold secrets: no core file, no ptrace by others.
    if let Err(e) = crate::driver::process::harden() {
        say(format_args!("warning: could not turn off core dumps: {e}"));
    }
    let a = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            let _ = input::write_stdout(format!("{USAGE}\n").as_bytes());
            return 0;
        }
        Err(e) => {
            say(format_args!("{e}"));
            return 2;
        }
    };
    let env = Env::from_process();
    let mut log_place = place(&a.url);
    let m = a.method.as_str();
    if a.check {
        return match prepare(&a, &env) {
            Ok(_) => 0,
            Err(CliError::NotAllowed(e)) => {
                say(format_args!("{m} refused: {e}"));
                2
            }
            Err(e) => {
                say(format_args!("{m} {log_place}: {e}"));
                2
            }
        };
    }
    finish(&a, call(&a, &env, &mut log_place), &log_place)
}

/// The reply (or the failure) as output, a message and an exit status: 0
/// for a 2xx or an `--ok` status, 1 for another status, 2 when nothing was
/// sent, 3 when no usable reply came.
fn finish(a: &Args, result: Result<Reply, CliError>, log_place: &str) -> u8 {
    let m = a.method.as_str();
    match result {
        Ok(reply) => {
            let code = http_rules::exit_for_status(reply.status, &a.flags.ok);
            if let Err(e) = deliver(a, Some(reply.status), &reply.body) {
                say(format_args!("{m} {log_place}: {e}"));
                return 3;
            }
            if code != 0 {
                say(format_args!(
                    "{m} {log_place}: HTTP {}{}",
                    reply.status,
                    arrival(reply.delivery)
                ));
            }
            code
        }
        Err(failure) => {
            let code = match failure {
                CliError::Transport(e) => {
                    say(format_args!("{m} {log_place}: {e}"));
                    3
                }
                // The host only: the path as written may hold anything.
                CliError::NotAllowed(e) => {
                    say(format_args!("{m} refused: {e}"));
                    2
                }
                // Nothing was sent: `-o FILE` is left as it was.
                e => {
                    say(format_args!("{m} {log_place}: {e}"));
                    2
                }
            };
            if a.status {
                let _ = input::write_stdout(b"000\n");
            }
            code
        }
    }
}
