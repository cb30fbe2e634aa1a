//! The rules of `credhook http` that need no I/O: its call policy (which
//! methods and outcomes `--retry` repeats, redirects, limits), how a status
//! becomes an exit status, headers and form encoding.

use crate::core::CoreError;
use crate::core::net::http_allow::Allowlist;
use crate::core::net::policy::{CallPolicy, Limits, Names};
use crate::core::net::redirect::Redirects;
use crate::core::net::retry::{Repeatable, RetryPolicy, RetryStatuses};

use alloc::vec::Vec;
use core::time::Duration;

/// What `credhook http`'s flags say about its call.
pub(crate) struct Flags {
    /// `--retry N`.
    pub(crate) retries: u32,
    /// `--retry-post`, `--retry-any`.
    pub(crate) scope: Repeatable,
    /// `--location`.
    pub(crate) location: bool,
    /// `--ok`.
    pub(crate) ok: Vec<u16>,
    pub(crate) max_time: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_size: usize,
}

/// The call's policy: `--retry` repeats no reply, 429 and 503 (other 5xx
/// mean the server answered, and may have acted) for the methods its scope
/// allows, 500 ms doubling with jitter, each wait at most 30 s (at least
/// `Retry-After`, up to 60 s), at most 120 s of waiting in all, within
/// `--max-time`; redirects as `--location`, `--ok` and `allow`
/// (`CREDHOOK_HTTP_ALLOW`) say; every final status is the reply.
pub(crate) fn policy(f: &Flags, allow: Option<Allowlist>) -> CallPolicy {
    CallPolicy {
        retry: RetryPolicy {
            statuses: RetryStatuses::Unavailable,
            methods: f.scope,
            retries: Some(f.retries),
            window_ms: f.max_time.as_millis() as u64,
            base_ms: 500,
            max_wait_ms: 30_000,
            max_total_wait_ms: Some(120_000),
            after_stop_ms: None,
            last_try_at_window_end: false,
            jitter_retry_after: false,
        },
        redirects: Redirects::SameOrigin {
            follow: f.location,
            replies: f.ok.clone(),
            allow,
        },
        any_status: true,
        status_suffices: false,
    }
}

/// The call's limits: `--connect-timeout` to connect, `--max-time` for
/// everything (retries included), `--max-size` for the body.
pub(crate) fn limits(f: &Flags) -> Limits {
    Limits {
        max_body: f.max_size,
        connect: f.connect_timeout,
        phase: f.max_time,
        attempt: f.max_time,
        deadline: Some(f.max_time),
        names: Names {
            max_body: "--max-size",
            connect: "--connect-timeout",
            reply: "--max-time",
            attempt: "--max-time",
            trust: "--cacert, SSL_CERT_FILE or Mozilla's roots",
        },
    }
}

/// The exit status for a reply: 0 for 2xx or a status the caller listed,
/// 1 for any other status.
pub(crate) fn exit_for_status(status: u16, ok: &[u16]) -> u8 {
    if (200..300).contains(&status) || ok.contains(&status) {
        0
    } else {
        1
    }
}

/// `--ok 404,409`: three-digit statuses, comma-separated.
pub(crate) fn parse_ok_list(s: &str) -> Result<alloc::vec::Vec<u16>, CoreError> {
    s.split(',')
        .map(|c| {
            let c = c.trim();
            match c.parse::<u16>() {
                Ok(n) if (100..=599).contains(&n) && c.len() == 3 => Ok(n),
                _ => Err(CoreError::OkList {
                    list: s.into(),
                    item: c.into(),
                }),
            }
        })
        .collect()
}

/// A `-H 'Name: value'` argument split into its name and (unexpanded)
/// value. The messages never quote the argument: a mistyped header may hold
/// a secret.
pub(crate) fn split_header(arg: &str) -> Result<(&str, &str), CoreError> {
    let (name, value) = arg.split_once(':').ok_or(CoreError::HeaderNoColon)?;
    let name = name.trim();
    // RFC 9110 `token`.
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(CoreError::HeaderName);
    }
    // These frame the request: a wrong one silently drops the body or
    // leaves the server waiting for bytes that never come.
    if ["content-length", "transfer-encoding", "host"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        return Err(CoreError::HeaderFraming);
    }
    Ok((name, value.trim_start_matches([' ', '\t'])))
}

/// Why an (expanded) header value cannot be sent: HTTP allows visible
/// characters, spaces, tabs and non-ASCII bytes, never another control
/// character (a line break would start a header of its own).
pub(crate) fn check_header_value(value: &str) -> Result<(), CoreError> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(CoreError::HeaderValueLineBreak);
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(CoreError::HeaderValueControl);
    }
    Ok(())
}

/// Most bytes of the request line and `-H` headers together: the request
/// head must fit the 20 KiB output buffer with the headers credhook adds.
pub(crate) const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Bytes the request line's target and the `-H` headers take on the wire.
pub(crate) fn request_head_len<'a>(url: &str, headers: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    headers.fold(url.len(), |n, (name, value)| {
        n.saturating_add(name.len() + value.len() + 4)
    })
}

/// Largest `--max-size`: a reply is held in memory.
pub(crate) const MAX_REPLY_SIZE: usize = 64 << 20;

/// Largest `--max-time` and `--connect-timeout`, in seconds: a day.
pub(crate) const MAX_SECONDS: f64 = 86_400.0;

