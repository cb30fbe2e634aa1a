//! The Secrets Manager and IAM calls credhook makes: their URLs and what a
//! refusal means to the user.

use crate::core::net::percent::path_segment;
use alloc::format;
use alloc::string::String;

/// `POST {iam}/identity/token`.
pub(crate) fn token_url(iam_url: &str) -> String {
    format!("{}/identity/token", iam_url.trim_end_matches('/'))
}

/// `GET {instance}/api/v2/secrets/{id}`: a referenced secret.
pub(crate) fn secret_url(instance_url: &str, secret_id: &str) -> String {
    format!(
        "{}/api/v2/secrets/{}",
        instance_url.trim_end_matches('/'),
        path_segment(secret_id)
    )
}

/// `PUT {instance}/api/v2/secrets/{secret}/tasks/{task}`: the task update.
pub(crate) fn task_url(instance_url: &str, secret_id: &str, task_id: &str) -> String {
    format!(
        "{}/api/v2/secrets/{}/tasks/{}",
        instance_url.trim_end_matches('/'),
        path_segment(secret_id),
        path_segment(task_id)
    )
}

/// What to do when a referenced secret could not be read with `status`
/// (None: no reply at all).
pub(crate) fn secret_read_hint(status: Option<u16>) -> &'static str {
    match status {
        Some(404) => "check that the secret exists",
        Some(401 | 403) => "give the job's service ID the SecretsReader role on the secret's group",
        _ => "the job will try again at the next task",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            token_url("https://iam.cloud.ibm.com"),
            "https://iam.cloud.ibm.com/identity/token"
        );
        assert_eq!(
            task_url("https://x.example/", "s 1", "t/2"),
            "https://x.example/api/v2/secrets/s%201/tasks/t%2F2"
        );
        assert_eq!(
            secret_url("https://x.example", "a-b_c.d~e"),
            "https://x.example/api/v2/secrets/a-b_c.d~e"
        );
    }

    #[test]
    fn hints() {
        assert!(secret_read_hint(Some(403)).contains("SecretsReader"));
        assert!(secret_read_hint(None).contains("next task"));
    }
}
