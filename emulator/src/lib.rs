//! A local stand-in for IBM Cloud IAM and a Secrets Manager instance, for
//! trying credhook hooks and for credhook's tests. Loopback only.
//!
//! It serves `POST /identity/token` (API key and cr-token grants),
//! `GET /api/v2/secrets/{id}` from seeded secrets, and
//! `PUT /api/v2/secrets/{id}/tasks/{task}`, which checks the bearer token and
//! the body's exact shape and records it. Faults can be scripted per endpoint
//! (one per request), an endpoint can be down for a time ([`Outage`]), and
//! Secrets Manager requests can be rate-limited ([`Options::rate_limit`]).
//! `GET /emulator/updates` returns what was recorded. Every request is
//! recorded with its answer ([`Call`], and `requests.jsonl`).
//!
//! Every secret it serves carries a `secret_group_id` (`default` unless the
//! seeded JSON names one). A secret for which it accepted a
//! `credentials_created` update is served as a `custom_credentials` secret
//! whose `credentials_content` is the payload of the last one and whose
//! `versions_total` counts them (what a provider reading its previous
//! version sees).
//!
//! It is not a faithful Secrets Manager: no IAM policies (every token may
//! read every group), no version history beyond the last. It checks what
//! credhook sends, nothing more.

pub mod client;
mod http;
mod limits;
mod record;
mod shape;
pub mod tls;
pub mod vendors;

use miniserde::json::{self, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub use limits::{DOWN_ENDPOINTS, DownReply, Outage};
pub use shape::check_task_body;

use limits::{RateLimit, Window};
use record::Record;

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Token,
    Secret,
    Task,
}

impl Endpoint {
    /// The name in records and flags: `token`, `secret`, `task`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::Secret => "secret",
            Endpoint::Task => "task",
        }
    }

    /// Whether Secrets Manager serves it (IAM is a separate service).
    pub fn is_secrets_manager(self) -> bool {
        matches!(self, Endpoint::Secret | Endpoint::Task)
    }

    pub fn parse(s: &str) -> Option<Endpoint> {
        match s {
            "token" | "iam" => Some(Endpoint::Token),
            "secret" | "secrets" => Some(Endpoint::Secret),
            "task" | "tasks" => Some(Endpoint::Task),
            _ => None,
        }
    }
}

/// A scripted misbehaviour, used for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Reply with this status and a JSON error body.
    Status(u16),
    /// Reply with this status and `Retry-After: <seconds>`.
    RetryAfter(u16, u64),
    /// Close the connection without a reply (the request is not acted on).
    Reset,
    /// Act on the request (a task update is recorded), then close the
    /// connection without a reply: the reply is lost.
    Lost,
    /// Reply with this redirect status and this `Location`.
    Redirect(u16, String),
    /// Say nothing for this long, then close.
    Stall(Duration),
    /// A 200 with this JSON body, sent as is.
    Body(String),
    /// A 200 whose body is 2 MiB.
    Oversized,
    /// A 200 whose body is not JSON.
    Malformed,
    /// A 200 that announces more body than it sends, then closes.
    Truncated,
    /// A 200 with `text/html`.
    Html,
}

impl Fault {
    /// `500`, `429@2` (Retry-After 2 s), `reset`, `lost`, `stall:5`,
    /// `redirect:302` (to `https://elsewhere.example/moved`), `oversized`,
    /// `malformed`, `truncated`, `html`.
    pub fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "reset" => Fault::Reset,
            "lost" => Fault::Lost,
            "oversized" => Fault::Oversized,
            "malformed" => Fault::Malformed,
            "truncated" => Fault::Truncated,
            "html" => Fault::Html,
            _ => {
                if let Some(status) = s.strip_prefix("redirect:") {
                    Fault::Redirect(status.parse().ok()?, String::from(DEFAULT_LOCATION))
                } else if let Some(secs) = s.strip_prefix("stall:") {
                    Fault::Stall(Duration::from_secs_f64(secs.parse().ok()?))
                } else if let Some((status, ra)) = s.split_once('@') {
                    Fault::RetryAfter(status.parse().ok()?, ra.parse().ok()?)
                } else {
                    Fault::Status(s.parse().ok()?)
                }
            }
        })
    }
}

