//! The core's one error type: every fallible function of `src/core/`
//! returns [`CoreError`]. Each variant says *when* it happens; its `Display`
//! says what was wrong and how to fix it, in the words the log, a task's
//! description and the tools' stderr show (tests compare them word for
//! word).
//!
//! A variant per kind of failure that carries data a caller may act on (a
//! JSON position, a URL, a redirect, a reply's field, a hook variable, an
//! output name, a header); a variant carrying the core's own sentence where
//! the core composes one from many small rules and no caller tells them
//! apart (a setting, a declaration, the hook's output protocol, a schema
//! string). Lists of problems (the settings', the schema's, the inputs')
//! are `Vec<CoreError>`. The driver's error ([`crate::driver`]) and the tools'
//! ([`crate::cli`]) wrap this one.

use crate::core::hook::channel::MAX_OUTPUT_BYTES;
use crate::core::hook::environment::{MAX_RESOLVED_BYTES, MAX_VAR_BYTES};
use crate::core::net::http_allow;
use crate::core::net::iam::MAX_TOKEN_BYTES;
use crate::core::net::redirect::MAX_REDIRECTS;
use alloc::boxed::Box;
use alloc::string::String;

use core::fmt;

/// What went wrong in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CoreError {
    // JSON.
    /// A document is not the JSON the reader takes (a reply, stdin of
    /// `credhook json`, a `:=` value): reading stopped at byte `offset`.
    Json { offset: usize, what: &'static str },

    // URLs.
    /// A URL is not `http://…` or `https://…` with a host, or holds
    /// whitespace, control characters or a `user:pass@` part. Holds the
    /// URL as shown (userinfo masked).
    UrlMalformed(String),
    /// `http://` to a host that is not loopback.
    UrlPlainHttp(String),
    /// A base URL (`SM_INSTANCE_URL`, `CREDHOOK_IAM_URL`) with a `?query`
    /// or `#fragment`: paths are appended to it, so it must end at its path.
    UrlNotABase(String),

    // Redirects (names hosts, never paths or queries).
    /// A redirect to `credhook http` without `--location`.
    RedirectNotAsked,
    /// `--location` met a redirect to another scheme (https→http
    /// included), host or port.
    RedirectOtherOrigin(String),
    /// A redirect's `Location` is missing or unusable.
    RedirectBadLocation,
    /// `--location` met more than [`MAX_REDIRECTS`] redirects.
    RedirectTooMany,
    /// `CREDHOOK_HTTP_ALLOW` leaves out the redirect's host (named).
    RedirectNotAllowed(String),
    /// A 3xx to a call that never follows one (credhook's own); only the
    /// `Location`'s host is kept (its path or query could carry anything).
    RedirectNeverFollowed { status: u16, location_host: Option<String> },

    // Replies of IAM and Secrets Manager.
    /// A reply lacks a string field credhook needs.
    ReplyMissing(&'static str),
    /// IAM's access token cannot be sent as a bearer header: empty, longer
    /// than [`MAX_TOKEN_BYTES`], or not printable ASCII without spaces.
    BadToken,
    /// `CREDHOOK_SECRET_GROUPS` is set and a referenced secret's reply
    /// names no `secret_group_id`: it cannot be checked.
    GroupUnknown,
    /// A referenced secret is in a group `CREDHOOK_SECRET_GROUPS` leaves
    /// out (shown: at most 64 visible ASCII characters).
    GroupNotListed(String),
    /// The task's own secret (`CREDHOOK_PREVIOUS_CREDENTIALS`) is of
    /// another type: the job is not its provider.
    NotCustomCredentials(String),
    /// The task's own secret's `credentials_content` is neither an object
    /// nor null.
    PreviousNotAnObject,

    // The job: settings, schema, inputs, job_config.json.
    /// A setting of the job's environment is missing or invalid; `what`
    /// is the core's sentence about it.
    Setting { var: &'static str, what: String },
    /// `CREDHOOK_HTTP_ALLOW` cannot be read as a list of hosts; `what`
    /// names every broken entry.
    HttpAllow(String),
    /// A schema string (`type:…, required:…`) is broken; the sentence says
    /// which attribute and how to fix it.
    Schema(String),
    /// A `SMIN_`/`SMOUT_` declaration (or `CREDHOOK_PUBLIC_OUTPUTS`) is
    /// broken: `var` and the core's sentence.
    Declaration { var: String, what: String },
    /// `CREDHOOK_PUBLIC_OUTPUTS` names something that is not an output.
    PublicOutputs(String),
    /// A required input has no value.
    InputRequired { input: String, var: String },
    /// An input's value does not fit its type.
    Input { input: String, error: Box<CoreError> },
    /// A value does not fit its type: what it must be, and (at most 64
    /// characters of) what it is.
    InputValue { expected: String, got: String },
    /// A job config is not JSON.
    ConfigNotJson { offset: usize, what: &'static str },
    /// A job config has no `job_env_variables` array.
    ConfigShape,
    /// A job config's `job_env_variables[i]` lacks a string name or value.
    ConfigEntry(usize),
    /// A task timeout (`--task-timeout`) that is not a duration.
    DurationMalformed(String),
    /// A task timeout outside the 5 minutes to 24 hours Secrets Manager
    /// accepts.
    DurationOutOfRange(String),
    /// `--hook-timeout` outside 1 to 86400 seconds.
    HookTimeoutRange(u64),
    /// The hook timeout is not below the task timeout.
    HookTimeoutNotBelowTask { hook_s: u64, task_s: u64 },
    /// The hook timeout plus the retry windows is not below the task
    /// timeout: a run that rides out an outage would outlive its task.
    RetryBudgetNotBelowTask {
        hook_s: u64,
        budget_s: u64,
        iam_window_s: u64,
        window_s: u64,
        task_s: u64,
    },
    /// `--http-timeout` outside 1 to 3600 seconds.
    HttpTimeoutRange(u64),
    /// `--cpu` or `--memory` is not a number like `0.125` or `0.25G`.
    ResourceMalformed { flag: &'static str, value: String },

    // The hook.
    /// The hook wrote more than [`MAX_OUTPUT_BYTES`] to its output channel.
    HookOutputTooLarge,
    /// The hook's output breaks the protocol or the schema; the sentence
    /// names the line and the name, never a value.
    HookOutput(String),
    /// A variable for the hook holds a NUL, which no environment variable
    /// can carry.
    HookVarNul(String),
    /// A variable for the hook is longer than the kernel passes.
    HookVarTooLong { var: String, bytes: usize },
    /// The referenced secrets together are more than the hook's
    /// environment may take.
    HookEnvTooLarge(usize),

    // The hook tools.
    /// `{{NAME}}` names a variable that is unset or empty.
    ExpandUnset(String),
    /// `{{NAME}}` names a variable whose value is not UTF-8.
    ExpandNotUtf8(String),
    /// An output name is not `[A-Za-z0-9_]+`.
    OutputBadName(String),
    /// An output's value has a carriage return at a line end, which the
    /// protocol's reader would drop.
    OutputCarriageReturn(String),
    /// An output's value holds a NUL.
    OutputNul(String),
    /// A `credhook json` path does not follow the grammar.
    Path { path: String, what: &'static str },
    /// A `credhook json build` field has no `=` (its first 40 characters).
    FieldNoEquals(String),
    /// A `credhook json build` field has an empty key.
    FieldEmptyKey,
    /// A `credhook json build` key is given twice.
    FieldTwice(String),
    /// A `credhook json build` field's `{{NAME}}` cannot be expanded.
    FieldExpand { key: String, error: Box<CoreError> },
    /// A `credhook json build` `:=` value is not JSON.
    FieldNotJson {
        key: String,
        offset: usize,
        what: &'static str,
    },
    /// `credhook http --ok` holds something that is not a status.
    OkList { list: String, item: String },
    /// A `-H` value has no `:`.
    HeaderNoColon,
    /// A `-H` name is not an HTTP header name.
    HeaderName,
    /// `-H` sets a header that frames the request.
    HeaderFraming,
    /// A header value holds a line break or NUL once expanded.
    HeaderValueLineBreak,
    /// A header value holds another control character once expanded.
    HeaderValueControl,
}

impl CoreError {
    /// The variable a setting's or declaration's problem is about.
    pub(crate) fn variable(&self) -> Option<&str> {
        match self {
            CoreError::Setting { var, .. } => Some(var),
            CoreError::Declaration { var, .. } => Some(var),
            _ => None,
        }
    }
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each group writes its own variants and passes on the others.
        net(self, f)
            .or_else(|| reply(self, f))
            .or_else(|| job(self, f))
            .or_else(|| job_settings(self, f))
            .or_else(|| hook(self, f))
            .or_else(|| tool(self, f))
            .or_else(|| tool_fields(self, f))
            .unwrap_or(Ok(()))
    }
}

fn net(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::Json { offset, what } => write!(f, "malformed JSON at byte {offset}: {what}"),
        CoreError::UrlMalformed(u) => write!(
            f,
            "`{u}` is not an absolute https:// URL with a host (no spaces, control characters \
             or user:password@ part)"
        ),
        CoreError::UrlPlainHttp(u) => write!(
            f,
            "`{u}` uses http://, which is only allowed to a loopback host \
             (127.0.0.0/8, ::1, localhost); use https://"
        ),
        CoreError::UrlNotABase(u) => write!(
            f,
            "`{u}` has a ?query or #fragment; give the base URL only, e.g. https://<host>"
        ),
        CoreError::RedirectNotAsked => {
            f.write_str("redirect refused; add --location to follow redirects to the same scheme and host")
        }
        CoreError::RedirectOtherOrigin(to) => write!(
            f,
            "redirect to {to} refused; --location follows redirects only to the same scheme, host and port"
        ),
        CoreError::RedirectBadLocation => f.write_str("redirect refused: its Location header is missing or not a URL"),
        CoreError::RedirectTooMany => write!(f, "redirect refused: more than {MAX_REDIRECTS} redirects"),
        CoreError::RedirectNotAllowed(host) => write!(
            f,
            "redirect to {host} refused: it is not in {}, the hosts this job may call",
            http_allow::SETTING
        ),
        CoreError::RedirectNeverFollowed { status, location_host } => match location_host {
            Some(h) => write!(
                f,
                "http status {status}, a redirect to host `{h}`, which is not followed; configure the final address"
            ),
            None => write!(
                f,
                "http status {status}, a redirect without a usable Location, which is not followed; configure the \
                 final address"
            ),
        },
        _ => return None,
    })
}

fn reply(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::ReplyMissing(field) => write!(f, "the reply has no string field `{field}`"),
        CoreError::BadToken => write!(
            f,
            "its access_token is not a usable bearer token (printable ASCII without spaces, at most {MAX_TOKEN_BYTES} bytes)"
        ),
        CoreError::GroupUnknown => {
            f.write_str("could not be checked against CREDHOOK_SECRET_GROUPS: the reply names no secret_group_id")
        }
        CoreError::GroupNotListed(g) => write!(
            f,
            "is in secret group `{g}`, which CREDHOOK_SECRET_GROUPS does not list; name a secret in one of \
             the job's groups (the job's owner sets CREDHOOK_SECRET_GROUPS)"
        ),
        CoreError::NotCustomCredentials(t) => write!(f, "it is a `{t}` secret, not custom_credentials"),
        CoreError::PreviousNotAnObject => f.write_str("its credentials_content is not a JSON object"),
        _ => return None,
    })
}