pub(crate) use crate::core::net::percent::form_encode;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::net::method::Method;
    use crate::core::net::retry::{Ended, Next, Progress, decide};
    use crate::core::secrets::secret::SecretBuf;

    fn flags(retries: u32, scope: Repeatable) -> Flags {
        Flags {
            retries,
            scope,
            location: false,
            ok: Vec::new(),
            max_time: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_size: 1 << 20,
        }
    }

    #[test]
    fn what_is_retried_and_for_how_long() {
        let at = |attempt, waited_ms| Progress {
            attempt,
            waited_ms,
            ..Progress::default()
        };
        let p = policy(&flags(2, Repeatable::Idempotent), None);
        let r = |o, ra, attempt| match decide(&p.retry, Method::Get, at(attempt, 0), o, ra, 0) {
            Next::RetryAfterMs(ms) => Some(ms),
            _ => None,
        };
        assert_eq!(r(Ended::Status(503), Some(3), 0), Some(3000));
        assert_eq!(r(Ended::Status(429), Some(600), 0), None, "60 s is past --max-time 60");
        assert_eq!(r(Ended::Status(429), Some(59), 0), Some(59_000));
        assert_eq!(r(Ended::Status(429), None, 0), Some(250));
        assert_eq!(r(Ended::Status(503), None, 2), None, "retries exhausted");
        for s in [200, 204, 301, 400, 404, 409, 500, 502, 504] {
            assert_eq!(r(Ended::Status(s), None, 0), None, "{s}");
        }
        let long = Flags {
            max_time: Duration::from_secs(86_400),
            ..flags(100, Repeatable::Idempotent)
        };
        let p = policy(&long, None);
        let get = |prog, ra, rnd| match decide(&p.retry, Method::Get, prog, Ended::NoReply, ra, rnd) {
            Next::RetryAfterMs(ms) => Some(ms),
            _ => None,
        };
        let none = policy(&flags(0, Repeatable::Idempotent), None);
        assert_eq!(
            decide(&none.retry, Method::Get, at(0, 0), Ended::NoReply, None, 0),
            Next::GiveUp,
            "no retries by default"
        );
        assert!(get(at(30, 0), None, u64::MAX).unwrap() <= 30_000, "each wait is capped");
        assert_eq!(
            get(at(30, 0), Some(45), 0),
            Some(45_000),
            "Retry-After is honoured past the cap"
        );
        assert_eq!(get(at(5, 120_000), None, 0), None, "the total wait is capped");
        // POST and PATCH only when allowed.
        let post = |scope| policy(&flags(2, scope), None).retry;
        let retried = |scope, m| {
            matches!(
                decide(&post(scope), m, at(0, 0), Ended::Unsent, None, 0),
                Next::RetryAfterMs(_)
            )
        };
        assert!(!retried(Repeatable::Idempotent, Method::Post));
        assert!(retried(Repeatable::AlsoPost, Method::Post));
        assert!(!retried(Repeatable::AlsoPost, Method::Patch));
        assert!(retried(Repeatable::Any, Method::Patch));
    }

    #[test]
    fn limits_name_the_flags() {
        let l = limits(&flags(0, Repeatable::Idempotent));
        assert_eq!(l.deadline, Some(Duration::from_secs(60)));
        assert_eq!((l.names.connect, l.names.reply), ("--connect-timeout", "--max-time"));
    }
    #[test]
    fn statuses_map_to_exit_codes() {
        assert_eq!(exit_for_status(200, &[]), 0);
        assert_eq!(exit_for_status(204, &[]), 0);
        assert_eq!(exit_for_status(404, &[]), 1);
        assert_eq!(exit_for_status(404, &[404, 409]), 0);
        assert_eq!(exit_for_status(302, &[]), 1);
        assert_eq!(parse_ok_list("404, 409").unwrap(), [404, 409]);
        for bad in ["", "40", "4044", "abc", "404,", "099", "600"] {
            assert!(parse_ok_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_arguments() {
        assert_eq!(
            split_header("Authorization: Bearer {{T}}"),
            Ok(("Authorization", "Bearer {{T}}"))
        );
        assert_eq!(split_header(" X-A :\t v: w "), Ok(("X-A", "v: w ")));
        assert_eq!(split_header("X-Empty:"), Ok(("X-Empty", "")));
        for bad in [
            "NoColon",
            ": v",
            "Bad Name: v",
            "Bad(Name): v",
            "é: v",
            "Content-Length: 0",
            "transfer-encoding: chunked",
            "HOST: h",
        ] {
            assert!(split_header(bad).is_err(), "{bad}");
        }
        assert_eq!(check_header_value("a\tb é ~"), Ok(()));
        for bad in ["a\r\nX: y", "\0", "\x01", "a\x7f", "\x1b[0m"] {
            assert!(check_header_value(bad).is_err(), "{bad:?}");
        }
        assert_eq!(request_head_len("/x", [("A", "bc")].into_iter()), 2 + 1 + 2 + 4);
    }

    #[test]
    fn form_encoding() {
        let mut b = SecretBuf::default();
        form_encode(&mut b, "a b&c=d/é~*-._");
        assert_eq!(b.as_str(), "a+b%26c%3Dd%2F%C3%A9%7E*-._");
    }
}