impl Fault {
    /// The status it answers; `None` when it closes without a reply.
    fn status(&self) -> Option<u16> {
        match self {
            Fault::Status(code) | Fault::RetryAfter(code, _) | Fault::Redirect(code, _) => Some(*code),
            Fault::Reset | Fault::Lost | Fault::Stall(_) => None,
            Fault::Body(_) | Fault::Oversized | Fault::Malformed | Fault::Truncated | Fault::Html => Some(200),
        }
    }
}

/// Where a scripted redirect points unless told otherwise.
pub const DEFAULT_LOCATION: &str = "https://elsewhere.example/moved?from=emulator";

/// A task update the emulator accepted.
#[derive(Debug, Clone)]
pub struct Update {
    pub secret_id: String,
    pub task_id: String,
    /// The body exactly as received.
    pub body: String,
}

impl Update {
    /// The parsed body.
    pub fn json(&self) -> Value {
        json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// `status` of the body.
    pub fn status(&self) -> String {
        match self.json() {
            Value::Object(o) => match o.get("status") {
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    /// `errors[0].code` and `.description` of a failed update.
    pub fn error(&self) -> Option<(String, String)> {
        let Value::Object(o) = self.json() else {
            return None;
        };
        let Some(Value::Array(errors)) = o.get("errors") else {
            return None;
        };
        let Some(Value::Object(e)) = errors.first() else {
            return None;
        };
        match (e.get("code"), e.get("description")) {
            (Some(Value::String(c)), Some(Value::String(d))) => Some((c.clone(), d.clone())),
            _ => None,
        }
    }
}

/// Who answered a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Not answered yet (the request is being served, or stalls).
    Pending,
    /// The emulated service.
    Served,
    /// A scripted fault ([`Emulator::fault`]).
    Fault,
    /// An outage window ([`Outage`]).
    Down,
    /// The rate limit (a 429 with `Retry-After`).
    RateLimited,
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Pending => "pending",
            Answer::Served => "served",
            Answer::Fault => "fault",
            Answer::Down => "down",
            Answer::RateLimited => "rate_limit",
        }
    }
}

/// One request as it arrived, for tests that check retries and timing.
#[derive(Debug, Clone)]
pub struct Call {
    /// `None` for a path that is not IAM's or Secrets Manager's (a 404, or
    /// the emulator's own `GET /emulator/updates`).
    pub endpoint: Option<Endpoint>,
    pub method: String,
    pub path: String,
    pub at: Instant,
    /// For token requests: `grant_type` and `profile_id`/`profile_name` (never the key).
    pub form: Vec<(String, String)>,
    /// The status answered; `None` when the connection was closed without
    /// a reply (or before the answer is known).
    pub status: Option<u16>,
    pub answer: Answer,
}

pub struct Options {
    pub tls: bool,
    /// 0 picks a free port.
    pub port: u16,
    /// Where `ca.pem` and the record file go.
    pub dir: PathBuf,
    /// API keys IAM accepts.
    pub api_keys: Vec<String>,
    /// Compute resource tokens IAM accepts for the cr-token grant.
    pub cr_tokens: Vec<String>,
    /// `expires_in` of issued tokens.
    pub token_ttl: u64,
    /// Append each accepted update as a JSON line here.
    pub record_file: Option<PathBuf>,
    /// Append each request and its answer as a JSON line here.
    pub request_file: Option<PathBuf>,
    /// Outage windows (`--down`).
    pub outages: Vec<Outage>,
    /// Serve at most this many Secrets Manager requests (secret reads and
    /// task updates; not IAM) in any one second; the others get a 429 with
    /// `Retry-After` (`--rate-limit`).
    pub rate_limit: Option<usize>,
}

impl Options {
    pub fn new(dir: impl Into<PathBuf>) -> Options {
        Options {
            tls: true,
            port: 0,
            dir: dir.into(),
            api_keys: vec![String::from("emulator-api-key")],
            cr_tokens: Vec::new(),
            token_ttl: 3600,
            record_file: None,
            request_file: None,
            outages: Vec::new(),
            rate_limit: None,
        }
    }
}

/// What the emulator keeps of a secret's versions.
#[derive(Debug, Clone, Default)]
struct Versions {
    total: u64,
    /// The last accepted `credentials.payload`, as JSON.
    payload: String,
    /// Its `credentials.id`.
    credentials_id: String,
}

#[derive(Default)]
struct State {
    secrets: HashMap<String, String>,
    versions: HashMap<String, Versions>,
    faults: HashMap<Endpoint, VecDeque<Fault>>,
    updates: Vec<Update>,
    calls: Vec<Call>,
    tokens: HashSet<String>,
    outages: Vec<Window>,
    rate_limit: Option<RateLimit>,
}

struct Shared {
    state: Mutex<State>,
    api_keys: Vec<String>,
    cr_tokens: Vec<String>,
    token_ttl: u64,
    record_file: Option<Record>,
    request_file: Option<Record>,
    started: Instant,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking connection thread must not take the emulator down.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running emulator; stops accepting when dropped.
pub struct Emulator {
    addr: SocketAddr,
    tls: bool,
    ca_file: Option<PathBuf>,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl Emulator {
    pub fn start(opts: Options) -> io::Result<Emulator> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port))?;
        let addr = listener.local_addr()?;
        let (tls_config, ca_file) = if opts.tls {
            let pki = tls::generate()?;
            std::fs::create_dir_all(&opts.dir)?;
            let path = opts.dir.join("ca.pem");
            std::fs::write(&path, &pki.ca_pem)?;
            (Some(pki.config), Some(path))
        } else {
            (None, None)
        };
        let open = |p: Option<PathBuf>| p.map(|p| Record::open(&p)).transpose();
        let state = State {
            outages: opts
                .outages
                .into_iter()
                .map(|outage| Window { outage, opened: None })
                .collect(),
            rate_limit: opts.rate_limit.map(RateLimit::new),
            ..State::default()
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            api_keys: opts.api_keys,
            cr_tokens: opts.cr_tokens,
            token_ttl: opts.token_ttl,
            record_file: open(opts.record_file)?,
            request_file: open(opts.request_file)?,
            started: Instant::now(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, st) = (shared.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let sh = sh.clone();
                let tls = tls_config.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_nodelay(true);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
                    match tls {
                        Some(cfg) => {
                            let Ok(server) = rustls::ServerConnection::new(cfg) else {
                                return;
                            };
                            serve(rustls::StreamOwned::new(server, conn), &sh);
                        }
                        None => serve(conn, &sh),
                    }
                });
            }
        });
        Ok(Emulator {
            addr,
            tls: opts.tls,
            ca_file,
            shared,
            stop,
        })
    }

    /// `https://127.0.0.1:<port>` (or `http://`).
    pub fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}",
            if self.tls { "https" } else { "http" },
            self.addr.port()
        )
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The throwaway CA to trust (`CREDHOOK_CA_FILE`), when serving HTTPS.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_file.as_deref()
    }

    /// Serves `raw` (a secret resource as JSON, sent byte for byte) at `GET
    /// /api/v2/secrets/{id}`, with `"secret_group_id":"default"` put first
    /// when it names no group.
    pub fn add_secret(&self, id: &str, raw: &str) {
        self.shared.lock().secrets.insert(id.to_string(), with_group(raw));
    }

    /// How many `credentials_created` updates were accepted for `secret_id`
    /// (its `versions_total`).
    pub fn versions_total(&self, secret_id: &str) -> u64 {
        self.shared.lock().versions.get(secret_id).map_or(0, |v| v.total)
    }

    /// Queues a fault for the next request to `endpoint` that has none queued before it.
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        self.shared.lock().faults.entry(endpoint).or_default().push_back(fault);
    }

    /// The task updates accepted so far.
    pub fn updates(&self) -> Vec<Update> {
        self.shared.lock().updates.clone()
    }

    /// Every request so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// Every access token issued so far (tests check none reaches a log).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.lock().tokens.iter().cloned().collect()
    }

    pub fn calls_to(&self, endpoint: Endpoint) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.endpoint == Some(endpoint))
            .collect()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve<S: Read + Write>(mut s: S, sh: &Shared) {
    let mut buf = Vec::new();
    while let Ok(Some(req)) = http::read_request(&mut s, &mut buf) {
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        match handle(&mut s, sh, req) {
            Ok(true) if !close => continue,
            _ => return,
        }
    }
}

