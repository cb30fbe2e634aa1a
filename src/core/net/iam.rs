//! IAM: which endpoint, the token request as data, the reply.

use crate::core::CoreError;
use crate::core::json::{self, Value};
use crate::core::net::percent::form_encode;
use crate::core::secrets::secret::{Secret, SecretBuf};
use alloc::string::String;

pub(crate) const IAM_PUBLIC: &str = "https://iam.cloud.ibm.com";
pub(crate) const IAM_PRIVATE: &str = "https://private.iam.cloud.ibm.com";
pub(crate) const IAM_TEST: &str = "https://iam.test.cloud.ibm.com";

/// The IAM base URL: the override if given; else the test IAM for a host
/// containing `.test.`; else private IAM for a host starting with `private.`
/// or containing `.private.`; else public IAM.
pub(crate) fn endpoint<'a>(override_url: Option<&'a str>, instance_host: &str) -> &'a str {
    if let Some(u) = override_url {
        return u.trim_end_matches('/');
    }
    let host = instance_host.to_ascii_lowercase();
    if host.contains(".test.") {
        IAM_TEST
    } else if host.starts_with("private.") || host.contains(".private.") {
        IAM_PRIVATE
    } else {
        IAM_PUBLIC
    }
}

/// A trusted profile, by ID (`Profile-…`) or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Profile {
    Id(String),
    Name(String),
}

impl Profile {
    pub(crate) fn from_setting(value: &str) -> Profile {
        if value.starts_with("Profile-") {
            Profile::Id(String::from(value))
        } else {
            Profile::Name(String::from(value))
        }
    }
}

/// What is exchanged for a token.
pub(crate) enum Grant<'a> {
    ApiKey(&'a Secret),
    TrustedProfile { cr_token: &'a Secret, profile: &'a Profile },
}

/// The form body of `POST {IAM}/identity/token`.
pub(crate) fn token_form(grant: &Grant<'_>) -> Secret {
    let mut out = SecretBuf::with_capacity(2048);
    match grant {
        Grant::ApiKey(key) => {
            out.push_str("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=");
            form_encode(&mut out, key.expose());
        }
        Grant::TrustedProfile { cr_token, profile } => {
            out.push_str("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Acr-token&cr_token=");
            form_encode(&mut out, cr_token.expose());
            let (key, value) = match profile {
                Profile::Id(v) => ("&profile_id=", v),
                Profile::Name(v) => ("&profile_name=", v),
            };
            out.push_str(key);
            form_encode(&mut out, value);
        }
    }
    out.into_secret()
}

/// An IAM access token and how long it lives.
#[derive(Debug)]
pub(crate) struct IamToken {
    pub(crate) access_token: Secret,
    pub(crate) expires_in: Option<u64>,
}

/// Longest access token accepted (IAM's are a few KiB).
pub(crate) const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// Whether a token can go into an `Authorization: Bearer` header as it is.
/// Checked when the token arrives, before the hook creates anything, rather
/// than failing at the task update afterwards.
pub(crate) fn is_usable_token(t: &str) -> bool {
    (1..=MAX_TOKEN_BYTES).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_graphic())
}

/// Reads `access_token` (and `expires_in`) from the token reply.
pub(crate) fn parse_token_reply(body: &[u8]) -> Result<IamToken, CoreError> {
    let v = json::parse(body)?;
    let access_token = match v.get("access_token") {
        Some(Value::String(s)) if is_usable_token(s.expose()) => s.clone(),
        Some(Value::String(_)) => return Err(CoreError::BadToken),
        _ => return Err(CoreError::ReplyMissing("access_token")),
    };
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.parse().ok(),
        _ => None,
    };
    Ok(IamToken {
        access_token,
        expires_in,
    })
}

/// A token is refreshed when it would expire within this long, in seconds.
pub(crate) const REFRESH_MARGIN_S: u64 = 300;

/// A token's lifetime when IAM's reply does not say (`expires_in`): IAM's
/// usual hour.
pub(crate) const DEFAULT_LIFETIME_S: u64 = 3600;

/// Whether a token had `age_ms` ago is good for the next call: it must not
/// expire (by its `expires_in`) within [`REFRESH_MARGIN_S`]. After a stop
/// only the report still calls out, and a token that has not yet expired is
/// good enough for it: a refresh would spend its short budget.
pub(crate) fn token_still_good(age_ms: u64, expires_in_s: Option<u64>, stopped: bool) -> bool {
    let lifetime_ms = expires_in_s.unwrap_or(DEFAULT_LIFETIME_S).saturating_mul(1000);
    age_ms.saturating_add(REFRESH_MARGIN_S * 1000) < lifetime_ms || (stopped && token_unexpired(age_ms, expires_in_s))
}

/// Whether a token had `age_ms` ago has not expired yet. When its refresh
/// fails (IAM down past its window, or refusing), such a token is still
/// used: giving up would roll back credentials the report could deliver.
pub(crate) fn token_unexpired(age_ms: u64, expires_in_s: Option<u64>) -> bool {
    age_ms < expires_in_s.unwrap_or(DEFAULT_LIFETIME_S).saturating_mul(1000)
}

