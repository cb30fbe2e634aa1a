//! The vendors' reply shapes: errors, and fresh ids and secrets.

use super::{Reply, Vendor};
use crate::http;
use miniserde::json;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

pub fn json(status: u16, ctype: &'static str, body: String) -> Reply {
    Reply {
        status,
        ctype,
        headers: Vec::new(),
        body: body.into_bytes(),
        problem: None,
    }
}

/// An empty `204 No Content`.
pub fn no_content() -> Reply {
    Reply {
        status: 204,
        ctype: "application/json",
        headers: Vec::new(),
        body: Vec::new(),
        problem: None,
    }
}

/// A 400 for a request that broke a documented rule, recorded as a problem.
pub fn bad_request(vendor: Vendor, why: String) -> Reply {
    let mut r = error(vendor, 400, &why);
    r.problem = Some(why);
    r
}

/// `status` in the vendor's documented error shape.
pub fn error(vendor: Vendor, status: u16, message: &str) -> Reply {
    let msg = json::to_string(&format!("{} {}: {message}", status, http::reason(status)));
    let code = http::reason(status).to_ascii_lowercase().replace(' ', "_");
    let (ctype, body) = match vendor {
        // JFrog's error page shows `status`; IBM's provider reads `code`,
        // which JFrog Access writes in capitals (`NOT_FOUND`).
        Vendor::Jfrog => (
            "application/json",
            format!(
                r#"{{"errors":[{{"status":{status},"code":"{}","message":{msg}}}]}}"#,
                code.to_ascii_uppercase()
            ),
        ),
        Vendor::Iam => {
            let code = if status == 404 { "not_found" } else { &code };
            (
                "application/json",
                format!(
                    r#"{{"trace":"fake-trace","errors":[{{"code":"{code}","message":{msg}}}],"status_code":{status}}}"#
                ),
            )
        }
        // PagerDuty's "Not Found" is code 2100; the others are made up.
        Vendor::PagerDuty => (
            "application/json",
            format!(
                r#"{{"error":{{"code":{},"message":{msg},"errors":[{msg}]}}}}"#,
                if status == 404 { 2100 } else { 2000 + status }
            ),
        ),
        Vendor::Gitlab => ("application/json", format!(r#"{{"message":{msg}}}"#)),
        // Slack answers 200 with ok:false for its own errors; a rate limit is
        // a real 429, and an outage a real 5xx.
        Vendor::Slack => {
            let error = match status {
                429 => "ratelimited",
                500..=599 => "fatal_error",
                _ => message,
            };
            (
                "application/json",
                format!(r#"{{"ok":false,"error":{}}}"#, json::to_string(&error.to_string())),
            )
        }
    };
    let mut reply = json(status, ctype, body);
    if status == 429 {
        reply.headers.push(("Retry-After", "1".into()));
    }
    reply
}

pub fn random() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    h.finish()
}

/// A fresh secret: `prefix` and 32 hex digits.
pub fn secret(prefix: &str) -> String {
    format!("{prefix}{:016x}{:016x}", random(), random())
}