type Reply = (u16, &'static str, Vec<(&'static str, String)>, Vec<u8>);

fn json_reply(status: u16, body: String) -> Reply {
    (status, "application/json", Vec::new(), body.into_bytes())
}

fn error_reply(status: u16, message: &str) -> Reply {
    json_reply(
        status,
        format!(
            r#"{{"errors":[{{"code":"{}","message":{}}}],"status_code":{status}}}"#,
            http::reason(status).to_ascii_lowercase().replace(' ', "_"),
            json::to_string(&message.to_string())
        ),
    )
}

/// What answers a request instead of the service, decided under one lock.
enum Block {
    Fault(Fault),
    Down(DownReply),
    /// A 429 with this `Retry-After`.
    RateLimited(u64),
}

impl State {
    /// A scripted fault first, then an outage, then the rate limit (which
    /// counts only what gets through to the service).
    fn block(&mut self, endpoint: Endpoint, now: Instant) -> Option<Block> {
        // Every window that covers the endpoint opens at its first request,
        // whatever answers that request.
        let mut down = None;
        for w in &mut self.outages {
            if let Some(reply) = w.down_at(endpoint, now) {
                down.get_or_insert(reply);
            }
        }
        if let Some(fault) = self.faults.get_mut(&endpoint).and_then(VecDeque::pop_front) {
            return Some(Block::Fault(fault));
        }
        if let Some(reply) = down {
            return Some(Block::Down(reply));
        }
        if endpoint.is_secrets_manager() {
            let limit = self.rate_limit.as_mut()?;
            return limit.admit(now).map(Block::RateLimited);
        }
        None
    }
}