/// Whether IAM's final status refuses the credential (a 4xx other than
/// 429), rather than IAM being unavailable (a 429 or 5xx that outlasted the
/// window: "check SM_ACCESS_APIKEY" would send the user the wrong way).
pub(crate) fn refused(status: u16) -> bool {
    (400..=499).contains(&status) && status != 429
}

/// IAM's own words for a refusal (`errorCode`, `errorMessage`), for the log.
/// Neither carries the key.
pub(crate) fn error_summary(body: &[u8]) -> Option<String> {
    let v = json::parse(body).ok()?;
    let code = v.get("errorCode").and_then(Value::as_str)?;
    let msg = v.get("errorMessage").and_then(Value::as_str).unwrap_or("");
    let mut s = String::from(code);
    if !msg.is_empty() {
        s.push_str(": ");
        s.push_str(crate::core::job::task_update::clamp_description(msg));
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refreshed_five_minutes_before_it_expires() {
        let min = 60_000;
        // An hour's token: good for 55 minutes.
        assert!(token_still_good(0, Some(3600), false));
        assert!(token_still_good(55 * min - 1, Some(3600), false));
        assert!(!token_still_good(55 * min, Some(3600), false));
        // Without expires_in, an hour is assumed.
        assert!(token_still_good(55 * min - 1, None, false));
        assert!(!token_still_good(55 * min, None, false));
        // A token that lives 5 minutes or less is never good for a later call.
        assert!(!token_still_good(0, Some(300), false));
        assert!(!token_still_good(0, Some(0), false));
        // After a stop, one not yet expired does for the report.
        assert!(token_still_good(59 * min, Some(3600), true));
        assert!(!token_still_good(60 * min, Some(3600), true));
        assert!(token_still_good(0, Some(300), true));
        assert!(!token_still_good(u64::MAX, Some(u64::MAX), false));
        assert!(refused(400) && refused(401) && refused(404));
        assert!(!refused(429) && !refused(500) && !refused(503) && !refused(302));
        // One that failed to refresh does until it expires.
        assert!(token_unexpired(59 * min, Some(3600)) && token_unexpired(0, Some(300)));
        assert!(!token_unexpired(60 * min, Some(3600)) && !token_unexpired(60 * min, None));
    }

    #[test]
    fn endpoint_rules() {
        assert_eq!(endpoint(Some("http://127.0.0.1:9/"), "x.test.y"), "http://127.0.0.1:9");
        assert_eq!(
            endpoint(None, "abc.us-south.secrets-manager.test.appdomain.cloud"),
            IAM_TEST
        );
        assert_eq!(
            endpoint(None, "private.abc.us-south.secrets-manager.appdomain.cloud"),
            IAM_PRIVATE
        );
        assert_eq!(
            endpoint(None, "abc.private.us-south.secrets-manager.appdomain.cloud"),
            IAM_PRIVATE
        );
        assert_eq!(
            endpoint(None, "abc.us-south.secrets-manager.appdomain.cloud"),
            IAM_PUBLIC
        );
        assert_eq!(endpoint(None, "privatebank.example.com"), IAM_PUBLIC);
        // .test. wins over private
        assert_eq!(endpoint(None, "private.abc.test.cloud"), IAM_TEST);
    }

    #[test]
    fn forms() {
        let key = Secret::from("a+b/c=d e");
        assert_eq!(
            token_form(&Grant::ApiKey(&key)).expose(),
            "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=a%2Bb%2Fc%3Dd+e"
        );
        let tok = Secret::from("eyJ.x");
        let p = Profile::from_setting("Profile-1234");
        assert_eq!(
            token_form(&Grant::TrustedProfile {
                cr_token: &tok,
                profile: &p
            })
            .expose(),
            "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Acr-token&cr_token=eyJ.x&profile_id=Profile-1234"
        );
        assert_eq!(Profile::from_setting("my-profile"), Profile::Name("my-profile".into()));
    }

    #[test]
    fn token_reply() {
        let t =
            parse_token_reply(br#"{"access_token":"tok","refresh_token":"not_supported","expires_in":3600}"#).unwrap();
        assert_eq!(t.access_token.expose(), "tok");
        assert_eq!(t.expires_in, Some(3600));
        assert_eq!(
            parse_token_reply(br#"{"token":"x"}"#).unwrap_err(),
            CoreError::ReplyMissing("access_token")
        );
        assert!(matches!(parse_token_reply(b"<html>"), Err(CoreError::Json { .. })));
        for bad in [
            r#""""#,
            r#""a\r\nX-Evil: 1""#,
            r#""tok en""#,
            r#""t\u00e9""#,
            r#""t\u0000""#,
        ] {
            let body = alloc::format!(r#"{{"access_token":{bad}}}"#);
            assert_eq!(
                parse_token_reply(body.as_bytes()).unwrap_err(),
                CoreError::BadToken,
                "{bad}"
            );
        }
        let long = alloc::format!(r#"{{"access_token":"{}"}}"#, "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(parse_token_reply(long.as_bytes()).unwrap_err(), CoreError::BadToken);
        assert_eq!(
            error_summary(br#"{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found."}"#)
                .as_deref(),
            Some("BXNIM0415E: Provided API key could not be found.")
        );
    }
}
