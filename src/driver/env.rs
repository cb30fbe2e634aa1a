//! The process environment, read once into a zeroizing snapshot: what the
//! settings read and what the hook is given.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::string::String;
use std::vec::Vec;
use zeroize::Zeroize;

/// Environment variables whose values are overwritten when dropped: the
/// job's environment holds the API key, the hook's the resolved secrets.
#[derive(Clone, Default)]
pub(crate) struct Vars(pub Vec<(OsString, OsString)>);

impl FromIterator<(OsString, OsString)> for Vars {
    fn from_iter<I: IntoIterator<Item = (OsString, OsString)>>(iter: I) -> Vars {
        Vars(iter.into_iter().collect())
    }
}

impl Vars {
    /// Removes every variable named `name`, zeroizing the values.
    pub(crate) fn remove(&mut self, name: &OsStr) {
        let mut i = 0;
        while i < self.0.len() {
            if self.0[i].0 == name {
                let (_, v) = self.0.remove(i);
                v.into_vec().zeroize();
            } else {
                i += 1;
            }
        }
    }

    /// Sets `name` to `value` once, zeroizing any earlier value.
    pub(crate) fn set(&mut self, name: OsString, value: OsString) {
        self.remove(&name);
        self.0.push((name, value));
    }
}

impl Drop for Vars {
    fn drop(&mut self) {
        for (_, v) in self.0.iter_mut() {
            std::mem::take(v).into_vec().zeroize();
        }
    }
}

/// The process environment, read once: one snapshot, one rule. A name set
/// twice keeps its last value everywhere (settings, log, masking, the hook),
/// and a duplicated name that credhook reads (`SM_*`, `SMIN_*`, `SMOUT_*`,
/// `CREDHOOK_*`) is recorded in `duplicates`: `run` refuses such an
/// environment. Variables whose name or value is not UTF-8 are kept for the
/// hook but invisible to the settings.
pub(crate) struct Env {
    pub(crate) all: Vars,
    /// Index of each UTF-8 name in `all`.
    index: HashMap<String, usize>,
    /// Names credhook reads that were set more than once, sorted.
    pub(crate) duplicates: Vec<String>,
}

impl Env {
    pub(crate) fn new(vars: Vars) -> Env {
        let mut vars = vars;
        let mut last: HashMap<OsString, usize> = HashMap::with_capacity(vars.0.len());
        let mut dup_names = std::collections::BTreeSet::new();
        for (i, (k, _)) in vars.0.iter().enumerate() {
            if last.insert(k.clone(), i).is_some()
                && let Some(name) = k.to_str()
                && ["SM_", "SMIN_", "SMOUT_", "CREDHOOK_"]
                    .iter()
                    .any(|p| name.starts_with(p))
            {
                dup_names.insert(String::from(name));
            }
        }
        if last.len() != vars.0.len() {
            let keep: Vec<bool> = (0..vars.0.len()).map(|i| last.get(&vars.0[i].0) == Some(&i)).collect();
            // Earlier values of a name are wiped before they are dropped.
            for (i, (_, v)) in vars.0.iter_mut().enumerate() {
                if !keep[i] {
                    std::mem::take(v).into_vec().zeroize();
                }
            }
            let mut i = 0;
            vars.0.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        let index = vars
            .0
            .iter()
            .enumerate()
            .filter_map(|(i, (k, _))| Some((String::from(k.to_str()?), i)))
            .collect();
        Env {
            all: vars,
            index,
            duplicates: dup_names.into_iter().collect(),
        }
    }

    pub(crate) fn from_process() -> Env {
        Env::new(std::env::vars_os().collect())
    }

    #[cfg(test)]
    pub(crate) fn from_pairs<K: Into<OsString>, V: Into<OsString>>(pairs: impl IntoIterator<Item = (K, V)>) -> Env {
        Env::new(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// The UTF-8 variables.
    pub(crate) fn utf8(&self) -> impl Iterator<Item = (&str, &str)> + Clone {
        self.all.0.iter().filter_map(|(k, v)| Some((k.to_str()?, v.to_str()?)))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.index.get(key).and_then(|&i| self.all.0[i].1.to_str())
    }

    /// Whether `key` is set, to any value (`get` is `None` for one that is
    /// not UTF-8).
    pub(crate) fn is_set(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_snapshot_one_rule() {
        let env = Env::from_pairs([
            ("SM_SECRET_TASK_ID", "first"),
            ("PATH", "/bin"),
            ("SM_SECRET_TASK_ID", "second"),
            ("HOME", "/a"),
            ("HOME", "/b"),
        ]);
        assert_eq!(env.get("SM_SECRET_TASK_ID"), Some("second"));
        assert_eq!(env.get("HOME"), Some("/b"));
        assert_eq!(env.utf8().filter(|(k, _)| *k == "SM_SECRET_TASK_ID").count(), 1);
        assert_eq!(env.all.0.len(), 3);
        assert_eq!(env.duplicates, ["SM_SECRET_TASK_ID"]);
    }
}
