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
// Without `std` nothing calls the core: that build only proves it is
// `no_std` (CI builds it for a bare-metal target), so unused items are
// expected there; the `std` build reports dead code.
#![cfg_attr(not(feature = "std"), allow(dead_code, unused_imports))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod core;

#[cfg(feature = "std")]
pub mod cli;
#[cfg(feature = "std")]
mod driver;

#[doc(hidden)]
pub mod fuzzing;

/// A `job_config.json` as its `(name, value)` pairs (the tests read the
/// example providers' configs with it). The crate's public edge: the error
/// is the sentence `credhook check` prints, not the core's private type.
pub fn parse_job_config(
    bytes: &[u8],
) -> Result<alloc::vec::Vec<(alloc::string::String, alloc::string::String)>, alloc::string::String> {
    crate::core::job::job_config::parse(bytes).map_err(|e| alloc::string::ToString::to_string(&e))
}

/// The crate version, for `--version` and the first log line.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
