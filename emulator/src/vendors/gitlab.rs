//! GitLab project access tokens: create and revoke.

use super::checks::*;
use super::replies::{bad_request, json, no_content, secret};
use super::{Shared, Vendor};
use crate::http::Request;
use miniserde::json::{self as mj, Value};

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

pub(super) fn handle(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
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
            // GitLab's own words for an unknown token (resource_access_tokens.rb);
            // a project it cannot see is `404 Project Not Found` instead.
            None => Ok(json(
                404,
                "application/json",
                format!(
                    r#"{{"message":{}}}"#,
                    q(&format!(
                        "404 Could not find project access token with token_id: {id} Not Found"
                    ))
                ),
            )),
        },
        _ => no_route(v, req),
    }
}
