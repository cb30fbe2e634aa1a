//! Referenced secrets: a Secrets Manager secret read for a `secret_id` input
//! becomes the hook's `SMIN_<NAME>_<FIELD>` variables.

use crate::core::CoreError;
use crate::core::json::{self, Value};
use crate::core::secrets::secret::Secret;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Which reply fields each secret type hands the hook, as (reply field,
/// variable suffix).
fn fields_of(secret_type: &str) -> &'static [(&'static str, &'static str)] {
    const CERT: &[(&str, &str)] = &[
        ("certificate", "CERTIFICATE"),
        ("private_key", "PRIVATE_KEY"),
        ("intermediate", "INTERMEDIATE"),
    ];
    match secret_type {
        "arbitrary" => &[("payload", "PAYLOAD")],
        "username_password" => &[("username", "USERNAME"), ("password", "PASSWORD")],
        "iam_credentials" => &[("api_key", "API_KEY")],
        "imported_cert" | "public_cert" | "private_cert" => CERT,
        "kv" => &[("data", "DATA")],
        "custom_credentials" => &[("credentials_content", "CREDENTIALS")],
        "service_credentials" => &[("credentials", "CREDENTIALS")],
        _ => &[],
    }
}

/// Every variable suffix a secret type may give (`PAYLOAD`, `PASSWORD`, …).
pub(crate) fn field_suffixes() -> impl Iterator<Item = &'static str> {
    [
        "arbitrary",
        "username_password",
        "iam_credentials",
        "imported_cert",
        "kv",
        "custom_credentials",
        "service_credentials",
    ]
    .into_iter()
    .flat_map(fields_of)
    .map(|(_, suffix)| *suffix)
}

/// The variables for input `SMIN_<name>` from a `GET /api/v2/secrets/{id}`
/// reply: `SMIN_<NAME>_TYPE` and the type's fields. Strings are passed intact
/// (certificates keep their newlines); objects as compact JSON.
pub(crate) fn hook_vars(name: &str, reply: &[u8]) -> Result<Vec<(String, Secret)>, CoreError> {
    let v = json::parse(reply)?;
    let secret_type = v
        .get("secret_type")
        .and_then(Value::as_str)
        .ok_or(CoreError::ReplyMissing("secret_type"))?;
    let mut vars = Vec::new();
    vars.push((format!("SMIN_{name}_TYPE"), Secret::from(secret_type)));
    for (field, suffix) in fields_of(secret_type) {
        let value = match v.get(field) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_compact(),
        };
        vars.push((format!("SMIN_{name}_{suffix}"), value));
    }
    Ok(vars)
}

/// Whether the secret in `reply` is in one of `allowed` (the
/// `CREDHOOK_SECRET_GROUPS` ids, compared in any ASCII letter case: group ids
/// are `default` and UUIDs): [`CoreError::GroupNotListed`], [`CoreError::GroupUnknown`],
/// or [`CoreError::Json`] for a reply that is not JSON.
pub(crate) fn check_group(reply: &[u8], allowed: &[String]) -> Result<(), CoreError> {
    let v = json::parse(reply)?;
    match v.get("secret_group_id").and_then(Value::as_str) {
        Some(g) if allowed.iter().any(|a| a.eq_ignore_ascii_case(g)) => Ok(()),
        Some(g) => Err(CoreError::GroupNotListed(
            g.chars()
                .take(64)
                .map(|c| if c.is_ascii_graphic() { c } else { '?' })
                .collect(),
        )),
        None => Err(CoreError::GroupUnknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn vars(reply: &str) -> Vec<(String, String)> {
        hook_vars("DB", reply.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, String::from(v.expose())))
            .collect()
    }

    #[test]
    fn each_type() {
        assert_eq!(
            vars(r#"{"secret_type":"username_password","username":"u","password":"p","id":"x"}"#),
            [
                ("SMIN_DB_TYPE".into(), "username_password".into()),
                ("SMIN_DB_USERNAME".into(), "u".into()),
                ("SMIN_DB_PASSWORD".into(), "p".into())
            ]
        );
        assert_eq!(
            vars(r#"{"secret_type":"kv","data":{ "z": 1, "a": {"b": [true]} }}"#)[1].1,
            r#"{"z":1,"a":{"b":[true]}}"#
        );
        assert_eq!(
            vars(
                r#"{"secret_type":"private_cert","certificate":"-----BEGIN-----\nA\n-----END-----","private_key":"k"}"#
            )[1]
            .1,
            "-----BEGIN-----\nA\n-----END-----"
        );
        assert_eq!(
            vars(r#"{"secret_type":"custom_credentials","credentials_content":{"b":"2","a":"1"}}"#)[1],
            ("SMIN_DB_CREDENTIALS".into(), r#"{"b":"2","a":"1"}"#.into())
        );
        assert_eq!(
            vars(r#"{"secret_type":"service_credentials","credentials":{"apikey":"k"}}"#)[1].0,
            "SMIN_DB_CREDENTIALS"
        );
        assert_eq!(
            vars(r#"{"secret_type":"iam_credentials","api_key":"k"}"#)[1].0,
            "SMIN_DB_API_KEY"
        );
        assert_eq!(vars(r#"{"secret_type":"arbitrary","payload":"hello"}"#)[1].1, "hello");
        assert_eq!(vars(r#"{"secret_type":"something_new"}"#).len(), 1);
    }

    #[test]
    fn groups() {
        let allowed = [String::from("default"), String::from("g-1")];
        let reply = |g: &str| format!(r#"{{"secret_type":"arbitrary","payload":"p","secret_group_id":{g}}}"#);
        assert_eq!(check_group(reply("\"g-1\"").as_bytes(), &allowed), Ok(()));
        assert_eq!(check_group(reply("\"default\"").as_bytes(), &allowed), Ok(()));
        assert_eq!(check_group(reply("\"G-1\"").as_bytes(), &allowed), Ok(()), "any case");
        assert_eq!(
            check_group(reply("\"g-2\"").as_bytes(), &allowed),
            Err(CoreError::GroupNotListed("g-2".into()))
        );
        assert_eq!(
            check_group(reply("\"evil\\nline\"").as_bytes(), &allowed),
            Err(CoreError::GroupNotListed("evil?line".into()))
        );
        assert_eq!(
            check_group(reply("null").as_bytes(), &allowed),
            Err(CoreError::GroupUnknown)
        );
        assert_eq!(
            check_group(br#"{"secret_type":"arbitrary"}"#, &allowed),
            Err(CoreError::GroupUnknown)
        );
        let e = CoreError::GroupNotListed("other".into()).to_string();
        assert!(
            e.starts_with("is in secret group `other`, which CREDHOOK_SECRET_GROUPS"),
            "{e}"
        );
    }

    #[test]
    fn bad_replies() {
        assert_eq!(
            hook_vars("X", br#"{"payload":"p"}"#).unwrap_err(),
            CoreError::ReplyMissing("secret_type")
        );
        assert!(hook_vars("X", b"{").is_err());
    }
}
