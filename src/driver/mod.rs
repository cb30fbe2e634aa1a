//! The thin I/O layer around the pure core: environment, HTTP, the hook
//! process, signals, logging, and the `run` orchestration that ties them.

pub mod cli;
pub mod files;
pub mod hook;
pub mod http;
pub mod log;
pub mod run;
pub mod signals;
pub mod step;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::vec::Vec;
use zeroize::Zeroize;

/// Environment variables whose values are overwritten when dropped: the
/// job's environment holds the API key, the hook's the resolved secrets.
#[derive(Clone, Default)]
pub struct Vars(pub Vec<(OsString, OsString)>);

impl FromIterator<(OsString, OsString)> for Vars {
    fn from_iter<I: IntoIterator<Item = (OsString, OsString)>>(iter: I) -> Vars {
        Vars(iter.into_iter().collect())
    }
}

impl Drop for Vars {
    fn drop(&mut self) {
        for (_, v) in self.0.iter_mut() {
            std::mem::take(v).into_vec().zeroize();
        }
    }
}

/// The process environment, read once. Variables whose name or value is not
/// UTF-8 are kept for the hook but invisible to the settings.
pub struct Env {
    pub all: Vars,
}

impl Env {
    pub fn from_process() -> Env {
        Env {
            all: std::env::vars_os().collect(),
        }
    }

    pub fn from_pairs<K: Into<OsString>, V: Into<OsString>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env {
            all: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }

    /// The UTF-8 variables.
    pub fn utf8(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.all.0.iter().filter_map(|(k, v)| Some((k.to_str()?, v.to_str()?)))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.utf8().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}
