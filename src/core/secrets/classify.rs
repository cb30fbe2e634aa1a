//! What is secret: one classification, decided where each value enters
//! credhook and used by every subcommand (`run`, `dry-run`, the rollback).
//!
//! | value | class |
//! |---|---|
//! | `SM_ACCESS_APIKEY`, the CR token, every IAM token | secret |
//! | a referenced secret's fields (payload, password, API key, private key, certificate, kv data, credentials content) | secret, every string and number inside a JSON one |
//! | its `secret_type`, a `username_password` secret's `username` | not secret |
//! | a `service_credentials` secret's `credentials` | split by field ([`service_credentials`]) |
//! | the previous version's fields | secret, but those of public outputs, integers and booleans |
//! | every value on the hook's output channel | secret, but the values of outputs named in `CREDHOOK_PUBLIC_OUTPUTS` and integers and booleans of outputs typed so |
//! | the credentials id, secret, task and version ids, the job's settings | not secret |
//!
//! `CREDHOOK_PUBLIC_OUTPUTS=NAME[,…]` is a job setting (the job's owner's,
//! never the secret's creator's): it names outputs whose values are not
//! secret (a user name, a host). They are still sent to Secrets Manager, but
//! are neither registered nor masked.

use crate::core::CoreError;
use crate::core::job::schema::{Kind, Schema};
use crate::core::json::{self, Value};
use crate::core::secrets::referenced;
use crate::core::secrets::registry::Registry;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The setting that names public outputs.
pub(crate) const PUBLIC_OUTPUTS: &str = "CREDHOOK_PUBLIC_OUTPUTS";

/// How a value is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Public,
    Secret,
    /// IBM Cloud Databases service credentials: secret field by field.
    ServiceCredentials,
}

impl Class {
    /// Whether a referenced secret's field of this class is also one of the
    /// job's own secrets (the API key, the tokens), with which metadata —
    /// a credentials id in a description — is masked: every field but a
    /// public one.
    pub(crate) fn is_own(self) -> bool {
        self != Class::Public
    }
}

/// Registers `value` as its class says.
pub(crate) fn register(registry: &mut Registry, class: Class, value: &str) {
    match class {
        Class::Public => {}
        Class::Secret => registry.register(value),
        Class::ServiceCredentials => service_credentials(registry, value),
    }
}

/// A referenced secret's variable `var` (from
/// [`crate::core::secrets::referenced::hook_vars`]) for a secret of type
/// `secret_type`.
pub(crate) fn resolved(secret_type: &str, var: &str) -> Class {
    // A user name is no secret by type (as in service credentials): a hook
    // may say as whom it failed to log in, or use it as the credentials id.
    if var.ends_with("_TYPE") || (secret_type == "username_password" && var.ends_with("_USERNAME")) {
        Class::Public
    } else if secret_type == "service_credentials" && var.ends_with("_CREDENTIALS") {
        Class::ServiceCredentials
    } else {
        Class::Secret
    }
}

/// The variables of a referenced secret's fields that the job's environment
/// already holds (a local `dry-run`, where `secret_id` inputs are not
/// resolved and the user sets `SMIN_<NAME>_PAYLOAD` and the like, or a job
/// with `CREDHOOK_RESOLVE_SECRETS=false`): each variable, and its class as
/// if credhook had resolved it, `SMIN_<NAME>_TYPE` giving the type.
pub(crate) fn given_fields<'a>(schema: &Schema, env: impl Fn(&str) -> Option<&'a str>) -> Vec<(String, Class)> {
    let mut out = Vec::new();
    for input in schema.inputs.iter().filter(|i| i.kind == Kind::SecretId) {
        let secret_type = env(&format!("SMIN_{}_TYPE", input.name)).unwrap_or("");
        for suffix in referenced::field_suffixes() {
            let var = format!("SMIN_{}_{suffix}", input.name);
            if env(&var).is_some_and(|v| !v.is_empty()) && !out.iter().any(|(v, _)| *v == var) {
                let class = resolved(secret_type, &var);
                out.push((var, class));
            }
        }
    }
    out
}

/// A previous version's field (`credentials_content` member `name`): a
/// string or object is secret unless `name` is a public output.
pub(crate) fn previous(name: &str, is_text: bool, public_outputs: &[String]) -> Class {
    if !is_text || is_public(name, public_outputs) {
        Class::Public
    } else {
        Class::Secret
    }
}

