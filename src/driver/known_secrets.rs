//! The job's one secret registry ([`crate::core::secrets::registry`]). Each source registers
//! a value where it reads it (the environment, IAM, Secrets Manager, the hook's
//! output channel); the log and every task description mask with it. It is
//! process-wide so that no log line or description can be written without it.

use crate::core::job::schema::Schema;
use crate::core::secrets::classify::Class;
use crate::core::secrets::registry::Registry;
use std::string::String;
use std::sync::{Mutex, MutexGuard};

static KNOWN: Mutex<Registry> = Mutex::new(Registry::new());

/// The secrets credhook reads for itself, whole: the API key, the CR and
/// IAM tokens, each secret field of a referenced secret. Metadata (a
/// credentials id), never masked with [`KNOWN`], is masked with these: an
/// id never is one of them, unless a hook took it from a reply that echoed
/// the admin token it sent.
static OWN: Mutex<Registry> = Mutex::new(Registry::new());

fn known() -> MutexGuard<'static, Registry> {
    lock(&KNOWN)
}

fn lock(registry: &'static Mutex<Registry>) -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves a usable registry behind.
    registry.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a secret credhook reads for itself: the API key, a token (its
/// lines and JSON members too).
pub(crate) fn register(value: &str) {
    known().register(value);
    lock(&OWN).register_text(value);
}

/// Registers `value` as its class says.
pub(crate) fn register_as(class: Class, value: &str) {
    crate::core::secrets::classify::register(&mut known(), class, value);
}

/// Registers a referenced secret's field as its class says; a secret one
/// is one of the job's own too.
pub(crate) fn register_resolved(class: Class, value: &str) {
    register_as(class, value);
    if class.is_own() {
        lock(&OWN).register_text(value);
    }
}

/// Registers the referenced secrets' fields the environment already holds
/// ([`crate::core::secrets::classify::given_fields`]).
pub(crate) fn register_given_fields(schema: &Schema, env: &crate::driver::Env) {
    for (var, class) in crate::core::secrets::classify::given_fields(schema, |k| env.get(k)) {
        if let Some(v) = env.get(&var) {
            register_resolved(class, v);
        }
    }
}

/// Registers every value the hook wrote to its output channel.
pub(crate) fn register_hook_output(bytes: &[u8], schema: &Schema) {
    crate::core::hook::channel::register_values(bytes, schema, &mut known());
}

/// `text` with every known secret masked.
pub(crate) fn mask(text: &str) -> String {
    known().mask(text)
}

/// Metadata (a credentials, secret or task id): masked only where it holds
/// a secret credhook read for itself ([`OWN`]), never for an output's value.
pub(crate) fn mask_meta(text: &str) -> String {
    lock(&OWN).mask(text)
}

/// `text`, cut off at its end, with every known secret masked, including a
/// tail that starts one.
pub(crate) fn mask_cut(text: &str) -> String {
    known().mask_cut(text)
}