impl Shared {
    /// Notes how call `index` was answered, in memory and in `requests.jsonl`.
    fn answered(&self, index: usize, status: Option<u16>, answer: Answer) {
        let line = {
            let mut st = self.lock();
            let Some(call) = st.calls.get_mut(index) else {
                return;
            };
            call.status = status;
            call.answer = answer;
            self.request_file.as_ref().map(|_| request_line(call, self.started))
        };
        if let (Some(file), Some(line)) = (&self.request_file, line) {
            file.append(&line);
        }
    }
}

/// Records the answer to call `index`, then sends it.
fn send<S: Write>(s: &mut S, sh: &Shared, index: usize, answer: Answer, reply: Reply) -> io::Result<bool> {
    let (status, ctype, headers, body) = reply;
    sh.answered(index, Some(status), answer);
    http::write_response(s, status, ctype, &headers, &body, None)?;
    Ok(true)
}

/// Handles one request; `Ok(false)` closes the connection.
fn handle<S: Write>(s: &mut S, sh: &Shared, req: http::Request) -> io::Result<bool> {
    let route = route(&req);
    let endpoint = route.as_ref().and_then(Route::endpoint);
    let form = if endpoint == Some(Endpoint::Token) {
        public_form(&req.body)
    } else {
        Vec::new()
    };
    let now = Instant::now();
    let (index, block) = {
        let mut st = sh.lock();
        st.calls.push(Call {
            endpoint,
            method: req.method.clone(),
            path: req.path.clone(),
            at: now,
            form,
            status: None,
            answer: Answer::Pending,
        });
        let index = st.calls.len() - 1;
        (index, endpoint.and_then(|e| st.block(e, now)))
    };
    match block {
        Some(Block::Fault(fault)) => {
            // A 200 with an odd body means the server did the work: a task update
            // is checked and recorded before the odd reply goes out.
            let processed = matches!(
                fault,
                Fault::Oversized | Fault::Malformed | Fault::Truncated | Fault::Html | Fault::Lost
            );
            if let (true, Some(Route::Task(secret_id, task_id))) = (processed, &route)
                && authorized(sh, &req).is_ok()
            {
                task_update(sh, &req, secret_id.clone(), task_id.clone());
            }
            sh.answered(index, fault.status(), Answer::Fault);
            return apply_fault(s, fault);
        }
        Some(Block::Down(DownReply::Reset)) => {
            sh.answered(index, None, Answer::Down);
            return Ok(false);
        }
        Some(Block::Down(DownReply::Status(code))) => {
            let mut reply = error_reply(code, "emulated outage (--down): the endpoint is down; try again later");
            if code == 429 {
                reply.2.push(("Retry-After", String::from("1")));
            }
            return send(s, sh, index, Answer::Down, reply);
        }
        Some(Block::RateLimited(secs)) => {
            let mut reply = error_reply(
                429,
                "emulated rate limit (--rate-limit): too many Secrets Manager requests in the last second",
            );
            reply.2.push(("Retry-After", secs.to_string()));
            return send(s, sh, index, Answer::RateLimited, reply);
        }
        None => {}
    }
    let reply = match route {
        None => error_reply(404, &format!("no route for {} {}", req.method, req.path)),
        Some(Route::Token) => token(sh, &req),
        Some(Route::Secret(id)) => match authorized(sh, &req) {
            Err(r) => r,
            Ok(()) => {
                let st = sh.lock();
                match (st.versions.get(&id), st.secrets.get(&id)) {
                    (Some(v), seeded) => json_reply(200, custom_credentials(&id, v, seeded.map(String::as_str))),
                    (None, Some(raw)) => json_reply(200, raw.clone()),
                    (None, None) => error_reply(404, &format!("Secret {id} not found")),
                }
            }
        },
        Some(Route::Task(secret_id, task_id)) => match authorized(sh, &req) {
            Err(r) => r,
            Ok(()) => task_update(sh, &req, secret_id, task_id),
        },
        Some(Route::Updates) => {
            let st = sh.lock();
            let items: Vec<String> = st.updates.iter().map(record_line).collect();
            json_reply(200, format!("[{}]", items.join(",")))
        }
    };
    send(s, sh, index, Answer::Served, reply)
}

