//! Each vendor's routes: the documented rules a request must follow, and the
//! documented reply. A broken rule is a 400 with the reason recorded.

use super::replies::{bad_request, error, json, no_content, random, secret};
use super::{Credential, Reply, Shared, Vendor};
use crate::http::Request;
use miniserde::json::{self as mj, Number, Object, Value};

pub fn handle(sh: &Shared, req: &Request) -> Reply {
    let path = req.path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let result = match sh.vendor {
        Vendor::Jfrog => jfrog(sh, req, &parts),
        Vendor::Iam => iam(sh, req, &parts),
        Vendor::PagerDuty => pagerduty(sh, req, &parts),
        Vendor::Gitlab => gitlab(sh, req, &parts),
    };
    result.unwrap_or_else(|r| r)
}

type Outcome = Result<Reply, Reply>;

fn no_route(v: Vendor, req: &Request) -> Outcome {
    Err(bad_request(v, format!("no such route: {} {}", req.method, req.path)))
}

/// The auth header must be exactly `want`; a missing header is a problem, a
/// wrong value is the vendor's 401 (what a bad token gets).
fn auth(v: Vendor, req: &Request, header: &str, want: &str) -> Result<(), Reply> {
    match req.header(header) {
        None => Err(bad_request(v, format!("no {header} header"))),
        Some(got) if got == want => Ok(()),
        Some(_) => Err(error(v, 401, "bad credentials")),
    }
}

/// A JSON object body sent as `Content-Type: application/json`.
fn json_body(v: Vendor, req: &Request) -> Result<Object, Reply> {
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
fn only(v: Vendor, o: &Object, allowed: &[&str]) -> Result<(), Reply> {
    match o.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad_request(v, format!("unknown field {k:?}"))),
        None => Ok(()),
    }
}

fn opt_str<'a>(v: Vendor, o: &'a Object, key: &str, max: usize) -> Result<Option<&'a str>, Reply> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s)),
        Some(Value::String(_)) => Err(bad_request(v, format!("{key} longer than {max}"))),
        Some(_) => Err(bad_request(v, format!("{key} is not a string"))),
    }
}

fn req_str<'a>(v: Vendor, o: &'a Object, key: &str, max: usize) -> Result<&'a str, Reply> {
    match opt_str(v, o, key, max)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad_request(v, format!("{key} is required"))),
    }
}

fn opt_bool(v: Vendor, o: &Object, key: &str) -> Result<Option<bool>, Reply> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(bad_request(v, format!("{key} is not a boolean"))),
    }
}

fn opt_uint(v: Vendor, o: &Object, key: &str) -> Result<Option<u64>, Reply> {
    match o.get(key) {
        None => Ok(None),
        Some(Value::Number(Number::U64(n))) => Ok(Some(*n)),
        Some(_) => Err(bad_request(v, format!("{key} is not a non-negative integer"))),
    }
}

fn q(s: &str) -> String {
    mj::to_string(&s.to_string())
}

fn issue(sh: &Shared, id: &str, cred: Credential) {
    sh.lock().creds.insert(id.to_string(), cred);
}

fn cred(secret: String) -> Credential {
    Credential {
        secret,
        revocable: true,
        locked: false,
        deleted: false,
        scope: String::new(),
    }
}

/// Marks `id` deleted; `None` when it never existed or is already gone.
fn take(sh: &Shared, id: &str, scope: &str) -> Option<()> {
    let mut st = sh.lock();
    let c = st.creds.get_mut(id).filter(|c| !c.deleted && c.scope == scope)?;
    c.deleted = true;
    Some(())
}

/// JFrog's default revocable-expiry-threshold: 6 hours.
const JFROG_REVOCABLE_THRESHOLD: u64 = 6 * 3600;

