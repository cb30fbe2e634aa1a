//! Before a task's flow can start: the environment it needs to be reported
//! at all. Without its settings (or with variables set twice, or an HTTP
//! client that cannot be built) credhook cannot update the task, so these
//! end it unreported (exit 2) with every problem named for the log.

use crate::core::CoreError;
use crate::core::job::flow::Outcome;
use crate::core::job::settings::{self, Settings};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Why a task cannot start: the problems, as data (each one logged, with
/// the variable it is about).
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unstartable {
    /// Variables credhook reads were set more than once (which value wins
    /// is not something to guess with credentials at stake).
    DuplicateVariables(Vec<String>),
    /// The settings are missing or invalid: one [`CoreError::Setting`] each.
    InvalidSettings(Vec<CoreError>),
    /// The HTTP client could not be set up (`CREDHOOK_CA_FILE`): the
    /// driver's message.
    HttpSetup(String),
}

impl Unstartable {
    /// Every problem, one log line each: the message and the variable it is
    /// about.
    pub(crate) fn problems(&self) -> Vec<(String, String)> {
        match self {
            Unstartable::DuplicateVariables(names) => names
                .iter()
                .map(|name| {
                    let message = format!("invalid environment: {name} is set more than once; set it once");
                    (message, name.clone())
                })
                .collect(),
            Unstartable::InvalidSettings(errors) => errors
                .iter()
                .map(|e| {
                    (
                        format!("invalid environment: {e}"),
                        String::from(e.variable().unwrap_or("")),
                    )
                })
                .collect(),
            Unstartable::HttpSetup(e) => alloc::vec![(e.clone(), String::from("CREDHOOK_CA_FILE"))],
        }
    }

    /// How the task ends.
    pub(crate) fn outcome(&self) -> Outcome {
        let why = match self {
            Unstartable::DuplicateVariables(_) => {
                String::from("the environment is not valid (duplicate variables); the task cannot be updated")
            }
            Unstartable::InvalidSettings(errors) => format!(
                "the environment is not valid ({} problem{}); the task cannot be updated",
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ),
            Unstartable::HttpSetup(_) => String::from("the HTTP client could not be set up"),
        };
        Outcome::NotReported { why, unconfirmed: None }
    }
}

/// The settings, unless the environment cannot be trusted. `duplicates`:
/// the names credhook reads that were set more than once.
pub(crate) fn settings<'a>(
    duplicates: &[String],
    vars: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Settings, Unstartable> {
    if !duplicates.is_empty() {
        return Err(Unstartable::DuplicateVariables(duplicates.to_vec()));
    }
    settings::parse(vars).map_err(Unstartable::InvalidSettings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(&str, &str); 5] = [
        ("SM_ACTION", "create_credentials"),
        ("SM_INSTANCE_URL", "https://x.example"),
        ("SM_SECRET_ID", "s"),
        ("SM_SECRET_TASK_ID", "t"),
        ("SM_ACCESS_APIKEY", "k"),
    ];

    #[test]
    fn duplicates_come_first_then_settings() {
        let e = settings(&[String::from("SM_SECRET_ID")], BASE.iter().copied()).unwrap_err();
        assert_eq!(
            e.problems()[0].0,
            "invalid environment: SM_SECRET_ID is set more than once; set it once"
        );
        assert!(matches!(e.outcome(), Outcome::NotReported { ref why, .. } if why.contains("duplicate variables")));
        let e = settings(&[], BASE[..2].iter().copied()).unwrap_err();
        let problems = e.problems();
        assert_eq!(problems.len(), 3, "{}", problems.len());
        assert!(matches!(e.outcome(), Outcome::NotReported { ref why, .. } if why.contains("(3 problems)")));
        assert!(settings(&[], BASE.iter().copied()).is_ok());
        let e = Unstartable::HttpSetup(String::from("CREDHOOK_CA_FILE `x` cannot be read"));
        assert_eq!(e.problems()[0].1, "CREDHOOK_CA_FILE");
        assert_eq!(e.outcome().exit(), 2);
    }
}