fn apply_fault<S: Write>(s: &mut S, fault: Fault) -> io::Result<bool> {
    match fault {
        Fault::Status(code) => {
            let (st, ct, h, b) = error_reply(code, "scripted fault");
            http::write_response(s, st, ct, &h, &b, None)?;
            Ok(true)
        }
        Fault::RetryAfter(code, secs) => {
            let (st, ct, _, b) = error_reply(code, "scripted fault");
            http::write_response(s, st, ct, &[("Retry-After", secs.to_string())], &b, None)?;
            Ok(true)
        }
        Fault::Reset | Fault::Lost => Ok(false),
        Fault::Body(body) => {
            http::write_response(s, 200, "application/json", &[], body.as_bytes(), None)?;
            Ok(true)
        }
        Fault::Redirect(code, location) => {
            let (st, ct, _, b) = error_reply(code, "moved");
            http::write_response(s, st, ct, &[("Location", location)], &b, None)?;
            Ok(true)
        }
        Fault::Stall(d) => {
            std::thread::sleep(d);
            Ok(false)
        }
        Fault::Oversized => {
            let mut body = b"{\"pad\":\"".to_vec();
            body.resize(2 * 1024 * 1024, b'x');
            body.extend_from_slice(b"\"}");
            let _ = http::write_response(s, 200, "application/json", &[], &body, None);
            Ok(false)
        }
        Fault::Malformed => {
            http::write_response(s, 200, "application/json", &[], b"{\"access_token\": \"abc", None)?;
            Ok(true)
        }
        Fault::Truncated => {
            http::write_response(s, 200, "application/json", &[], b"{\"access_tok", Some(400))?;
            Ok(false)
        }
        Fault::Html => {
            http::write_response(
                s,
                200,
                "text/html",
                &[],
                b"<html><body>Service Unavailable</body></html>",
                None,
            )?;
            Ok(true)
        }
    }
}

enum Route {
    Token,
    Secret(String),
    Task(String, String),
    Updates,
}

impl Route {
    /// The emulator's own `GET /emulator/updates` is none of IBM's: no
    /// fault, outage or rate limit applies to it.
    fn endpoint(&self) -> Option<Endpoint> {
        match self {
            Route::Token => Some(Endpoint::Token),
            Route::Secret(_) => Some(Endpoint::Secret),
            Route::Task(..) => Some(Endpoint::Task),
            Route::Updates => None,
        }
    }
}

fn route(req: &http::Request) -> Option<Route> {
    let path = req.path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
        ("POST", ["identity", "token"]) => Some(Route::Token),
        ("GET", ["api", "v2", "secrets", id]) => Some(Route::Secret(id.to_string())),
        ("PUT", ["api", "v2", "secrets", id, "tasks", task]) => Some(Route::Task(id.to_string(), task.to_string())),
        ("GET", ["emulator", "updates"]) => Some(Route::Updates),
        _ => None,
    }
}

