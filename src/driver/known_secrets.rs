//! The job's one secret registry ([`crate::core::secrets::registry`]). Each source registers
//! a value where it reads it (the environment, IAM, Secrets Manager, the hook's
//! output channel); the log and every task description mask with it. It is
//! process-wide so that no log line or description can be written without it.

use crate::core::job::schema::Schema;
use crate::core::secrets::registry::Registry;
use std::string::String;
use std::sync::{Mutex, MutexGuard};

static KNOWN: Mutex<Registry> = Mutex::new(Registry::new());

fn known() -> MutexGuard<'static, Registry> {
    // A panic while holding the lock leaves a usable registry behind.
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Registers a secret value (its lines and JSON members too).
pub(crate) fn register(value: &str) {
    known().register(value);
}

/// Registers `value` as its class says.
pub(crate) fn register_as(class: crate::core::secrets::classify::Class, value: &str) {
    crate::core::secrets::classify::register(&mut known(), class, value);
}

/// Registers the referenced secrets' fields the environment already holds
/// ([`crate::core::secrets::classify::given_fields`]).
pub(crate) fn register_given_fields(schema: &Schema, env: &crate::driver::Env) {
    for (var, class) in crate::core::secrets::classify::given_fields(schema, |k| env.get(k)) {
        if let Some(v) = env.get(&var) {
            register_as(class, v);
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

/// `text`, cut off at its end, with every known secret masked, including a
/// tail that starts one.
pub(crate) fn mask_cut(text: &str) -> String {
    known().mask_cut(text)
}
