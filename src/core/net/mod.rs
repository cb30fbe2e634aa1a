//! The network's rules: URLs and their encoding, the retry and delivery
//! policy, the egress allowlist, IAM, and Secrets Manager's API paths.

pub(crate) mod api;
pub(crate) mod http_allow;
pub(crate) mod iam;
pub(crate) mod percent;
pub(crate) mod retry;
pub(crate) mod url;
