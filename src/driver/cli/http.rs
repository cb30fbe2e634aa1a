//! `credhook http [OPTIONS] METHOD URL`: one HTTPS call for a hook, with
//! verified TLS, `{{NAME}}` expansion (secrets stay off the command line),
//! bounded time and size, and retries only where repeating is safe. The
//! rules live in [`crate::http_rules`]; this file does the I/O.

use super::input::{self, ReadError};
use crate::driver::Env;
use crate::driver::http::{agent_config, load_pem_as};
use crate::expand;
use crate::http_rules::{self, Method, RetryScope};
use crate::retry::{self, Outcome};
use crate::secret::{Secret, SecretBuf};
use crate::url::{self, UrlError};
use std::ffi::OsString;
use std::format;
use std::io::Write;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec::Vec;
use ureq::tls::RootCerts;
use zeroize::Zeroizing;

pub const USAGE: &str = "\
usage: credhook http [OPTIONS] METHOD URL
  METHOD  GET POST PUT PATCH DELETE HEAD
  URL     https://… (http:// only to 127.0.0.0/8, [::1] or localhost)
  -H, --header 'Name: value'   add a header (repeatable)
  -d, --data TEXT|@FILE|@-     the body; @FILE reads a file, @- stdin (sent as read)
      --json TEXT|@FILE|@-     a JSON body; sets Content-Type and Accept to application/json
      --form NAME=VALUE        an application/x-www-form-urlencoded field (repeatable)
  -o, --output FILE            write the body to FILE instead of stdout
      --status                 print the 3-digit status as stdout's first line (000: no reply)
      --ok CODES               statuses that also succeed, e.g. --ok 404,409
      --cacert FILE            trust only the PEM certificates in FILE (else SSL_CERT_FILE, else Mozilla's roots)
      --connect-timeout S      seconds to connect, TLS included (default 10)
      --max-time S             seconds for the whole call, retries included (default 60)
      --max-size BYTES         largest response body (default 1048576)
      --retry N                retry connect errors, timeouts, 429 and 503 N times (default 0);
                               GET HEAD PUT DELETE only, unless --retry-post (POST too)
                               or --retry-any (POST and PATCH too)
      --location               follow redirects to the same scheme, host and port (at most 5)
{{NAME}} in the URL, header values, --data/--json text and --form values is
replaced by the environment variable NAME (unset or empty: usage error).
Exit status: 0 2xx or an --ok status; 1 another status (the body is still
written); 2 usage error; 3 no usable reply (DNS, connect, TLS, timeout, too
large, redirect refused).";

/// Why the call failed; each kind is one exit status.
enum Failure {
    /// Exit 2: nothing was sent.
    Usage(String),
    /// Exit 3: no usable reply. The status of the last reply, if any.
    Transport(String, Option<u16>),
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
}

enum BodySource {
    Text(String),
    File(String),
    Stdin,
}

struct Args {
    method: Method,
    url: String,
    headers: Vec<String>,
    body: Option<BodySource>,
    json: bool,
    form: Vec<String>,
    output: Option<String>,
    status: bool,
    ok: Vec<u16>,
    cacert: Option<String>,
    connect_timeout: Duration,
    max_time: Duration,
    max_size: usize,
    retries: u32,
    scope: RetryScope,
    location: bool,
}

fn seconds(flag: &str, v: &str) -> Result<Duration, Failure> {
    v.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| usage(format!("{flag} `{v}` is not a number of seconds greater than 0")))
}

fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, Failure> {
    use lexopt::Arg::{Long, Short, Value};
    let mut p = lexopt::Parser::from_args(args);
    let mut positional = Vec::new();
    let mut headers = Vec::new();
    let mut body = None;
    let mut json = false;
    let mut form = Vec::new();
    let mut output = None;
    let mut status = false;
    let mut ok = Vec::new();
    let mut cacert = None;
    let mut connect_timeout = Duration::from_secs(10);
    let mut max_time = Duration::from_secs(60);
    let mut max_size = 1 << 20;
    let mut retries = 0;
    let mut scope = RetryScope::Idempotent;
    let mut location = false;
    let bad = |e: lexopt::Error| usage(format!("{e}\n{USAGE}"));
    while let Some(arg) = p.next().map_err(bad)? {
        let flag = match &arg {
            Short(c) => format!("-{c}"),
            Long(l) => format!("--{l}"),
            Value(_) => String::from("an operand"),
        };
        let value = |p: &mut lexopt::Parser| -> Result<String, Failure> {
            input::utf8(p.value().map_err(bad)?, &format!("the value of {flag}")).map_err(usage)
        };
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Short('H') | Long("header") => headers.push(value(&mut p)?),
            Short('d') | Long("data") | Long("json") => {
                if body.is_some() {
                    return Err(usage("give one body: --data or --json, once"));
                }
                json = matches!(arg, Long("json"));
                let v = value(&mut p)?;
                body = Some(match v.strip_prefix('@') {
                    Some("-") => BodySource::Stdin,
                    Some(file) => BodySource::File(String::from(file)),
                    None => BodySource::Text(v),
                });
            }
            Long("form") => form.push(value(&mut p)?),
            Short('o') | Long("output") => output = Some(value(&mut p)?),
            Long("status") => status = true,
            Long("ok") => ok.extend(http_rules::parse_ok_list(&value(&mut p)?).map_err(usage)?),
            Long("cacert") => cacert = Some(value(&mut p)?),
            Long("connect-timeout") => connect_timeout = seconds(&flag, &value(&mut p)?)?,
            Long("max-time") => max_time = seconds(&flag, &value(&mut p)?)?,
            Long("max-size") => {
                let v = value(&mut p)?;
                max_size = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| usage(format!("--max-size `{v}` is not a number of bytes greater than 0")))?;
            }
            Long("retry") => {
                let v = value(&mut p)?;
                retries = v
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 100)
                    .ok_or_else(|| usage(format!("--retry `{v}` is not a count from 0 to 100")))?;
            }
            Long("retry-post") => scope = scope.max_with(RetryScope::AlsoPost),
            Long("retry-any") => scope = RetryScope::Any,
            Long("location") | Short('L') => location = true,
            Value(v) => positional.push(input::utf8(v, "an operand").map_err(usage)?),
            other => return Err(usage(format!("{}\n{USAGE}", other.unexpected()))),
        }
    }
    let [method, url] = <[String; 2]>::try_from(positional).map_err(|_| {
        usage(format!(
            "give a METHOD and a URL, e.g. `credhook http GET https://api.example.com/`\n{USAGE}"
        ))
    })?;
    let method = Method::parse(&method).ok_or_else(|| {
        usage(format!(
            "`{method}` is not a method; use GET, POST, PUT, PATCH, DELETE or HEAD"
        ))
    })?;
    if !form.is_empty() && body.is_some() {
        return Err(usage("give one body: --form, --data or --json"));
    }
    Ok(Some(Args {
        method,
        url,
        headers,
        body,
        json,
        form,
        output,
        status,
        ok,
        cacert,
        connect_timeout,
        max_time,
        max_size,
        retries,
        scope,
        location,
    }))
}

trait MaxWith {
    fn max_with(self, other: Self) -> Self;
}

impl MaxWith for RetryScope {
    /// `--retry-any --retry-post` still allows PATCH.
    fn max_with(self, other: RetryScope) -> RetryScope {
        if self == RetryScope::Any { self } else { other }
    }
}

/// `host/path` of a URL as the user wrote it (before expansion), without
/// the query: what error messages name.
fn place(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    String::from(&rest[..end])
}

/// What is sent, once expanded.
struct Prepared {
    url: Secret,
    headers: Vec<(String, Secret)>,
    body: Option<Zeroizing<Vec<u8>>>,
}

