//! What every vendor fake checks the same way: auth header, JSON body,
//! member names and types. A broken rule is a 400 with the reason recorded.

use super::replies::{bad_request, error};
use super::{Credential, Reply, Shared, Vendor};
use crate::http::Request;
use miniserde::json::{self as mj, Number, Object, Value};

pub fn handle(sh: &Shared, req: &Request) -> Reply {
    let path = req.path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = match sh.vendor {
        Vendor::Jfrog => super::jfrog::handle(sh, req, &parts),
        Vendor::Iam => super::iam::handle(sh, req, &parts),
        Vendor::PagerDuty => super::pagerduty::handle(sh, req, &parts),
        Vendor::Gitlab => super::gitlab::handle(sh, req, &parts),
        Vendor::Slack => super::slack::handle(sh, req, &parts),
    };
    result.unwrap_or_else(|r| r)
}

pub(super) type Outcome = Result<Reply, Reply>;

pub(super) fn no_route(v: Vendor, req: &Request) -> Outcome {
    Err(bad_request(v, format!("no such route: {} {}", req.method, req.path)))
}

/// The auth header must be exactly `want`; a missing header is a problem, a
/// wrong value is the vendor's 401 (what a bad token gets).
pub(super) fn auth(v: Vendor, req: &Request, header: &str, want: &str) -> Result<(), Reply> {
    match req.header(header) {
        None => Err(bad_request(v, format!("no {header} header"))),
        Some(got) if got == want => Ok(()),
        Some(_) => Err(error(v, 401, "bad credentials")),
    }
}

/// A JSON object body sent as `Content-Type: application/json`.
pub(super) fn json_body(v: Vendor, req: &Request) -> Result<Object, Reply> {
    let ctype = req.header("content-type").unwrap_or("");
    if !ctype.starts_with("application/json") {
        return Err(bad_request(v, format!("Content-Type {ctype:?}, want application/json")));
    }
    let text = String::from_utf8_lossy(&req.body);
    match mj::from_str::<Value>(&text) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err(bad_request(v, "the body is not a JSON object".into())),
    }
}

/// Rejects members other than `allowed`.
pub(super) fn only(v: Vendor, o: &Object, allowed: &[&str]) -> Result<(), Reply> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad_request(v, format!("unknown field {k:?}"))),
        None => Ok(()),
    }
}

pub(super) fn opt_str<'a>(v: Vendor, o: &'a Object, key: &str, max: usize) -> Result<Option<&'a str>, Reply> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s)),
        Some(Value::String(_)) => Err(bad_request(v, format!("{key} longer than {max}"))),
        Some(_) => Err(bad_request(v, format!("{key} is not a string"))),
    }
}

pub(super) fn req_str<'a>(v: Vendor, o: &'a Object, key: &str, max: usize) -> Result<&'a str, Reply> {
    match opt_str(v, o, key, max)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad_request(v, format!("{key} is required"))),
    }
}

pub(super) fn opt_bool(v: Vendor, o: &Object, key: &str) -> Result<Option<bool>, Reply> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad_request(v, format!("{key} is not a boolean"))),
    }
}

pub(super) fn opt_uint(v: Vendor, o: &Object, key: &str) -> Result<Option<u64>, Reply> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Number(Number::U64(n))) => Ok(Some(*n)),
        Some(_) => Err(bad_request(v, format!("{key} is not a non-negative integer"))),
    }
}

pub(super) fn q(s: &str) -> String {
    mj::to_string(&s.to_string())
}

pub(super) fn issue(sh: &Shared, id: &str, cred: Credential) {
    sh.lock().creds.insert(id.to_string(), cred);
}

pub(super) fn cred(secret: String) -> Credential {
    Credential {
        secret,
        revocable: true,
        locked: false,
        deleted: false,
        scope: String::new(),
    }
}

/// Marks `id` deleted; `None` when it never existed or is already gone.
pub(super) fn take(sh: &Shared, id: &str, scope: &str) -> Option<()> {
    let mut st = sh.lock();
    let c = st.creds.get_mut(id).filter(|c| !c.deleted && c.scope == scope)?;
    c.deleted = true;
    Some(())
}

/// `application/x-www-form-urlencoded` fields, decoded.
pub(super) fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
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
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}
