//! HTTPS fakes of the vendor APIs the example providers call (JFrog access
//! tokens, IBM Cloud IAM API keys, PagerDuty webhook subscriptions, GitLab
//! project access tokens, Slack's refresh-token exchange), for
//! `tests/providers.rs`, `tests/slack.rs` and `scripts/bench.sh`.
//!
//! Each fake checks what the vendor documents — method, path, auth header,
//! content type, body fields and their types — and answers in the vendor's
//! shapes. A request that breaks a rule gets a 400 and is recorded with the
//! reason ([`Received::problem`]), so a test can assert there were none.
//! [`VendorFake::fail_next`] scripts an error reply (401, 403, 404, 409, 429,
//! 5xx) in the vendor's error shape; [`VendorFake::reply_next`] any reply,
//! and [`VendorFake::mangle_next`] a served request whose reply is spoilt. At every request, while its caller is
//! still running, the fake also reads every process's command line: one that
//! holds a secret the fake knows is recorded as a problem too.
//!
//! Not faithful beyond that: no permissions, no pagination, no rate-limit
//! headers except `Retry-After` on a scripted 429.

mod checks;
mod gitlab;
mod iam;
mod jfrog;
mod pagerduty;
mod replies;
mod slack;

pub use slack::{SLACK_CLIENT_ID, SLACK_TEAM_ID};

use crate::{http, tls};
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Which vendor API a fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    /// `POST/DELETE /access/api/v1/tokens`, `Authorization: Bearer <admin token>`.
    Jfrog,
    /// `POST /identity/token` (API key grant), `GET /v1/apikeys/details`,
    /// `POST /v1/apikeys`, `DELETE /v1/apikeys/{id}/lock`, `DELETE /v1/apikeys/{id}`.
    Iam,
    /// `POST/DELETE /webhook_subscriptions`, `Authorization: Token token=<key>`.
    PagerDuty,
    /// `POST/DELETE /api/v4/projects/{id}/access_tokens`, `PRIVATE-TOKEN: <token>`.
    Gitlab,
    /// `POST /api/oauth.v2.access` (a form; the admin credential is the
    /// app's client secret, the client id [`SLACK_CLIENT_ID`]); refresh
    /// tokens are single-use.
    Slack,
}

impl Vendor {
    pub fn parse(s: &str) -> Option<Vendor> {
        match s {
            "jfrog" => Some(Vendor::Jfrog),
            "iam" | "ibm-iam-apikey" => Some(Vendor::Iam),
            "pagerduty" => Some(Vendor::PagerDuty),
            "gitlab" => Some(Vendor::Gitlab),
            "slack" => Some(Vendor::Slack),
            _ => None,
        }
    }
}

/// One request as the fake received it, and what it answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
    /// Why the request broke the vendor's documented rules, if it did.
    pub problem: Option<String>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A credential the fake issued.
#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub secret: String,
    /// JFrog: a token below the revocable threshold without `force_revocable`.
    pub revocable: bool,
    /// IAM: `Entity-Lock: true` at creation, until unlocked.
    pub locked: bool,
    pub deleted: bool,
    /// GitLab: the project the token belongs to.
    pub scope: String,
}

/// A scripted reply, for the next request whose `"METHOD path-part"` matches.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    /// `status` in the vendor's error shape with this message; nothing changes.
    Error(u16, String),
    /// `status` in the vendor's error shape, its message echoing the
    /// request's Authorization header (a careless API's "token … is expired").
    EchoAuth(u16),
    /// Exactly this status, content type and body; nothing changes.
    Raw(u16, &'static str, String),
    /// The request is served (a credential may be made), then its reply is spoilt.
    Mangle(Mangle),
}