/// Whether output `name` (any case, with or without `SMOUT_`) is in the
/// `CREDHOOK_PUBLIC_OUTPUTS` list (lower-case names).
pub(crate) fn is_public(name: &str, public_outputs: &[String]) -> bool {
    let lower = name.to_ascii_lowercase();
    let name = lower.strip_prefix("smout_").unwrap_or(&lower);
    public_outputs.iter().any(|p| p == name)
}

/// `CREDHOOK_PUBLIC_OUTPUTS`: output names, comma-separated, whitespace
/// around each ignored, with or without `SMOUT_`, any letter case; as
/// lower-case API names; an [`CoreError::PublicOutputs`] for a name that is
/// none.
pub(crate) fn parse_public_outputs(v: &str) -> Result<Vec<String>, CoreError> {
    let mut names = Vec::new();
    for n in v.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(CoreError::PublicOutputs(format!(
                "`{}` is not an output name; list output names (letters, digits and `_`, without SMOUT_), comma-separated",
                n.escape_debug()
            )));
        }
        let lower = n.to_ascii_lowercase();
        let name = lower.strip_prefix("smout_").unwrap_or(&lower);
        if name.is_empty() {
            return Err(CoreError::PublicOutputs(String::from(
                "names `SMOUT_` alone; list output names without SMOUT_",
            )));
        }
        names.push(String::from(name));
    }
    Ok(names)
}

/// A service credentials JSON: registered whole (it holds the password), and
/// each secret field on its own; the public fields are not, so a hook can
/// say which host and port it failed to reach. Anything that is not a JSON
/// object is secret whole.
fn service_credentials(registry: &mut Registry, text: &str) {
    match json::parse(text.as_bytes()) {
        Ok(v @ Value::Object(_)) => {
            registry.register_text(text);
            walk(registry, &v, &mut Vec::new());
        }
        _ => registry.register(text),
    }
}

