//! PagerDuty v3 webhook subscriptions: create and delete.

use super::checks::*;
use super::replies::{bad_request, error, json, no_content, random, secret};
use super::{Shared, Vendor};
use crate::http::Request;
use miniserde::json::{self as mj, Value};

const PD_ACCEPT: &str = "application/vnd.pagerduty+json;version=2";

pub(super) fn handle(sh: &Shared, req: &Request, parts: &[&str]) -> Outcome {
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
