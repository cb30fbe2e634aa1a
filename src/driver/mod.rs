//! The thin I/O layer around the pure core: environment, HTTP, the hook
//! process, signals, logging, and the `run` orchestration that ties them.

#[allow(unsafe_code)] // fork/exec set-up, poll, waitid, kill
pub(crate) mod child;
pub(crate) mod env;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod hook;
pub(crate) mod http;
pub(crate) mod job;
pub(crate) mod known_secrets;
pub(crate) mod log;
#[allow(unsafe_code)] // setrlimit, prctl, getrusage
pub(crate) mod process;
pub(crate) mod secrets_manager;
#[allow(unsafe_code)] // sigaction, the self-pipe, poll
pub(crate) mod signals;
pub(crate) mod token;

pub(crate) use env::{Env, Vars};
pub(crate) use error::DriverError;