fn authorized(sh: &Shared, req: &http::Request) -> Result<(), Reply> {
    let token = req.header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    match token {
        Some(t) if sh.lock().tokens.contains(t) => Ok(()),
        Some(_) => Err(error_reply(401, "The bearer token is not one this IAM issued")),
        None => Err(error_reply(401, "No Authorization: Bearer header")),
    }
}

fn iam_error(code: &str, message: &str) -> Reply {
    json_reply(
        400,
        format!(
            r#"{{"errorCode":"{code}","errorMessage":{},"context":{{"requestId":"emulator"}}}}"#,
            json::to_string(&message.to_string())
        ),
    )
}

fn token(sh: &Shared, req: &http::Request) -> Reply {
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
    {
        return iam_error("BXNIM0109E", "Content-Type must be application/x-www-form-urlencoded");
    }
    let form = parse_form(&req.body);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    match get("grant_type") {
        Some("urn:ibm:params:oauth:grant-type:apikey") => match get("apikey") {
            Some(k) if sh.api_keys.iter().any(|a| a == k) => issue(sh),
            _ => iam_error("BXNIM0415E", "Provided API key could not be found."),
        },
        Some("urn:ibm:params:oauth:grant-type:cr-token") => {
            if get("profile_id").is_none() && get("profile_name").is_none() {
                return iam_error("BXNIM0109E", "Either profile_id or profile_name must be given.");
            }
            match get("cr_token") {
                Some(t) if sh.cr_tokens.iter().any(|a| a == t) => issue(sh),
                _ => iam_error("BXNIM0470E", "The compute resource token could not be verified."),
            }
        }
        _ => iam_error("BXNIM0103E", "Unsupported grant_type."),
    }
}

fn issue(sh: &Shared) -> Reply {
    let token = format!("emu.{:016x}{:016x}", random(), random());
    sh.lock().tokens.insert(token.clone());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json_reply(
        200,
        format!(
            r#"{{"access_token":"{token}","refresh_token":"not_supported","token_type":"Bearer","expires_in":{},"expiration":{},"scope":"ibm openid"}}"#,
            sh.token_ttl,
            now + sh.token_ttl
        ),
    )
}

fn task_update(sh: &Shared, req: &http::Request, secret_id: String, task_id: String) -> Reply {
    if !req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return error_reply(400, "Content-Type must be application/json");
    }
    let Ok(body) = String::from_utf8(req.body.clone()) else {
        return error_reply(400, "the body is not UTF-8");
    };
    if let Err(why) = check_task_body(&body) {
        return error_reply(400, &why);
    }
    let update = Update {
        secret_id,
        task_id,
        body,
    };
    if let Some(file) = &sh.record_file {
        file.append(&record_line(&update));
    }
    let reply = format!(
        r#"{{"id":{},"status":{},"updated_at":"now"}}"#,
        json::to_string(&update.task_id),
        json::to_string(&update.status())
    );
    let version = new_version(&update);
    let mut st = sh.lock();
    if let Some((payload, credentials_id)) = version {
        let v = st.versions.entry(update.secret_id.clone()).or_default();
        v.total += 1;
        v.payload = payload;
        v.credentials_id = credentials_id;
    }
    st.updates.push(update);
    json_reply(200, reply)
}

/// A line of `requests.jsonl`: when (ms since the emulator started), which
/// endpoint (`null` for none of IBM's), method, path, the status answered
/// (`null`: closed without a reply) and who answered.
fn request_line(c: &Call, started: Instant) -> String {
    format!(
        r#"{{"at_ms":{},"endpoint":{},"method":{},"path":{},"status":{},"answer":"{}"}}"#,
        c.at.saturating_duration_since(started).as_millis(),
        c.endpoint
            .map_or(String::from("null"), |e| format!("\"{}\"", e.as_str())),
        json::to_string(&c.method),
        json::to_string(&c.path),
        c.status.map_or(String::from("null"), |s| s.to_string()),
        c.answer.as_str()
    )
}

