//! The four example providers as the tests see them: inputs, calls, outputs,
//! and inputs that must be refused.

use credhook_emulator::vendors::Vendor;

/// The secret holding the admin credential, and one holding garbage.
pub const LOGIN_ID: &str = "7c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e";
pub const BAD_LOGIN_ID: &str = "7c1d2e3f-4a5b-4c6d-8e7f-000000000bad";

pub struct Provider {
    /// examples/<dir>
    pub dir: &'static str,
    pub vendor: Vendor,
    /// Error code prefix: <P>_UNAUTHORIZED, …
    pub prefix: &'static str,
    pub admin: &'static str,
    /// The secret_id input that names the admin credential.
    pub login: &'static str,
    /// The input that holds the vendor's base URL.
    pub url_input: &'static str,
    pub inputs: &'static [(&'static str, &'static str)],
    /// Method and path part of the create call.
    pub create: (&'static str, &'static str),
    pub delete: (&'static str, &'static str),
    /// The member of the create reply that holds the credentials id.
    pub id_member: &'static str,
    /// Payload members a created secret must have.
    pub outputs: &'static [&'static str],
    /// Inputs that must be refused before any call, with the code.
    pub bad: &'static [(&'static str, &'static str, &'static str)],
}

pub const JFROG: Provider = Provider {
    dir: "jfrog",
    vendor: Vendor::Jfrog,
    prefix: "JFROG",
    admin: "eyJ2ZXIiOiIyIn0.jfrog-admin-token_0123456789",
    login: "LOGIN_SECRET_ID",
    url_input: "JFROG_BASE_URL",
    inputs: &[
        ("USERNAME", "ci-bot"),
        ("SCOPE", "applied-permissions/user"),
        ("EXPIRES_IN_SECONDS", "3600"),
        ("REFRESHABLE", "TRUE"),
        ("DESCRIPTION", "CI token for \"builds\" & {{JFROG_ADMIN_TOKEN}}"),
        ("INCLUDE_REFERENCE_TOKEN", "false"),
    ],
    create: ("POST", "/access/api/v1/tokens"),
    delete: ("DELETE", "/access/api/v1/tokens/"),
    id_member: "token_id",
    outputs: &["access_token"],
    bad: &[
        ("JFROG_BASE_URL", "ftp://jfrog.example.com", "JFROG_BAD_INPUT"),
        (
            "JFROG_BASE_URL",
            "https://x.example.com/{{JFROG_ADMIN_TOKEN}}",
            "JFROG_BAD_INPUT",
        ),
        ("EXPIRES_IN_SECONDS", "-5", "JFROG_BAD_INPUT"),
    ],
};

pub const IAM: Provider = Provider {
    dir: "ibm-iam-apikey",
    vendor: Vendor::Iam,
    prefix: "IAM",
    admin: "iamAdminKey_0123456789abcdefABCDEF-xyz",
    login: "APIKEY_SECRET_ID",
    url_input: "URL",
    inputs: &[("SUPPORT_SESSIONS", "true"), ("ACTION_WHEN_LEAKED", "delete")],
    create: ("POST", "/v1/apikeys"),
    delete: ("DELETE", "/v1/apikeys/"),
    id_member: "id",
    outputs: &["apikey", "crn", "iam_id", "account_id"],
    bad: &[
        ("URL", "http://iam.example.com", "IAM_BAD_INPUT"),
        ("IAM_ID", "IBMid 123", "IAM_BAD_INPUT"),
    ],
};

pub const PAGERDUTY: Provider = Provider {
    dir: "pagerduty",
    vendor: Vendor::PagerDuty,
    prefix: "PAGERDUTY",
    admin: "y_NbAkKc66ryYTWUXYEu-pd-rest-key",
    login: "LOGIN_SECRET_ID",
    url_input: "API_URL",
    inputs: &[
        ("WEBHOOK_URL", "https://hooks.example.com/pagerduty"),
        ("FILTER_TYPE", "service_reference"),
        ("FILTER_ID", "PSVC123"),
        ("EVENTS", "incident.triggered, incident.resolved"),
    ],
    create: ("POST", "/webhook_subscriptions"),
    delete: ("DELETE", "/webhook_subscriptions/"),
    id_member: "id",
    outputs: &["signing_secret"],
    bad: &[
        ("FILTER_ID", "", "PAGERDUTY_BAD_INPUT"),
        ("WEBHOOK_URL", "http://hooks.example.com/pd", "PAGERDUTY_BAD_INPUT"),
        ("EVENTS", "incident.triggered,$(reboot)", "PAGERDUTY_BAD_INPUT"),
    ],
};

pub const GITLAB: Provider = Provider {
    dir: "gitlab",
    vendor: Vendor::Gitlab,
    prefix: "GITLAB",
    admin: "glpat-AdminToken0123456789xyz",
    login: "LOGIN_SECRET_ID",
    url_input: "GITLAB_URL",
    inputs: &[
        ("PROJECT_ID", "group/sub/project"),
        ("SCOPES", "read_api, read_repository"),
        ("ACCESS_LEVEL", "30"),
        ("EXPIRES_IN_DAYS", "007"),
    ],
    create: ("POST", "/access_tokens"),
    delete: ("DELETE", "/access_tokens/"),
    id_member: "id",
    outputs: &["token"],
    bad: &[
        ("SCOPES", "read_api,root", "GITLAB_BAD_INPUT"),
        ("EXPIRES_IN_DAYS", "400", "GITLAB_BAD_INPUT"),
        ("EXPIRES_IN_DAYS", "0", "GITLAB_BAD_INPUT"),
        ("EXPIRES_IN_DAYS", "-7", "GITLAB_BAD_INPUT"),
        ("PROJECT_ID", "group project", "GITLAB_BAD_INPUT"),
        // A dot segment would be resolved by a proxy or GitLab: another path.
        ("PROJECT_ID", "..", "GITLAB_BAD_INPUT"),
        ("PROJECT_ID", "group/..", "GITLAB_BAD_INPUT"),
        ("PROJECT_ID", "./project", "GITLAB_BAD_INPUT"),
    ],
};

pub const ALL: [&Provider; 4] = [&JFROG, &IAM, &PAGERDUTY, &GITLAB];
