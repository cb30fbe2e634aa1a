//! The rules of the hook tools, without I/O: `credhook http` (methods,
//! retries, redirects, `{{NAME}}` expansion) and `credhook json out` (the
//! output lines it writes).

pub(crate) mod expand;
pub(crate) mod http_rules;
pub(crate) mod json_out;