/// How [`VendorFake::mangle_next`] spoils a served reply.
#[derive(Debug, Clone)]
pub enum Mangle {
    /// Members whose value is a secret the fake issued are left out.
    WithholdSecret,
    /// Every member with this name becomes `null`.
    NullMember(&'static str),
    /// The status stays; the body becomes this text (`text/html`).
    Body(String),
    /// Every member with this name becomes this string (an id no delete
    /// could use).
    Member(&'static str, String),
}

#[derive(Default)]
pub(crate) struct State {
    pub faults: VecDeque<(String, Fault)>,
    pub received: Vec<Received>,
    pub creds: BTreeMap<String, Credential>,
    /// IAM: bearer tokens issued for the admin API key; Slack: every access
    /// and refresh token issued.
    pub tokens: Vec<String>,
    /// Slack: each refresh token issued, and whether it was exchanged.
    pub refresh: BTreeMap<String, bool>,
    pub next: u64,
}

pub(crate) struct Shared {
    pub vendor: Vendor,
    /// The admin token (JFrog, GitLab), REST API key (PagerDuty) or the API
    /// key IAM exchanges for a token.
    pub admin: String,
    pub state: Mutex<State>,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake; stops accepting when dropped.
pub struct VendorFake {
    addr: SocketAddr,
    ca_file: PathBuf,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
}

impl VendorFake {
    /// Serves `vendor` on 127.0.0.1 (a free port) over HTTPS with a throwaway
    /// CA written to `dir/<vendor>-ca.pem`; `admin` is the credential it accepts.
    pub fn start(vendor: Vendor, dir: &Path, admin: &str) -> io::Result<VendorFake> {
        Self::start_on(vendor, dir, admin, 0)
    }

    /// As [`VendorFake::start`], on `port` (0: any free one).
    pub fn start_on(vendor: Vendor, dir: &Path, admin: &str, port: u16) -> io::Result<VendorFake> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
        let addr = listener.local_addr()?;
        let pki = tls::generate()?;
        std::fs::create_dir_all(dir)?;
        let ca_file = dir.join(format!("{vendor:?}-ca.pem").to_ascii_lowercase());
        std::fs::write(&ca_file, &pki.ca_pem)?;
        let shared = Arc::new(Shared {
            vendor,
            admin: admin.to_string(),
            state: Mutex::new(State::default()),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (sh, st, config) = (shared.clone(), stop.clone(), pki.config);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (sh, config) = (sh.clone(), config.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_nodelay(true);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
                    if let Ok(server) = rustls::ServerConnection::new(config) {
                        serve(rustls::StreamOwned::new(server, conn), &sh);
                    }
                });
            }
        });
        Ok(VendorFake {
            addr,
            ca_file,
            shared,
            stop,
        })
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// The throwaway CA that signed the fake's certificate.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The next `method` request whose path contains `path_part` gets
    /// `status` in the vendor's error shape (a 429 also carries
    /// `Retry-After: 1`) and changes nothing.
    pub fn fail_next(&self, method: &str, path_part: &str, status: u16) {
        self.fail_next_saying(method, path_part, status, "scripted fault");
    }

    /// As [`VendorFake::fail_next`], with `message` as the error's message
    /// (say, one that echoes a credential, as a careless API might).
    pub fn fail_next_saying(&self, method: &str, path_part: &str, status: u16, message: &str) {
        self.script(method, path_part, Fault::Error(status, message.to_string()));
    }

    /// As [`VendorFake::fail_next`], with a message that echoes the request's
    /// `Authorization` header value (say, a bearer token the caller got at run time).
    pub fn fail_next_echoing_auth(&self, method: &str, path_part: &str, status: u16) {
        self.script(method, path_part, Fault::EchoAuth(status));
    }

    /// The next `method` request whose path contains `path_part` gets
    /// exactly `status`, `ctype` and `body`, and changes nothing.
    pub fn reply_next(&self, method: &str, path_part: &str, status: u16, ctype: &'static str, body: &str) {
        self.script(method, path_part, Fault::Raw(status, ctype, body.to_string()));
    }

    /// The next `method` request whose path contains `path_part` is served,
    /// but the new secret is left out of the reply: a 2xx without a
    /// documented field, after the credential was made.
    pub fn withhold_secret_next(&self, method: &str, path_part: &str) {
        self.mangle_next(method, path_part, Mangle::WithholdSecret);
    }

    /// The next `method` request whose path contains `path_part` is served
    /// (the credential is made), and its reply spoilt as `how` says.
    pub fn mangle_next(&self, method: &str, path_part: &str, how: Mangle) {
        self.script(method, path_part, Fault::Mangle(how));
    }

    fn script(&self, method: &str, path_part: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .push_back((format!("{method} {path_part}"), fault));
    }

    /// Slack: a new refresh token, valid for one exchange (the initial one
    /// a test stores in the exchange secret).
    pub fn slack_refresh_token(&self) -> String {
        slack::issue_refresh_token(&self.shared)
    }

    /// Slack: spends `token` as if it had been exchanged elsewhere.
    pub fn slack_spend(&self, token: &str) {
        if let Some(spent) = self.shared.lock().refresh.get_mut(token) {
            *spent = true;
        }
    }

    /// Slack: the refresh tokens issued and not yet exchanged.
    pub fn slack_unspent(&self) -> Vec<String> {
        let st = self.shared.lock();
        st.refresh
            .iter()
            .filter(|(_, spent)| !**spent)
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Every request so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Why requests broke the vendor's rules (empty when none did).
    pub fn problems(&self) -> Vec<String> {
        self.received()
            .into_iter()
            .filter_map(|r| r.problem.map(|p| format!("{} {}: {p}", r.method, r.path)))
            .collect()
    }

    /// Ids of credentials issued and not yet deleted.
    pub fn live(&self) -> Vec<String> {
        let st = self.shared.lock();
        st.creds
            .iter()
            .filter(|(_, c)| !c.deleted)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Every secret the fake knows: the admin credential, the bearer tokens
    /// it issued and every credential it created (tests check none leaked).
    pub fn secrets(&self) -> Vec<String> {
        let st = self.shared.lock();
        let mut all = vec![self.shared.admin.clone()];
        all.extend(st.tokens.iter().cloned());
        all.extend(st.creds.values().map(|c| c.secret.clone()));
        all
    }
}

impl Drop for VendorFake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve<S: Read + Write>(mut s: S, sh: &Shared) {
    let mut buf = Vec::new();
    while let Ok(Some(req)) = http::read_request(&mut s, &mut buf) {
        let close = req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let reply = answer(sh, &req);
        let ok = http::write_response(&mut s, reply.status, reply.ctype, &reply.headers, &reply.body, None);
        if ok.is_err() || close {
            return;
        }
    }
}

/// What the fake sends back.
pub(crate) struct Reply {
    pub status: u16,
    pub ctype: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    /// Set when the request broke a documented rule.
    pub problem: Option<String>,
}

fn answer(sh: &Shared, req: &http::Request) -> Reply {
    let fault = {
        let mut st = sh.lock();
        let at = st.faults.iter().position(|(key, _)| {
            key.split_once(' ')
                .is_some_and(|(m, part)| m == req.method && req.path.contains(part))
        });
        at.and_then(|i| st.faults.remove(i)).map(|(_, f)| f)
    };
    // The caller is still running now: its command line, and every other
    // process's, must not hold a secret the fake knows.
    let leak = secret_on_a_command_line(sh);
    let mut reply = match fault {
        Some(Fault::Error(status, message)) => replies::error(sh.vendor, status, &message),
        Some(Fault::EchoAuth(status)) => {
            let auth = req.header("authorization").unwrap_or("(none)");
            replies::error(sh.vendor, status, &format!("token {auth} is expired"))
        }
        Some(Fault::Raw(status, ctype, body)) => replies::json(status, ctype, body),
        Some(Fault::Mangle(how)) => mangle(sh, checks::handle(sh, req), &how),
        None => checks::handle(sh, req),
    };
    if leak.is_some() {
        reply.problem = leak;
    }
    sh.lock().received.push(Received {
        method: req.method.clone(),
        path: req.path.clone(),
        headers: req.headers.clone(),
        body: String::from_utf8_lossy(&req.body).into_owned(),
        status: reply.status,
        problem: reply.problem.clone(),
    });
    reply
}

/// `reply` spoilt as `how` says.
fn mangle(sh: &Shared, mut reply: Reply, how: &Mangle) -> Reply {
    use miniserde::json::{self, Value};
    fn walk(v: &mut Value, f: &dyn Fn(&mut miniserde::json::Object)) {
        match v {
            Value::Object(o) => {
                f(o);
                o.values_mut().for_each(|m| walk(m, f));
            }
            Value::Array(a) => a.iter_mut().for_each(|m| walk(m, f)),
            _ => {}
        }
    }
    let secrets: Vec<String> = sh.lock().creds.values().map(|c| c.secret.clone()).collect();
    let edit: &dyn Fn(&mut miniserde::json::Object) = match how {
        Mangle::Body(text) => {
            reply.ctype = "text/html";
            reply.body = text.clone().into_bytes();
            return reply;
        }
        Mangle::WithholdSecret => &|o| o.retain(|_, m| !matches!(m, Value::String(s) if secrets.contains(s))),
        Mangle::NullMember(name) => &|o| {
            if let Some(m) = o.get_mut(*name) {
                *m = Value::Null;
            }
        },
        Mangle::Member(name, text) => &|o| {
            if let Some(m) = o.get_mut(*name) {
                *m = Value::String(text.clone());
            }
        },
    };
    if let Ok(mut v) = json::from_str::<Value>(&String::from_utf8_lossy(&reply.body)) {
        walk(&mut v, edit);
        reply.body = json::to_string(&v).into_bytes();
    }
    reply
}

/// Scans `/proc/*/cmdline` for the admin credential and every secret issued
/// so far; names the process (never the secret) when one is found.
fn secret_on_a_command_line(sh: &Shared) -> Option<String> {
    let needles: Vec<String> = {
        let st = sh.lock();
        let mut n = vec![sh.admin.clone()];
        n.extend(st.tokens.iter().cloned());
        n.extend(st.creds.values().map(|c| c.secret.clone()));
        n
    };
    let procs = std::fs::read_dir("/proc").ok()?;
    for entry in procs.flatten() {
        let pid = entry.file_name();
        if !pid.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline);
        if needles.iter().any(|n| !n.is_empty() && text.contains(n.as_str())) {
            return Some(format!(
                "a secret is on the command line of process {}",
                pid.to_string_lossy()
            ));
        }
    }
    None
}