fn job(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::Setting { var, what } => write!(f, "{var}: {what}"),
        CoreError::HttpAllow(what) => write!(f, "{} {what}", http_allow::SETTING),
        CoreError::Schema(what) | CoreError::PublicOutputs(what) => f.write_str(what),
        CoreError::Declaration { var, what } => write!(f, "{var}: {what}"),
        CoreError::InputRequired { input, var } => {
            write!(f, "input `{input}` is required but has no value; set SM_{var}_VALUE")
        }
        CoreError::Input { input, error } => write!(f, "input `{input}` {error}"),
        CoreError::InputValue { expected, got } => write!(f, "must be {expected}, got `{got}`"),
        CoreError::ConfigNotJson { offset, what } => {
            write!(f, "malformed JSON at byte {offset}: {what}; the file must be JSON")
        }
        CoreError::ConfigShape => f.write_str(
            "no `job_env_variables` array; the file must look like {\"job_env_variables\":[{\"name\":\"SMIN_…\",\"value\":\"type:string\"}]}",
        ),
        CoreError::ConfigEntry(i) => write!(f, "job_env_variables[{i}] needs a string `name` and a string `value`"),
        _ => return None,
    })
}

fn job_settings(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::DurationMalformed(text) => write!(
            f,
            "`{text}` is not a duration; write seconds, or a number with s, m or h (e.g. 10m)"
        ),
        CoreError::DurationOutOfRange(text) => write!(
            f,
            "`{text}` is outside what Secrets Manager accepts for task_timeout: 5m to 24h"
        ),
        CoreError::HookTimeoutRange(s) => write!(
            f,
            "--hook-timeout {s} must be a whole number of seconds from 1 to 86400"
        ),
        CoreError::HookTimeoutNotBelowTask { hook_s, task_s } => write!(
            f,
            "CREDHOOK_HOOK_TIMEOUT ({hook_s} s) is not below the task timeout ({task_s} s): Secrets Manager would give up on the task while the hook runs; raise the configuration's task_timeout (--task-timeout) or lower CREDHOOK_HOOK_TIMEOUT (--hook-timeout)"
        ),
        CoreError::RetryBudgetNotBelowTask {
            hook_s,
            budget_s,
            iam_window_s,
            window_s,
            task_s,
        } => write!(
            f,
            "CREDHOOK_HOOK_TIMEOUT ({hook_s} s) plus credhook's retry windows ({budget_s} s: \
             CREDHOOK_IAM_RETRY_WINDOW {iam_window_s} s and twice CREDHOOK_RETRY_WINDOW {window_s} s) is not below the task timeout \
             ({task_s} s): a run that rides out an outage would outlive its task; raise the configuration's task_timeout \
             (--task-timeout), or lower CREDHOOK_HOOK_TIMEOUT (--hook-timeout) or the windows"
        ),
        CoreError::HttpTimeoutRange(s) => {
            write!(f, "--http-timeout {s} must be a whole number of seconds from 1 to 3600")
        }
        CoreError::ResourceMalformed { flag, value } => {
            write!(f, "{flag} `{value}` is not a number like 0.125 (cpu) or 0.25G (memory)")
        }
        _ => return None,
    })
}