fn walk<'a>(registry: &mut Registry, v: &'a Value, path: &mut Vec<&'a str>) {
    match v {
        Value::String(s) if !public_field(path) => registry.register(s.expose()),
        Value::Number(n) if !public_field(path) => registry.register_text(n),
        Value::Array(items) => {
            for item in items {
                path.push("[]");
                walk(registry, item, path);
                path.pop();
            }
        }
        Value::Object(members) => {
            for (k, m) in members {
                path.push(k.as_str());
                walk(registry, m, path);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Whether the field at `path` of IBM Cloud Databases service credentials
/// is public (`PROVIDER-APIS.md`): host names, ports, the database, path,
/// scheme, type, query options, authentication method and user name,
/// certificate name and CA certificate, the command-line client's name
/// (`cli.bin`), the instance administration API's ids, CRNs. Secret: passwords, composed URIs, API keys (any name holding
/// `apikey`), and every field not named here.
fn public_field(path: &[&str]) -> bool {
    let secret_word = |k: &&str| {
        let k = k.to_ascii_lowercase();
        k.contains("apikey") || k.contains("password")
    };
    if path.iter().any(secret_word) {
        return false;
    }
    match path {
        ["connection", _, "hosts", "[]", "hostname" | "port"] => true,
        ["connection", _, "database" | "path" | "scheme" | "type"] => true,
        ["connection", _, "query_options", ..] => true,
        ["connection", _, "authentication", "method" | "username"] => true,
        ["connection", _, "certificate", "name" | "certificate_base64"] => true,
        // The command-line client's name: `psql`, `mysql`, `mongo` masked
        // in every line would hide which program failed.
        ["connection", "cli", "bin"] => true,
        ["instance_administration_api", ..] => true,
        [k] => k.ends_with("_crn"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_referenced_field_but_a_public_one_is_the_jobs_own() {
        assert!(!Class::Public.is_own());
        assert!(Class::Secret.is_own());
        assert!(Class::ServiceCredentials.is_own());
    }

    const DB: &str = r#"{"connection":{"postgres":{"authentication":{"method":"direct","password":"Pg-Passw0rd-9x","username":"ibm_cloud_user1"},
        "composed":["postgres://ibm_cloud_user1:Pg-Passw0rd-9x@db-host.databases.example:31045/ibmclouddb?sslmode=verify-full"],
        "database":"ibmclouddb","hosts":[{"hostname":"db-host.databases.example","port":31045}],"path":"/ibmclouddb",
        "query_options":{"sslmode":"verify-full"},"scheme":"postgres","type":"uri",
        "certificate":{"certificate_base64":"LS0tLS1CRUdJTiBDRVJU","name":"cert-name-1234"}},
        "cli":{"arguments":[["host=db-host"]],"bin":"psql","environment":{"PGPASSWORD":"Pg-Passw0rd-9x","PGSSLROOTCERT":"cert-file-x"}}},
        "instance_administration_api":{"deployment_id":"crn:v1:deploy","instance_id":"crn:v1:inst","root":"https://api.example/v5"},
        "apikey":"Svc-Ap1-Key-value","iam_apikey_description":"Auto-generated key","iam_apikey_id":"ApiKey-1234",
        "iam_role_crn":"crn:v1:role:Manager","iam_serviceid_crn":"crn:v1:serviceid-1","unknown_field":"Unkn0wn-value"}"#;

    #[test]
    fn service_credentials_are_split_by_field() {
        let mut r = Registry::default();
        register(&mut r, resolved("service_credentials", "SMIN_DB_CREDENTIALS"), DB);
        let line = "psql: cannot log in to db-host.databases.example:31045/ibmclouddb as ibm_cloud_user1 (direct, \
                    postgres, verify-full, cert-name-1234, LS0tLS1CRUdJTiBDRVJU, crn:v1:role:Manager, https://api.example/v5)";
        assert_eq!(r.mask(line), line);
        for secret in [
            "Pg-Passw0rd-9x",
            "Svc-Ap1-Key-value",
            "ApiKey-1234",
            "Auto-generated key",
            "Unkn0wn-value",
            "cert-file-x",
            "postgres://ibm_cloud_user1:Pg-Passw0rd-9x@db-host.databases.example:31045/ibmclouddb?sslmode=verify-full",
        ] {
            assert_eq!(r.mask(secret), "[REDACTED]", "{secret}");
        }
        assert_eq!(r.mask(&DB.replace('\n', "")), "[REDACTED]");
        // Not an object: secret whole.
        let mut r = Registry::default();
        register(&mut r, Class::ServiceCredentials, r#"["a-Secret-item"]"#);
        assert_eq!(r.mask("a-Secret-item"), "[REDACTED]");
    }

    #[test]
    fn other_secret_types_are_secret_whole() {
        assert_eq!(resolved("kv", "SMIN_DB_DATA"), Class::Secret);
        assert_eq!(resolved("custom_credentials", "SMIN_DB_CREDENTIALS"), Class::Secret);
        assert_eq!(resolved("service_credentials", "SMIN_DB_TYPE"), Class::Public);
        assert_eq!(resolved("username_password", "SMIN_DB_USERNAME"), Class::Public);
        assert_eq!(resolved("username_password", "SMIN_DB_PASSWORD"), Class::Secret);
        assert_eq!(resolved("kv", "SMIN_DB_USERNAME"), Class::Secret);
        assert_eq!(resolved("arbitrary", "SMIN_DB_PAYLOAD"), Class::Secret);
    }

    #[test]
    fn fields_the_environment_already_holds() {
        let env = [
            ("SMIN_LOGIN", "type:secret_id, required:true"),
            ("SMIN_DB", "type:secret_id"),
            ("SMIN_NAME", "type:string"),
            ("SMIN_LOGIN_PAYLOAD", "admin-token"),
            ("SMIN_DB_TYPE", "service_credentials"),
            ("SMIN_DB_CREDENTIALS", "{}"),
            ("SMIN_NAME_PAYLOAD", "not a secret field"),
        ];
        let schema = crate::core::job::schema::from_env(env.iter().copied()).0;
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        assert_eq!(
            given_fields(&schema, get),
            [
                (String::from("SMIN_DB_CREDENTIALS"), Class::ServiceCredentials),
                (String::from("SMIN_LOGIN_PAYLOAD"), Class::Secret)
            ]
        );
    }

    #[test]
    fn public_outputs() {
        let p = parse_public_outputs(" USERNAME, smout_Host ,,port").unwrap();
        assert_eq!(p, ["username", "host", "port"]);
        assert!(is_public("SMOUT_USERNAME", &p) && is_public("host", &p) && !is_public("password", &p));
        assert!(
            alloc::string::ToString::to_string(&parse_public_outputs("user-name").unwrap_err())
                .contains("`user-name` is not an output name")
        );
        assert!(parse_public_outputs("SMOUT_").is_err());
        assert_eq!(previous("username", true, &p), Class::Public);
        assert_eq!(previous("password", true, &p), Class::Secret);
        assert_eq!(previous("password", false, &p), Class::Public);
    }
}
