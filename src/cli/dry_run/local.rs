//! The Secrets Manager a dry run talks to: no IAM, the secrets `--secret`
//! gave, and task updates printed instead of sent.

use super::super::CliError;
use crate::core::hook::channel::Typed;
use crate::core::job::flow::{Event, Update};
use crate::core::job::inputs::is_uuid;
use crate::core::json::{self, Value};
use crate::core::secrets::classify;
use crate::core::secrets::secret::Secret;
use crate::driver;
use crate::driver::job::Platform;
use crate::driver::known_secrets;
use crate::driver::log::Log;
use std::format;
use std::println;
use std::string::{String, ToString};
use std::vec::Vec;
use zeroize::Zeroizing;

/// A `--secret` as the dry run serves it.
pub(crate) struct LocalSecret {
    /// The input it resolves (`LOGIN_SECRET_ID`).
    pub(crate) input: String,
    /// Its id: the file's `id` when that is a UUID, else made up.
    pub(crate) id: String,
    pub(crate) body: Zeroizing<Vec<u8>>,
}

/// Checks that `body` is a secret as `GET /api/v2/secrets/{id}` returns it
/// (an object with a `secret_type`), and finds its id. `n`: which
/// `--secret` this is, for a made-up id.
pub(crate) fn local_secret(input: String, body: Zeroizing<Vec<u8>>, n: usize) -> Result<LocalSecret, CliError> {
    let value = json::parse(&body).map_err(|e| CliError::Failed(format!("is not JSON ({e})")))?;
    if !matches!(value, Value::Object(_)) {
        return Err(CliError::Failed(String::from("is not a JSON object")));
    }
    if value.get("secret_type").and_then(Value::as_str).is_none() {
        return Err(CliError::Failed(String::from(
            "has no `secret_type`; give the secret as GET /api/v2/secrets/{id} returns it, \
             e.g. {\"secret_type\":\"arbitrary\",\"payload\":\"…\"}",
        )));
    }
    let id = match value.get("id").and_then(Value::as_str) {
        Some(id) if is_uuid(id) => id.to_string(),
        _ => format!("00000000-0000-4000-8000-{:012x}", 0x1000 + n),
    };
    Ok(LocalSecret { input, id, body })
}

/// No IAM, `--secret`'s secrets, updates printed.
pub(crate) struct Local<'a> {
    pub(crate) secrets: &'a [LocalSecret],
    /// What a delete is deleting, for its messages.
    pub(crate) credentials_id: Option<&'a str>,
    /// The id a create reported.
    pub(crate) created: Option<String>,
    /// The outputs the job declares public (`CREDHOOK_PUBLIC_OUTPUTS`):
    /// their values are printed.
    pub(crate) public: Vec<String>,
}

impl Platform for Local<'_> {
    fn get_token(&mut self, _log: &Log) -> Result<(), driver::DriverError> {
        Ok(())
    }

    fn hook_token(&self) -> Option<&Secret> {
        None
    }

    fn read_secret(&mut self, _log: &Log, id: &str) -> Result<Zeroizing<Vec<u8>>, driver::DriverError> {
        match self.secrets.iter().find(|s| s.id == id) {
            Some(s) => Ok(s.body.clone()),
            None => Err(driver::DriverError::SecretRead {
                status: Some(404),
                what: format!("no --secret gives secret {id}; pass it with --secret NAME=@FILE"),
            }),
        }
    }

    fn send_update(&mut self, _log: &Log, update: &Update, _body: &Secret, description: Option<&str>) -> Event {
        let description = printable(description.unwrap_or(""));
        match (update, self.credentials_id) {
            (Update::Created(c), _) => {
                print_created(&c.id, &c.payload, &self.public);
                self.created = Some(c.id.clone());
            }
            (Update::Deleted, id) => println!("deleted credentials {}", shown_id(id.unwrap_or(""))),
            (Update::Failed { code, .. }, None) => println!("create failed: {code}: {description}"),
            (Update::Failed { code, .. }, Some(id)) => {
                println!("delete failed: {code}: {description}");
                println!("the credentials {} may remain; delete them by hand", shown_id(id));
            }
        }
        Event::Delivered
    }
}

/// A credentials id as the log shows it: metadata, masked only where it
/// holds a secret credhook read for itself, control and bidirectional
/// characters escaped; nothing else (a `'` or `\\` shown escaped would be
/// read back as another id by `sed -n 's/^created credentials //p'`).
pub(crate) fn shown_id(id: &str) -> String {
    printable(&known_secrets::mask_meta(id))
}

/// `text` with control and bidirectional characters escaped, as the log
/// writes them: a hook's message cannot clear the terminal or set its title.
fn printable(text: &str) -> String {
    let mut out = String::new();
    crate::driver::log::write_escaped(&mut out, text);
    out
}

/// The new credentials' id and outputs, values masked but those of
/// public outputs (which are not registered: masked only where they hold
/// another secret).
fn print_created(id: &str, payload: &[(String, Typed)], public: &[String]) {
    println!("created credentials {}", shown_id(id));
    let width = payload.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, value) in payload {
        let (kind, len) = match value {
            Typed::Str(s) => ("string", s.expose().chars().count()),
            Typed::Int(n) => ("integer", n.to_string().len()),
            Typed::Bool(b) => ("boolean", b.to_string().len()),
        };
        match value {
            Typed::Str(s) if classify::is_public(name, public) => {
                println!(
                    "  {name:<width$}  {kind:<7}  {:?} (public: CREDHOOK_PUBLIC_OUTPUTS)",
                    known_secrets::mask(s.expose())
                );
            }
            _ => println!("  {name:<width$}  {kind:<7}  {len} characters (value masked)"),
        }
    }
}