fn jfrog(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
    let v = Vendor::Jfrog;
    auth(v, req, "authorization", &format!("Bearer {}", sh.admin))?;
    match (req.method.as_str(), parts) {
        ("POST", ["access", "api", "v1", "tokens"]) => {
            let o = json_body(v, req)?;
            only(
                v,
                &o,
                &[
                    "grant_type",
                    "username",
                    "project_key",
                    "scope",
                    "expires_in",
                    "refreshable",
                    "description",
                    "audience",
                    "include_reference_token",
                    "force_revocable",
                ],
            )?;
            if opt_str(v, &o, "grant_type", 64)?.is_some_and(|g| g != "client_credentials") {
                return Err(bad_request(v, "grant_type must be client_credentials".into()));
            }
            let username = opt_str(v, &o, "username", 255)?.unwrap_or("admin");
            opt_str(v, &o, "project_key", 255)?;
            let scope = opt_str(v, &o, "scope", 500)?.unwrap_or("applied-permissions/user");
            let expires = opt_uint(v, &o, "expires_in")?.unwrap_or(31_536_000);
            let refreshable = opt_bool(v, &o, "refreshable")?.unwrap_or(false);
            opt_str(v, &o, "description", 1024)?;
            opt_str(v, &o, "audience", 255)?;
            let reference = opt_bool(v, &o, "include_reference_token")?.unwrap_or(false);
            let force = opt_bool(v, &o, "force_revocable")?.unwrap_or(false);
            let id = format!(
                "{:08x}-{:04x}-4fa3-9c2e-{:012x}",
                random() as u32,
                random() as u16,
                random() >> 16
            );
            let token = secret("eyJ2ZXIiOiIyIn0.fake-");
            let mut c = cred(token.clone());
            c.revocable = force || expires == 0 || expires >= JFROG_REVOCABLE_THRESHOLD;
            issue(sh, &id, c);
            let mut body = format!(
                r#"{{"token_id":"{id}","access_token":"{token}","expires_in":{expires},"scope":{},"token_type":"Bearer","username":{}"#,
                q(scope),
                q(username)
            );
            if refreshable {
                body.push_str(&format!(r#","refresh_token":"{}""#, secret("rt-")));
            }
            if reference {
                body.push_str(&format!(r#","reference_token":"{}""#, secret("cmVmdGtu")));
            }
            body.push('}');
            Ok(json(200, "application/json", body))
        }
        ("DELETE", ["access", "api", "v1", "tokens", id]) => {
            let mut st = sh.lock();
            match st.creds.get_mut(*id) {
                None => Ok(error(v, 404, "token not found")),
                Some(c) if c.deleted => Ok(no_content()),
                Some(c) if !c.revocable => Ok(error(v, 400, "token is not revocable")),
                Some(c) => {
                    c.deleted = true;
                    Ok(json(200, "text/plain", "Token revoked".into()))
                }
            }
        }
        _ => no_route(v, req),
    }
}

fn iam(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
    let v = Vendor::Iam;
    match (req.method.as_str(), parts) {
        ("POST", ["identity", "token"]) => {
            let ctype = req.header("content-type").unwrap_or("");
            if !ctype.starts_with("application/x-www-form-urlencoded") {
                return Err(bad_request(v, format!("token: Content-Type {ctype:?}")));
            }
            let form = form_fields(&req.body);
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            if get("grant_type") != Some("urn:ibm:params:oauth:grant-type:apikey") {
                return Err(bad_request(v, "token: grant_type is not the apikey grant".into()));
            }
            if get("apikey") != Some(sh.admin.as_str()) {
                return Ok(json(
                    400,
                    "application/json",
                    r#"{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found."}"#.into(),
                ));
            }
            let token = secret("iam-fake-");
            sh.lock().tokens.push(token.clone());
            Ok(json(
                200,
                "application/json",
                format!(
                    r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600,"expiration":1,"refresh_token":"not_supported"}}"#
                ),
            ))
        }
        ("GET", ["v1", "apikeys", "details"]) => {
            auth(v, req, "iam-apikey", &sh.admin)?;
            Ok(json(
                200,
                "application/json",
                r#"{"id":"ApiKey-admin-0001","name":"admin","iam_id":"IBMid-FAKEADMIN1","account_id":"fakeaccount0001","locked":false}"#
                    .into(),
            ))
        }
        (method, ["v1", "apikeys", ..]) => {
            let bearer = req.header("authorization").and_then(|a| a.strip_prefix("Bearer "));
            match bearer {
                None => return Err(bad_request(v, "no Authorization: Bearer header".into())),
                Some(t) if !sh.lock().tokens.iter().any(|k| k == t) => return Ok(error(v, 401, "bad token")),
                Some(_) => {}
            }
            match (method, &parts[2..]) {
                ("POST", []) => iam_create(sh, req),
                ("DELETE", [id, "lock"]) => {
                    let mut st = sh.lock();
                    match st.creds.get_mut(*id).filter(|c| !c.deleted) {
                        Some(c) => {
                            c.locked = false;
                            Ok(no_content())
                        }
                        None => Ok(error(v, 404, "API key not found")),
                    }
                }
                ("DELETE", [id]) => {
                    let mut st = sh.lock();
                    match st.creds.get_mut(*id).filter(|c| !c.deleted) {
                        Some(c) if c.locked => Ok(error(v, 409, "the API key is locked")),
                        Some(c) => {
                            c.deleted = true;
                            Ok(no_content())
                        }
                        None => Ok(error(v, 404, "API key not found")),
                    }
                }
                _ => no_route(v, req),
            }
        }
        _ => no_route(v, req),
    }
}

fn iam_create(sh: &Shared, req: &Request) -> Outcome {
    let v = Vendor::Iam;
    let locked = match req.header("entity-lock") {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(bad_request(v, "no Entity-Lock: true|false header".into())),
    };
    let o = json_body(v, req)?;
    only(
        v,
        &o,
        &[
            "name",
            "iam_id",
            "description",
            "account_id",
            "apikey",
            "store_value",
            "support_sessions",
            "action_when_leaked",
            "expires_at",
        ],
    )?;
    let name = req_str(v, &o, "name", 1024)?;
    let iam_id = req_str(v, &o, "iam_id", 256)?;
    let description = opt_str(v, &o, "description", 1024)?.unwrap_or("");
    let account = opt_str(v, &o, "account_id", 64)?.unwrap_or("fakeaccount0001");
    opt_bool(v, &o, "store_value")?;
    let sessions = opt_bool(v, &o, "support_sessions")?.unwrap_or(false);
    let leaked = opt_str(v, &o, "action_when_leaked", 16)?.unwrap_or("disable");
    if !["none", "disable", "delete"].contains(&leaked) {
        return Err(bad_request(v, format!("action_when_leaked {leaked:?}")));
    }
    opt_str(v, &o, "expires_at", 64)?;
    let id = format!(
        "ApiKey-{:08x}-{:04x}-4b1e-8c3d-{:012x}",
        random() as u32,
        random() as u16,
        random() >> 16
    );
    let key = secret("fakeKEY_");
    let mut c = cred(key.clone());
    c.locked = locked;
    issue(sh, &id, c);
    Ok(json(
        201,
        "application/json",
        format!(
            r#"{{"id":"{id}","entity_tag":"1-0","crn":"crn:v1:bluemix:public:iam-identity::a/{account}::apikey:{id}","locked":{locked},"disabled":false,"created_at":"2026-01-01T00:00+0000","name":{},"description":{},"iam_id":{},"account_id":{},"apikey":"{key}","support_sessions":{sessions},"action_when_leaked":"{leaked}"}}"#,
            q(name),
            q(description),
            q(iam_id),
            q(account)
        ),
    ))
}

const PD_ACCEPT: &str = "application/vnd.pagerduty+json;version=2";

fn pagerduty(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
    let v = Vendor::PagerDuty;
    auth(v, req, "authorization", &format!("Token token={}", sh.admin))?;
    if req.header("accept") != Some(PD_ACCEPT) {
        return Err(bad_request(v, format!("Accept must be {PD_ACCEPT}")));
    }
    match (req.method.as_str(), parts) {
        ("POST", ["webhook_subscriptions"]) => {
            let o = json_body(v, req)?;
            only(v, &o, &["webhook_subscription"])?;
            let Some(Value::Object(ws)) = o.get("webhook_subscription") else {
                return Err(bad_request(v, "webhook_subscription is not an object".into()));
            };
            only(
                v,
                ws,
                &["type", "delivery_method", "events", "filter", "description", "active"],
            )?;
            if req_str(v, ws, "type", 64)? != "webhook_subscription" {
                return Err(bad_request(v, "type must be webhook_subscription".into()));
            }
            let Some(Value::Object(dm)) = ws.get("delivery_method") else {
                return Err(bad_request(v, "delivery_method is not an object".into()));
            };
            only(v, dm, &["type", "url", "custom_headers"])?;
            if req_str(v, dm, "type", 64)? != "http_delivery_method" {
                return Err(bad_request(
                    v,
                    "delivery_method.type must be http_delivery_method".into(),
                ));
            }
            let url = req_str(v, dm, "url", 2048)?;
            if !url.starts_with("https://") {
                return Err(bad_request(v, "delivery_method.url must be https".into()));
            }
            let events = match ws.get("events") {
                Some(Value::Array(a)) if !a.is_empty() && a.iter().all(|e| matches!(e, Value::String(_))) => a,
                _ => return Err(bad_request(v, "events must be a non-empty array of strings".into())),
            };
            let Some(Value::Object(filter)) = ws.get("filter") else {
                return Err(bad_request(v, "filter is not an object".into()));
            };
            only(v, filter, &["type", "id"])?;
            let ftype = req_str(v, filter, "type", 64)?;
            match ftype {
                "account_reference" => {}
                "service_reference" | "team_reference" => {
                    req_str(v, filter, "id", 64)?;
                }
                _ => return Err(bad_request(v, format!("filter.type {ftype:?}"))),
            }
            let description = opt_str(v, ws, "description", 1024)?.unwrap_or("");
            let id = format!("PWS{:07X}", random() as u32 & 0xfff_ffff);
            let signing = secret("pdws_");
            issue(sh, &id, cred(signing.clone()));
            Ok(json(
                200,
                "application/json",
                format!(
                    r#"{{"webhook_subscription":{{"id":"{id}","type":"webhook_subscription","active":true,"delivery_method":{{"id":"PDM0001","secret":"{signing}","temporarily_disabled":false,"type":"http_delivery_method","url":{},"custom_headers":[]}},"description":{},"events":{},"filter":{}}}}}"#,
                    q(url),
                    q(description),
                    mj::to_string(&Value::Array(events.clone())),
                    mj::to_string(&Value::Object(filter.clone()))
                ),
            ))
        }
        ("DELETE", ["webhook_subscriptions", id]) => match take(sh, id, "") {
            Some(()) => Ok(no_content()),
            None => Ok(error(v, 404, "webhook subscription not found")),
        },
        _ => no_route(v, req),
    }
}

const GITLAB_SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_registry",
    "write_registry",
    "read_repository",
    "write_repository",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "self_rotate",
];

fn gitlab(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
    let v = Vendor::Gitlab;
    auth(v, req, "private-token", &sh.admin)?;
    match (req.method.as_str(), parts) {
        ("POST", ["api", "v4", "projects", project, "access_tokens"]) => {
            let o = json_body(v, req)?;
            only(v, &o, &["name", "scopes", "access_level", "expires_at", "description"])?;
            let name = req_str(v, &o, "name", 255)?;
            let scopes = match o.get("scopes") {
                Some(Value::Array(a))
                    if !a.is_empty()
                        && a.iter()
                            .all(|s| matches!(s, Value::String(s) if GITLAB_SCOPES.contains(&s.as_str()))) =>
                {
                    a
                }
                _ => {
                    return Err(bad_request(
                        v,
                        "scopes must be a non-empty array of known scopes".into(),
                    ));
                }
            };
            let level = opt_uint(v, &o, "access_level")?.unwrap_or(40);
            if ![10, 15, 20, 30, 40, 50].contains(&level) {
                return Err(bad_request(v, format!("access_level {level}")));
            }
            let expires = opt_str(v, &o, "expires_at", 10)?.unwrap_or("");
            let date_like = expires.len() == 10
                && expires.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            if !expires.is_empty() && !date_like {
                return Err(bad_request(v, format!("expires_at {expires:?} is not YYYY-MM-DD")));
            }
            opt_str(v, &o, "description", 1024)?;
            let id = {
                let mut st = sh.lock();
                st.next += 1;
                1000 + st.next
            };
            let token = secret("glpat-");
            let mut c = cred(token.clone());
            c.scope = project.to_string();
            issue(sh, &id.to_string(), c);
            Ok(json(
                201,
                "application/json",
                format!(
                    r#"{{"id":{id},"name":{},"revoked":false,"created_at":"2026-01-01T00:00:00.000Z","scopes":{},"user_id":166,"last_used_at":null,"active":true,"expires_at":{},"access_level":{level},"token":"{token}"}}"#,
                    q(name),
                    mj::to_string(&Value::Array(scopes.clone())),
                    if expires.is_empty() {
                        "null".to_string()
                    } else {
                        q(expires)
                    }
                ),
            ))
        }
        ("DELETE", ["api", "v4", "projects", project, "access_tokens", id]) => match take(sh, id, project) {
            Some(()) => Ok(no_content()),
            None => Ok(error(v, 404, "404 Not Found")),
        },
        _ => no_route(v, req),
    }
}

/// `application/x-www-form-urlencoded` fields, decoded.
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
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