fn has_header(headers: &[(String, Secret)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn prepare(a: &Args, env: &Env) -> Result<Prepared, Failure> {
    let lookup = input::lookup(env);
    let expand = |what: &str, text: &str| expand::expand(text, lookup).map_err(|e| usage(format!("{what}: {e}")));
    let url = expand("the URL", &a.url)?;
    match url::parse(url.expose()) {
        Ok(_) => {}
        // Messages name the URL as written, never the expanded one.
        Err(UrlError::Malformed(_)) => {
            return Err(usage(format!(
                "`{}` is not an absolute https:// URL with a host",
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
    let mut headers = Vec::new();
    for h in &a.headers {
        // Neither message quotes the argument: a mistyped header may hold a secret.
        let (name, value) = h.split_once(':').ok_or_else(|| {
            usage("a -H value has no `:`; write 'Name: value' (e.g. 'Authorization: Bearer {{TOKEN}}')")
        })?;
        let name = name.trim();
        if !is_token(name) {
            return Err(usage(
                "a -H name is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~, before the `:`)",
            ));
        }
        let value = expand(&format!("header {name}"), value.trim_start_matches([' ', '\t']))?;
        if value.expose().bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(usage(format!(
                "header {name}: its value holds a line break or NUL once expanded; a header value is one line"
            )));
        }
        headers.push((String::from(name), value));
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
    Ok(Prepared { url, headers, body })
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
    Transport(String),
    TooLarge(u16),
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
    let url = p.url.expose();
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
    let mut response = result.map_err(|e| AttemptError::Transport(describe(&e, a)))?;
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
    let reader = response.body_mut().with_config().limit(a.max_size as u64 + 1).reader();
    let body = match input::read_capped(reader, a.max_size) {
        Ok(b) => b,
        Err(ReadError::TooLarge(_)) => return Err(AttemptError::TooLarge(status)),
        Err(ReadError::Io(e)) => {
            let inner = e.into_inner().and_then(|i| i.downcast::<ureq::Error>().ok());
            return Err(match inner.as_deref() {
                Some(ureq::Error::BodyExceedsLimit(_)) => AttemptError::TooLarge(status),
                Some(other) => AttemptError::Transport(describe(other, a)),
                None => AttemptError::Transport(String::from("the connection broke while reading the reply")),
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
    let deadline = Instant::now() + a.max_time;
    let mut method = a.method;
    let mut send_body = true;
    let mut attempt_no = 0u32;
    let mut redirects = 0u32;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(Failure::Transport(
                format!("no complete reply within {} s (--max-time)", a.max_time.as_secs_f64()),
                None,
            ));
        }
        let result = attempt(&agent, a, method, &p, send_body, remaining);
        let (outcome, retry_after) = match &result {
            Ok(r) => (Outcome::Status(r.status), r.retry_after),
            Err(AttemptError::TooLarge(status)) => {
                return Err(Failure::Transport(
                    format!("the reply body is larger than {} bytes (--max-size)", a.max_size),
                    Some(*status),
                ));
            }
            Err(AttemptError::Transport(_)) => (Outcome::Transport, None),
        };
        if let Ok(r) = &result
            && http_rules::is_redirect(r.status)
            && !a.ok.contains(&r.status)
        {
            match http_rules::follow(p.url.expose(), r.location.as_deref(), a.location, redirects) {
                Ok(target) => {
                    let next = http_rules::method_after_redirect(r.status, method);
                    send_body &= next == method;
                    method = next;
                    *log_place = format!("{} (redirected)", place(&target));
                    p.url = Secret::new(target);
                    redirects += 1;
                    continue;
                }
                Err(e) => return Err(Failure::Transport(e.to_string(), Some(r.status))),
            }
        }
        let wait = http_rules::next_retry(method, a.scope, a.retries, attempt_no, outcome, retry_after, random())
            .map(Duration::from_millis)
            .filter(|w| *w < deadline.saturating_duration_since(Instant::now()));
        match (wait, result) {
            (Some(w), result) => {
                let what = match &result {
                    Ok(r) => format!("HTTP {}", r.status),
                    Err(AttemptError::Transport(e)) => e.clone(),
                    Err(AttemptError::TooLarge(_)) => String::new(),
                };
                std::eprintln!(
                    "credhook http: {} {log_place}: {what}; retry {} of {} in {:.1} s",
                    method.as_str(),
                    attempt_no + 1,
                    a.retries,
                    w.as_secs_f64()
                );
                std::thread::sleep(w);
                attempt_no += 1;
            }
            (None, Ok(r)) => return Ok(r),
            (None, Err(AttemptError::Transport(e))) => return Err(Failure::Transport(e, None)),
            (None, Err(AttemptError::TooLarge(s))) => {
                return Err(Failure::Transport(String::from("reply too large"), Some(s)));
            }
        }
    }
}

/// Writes `bytes` to FILE (created 0600: it may hold a secret) or stdout.
fn deliver(a: &Args, status: Option<u16>, body: &[u8]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    if a.status {
        let line = format!("{:03}\n", status.unwrap_or(0));
        stdout
            .write_all(line.as_bytes())
            .map_err(|e| format!("stdout cannot be written: {e}"))?;
    }
    match &a.output {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| format!("--output `{path}` cannot be written: {e}"))?;
            f.write_all(body)
                .map_err(|e| format!("--output `{path}` cannot be written: {e}"))?;
        }
        None => stdout
            .write_all(body)
            .map_err(|e| format!("stdout cannot be written: {e}"))?,
    }
    stdout.flush().map_err(|e| format!("stdout cannot be written: {e}"))
}

pub fn main(args: Vec<OsString>) -> u8 {
    // Headers and replies hold secrets: no core file, no ptrace by others.
    if let Err(e) = crate::driver::signals::harden() {
        std::eprintln!("credhook http: warning: could not turn off core dumps: {e}");
    }
    let a = match parse_args(args) {
        Ok(Some(a)) => a,
        Ok(None) => {
            std::println!("{USAGE}");
            return 0;
        }
        Err(Failure::Usage(m) | Failure::Transport(m, _)) => {
            std::eprintln!("credhook http: {m}");
            return 2;
        }
    };
    let env = Env::from_process();
    let mut log_place = place(&a.url);
    let m = a.method.as_str();
    match call(&a, &env, &mut log_place) {
        Ok(reply) => {
            let code = http_rules::exit_for_status(reply.status, &a.ok);
            if let Err(e) = deliver(&a, Some(reply.status), &reply.body) {
                std::eprintln!("credhook http: {m} {log_place}: {e}");
                return 3;
            }
            if code != 0 {
                std::eprintln!("credhook http: {m} {log_place}: HTTP {}", reply.status);
            }
            code
        }
        Err(Failure::Usage(e)) => {
            std::eprintln!("credhook http: {m} {log_place}: {e}");
            if a.status {
                let _ = deliver(&a, None, &[]);
            }
            2
        }
        Err(Failure::Transport(e, status)) => {
            std::eprintln!("credhook http: {m} {log_place}: {e}");
            if a.status {
                let _ = std::io::stdout().write_all(format!("{:03}\n", status.unwrap_or(0)).as_bytes());
            }
            3
        }
    }
}
