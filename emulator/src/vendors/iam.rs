//! IBM Cloud IAM: the API key grant, API key details, and API keys created
//! locked, unlocked and deleted.

use super::checks::*;
use super::replies::{bad_request, error, json, no_content, random, secret};
use super::{Shared, Vendor};
use crate::http::Request;

pub(super) fn handle(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
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
