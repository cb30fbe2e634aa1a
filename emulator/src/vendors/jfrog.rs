//! JFrog Platform access tokens: create (`POST /access/api/v1/tokens`) and
//! revoke (`DELETE …/tokens/{id}`), with the revocable threshold enforced.

use super::checks::*;
use super::replies::{bad_request, error, json, no_content, random, secret};
use super::{Shared, Vendor};
use crate::http::Request;

/// JFrog's default revocable-expiry-threshold: 6 hours.
const JFROG_REVOCABLE_THRESHOLD: u64 = 6 * 3600;

pub(super) fn handle(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
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
