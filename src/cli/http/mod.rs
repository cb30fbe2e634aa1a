//! `credhook http [OPTIONS] METHOD URL`: one HTTPS call for a hook, with
//! verified TLS, `{{NAME}}` expansion (secrets stay off the command line),
//! bounded time and size, and retries only where repeating is safe. The
//! rules live in [`crate::core::tools::http_rules`]; this file does the I/O.

mod args;

use self::args::{Args, BodySource, USAGE, parse_args};
use super::tool_io::{self as input, ReadError};
use crate::core::net::http_allow::{self, Allowlist};
use crate::core::net::retry::{self, Ended, Progress};
use crate::core::net::url::{self, UrlError};
use crate::core::secrets::secret::{Secret, SecretBuf};
use crate::core::tools::expand;
use crate::core::tools::http_rules::{self, Method};
use crate::driver::Env;
use crate::driver::http::{agent_config, load_pem_as};
use std::ffi::OsString;
use std::format;
use std::io::Write;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;
use ureq::tls::RootCerts;
use zeroize::Zeroizing;

/// Why the call failed; each kind is one exit status.
enum Failure {
    /// Exit 2: nothing was sent.
    Usage(String),
    /// Exit 3: no usable reply (`--status` prints `000`, even when a status
    /// line came before a refused redirect or an oversized body: a script
    /// that reads only the status must not take it for success).
    Transport(String),
    /// Exit 2: `CREDHOOK_HTTP_ALLOW` refuses the host (or is broken); nothing
    /// was sent. The message names the host, never the path or query.
    NotAllowed(String),
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
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
fn check_allowed(env: &Env, written: &str, url: &str) -> Result<Option<Allowlist>, Failure> {
    let value = env.get(http_allow::SETTING);
    if value.is_none() && env.is_set(http_allow::SETTING) {
        // Unreadable is not unset: closed, not open.
        return Err(Failure::NotAllowed(format!(
            "{} is not valid UTF-8; nothing was sent",
            http_allow::SETTING
        )));
    }
    let allow = http_allow::from_setting(value).map_err(|e| Failure::NotAllowed(format!("{e}; nothing was sent")))?;
    if let Some(a) = &allow {
        let Some((host, port)) = http_allow::host_port(url) else {
            return Err(Failure::NotAllowed(String::from(
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
            return Err(Failure::NotAllowed(http_allow::refusal(&shown)));
        }
    }
    Ok(allow)
}

fn has_header(headers: &[(String, Secret)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

fn prepare(a: &Args, env: &Env) -> Result<Prepared, Failure> {
    let lookup = input::lookup(env);
    let expand = |what: &str, text: &str| expand::expand(text, lookup).map_err(|e| usage(format!("{what}: {e}")));
    let url = expand("the URL", &a.url)?;
    match url::parse(url.expose()) {
        Ok(_) => {}
        // Messages name the URL as written, never the expanded one.
        // (`NotABase` is only for base URLs; `parse` never gives it.)
        Err(UrlError::Malformed(_) | UrlError::NotABase(_)) => {
            return Err(usage(format!(
                "`{}` is not an absolute https:// URL with a host (no spaces, control characters or user:password@)",
                place(&a.url)
            )));
        }
        Err(UrlError::PlainHttp(_)) => {
            return Err(usage(format!(
                "`http://{}` is refused: http:// is only allowed to a loopback address (127.0.0.0/8, [::1], localhost); use https://",
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
    let allow = check_allowed(env, &a.url, url.expose())?;
    let mut headers = Vec::new();
    for h in &a.headers {
        let (name, value) = http_rules::split_header(h).map_err(usage)?;
        let value = expand(&format!("header {name}"), value)?;
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
    let body = if !a.form.is_empty() {
        let mut out = SecretBuf::with_capacity(64);
        for (i, field) in a.form.iter().enumerate() {
            let (name, value) = field
                .split_once('=')
                .ok_or_else(|| usage("a --form value has no `=`; write NAME=VALUE"))?;
            let value = expand(&format!("--form {name}"), value)?;
            if i > 0 {
                out.push('&');
            }
            http_rules::form_encode(&mut out, name);
            out.push('=');
            http_rules::form_encode(&mut out, value.expose());
        }
        if !has_header(&headers, "content-type") {
            headers.push(("Content-Type".into(), Secret::from("application/x-www-form-urlencoded")));
        }
        Some(Zeroizing::new(out.into_secret().expose().as_bytes().to_vec()))
    } else {
        match &a.body {
            None => None,
            Some(BodySource::Text(t)) => {
                let what = if a.json { "--json" } else { "--data" };
                Some(Zeroizing::new(expand(what, t)?.expose().as_bytes().to_vec()))
            }
            Some(BodySource::File(f)) => {
                let file = std::fs::File::open(f).map_err(|e| usage(format!("body file `{f}` cannot be read: {e}")))?;
                Some(read_body_input(file, &format!("body file `{f}`"))?)
            }
            Some(BodySource::Stdin) => Some(read_body_input(std::io::stdin().lock(), "stdin")?),
        }
    };
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

/// `-o FILE` must be a file credhook may replace: not a symbolic link (it
/// could point anywhere a secret should not go), not a directory. Checked
/// before anything is sent; the open refuses a link made in between.
fn check_output(path: &str) -> Result<(), Failure> {
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

fn read_body_input(r: impl std::io::Read, what: &str) -> Result<Zeroizing<Vec<u8>>, Failure> {
    input::read_capped(r, MAX_REQUEST_BODY).map_err(|e| match e {
        ReadError::TooLarge(cap) => usage(format!(
            "{what} holds more than {cap} bytes; a request body is at most that"
        )),
        ReadError::Io(e) => usage(format!("{what} cannot be read: {e}")),
    })
}

fn roots(a: &Args) -> Result<RootCerts, Failure> {
    let (path, what) = match (&a.cacert, std::env::var_os("SSL_CERT_FILE")) {
        (Some(p), _) => (p.clone(), "--cacert"),
        (None, Some(p)) if !p.is_empty() => (input::utf8(p, "SSL_CERT_FILE").map_err(usage)?, "SSL_CERT_FILE"),
        _ => return Ok(RootCerts::WebPki),
    };
    Ok(RootCerts::new_with_certs(&load_pem_as(&path, what).map_err(usage)?))
}

/// One attempt's reply.
struct Reply {
    status: u16,
    body: Zeroizing<Vec<u8>>,
    retry_after: Option<u64>,
    location: Option<String>,
}

enum AttemptError {
    /// No reply: the message, and whether the request may have gone out.
    Transport(String, Ended),
    TooLarge,
}

/// Whether a failed attempt's request may have reached the server.
fn phase(e: &ureq::Error) -> Ended {
    use std::io::ErrorKind::{ConnectionRefused, InvalidData};
    use ureq::Error as E;
    use ureq::Timeout as T;
    match e {
        E::Timeout(T::Connect | T::Resolve) | E::HostNotFound | E::ConnectionFailed | E::Tls(_) | E::Rustls(_) => {
            Ended::Unsent
        }
        E::Io(io) if matches!(io.kind(), ConnectionRefused | InvalidData) => Ended::Unsent,
        _ => Ended::NoReply,
    }
}

const TLS_HINT: &str = "the server's certificate must be valid for its host name and issued by a CA in --cacert, SSL_CERT_FILE or Mozilla's roots";

fn describe(e: &ureq::Error, a: &Args) -> String {
    use ureq::Error as E;
    use ureq::Timeout as T;
    match e {
        E::Timeout(T::Connect | T::Resolve) => format!(
            "no connection within {} s (--connect-timeout)",
            a.connect_timeout.as_secs_f64()
        ),
        E::Timeout(_) => format!("no complete reply within {} s (--max-time)", a.max_time.as_secs_f64()),
        E::HostNotFound => String::from("host not found (DNS)"),
        E::ConnectionFailed => String::from("could not connect"),
        // rustls reports a refused certificate as invalid data on the stream.
        E::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => format!("TLS failed: {io}; {TLS_HINT}"),
        E::Io(io) => format!("connection failed: {io}"),
        E::Rustls(tls) => format!("TLS failed: {tls}; {TLS_HINT}"),
        E::Tls(msg) => format!("TLS failed: {msg}"),
        E::Protocol(p) => format!("the reply is not valid HTTP: {p}"),
        E::LargeResponseHeader(..) => String::from("the reply's headers are too large"),
        E::BodyStalled => String::from("the reply body stalled"),
        _ => String::from("the request failed"),
    }
}

fn attempt(
    agent: &ureq::Agent,
    a: &Args,
    method: Method,
    p: &Prepared,
    send_body: bool,
    timeout: Duration,
) -> Result<Reply, AttemptError> {
    // `http://localhost` goes to 127.0.0.1 itself, as for credhook's own calls.
    let url = Zeroizing::new(url::connect_url(p.url.expose()).into_owned());
    let url = url.as_str();
    macro_rules! finish {
        ($b:expr) => {{
            let mut b = $b.config().timeout_global(Some(timeout)).build();
            for (n, v) in &p.headers {
                b = b.header(n.as_str(), v.expose());
            }
            b
        }};
    }
    let body: Option<&[u8]> = if send_body {
        p.body.as_deref().map(|b| b.as_slice())
    } else {
        None
    };
    let result = match (method, body) {
        (Method::Get, None) => finish!(agent.get(url)).call(),
        (Method::Head, None) => finish!(agent.head(url)).call(),
        (Method::Delete, None) => finish!(agent.delete(url)).call(),
        (Method::Get, Some(b)) => finish!(agent.get(url).force_send_body()).send(b),
        (Method::Head, Some(b)) => finish!(agent.head(url).force_send_body()).send(b),
        (Method::Delete, Some(b)) => finish!(agent.delete(url).force_send_body()).send(b),
        (Method::Post, b) => finish!(agent.post(url)).send(b.unwrap_or(&[])),
        (Method::Put, b) => finish!(agent.put(url)).send(b.unwrap_or(&[])),
        (Method::Patch, b) => finish!(agent.patch(url)).send(b.unwrap_or(&[])),
    };
    let mut response = result.map_err(|e| AttemptError::Transport(describe(&e, a), phase(&e)))?;
    let status = response.status().as_u16();
    let header = |n: &str| {
        response
            .headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let retry_after = header("retry-after").and_then(|v| retry::parse_retry_after(&v));
    let location = header("location");
    let reader = response
        .body_mut()
        .with_config()
        .limit((a.max_size as u64).saturating_add(1))
        .reader();
    let body = match input::read_capped(reader, a.max_size) {
        Ok(b) => b,
        Err(ReadError::TooLarge(_)) => return Err(AttemptError::TooLarge),
        Err(ReadError::Io(e)) => {
            let inner = e.into_inner().and_then(|i| i.downcast::<ureq::Error>().ok());
            return Err(match inner.as_deref() {
                Some(ureq::Error::BodyExceedsLimit(_)) => AttemptError::TooLarge,
                Some(other) => AttemptError::Transport(describe(other, a), Ended::NoReply),
                None => AttemptError::Transport(
                    String::from("the connection broke while reading the reply"),
                    Ended::NoReply,
                ),
            });
        }
    };
    Ok(Reply {
        status,
        body,
        retry_after,
        location,
    })
}

/// Jitter only needs to differ between concurrent hooks.
fn random() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    t ^ (u64::from(std::process::id()) << 32)
}

fn call(a: &Args, env: &Env, log_place: &mut String) -> Result<Reply, Failure> {
    let mut p = prepare(a, env)?;
    let agent = agent_config(roots(a)?)
        .timeout_connect(Some(a.connect_timeout))
        .build()
        .new_agent();
    // `--max-time` is at most a day, so this never overflows.
    let start = Instant::now();
    let deadline = start.checked_add(a.max_time).unwrap_or(start);
    let mut method = a.method;
    let mut send_body = true;
    let mut attempt_no = 0u32;
    let mut waited_ms = 0u64;
    let mut redirects = 0u32;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Failure::Transport(format!(
                "no complete reply within {} s (--max-time)",
                a.max_time.as_secs_f64()
            )));
        }
        let result = attempt(&agent, a, method, &p, send_body, remaining);
        let (outcome, retry_after) = match &result {
            Ok(r) => (Ended::Status(r.status), r.retry_after),
            Err(AttemptError::TooLarge) => {
                return Err(Failure::Transport(format!(
                    "the reply body is larger than {} bytes (--max-size)",
                    a.max_size
                )));
            }
            Err(AttemptError::Transport(_, phase)) => (*phase, None),
        };
        if let Ok(r) = &result
            && http_rules::is_redirect(r.status)
            && !a.ok.contains(&r.status)
        {
            if a.location
                && let Some(refused) = redirect_not_allowed(p.allow.as_ref(), p.url.expose(), r.location.as_deref())
            {
                return Err(Failure::Transport(refused));
            }
            match http_rules::follow(p.url.expose(), r.location.as_deref(), a.location, redirects) {
                Ok(target) => {
                    let next = http_rules::method_after_redirect(r.status, method);
                    send_body &= next == method;
                    method = next;
                    // The URL as written: the target holds the expansion and
                    // the server's path, which may echo a secret.
                    *log_place = format!("{} (redirected)", place(&a.url));
                    p.url = Secret::new(target);
                    redirects += 1;
                    continue;
                }
                Err(e) => return Err(Failure::Transport(e.to_string())),
            }
        }
        let progress = Progress {
            attempt: attempt_no,
            waited_ms,
            ..Progress::default()
        };
        let wait = http_rules::next_retry(method, a.scope, a.retries, progress, outcome, retry_after, random())
            .map(Duration::from_millis)
            .filter(|w| *w < deadline.saturating_duration_since(Instant::now()));
        match (wait, result) {
            (Some(w), result) => {
                let what = match &result {
                    Ok(r) => format!("HTTP {}", r.status),
                    Err(AttemptError::Transport(e, _)) => e.clone(),
                    Err(AttemptError::TooLarge) => String::new(),
                };
                say(format_args!(
                    "{} {log_place}: {what}; retry {} of {} in {:.1} s",
                    method.as_str(),
                    attempt_no + 1,
                    a.retries,
                    w.as_secs_f64()
                ));
                std::thread::sleep(w);
                waited_ms += w.as_millis() as u64;
                attempt_no += 1;
            }
            (None, Ok(r)) => return Ok(r),
            (None, Err(AttemptError::Transport(e, _))) => return Err(Failure::Transport(e)),
            (None, Err(AttemptError::TooLarge)) => {
                return Err(Failure::Transport(String::from("reply too large")));
            }
        }
    }
}

/// Why `CREDHOOK_HTTP_ALLOW` refuses the target of a redirect from
/// `current` to `location`, if it does: checked before the redirect rules,
/// whatever they say. Names the host, never the path.
fn redirect_not_allowed(allow: Option<&Allowlist>, current: &str, location: Option<&str>) -> Option<String> {
    let allow = allow?;
    // An unusable Location is the redirect rules' to refuse.
    let target = http_rules::target(current, location).ok()?;
    let refused = match http_allow::host_port(&target) {
        Some((host, port)) if allow.allows(host, port) => return None,
        Some((host, _)) => String::from(host),
        None => String::from(url::host_of(&target).unwrap_or("another host")),
    };
    Some(format!(
        "redirect to {refused} refused: it is not in {}, the hosts this job may call",
        http_allow::SETTING
    ))
}

/// Writes the status line (with `--status`) and the body to stdout, or the
/// body to FILE: created 0600, an existing file made 0600 before the body is
/// written (it may hold a secret); a symbolic link, FIFO, socket or block
/// device refused, and the open never waits ([`crate::driver::files::open_output`]).
fn deliver(a: &Args, status: Option<u16>, body: &[u8]) -> Result<(), String> {
    let to_stdout = |bytes: &[u8]| input::write_stdout(bytes).map_err(|e| format!("stdout cannot be written: {e}"));
    if a.status {
        to_stdout(format!("{:03}\n", status.unwrap_or(0)).as_bytes())?;
    }
    match &a.output {
        Some(path) => {
            let mut f = crate::driver::files::open_output(path).map_err(|e| format!("--output `{path}` {}", e.0))?;
            f.write_all(body)
                .map_err(|e| format!("--output `{path}` cannot be written: {e}"))
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
        Err(Failure::Usage(m) | Failure::Transport(m) | Failure::NotAllowed(m)) => {
            say(format_args!("{m}"));
            return 2;
        }
    };
    let env = Env::from_process();
    let mut log_place = place(&a.url);
    let m = a.method.as_str();
    if a.check {
        return match prepare(&a, &env) {
            Ok(_) => 0,
            Err(Failure::NotAllowed(e)) => {
                say(format_args!("{m} refused: {e}"));
                2
            }
            Err(Failure::Usage(e) | Failure::Transport(e)) => {
                say(format_args!("{m} {log_place}: {e}"));
                2
            }
        };
    }
    match call(&a, &env, &mut log_place) {
        Ok(reply) => {
            let code = http_rules::exit_for_status(reply.status, &a.ok);
            if let Err(e) = deliver(&a, Some(reply.status), &reply.body) {
                say(format_args!("{m} {log_place}: {e}"));
                return 3;
            }
            if code != 0 {
                say(format_args!("{m} {log_place}: HTTP {}", reply.status));
            }
            code
        }
        Err(Failure::Usage(e)) => {
            say(format_args!("{m} {log_place}: {e}"));
            // Nothing was sent: `-o FILE` is left as it was.
            if a.status {
                let _ = input::write_stdout(b"000\n");
            }
            2
        }
        Err(Failure::Transport(e)) => {
            say(format_args!("{m} {log_place}: {e}"));
            if a.status {
                let _ = input::write_stdout(b"000\n");
            }
            3
        }
        Err(Failure::NotAllowed(e)) => {
            // The host only: the path as written may hold anything.
            say(format_args!("{m} refused: {e}"));
            if a.status {
                let _ = input::write_stdout(b"000\n");
            }
            2
        }
    }
}