fn hook(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::HookOutputTooLarge => write!(
            f,
            "the hook wrote more than {MAX_OUTPUT_BYTES} bytes to $CREDHOOK_OUTPUT; write only the id and the outputs there"
        ),
        CoreError::HookOutput(what) => f.write_str(what),
        CoreError::HookVarNul(var) => write!(
            f,
            "`{var}` holds a NUL character, which no environment variable can carry"
        ),
        CoreError::HookVarTooLong { var, bytes } => write!(
            f,
            "`{var}` would be {bytes} bytes, more than the {MAX_VAR_BYTES} an environment variable may hold"
        ),
        CoreError::HookEnvTooLarge(total) => write!(
            f,
            "the referenced secrets would take {total} bytes of the hook's environment, more than {MAX_RESOLVED_BYTES}"
        ),
        _ => return None,
    })
}

fn tool(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::ExpandUnset(n) => write!(
            f,
            "`{{{{{n}}}}}` names the environment variable {n}, which is unset or empty; set it, or remove the reference"
        ),
        CoreError::ExpandNotUtf8(n) => write!(f, "`{{{{{n}}}}}`: the value of {n} is not UTF-8 text"),
        CoreError::OutputBadName(n) => write!(f, "`{n}` is not a valid output name; names are letters, digits and `_`"),
        CoreError::OutputCarriageReturn(n) => write!(
            f,
            "the value for `{n}` has a carriage return at a line end, which the hook output protocol cannot carry; strip it (e.g. with `tr -d '\\r'`) or base64-encode the value"
        ),
        CoreError::OutputNul(n) => write!(
            f,
            "the value for `{n}` holds a NUL character (\\u0000), which no environment variable can carry; reject the reply or base64-encode the value"
        ),
        CoreError::Path { path, what } => write!(
            f,
            "path `{path}`: {what}; write `.`, `.key`, `.\"key with.dots\"`, `.list[0]` or a chain of them"
        ),
        _ => return None,
    })
}