/// The payload (as JSON) and credentials id of a `credentials_created` update.
fn new_version(u: &Update) -> Option<(String, String)> {
    let Value::Object(body) = u.json() else { return None };
    if !matches!(body.get("status"), Some(Value::String(s)) if s == "credentials_created") {
        return None;
    }
    let Some(Value::Object(creds)) = body.get("credentials") else {
        return None;
    };
    let payload = creds.get("payload").map(json::to_string)?;
    let id = match creds.get("id") {
        Some(Value::String(id)) => id.clone(),
        _ => String::new(),
    };
    Some((payload, id))
}

/// A string member of a JSON object text.
fn member(raw: &str, key: &str) -> Option<String> {
    match json::from_str::<Value>(raw) {
        Ok(Value::Object(o)) => match o.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `raw` with `"secret_group_id":"default"` first when it has no such member.
fn with_group(raw: &str) -> String {
    let Ok(Value::Object(o)) = json::from_str::<Value>(raw) else {
        return raw.to_string();
    };
    if o.contains_key("secret_group_id") {
        return raw.to_string();
    }
    match raw.trim_start().strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => r#"{"secret_group_id":"default"}"#.to_string(),
        Some(rest) => format!(r#"{{"secret_group_id":"default",{rest}"#),
        None => raw.to_string(),
    }
}

/// A custom credentials secret as `GET /api/v2/secrets/{id}` shows it after
/// `versions.total` accepted creates; the seeded secret's name and group
/// are kept.
fn custom_credentials(id: &str, v: &Versions, seeded: Option<&str>) -> String {
    let group = seeded
        .and_then(|r| member(r, "secret_group_id"))
        .unwrap_or_else(|| "default".into());
    let name = seeded
        .and_then(|r| member(r, "name"))
        .unwrap_or_else(|| "emulated-secret".into());
    format!(
        r#"{{"id":{},"name":{},"secret_type":"custom_credentials","secret_group_id":{},"state":1,"state_description":"active","versions_total":{},"credentials_id":{},"credentials_content":{}}}"#,
        json::to_string(&id.to_string()),
        json::to_string(&name),
        json::to_string(&group),
        v.total,
        json::to_string(&v.credentials_id),
        v.payload
    )
}

fn record_line(u: &Update) -> String {
    format!(
        r#"{{"secret_id":{},"task_id":{},"body":{}}}"#,
        json::to_string(&u.secret_id),
        json::to_string(&u.task_id),
        u.body
    )
}

fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

/// The form fields that are not secret, for [`Call::form`].
fn public_form(body: &[u8]) -> Vec<(String, String)> {
    parse_form(body)
        .into_iter()
        .filter(|(k, _)| matches!(k.as_str(), "grant_type" | "profile_id" | "profile_name"))
        .collect()
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn random() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_has_a_group() {
        assert_eq!(
            with_group(r#"{"id":"a","payload":"p"}"#),
            r#"{"secret_group_id":"default","id":"a","payload":"p"}"#
        );
        assert_eq!(with_group("{ }"), r#"{"secret_group_id":"default"}"#);
        let own = r#"{"id":"a","secret_group_id":"g-1"}"#;
        assert_eq!(with_group(own), own);
        assert_eq!(with_group("not json"), "not json");
    }

    #[test]
    fn a_created_update_is_the_next_version() {
        let u = |body: &str| Update {
            secret_id: "s".into(),
            task_id: "t".into(),
            body: body.into(),
        };
        assert_eq!(
            new_version(&u(
                r#"{"status":"credentials_created","credentials":{"id":"c-1","payload":{"b":"2","a":1}}}"#
            )),
            Some((r#"{"a":1,"b":"2"}"#.into(), "c-1".into()))
        );
        assert_eq!(new_version(&u(r#"{"status":"credentials_deleted"}"#)), None);
        let v = Versions {
            total: 2,
            payload: r#"{"token":"x"}"#.into(),
            credentials_id: "c-2".into(),
        };
        let served = custom_credentials("s", &v, Some(r#"{"id":"s","name":"n","secret_group_id":"g"}"#));
        let Ok(Value::Object(o)) = json::from_str::<Value>(&served) else {
            panic!("{served}")
        };
        assert_eq!(member(&served, "secret_group_id").as_deref(), Some("g"));
        assert_eq!(member(&served, "name").as_deref(), Some("n"));
        assert!(matches!(o.get("versions_total"), Some(Value::Number(_))), "{served}");
        assert!(served.ends_with(r#""credentials_content":{"token":"x"}}"#), "{served}");
    }
}
