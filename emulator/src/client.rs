//! A minimal HTTP/1.1 client for tests of the emulator itself: one request
//! per connection (`Connection: close`), over TLS trusting one CA file, or
//! plain HTTP. Not for credhook's own calls: tests run the real binary.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with `headers` and `body` to `base` (`https://127.0.0.1:PORT`
/// or `http://…`), trusting `ca_file` for HTTPS. `Ok(None)` when the server
/// closed the connection without a reply.
pub fn request(
    base: &str,
    ca_file: Option<&Path>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<Option<Response>> {
    let (tls, authority) = match (base.strip_prefix("https://"), base.strip_prefix("http://")) {
        (Some(a), _) => (true, a),
        (None, Some(a)) => (false, a),
        _ => return Err(io::Error::other(format!("not an http(s) URL: {base}"))),
    };
    let authority = authority.trim_end_matches('/');
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(body);

    let tcp = TcpStream::connect(authority)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let raw = if tls {
        let ca = ca_file.ok_or_else(|| io::Error::other("HTTPS needs the CA file"))?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(io::Error::other)? {
            roots.add(cert.map_err(io::Error::other)?).map_err(io::Error::other)?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").map_err(io::Error::other)?;
        let conn = rustls::ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
        exchange(rustls::StreamOwned::new(conn, tcp), &out)?
    } else {
        exchange(tcp, &out)?
    };
    if raw.is_empty() {
        return Ok(None);
    }
    parse(&raw).map(Some)
}

/// Writes `out`, reads to the end; a reset or a TLS close without
/// close_notify after nothing was read is an empty reply.
fn exchange(mut s: impl Read + Write, out: &[u8]) -> io::Result<Vec<u8>> {
    s.write_all(out)?;
    s.flush()?;
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw) {
        Ok(_) => Ok(raw),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionAborted
            ) =>
        {
            Ok(raw)
        }
        Err(e) => Err(e),
    }
}

fn parse(raw: &[u8]) -> io::Result<Response> {
    let bad = |why: &str| io::Error::other(format!("malformed reply: {why}"));
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of head"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&raw[end + 4..]).into_owned(),
    })
}
