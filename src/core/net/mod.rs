//! The network's rules: URLs and their encoding, methods, each call's
//! policy as data (retries, redirects, limits), what became of a request
//! (delivery), the egress allowlist, IAM, and Secrets Manager's API paths.

pub(crate) mod api;
pub(crate) mod delivery;
pub(crate) mod http_allow;
pub(crate) mod iam;
pub(crate) mod method;
pub(crate) mod percent;
pub(crate) mod policy;
pub(crate) mod redirect;
pub(crate) mod retry;
pub(crate) mod url;