/// How `credhook json build` fields are written, for its messages.
const FORMS: &str = "write `key=text`, `key:=json`, `key?=text` or `key?:=json`";

fn tool_fields(e: &CoreError, f: &mut fmt::Formatter<'_>) -> Option<fmt::Result> {
    Some(match e {
        CoreError::FieldNoEquals(field) => write!(f, "field `{field}` has no `=`; {FORMS}"),
        CoreError::FieldEmptyKey => write!(f, "a field has an empty key; {FORMS}"),
        CoreError::FieldTwice(key) => write!(f, "key `{key}` is given twice; give each key once"),
        CoreError::FieldExpand { key, error } => write!(f, "key `{key}`: {error}"),
        CoreError::FieldNotJson { key, offset, what } => write!(
            f,
            "key `{key}`: the `:=` value is not JSON (malformed JSON at byte {offset}: {what}); use `{key}=…` for a string"
        ),
        CoreError::OkList { list, item } => write!(
            f,
            "--ok `{list}`: `{item}` is not an HTTP status; list statuses like `--ok 404` or `--ok 404,409`"
        ),
        CoreError::HeaderNoColon => {
            f.write_str("a -H value has no `:`; write 'Name: value' (e.g. 'Authorization: Bearer {{TOKEN}}')")
        }
        CoreError::HeaderName => f.write_str(
            "a -H name is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~, before the `:`)",
        ),
        CoreError::HeaderFraming => f.write_str(
            "-H cannot set Content-Length, Transfer-Encoding or Host: credhook sets it from the body and the URL",
        ),
        CoreError::HeaderValueLineBreak => {
            f.write_str("its value holds a line break or NUL once expanded; a header value is one line")
        }
        CoreError::HeaderValueControl => {
            f.write_str("its value holds a control character once expanded; only text, spaces and tabs can be sent")
        }
        _ => return None,
    })
}

#[cfg(feature = "std")]
impl std::error::Error for CoreError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn nested_errors_keep_their_words() {
        let e = CoreError::Input {
            input: "port".into(),
            error: Box::new(CoreError::InputValue {
                expected: "a whole number that fits in 64 bits".into(),
                got: "x".into(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "input `port` must be a whole number that fits in 64 bits, got `x`"
        );
        let e = CoreError::FieldExpand {
            key: "k".into(),
            error: Box::new(CoreError::ExpandUnset("N".into())),
        };
        assert!(
            e.to_string()
                .starts_with("key `k`: `{{N}}` names the environment variable N")
        );
        assert_eq!(
            CoreError::Setting {
                var: "X",
                what: "is bad".into()
            }
            .variable(),
            Some("X")
        );
        assert_eq!(CoreError::BadToken.variable(), None);
    }

    #[test]
    fn an_error_stays_small() {
        // Moved through every `Result` of the core: a few words, not a page.
        assert!(
            core::mem::size_of::<CoreError>() <= 64,
            "{}",
            core::mem::size_of::<CoreError>()
        );
    }
}
