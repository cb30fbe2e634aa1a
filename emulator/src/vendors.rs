//! HTTPS fakes of the vendor APIs the example providers call (JFrog access
//! tokens, IBM Cloud IAM API keys, PagerDuty webhook subscriptions, GitLab
//! project access tokens), for `tests/providers.rs` and `scripts/bench.sh`.
//!
//! Each fake checks what the vendor documents — method, path, auth header,
//! content type, body fields and their types — and answers in the vendor's
//! shapes. A request that breaks a rule gets a 400 and is recorded with the
//! reason ([`Received::problem`]), so a test can assert there were none.
//! [`VendorFake::fail_next`] scripts an error reply (401, 403, 404, 409, 429,
//! 5xx) in the vendor's error shape. At every request, while its caller is
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
}

impl Vendor {
    pub fn parse(s: &str) -> Option<Vendor> {
        match s {
            "jfrog" => Some(Vendor::Jfrog),
            "iam" | "ibm-iam-apikey" => Some(Vendor::Iam),
            "pagerduty" => Some(Vendor::PagerDuty),
            "gitlab" => Some(Vendor::Gitlab),
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

#[derive(Default)]
pub(crate) struct State {
    pub faults: VecDeque<(String, u16, String)>,
    pub received: Vec<Received>,
    pub creds: BTreeMap<String, Credential>,
    /// IAM: bearer tokens issued for the admin API key.
    pub tokens: Vec<String>,
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
        self.shared
            .lock()
            .faults
            .push_back((format!("{method} {path_part}"), status, message.to_string()));
    }

    /// The next `method` request whose path contains `path_part` is served,
    /// but the new secret is left out of the reply: a 2xx without a
    /// documented field, after the credential was made.
    pub fn withhold_secret_next(&self, method: &str, path_part: &str) {
        self.fail_next_saying(method, path_part, WITHHOLD, "");
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
        let at = st.faults.iter().position(|(key, _, _)| {
            key.split_once(' ')
                .is_some_and(|(m, part)| m == req.method && req.path.contains(part))
        });
        at.and_then(|i| st.faults.remove(i)).map(|(_, s, m)| (s, m))
    };
    // The caller is still running now: its command line, and every other
    // process's, must not hold a secret the fake knows.
    let leak = secret_on_a_command_line(sh);
    let mut reply = match fault {
        Some((WITHHOLD, _)) => withhold_secrets(sh, checks::handle(sh, req)),
        Some((status, message)) => replies::error(sh.vendor, status, &message),
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

/// The fault "status" of [`VendorFake::withhold_secret_next`].
const WITHHOLD: u16 = 0;

/// `reply` without the members whose value is a secret the fake issued.
fn withhold_secrets(sh: &Shared, mut reply: Reply) -> Reply {
    use miniserde::json::{self, Value};
    fn strip(v: &mut Value, secrets: &[String]) {
        match v {
            Value::Object(o) => {
                o.retain(|_, m| !matches!(m, Value::String(s) if secrets.contains(s)));
                o.values_mut().for_each(|m| strip(m, secrets));
            }
            Value::Array(a) => a.iter_mut().for_each(|m| strip(m, secrets)),
            _ => {}
        }
    }
    let secrets: Vec<String> = sh.lock().creds.values().map(|c| c.secret.clone()).collect();
    if let Ok(mut v) = json::from_str::<Value>(&String::from_utf8_lossy(&reply.body)) {
        strip(&mut v, &secrets);
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
