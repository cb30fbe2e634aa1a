//! The `no_std` core: every rule and decision of credhook that needs no I/O.
//! The driver performs what the core decides; nothing here reads the
//! environment, the clock, a file or a socket.
//!
//! - [`job`]: the task: settings, schema, inputs, the flow, task updates;
//! - [`hook`]: the hook's environment, clock, output channel and verdict;
//! - [`secrets`]: the zeroizing types, the registry, referenced secrets;
//! - [`net`]: URLs, the retry and delivery policy, IAM, Secrets Manager's API;
//! - [`json`]: the zeroizing JSON reader, paths and the builder;
//! - [`tools`]: the rules of the hook tools `credhook http` and `credhook json`;
//! - [`CoreError`]: what went wrong, for every fallible function here.

pub(crate) mod error;
pub(crate) mod hook;
pub(crate) mod job;
pub(crate) mod json;
pub(crate) mod net;
pub(crate) mod secrets;
pub(crate) mod time;
pub(crate) mod tools;

pub(crate) use error::CoreError;
