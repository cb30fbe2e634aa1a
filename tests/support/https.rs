//! A small HTTP/1.1 test server on loopback, over TLS with a throwaway CA
//! (or plain, for the `http://` loopback rule). One request per connection;
//! each reply goes out in one write on a TCP_NODELAY socket. It records every
//! request and answers what the test's handler says.

#![allow(dead_code)]

use credhook_emulator::tls::{self, Pki};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub enum Action {
    Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Read the request, say nothing for this long, then close.
    Stall(Duration),
    /// Send these bytes (e.g. headers and part of a body), then stall.
    Partial(Vec<u8>, Duration),
}

pub fn reply(status: u16, body: &str) -> Action {
    Action::Reply {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }
}

pub fn reply_with(status: u16, headers: &[(&str, &str)], body: &str) -> Action {
    Action::Reply {
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.as_bytes().to_vec(),
    }
}

type Handler = dyn Fn(&Request, usize) -> Action + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    pub pki: Option<Arc<Pki>>,
    pub requests: Arc<Mutex<Vec<Request>>>,
    /// Connections accepted (a request may never complete).
    pub connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

/// A PKI for `localhost`, `127.0.0.1` and `::1`, and its CA written to a file.
pub fn pki() -> Arc<Pki> {
    Arc::new(tls::generate().expect("generate a throwaway CA"))
}

impl Server {
    /// HTTPS on 127.0.0.1.
    pub fn https(handler: impl Fn(&Request, usize) -> Action + Send + Sync + 'static) -> Server {
        Server::start("127.0.0.1:0", Some(pki()), handler)
    }

    /// Plain HTTP on 127.0.0.1.
    pub fn plain(handler: impl Fn(&Request, usize) -> Action + Send + Sync + 'static) -> Server {
        Server::start("127.0.0.1:0", None, handler)
    }

    pub fn start(
        bind: &str,
        pki: Option<Arc<Pki>>,
        handler: impl Fn(&Request, usize) -> Action + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind(bind).expect("bind the test server");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (reqs, conns, st, p) = (requests.clone(), connections.clone(), stop.clone(), pki.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                conns.fetch_add(1, Ordering::SeqCst);
                let (reqs, handler, p) = (reqs.clone(), handler.clone(), p.clone());
                std::thread::spawn(move || {
                    let _ = conn.set_nodelay(true);
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
                    match p {
                        Some(p) => {
                            let Ok(tls) = rustls::ServerConnection::new(p.config.clone()) else {
                                return;
                            };
                            serve(rustls::StreamOwned::new(tls, conn), &reqs, &*handler);
                        }
                        None => serve(conn, &reqs, &*handler),
                    }
                });
            }
        });
        Server {
            addr,
            pki,
            requests,
            connections,
            stop,
        }
    }

    /// `https://127.0.0.1:PORT` (or `http://…` for a plain server).
    pub fn url(&self) -> String {
        let scheme = if self.pki.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// The CA certificate in a file under `dir`, for `--cacert`/`SSL_CERT_FILE`.
    pub fn ca_file(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join(format!("ca-{}.pem", self.addr.port()));
        std::fs::write(&path, &self.pki.as_ref().expect("a TLS server").ca_pem).unwrap();
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so its thread ends.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve<S: Read + Write>(mut s: S, reqs: &Mutex<Vec<Request>>, handler: &Handler) {
    let Some(req) = read_request(&mut s) else { return };
    let n = {
        let mut all = reqs.lock().unwrap();
        all.push(req.clone());
        all.len()
    };
    match handler(&req, n) {
        Action::Stall(d) => std::thread::sleep(d),
        Action::Partial(bytes, d) => {
            let _ = s.write_all(&bytes);
            let _ = s.flush();
            std::thread::sleep(d);
        }
        Action::Reply { status, headers, body } => {
            let mut out = format!("HTTP/1.1 {status} Test\r\nConnection: close\r\n").into_bytes();
            let mut has_length = false;
            for (name, value) in &headers {
                has_length |= name.eq_ignore_ascii_case("content-length");
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            if !has_length {
                out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
            }
            out.extend_from_slice(b"\r\n");
            if req.method != "HEAD" {
                out.extend_from_slice(&body);
            }
            let _ = s.write_all(&out);
            let _ = s.flush();
        }
    }
}

fn read_request<S: Read>(s: &mut S) -> Option<Request> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

/// A listener on 127.0.0.1 that accepts each connection and closes it at
/// once, before a TLS handshake can start; its address. (It lives as long
/// as the test process.)
pub fn closing_listener() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the closing listener");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    addr
}
