//! Slack's OAuth refresh-token exchange, `POST /api/oauth.v2.access`, as
//! PROVIDER-APIS.md gathers it: a form with `client_id`, `client_secret`,
//! `grant_type=refresh_token` and `refresh_token`; HTTP 200 even on failure,
//! `{"ok":false,"error":"…"}`; each exchange returns a new refresh token and
//! spends the one sent (a reused token gets `invalid_refresh_token`).

use super::checks::{Outcome, form_fields, no_route};
use super::replies::{bad_request, json, secret};
use super::{Shared, Vendor};
use crate::http::Request;

/// The app's client id the fake knows (client ids are not secret).
pub const SLACK_CLIENT_ID: &str = "4242424242.1717171717";
/// The workspace the fake's tokens belong to.
pub const SLACK_TEAM_ID: &str = "T0FAKETEAM";

/// `{"ok":false,"error":code}` with HTTP 200, as Slack fails.
fn refused(code: &str) -> Outcome {
    Ok(json(
        200,
        "application/json",
        format!(r#"{{"ok":false,"error":"{code}"}}"#),
    ))
}

/// A fresh refresh token, valid until it is exchanged once.
pub(super) fn issue_refresh_token(sh: &Shared) -> String {
    let token = secret("xoxe-1-");
    let mut st = sh.lock();
    st.tokens.push(token.clone());
    st.refresh.insert(token.clone(), false);
    token
}

pub(super) fn handle(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
    let v = Vendor::Slack;
    match (req.method.as_str(), parts) {
        ("POST", ["api", "oauth.v2.access"]) => {
            let ctype = req.header("content-type").unwrap_or("");
            if !ctype.starts_with("application/x-www-form-urlencoded") {
                return Err(bad_request(v, format!("Content-Type {ctype:?}, want a form")));
            }
            let form = form_fields(&req.body);
            for (name, _) in &form {
                if !["client_id", "client_secret", "grant_type", "refresh_token"].contains(&name.as_str()) {
                    return Err(bad_request(v, format!("unexpected form field {name:?}")));
                }
                if form.iter().filter(|(n, _)| n == name).count() > 1 {
                    return Err(bad_request(v, format!("form field {name:?} sent twice")));
                }
            }
            let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
            if get("client_id") != Some(SLACK_CLIENT_ID) {
                return refused("invalid_client_id");
            }
            if get("client_secret") != Some(sh.admin.as_str()) {
                return refused("bad_client_secret");
            }
            if get("grant_type") != Some("refresh_token") {
                return refused("invalid_grant_type");
            }
            let old = get("refresh_token").unwrap_or("");
            let access = {
                let mut st = sh.lock();
                match st.refresh.get_mut(old) {
                    Some(spent @ false) => *spent = true,
                    _ => return refused("invalid_refresh_token"),
                }
                let access = secret("xoxe.xoxb-1-");
                st.tokens.push(access.clone());
                access
            };
            let refresh = issue_refresh_token(sh);
            Ok(json(
                200,
                "application/json",
                format!(
                    r#"{{"ok":true,"app_id":"A0FAKEAPP","authed_user":{{"id":"U0FAKEUSER"}},"scope":"chat:write","token_type":"bot","access_token":"{access}","bot_user_id":"U0FAKEBOT","refresh_token":"{refresh}","expires_in":43200,"team":{{"id":"{SLACK_TEAM_ID}","name":"Fake Team"}},"enterprise":null,"is_enterprise_install":false}}"#
                ),
            ))
        }
        _ => no_route(v, req),
    }
}
