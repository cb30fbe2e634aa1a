//! credhook: a credentials provider job for IBM Cloud Secrets Manager custom
//! credentials.
//!
//! Secrets Manager starts the job once per secret task. credhook reads the
//! job's environment, exchanges an IAM credential for a token, runs the user's
//! hook (a shell script around the external system's own tooling) to create or
//! delete credentials, and reports the result by updating the secret task.
//!
//! What it deliberately does *not* do: talk to any external system itself, keep
//! state between runs, turn off certificate verification, or hand the API key
//! to the hook.
//!
//! The crate root is `#![no_std]` + `alloc`: every rule of the contract that can
//! be stated without I/O lives here as a pure function (schema, inputs, hook
//! output protocol, task bodies, IAM endpoint choice, redaction, retry policy).
//! The `std` feature adds [`driver`], the thin I/O layer around it.
#![no_std]
// `unsafe` only for system calls, in the driver modules that make them
// (child, signals, process), each block with a `// SAFETY:` line.
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod api;
pub mod expand;
pub mod flow;
pub mod hook_clock;
pub mod hookenv;
pub mod http_allow;
pub mod http_rules;
pub mod iam;
pub mod inputs;
pub mod jobconfig;
pub mod json;
pub mod json_build;
pub mod json_path;
pub mod output_lines;
pub mod outputs;
pub mod percent;
pub mod previous;
pub mod referenced;
pub mod registry;
pub mod retry;
pub mod schema;
pub mod secret;
pub mod settings;
pub mod task;
pub mod time;
pub mod url;
pub mod verdict;

#[cfg(feature = "std")]
pub mod driver;

pub use secret::Secret;

/// The crate version, for `--version` and the first log line.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
