//! The rules of `credhook http` that need no I/O: methods, which of them may
//! be retried and when, how a status becomes an exit status, form encoding,
//! and which redirects may be followed.

use crate::core::net::retry::{self, Ended, Next, Policy, Progress};
use crate::core::net::url::{self, Scheme};
use alloc::format;
use alloc::string::String;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// Any letter case.
    pub(crate) fn parse(s: &str) -> Option<Method> {
        Some(match s.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Which methods `--retry` may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum RetryScope {
    /// GET, HEAD, PUT, DELETE: repeating them does no harm. The default.
    #[default]
    Idempotent,
    /// `--retry-post`: POST too. A retried create can make a second credential.
    AlsoPost,
    /// `--retry-any`: POST and PATCH too.
    Any,
}

impl RetryScope {
    pub(crate) fn allows(self, m: Method) -> bool {
        match m {
            Method::Get | Method::Head | Method::Put | Method::Delete => true,
            Method::Post => self != RetryScope::Idempotent,
            Method::Patch => self == RetryScope::Any,
        }
    }
}

/// Worth another try: no reply (connect error, timeout, dropped
/// connection), 429 or 503. Other 5xx are not retried: the server answered,
/// and may have acted.
pub(crate) fn retryable(outcome: Ended) -> bool {
    matches!(outcome, Ended::Unsent | Ended::NoReply | Ended::Status(429 | 503))
}

/// After an attempt of `method` ended with `outcome`: the wait before the
/// next attempt, or `None` to stop. The backoff and its caps are
/// [`retry::decide`]'s (500 ms doubling, jittered, each wait at most
/// [`retry::MAX_BACKOFF_MS`], at least `Retry-After` capped at 60 s, at most
/// [`retry::MAX_TOTAL_WAIT_MS`] of waiting in all).
pub(crate) fn next_retry(
    method: Method,
    scope: RetryScope,
    retries: u32,
    progress: Progress,
    outcome: Ended,
    retry_after_s: Option<u64>,
    random: u64,
) -> Option<u64> {
    if !scope.allows(method) || !retryable(outcome) {
        return None;
    }
    let policy = Policy { retries, base_ms: 500 };
    match retry::decide(policy, progress, outcome, retry_after_s, random) {
        Next::RetryAfterMs(ms) => Some(ms),
        Next::Done | Next::GiveUp => None,
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
pub(crate) fn parse_ok_list(s: &str) -> Result<alloc::vec::Vec<u16>, String> {
    s.split(',')
        .map(|c| {
            let c = c.trim();
            match c.parse::<u16>() {
                Ok(n) if (100..=599).contains(&n) && c.len() == 3 => Ok(n),
                _ => Err(format!(
                    "--ok `{s}`: `{c}` is not an HTTP status; list statuses like `--ok 404` or `--ok 404,409`"
                )),
            }
        })
        .collect()
}

/// A `-H 'Name: value'` argument split into its name and (unexpanded)
/// value. The messages never quote the argument: a mistyped header may hold
/// a secret.
pub(crate) fn split_header(arg: &str) -> Result<(&str, &str), &'static str> {
    let (name, value) = arg
        .split_once(':')
        .ok_or("a -H value has no `:`; write 'Name: value' (e.g. 'Authorization: Bearer {{TOKEN}}')")?;
    let name = name.trim();
    // RFC 9110 `token`.
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err("a -H name is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~, before the `:`)");
    }
    // These frame the request: a wrong one silently drops the body or
    // leaves the server waiting for bytes that never come.
    if ["content-length", "transfer-encoding", "host"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n))
    {
        return Err(
            "-H cannot set Content-Length, Transfer-Encoding or Host: credhook sets it from the body and the URL",
        );
    }
    Ok((name, value.trim_start_matches([' ', '\t'])))
}

/// Why an (expanded) header value cannot be sent: HTTP allows visible
/// characters, spaces, tabs and non-ASCII bytes, never another control
/// character (a line break would start a header of its own).
pub(crate) fn check_header_value(value: &str) -> Result<(), &'static str> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err("its value holds a line break or NUL once expanded; a header value is one line");
    }
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err("its value holds a control character once expanded; only text, spaces and tabs can be sent");
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

/// Statuses that redirect with a `Location`.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The method after a redirect: 303 turns anything but HEAD into a GET, and
/// 301/302 turn a POST into a GET (as browsers and curl do); the body is
/// dropped when the method changes.
pub(crate) fn method_after_redirect(status: u16, m: Method) -> Method {
    match (status, m) {
        (303, Method::Head) => Method::Head,
        (303, _) | (301 | 302, Method::Post) => Method::Get,
        _ => m,
    }
}

/// Most redirects followed with `--location`.
pub(crate) const MAX_REDIRECTS: u32 = 5;

/// Why a redirect is not followed. Names hosts, never paths or queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RedirectError {
    /// `--location` was not given.
    NotAsked,
    /// The target has another scheme (https→http included), host or port.
    OtherOrigin(String),
    /// The `Location` is missing or unusable.
    BadLocation,
    TooMany,
}

impl core::fmt::Display for RedirectError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RedirectError::NotAsked => {
                f.write_str("redirect refused; add --location to follow redirects to the same scheme and host")
            }
            RedirectError::OtherOrigin(to) => write!(
                f,
                "redirect to {to} refused; --location follows redirects only to the same scheme, host and port"
            ),
            RedirectError::BadLocation => f.write_str("redirect refused: its Location header is missing or not a URL"),
            RedirectError::TooMany => write!(f, "redirect refused: more than {MAX_REDIRECTS} redirects"),
        }
    }
}

/// `scheme://authority` of an absolute URL, lower-cased, with the default
/// port made explicit, so `https://H` and `https://h:443` are one origin.
fn origin(u: &str) -> Option<String> {
    let parsed = url::parse(u).ok()?;
    let (scheme, default) = match parsed.scheme {
        Scheme::Https => ("https", "443"),
        Scheme::Http => ("http", "80"),
    };
    let after = &u[u.find("://")? + 3..];
    let authority = &after[..after.find(['/', '?', '#']).unwrap_or(after.len())];
    let host_end = if authority.starts_with('[') {
        authority.find(']')? + 1
    } else {
        authority.rfind(':').unwrap_or(authority.len())
    };
    let port = authority[host_end..].strip_prefix(':').unwrap_or(default);
    Some(format!(
        "{scheme}://{}:{port}",
        authority[..host_end].to_ascii_lowercase()
    ))
}

/// Whether `location` starts with a URL scheme (`[A-Za-z][A-Za-z0-9+.-]*:`),
/// that is, is absolute; `/echo?next=https://…` is not.
fn has_scheme(location: &str) -> bool {
    let Some(colon) = location.find(':') else { return false };
    let scheme = &location[..colon];
    let mut b = scheme.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
}

/// The absolute URL a redirect from `current` to `location` names, whether
/// or not it may be followed (the egress allowlist checks it first).
pub(crate) fn target(current: &str, location: Option<&str>) -> Result<String, RedirectError> {
    let location = location
        .map(|l| l[..l.find('#').unwrap_or(l.len())].trim())
        .filter(|l| !l.is_empty())
        .ok_or(RedirectError::BadLocation)?;
    let scheme_end = current.find("://").ok_or(RedirectError::BadLocation)?;
    let target = if has_scheme(location) {
        // `https:path` (a scheme without `//`) is not followed.
        if !location.contains("://") || location.find("://") != location.find(':') {
            return Err(RedirectError::BadLocation);
        }
        String::from(location)
    } else if let Some(rest) = location.strip_prefix("//") {
        format!("{}://{rest}", &current[..scheme_end])
    } else {
        let after = &current[scheme_end + 3..];
        let path_at = scheme_end + 3 + after.find(['/', '?', '#']).unwrap_or(after.len());
        let path = &current[path_at..];
        let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
        if location.starts_with('/') {
            format!("{}{location}", &current[..path_at])
        } else if location.starts_with('?') {
            let path = if path.is_empty() { "/" } else { path };
            format!("{}{path}{location}", &current[..path_at])
        } else {
            let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
            let dir = if dir.is_empty() { "/" } else { dir };
            format!("{}{dir}{location}", &current[..path_at])
        }
    };
    Ok(target)
}

/// The URL a redirect from `current` to `location` leads to, if
/// `--location` may follow it. `location` may be absolute, `//host/…`,
/// `/path`, `?query` or relative to the current path; its `#fragment` is
/// dropped (it is never sent).
pub(crate) fn follow(
    current: &str,
    location: Option<&str>,
    asked: bool,
    followed: u32,
) -> Result<String, RedirectError> {
    if !asked {
        return Err(RedirectError::NotAsked);
    }
    if followed >= MAX_REDIRECTS {
        return Err(RedirectError::TooMany);
    }
    let here = origin(current).ok_or(RedirectError::BadLocation)?;
    let target = target(current, location)?;
    match origin(&target) {
        Some(o) if o == here => Ok(target),
        Some(_) => Err(RedirectError::OtherOrigin(match url::parse(&target) {
            Ok(u) => format!(
                "{}://{}",
                if u.scheme == Scheme::Https { "https" } else { "http" },
                u.host
            ),
            Err(_) => String::from("another host"),
        })),
        None => Err(match target.get(..7) {
            Some(s) if s.eq_ignore_ascii_case("http://") => RedirectError::OtherOrigin(String::from("plain http")),
            _ => RedirectError::BadLocation,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::secrets::secret::SecretBuf;

    #[test]
    fn methods_in_any_case() {
        assert_eq!(Method::parse("get"), Some(Method::Get));
        assert_eq!(Method::parse("PaTcH"), Some(Method::Patch));
        assert_eq!(Method::parse("OPTIONS"), None);
        assert_eq!(Method::parse(""), None);
    }

    #[test]
    fn only_idempotent_methods_are_retried_unless_allowed() {
        use Method::*;
        let p = Progress::default();
        for t in [Ended::Unsent, Ended::NoReply, Ended::Status(503)] {
            for m in [Get, Head, Put, Delete] {
                assert!(
                    next_retry(m, RetryScope::Idempotent, 2, p, t, None, 0).is_some(),
                    "{m:?}"
                );
            }
            for m in [Post, Patch] {
                assert_eq!(next_retry(m, RetryScope::Idempotent, 2, p, t, None, 0), None, "{m:?}");
            }
            assert!(next_retry(Post, RetryScope::AlsoPost, 2, p, t, None, 0).is_some());
            assert_eq!(next_retry(Patch, RetryScope::AlsoPost, 2, p, t, None, 0), None);
            assert!(next_retry(Patch, RetryScope::Any, 2, p, t, None, 0).is_some());
        }
    }

    #[test]
    fn what_is_retried_and_for_how_long() {
        let at = |attempt, waited_ms| Progress {
            attempt,
            waited_ms,
            ..Progress::default()
        };
        let r = |o, ra, attempt| next_retry(Method::Get, RetryScope::Idempotent, 2, at(attempt, 0), o, ra, 0);
        assert_eq!(r(Ended::Status(503), Some(3), 0), Some(3000));
        assert_eq!(r(Ended::Status(429), Some(600), 0), Some(60_000));
        assert_eq!(r(Ended::Status(429), None, 0), Some(250));
        assert_eq!(r(Ended::Status(503), None, 2), None, "retries exhausted");
        for s in [200, 204, 301, 400, 404, 409, 500, 502, 504] {
            assert_eq!(r(Ended::Status(s), None, 0), None, "{s}");
        }
        let get =
            |retries, p, ra, rnd| next_retry(Method::Get, RetryScope::Idempotent, retries, p, Ended::NoReply, ra, rnd);
        assert_eq!(get(0, at(0, 0), None, 0), None, "no retries by default");
        let late = get(100, at(30, 0), None, u64::MAX).unwrap();
        assert!(late <= retry::MAX_BACKOFF_MS, "each wait is capped: {late}");
        assert_eq!(
            get(100, at(30, 0), Some(45), 0),
            Some(45_000),
            "Retry-After is honoured past the cap"
        );
        assert_eq!(
            get(100, at(5, retry::MAX_TOTAL_WAIT_MS), None, 0),
            None,
            "the total wait is capped"
        );
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

    #[test]
    fn redirects_stay_on_origin() {
        let cur = "https://api.example.com/v1/items?x=1";
        let f = |l: &str| follow(cur, Some(l), true, 0);
        assert_eq!(f("/v2/items").unwrap(), "https://api.example.com/v2/items");
        assert_eq!(f("other").unwrap(), "https://api.example.com/v1/other");
        assert_eq!(
            f("https://API.example.com:443/x").unwrap(),
            "https://API.example.com:443/x"
        );
        assert_eq!(f("//api.example.com/y").unwrap(), "https://api.example.com/y");
        assert_eq!(
            f("https://evil.example.net/x"),
            Err(RedirectError::OtherOrigin("https://evil.example.net".into()))
        );
        assert!(matches!(
            f("http://api.example.com/x"),
            Err(RedirectError::OtherOrigin(_))
        ));
        assert!(matches!(
            f("https://api.example.com:8443/x"),
            Err(RedirectError::OtherOrigin(_))
        ));
        assert!(matches!(f("//evil.example.net/"), Err(RedirectError::OtherOrigin(_))));
        assert_eq!(follow(cur, None, true, 0), Err(RedirectError::BadLocation));
        assert_eq!(follow(cur, Some("/x"), false, 0), Err(RedirectError::NotAsked));
        assert_eq!(follow(cur, Some("/x"), true, 5), Err(RedirectError::TooMany));
        let lo = "http://127.0.0.1:8080/a/b";
        assert_eq!(follow(lo, Some("c"), true, 0).unwrap(), "http://127.0.0.1:8080/a/c");
        assert!(matches!(
            follow(lo, Some("http://127.0.0.1:9/"), true, 0),
            Err(RedirectError::OtherOrigin(_))
        ));
        assert_eq!(follow("https://h", Some("x"), true, 0).unwrap(), "https://h/x");
        assert_eq!(
            f("/echo?next=https://evil.example.net/").unwrap(),
            "https://api.example.com/echo?next=https://evil.example.net/"
        );
        assert_eq!(
            f("next?u=http://x").unwrap(),
            "https://api.example.com/v1/next?u=http://x"
        );
        assert_eq!(f("/a#frag").unwrap(), "https://api.example.com/a");
        assert_eq!(f("?y=2").unwrap(), "https://api.example.com/v1/items?y=2");
        assert_eq!(f("HTTPS://api.example.com/z").unwrap(), "HTTPS://api.example.com/z");
        assert_eq!(follow("https://h", Some("?q"), true, 0).unwrap(), "https://h/?q");
        for bad in ["https:x", "#only", "mailto:a@b", "x-y:/z"] {
            assert!(f(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_methods() {
        assert_eq!(method_after_redirect(303, Method::Put), Method::Get);
        assert_eq!(method_after_redirect(303, Method::Head), Method::Head);
        assert_eq!(method_after_redirect(302, Method::Post), Method::Get);
        assert_eq!(method_after_redirect(307, Method::Post), Method::Post);
        assert_eq!(method_after_redirect(301, Method::Delete), Method::Delete);
    }

    #[test]
    fn follow_never_panics() {
        let parts = [
            "https://", "http://", "//", "/", "h", ":1", "[::1]", "?", "#", "@", "é", "..",
        ];
        let mut seed = 0x1234_5678_9abc_def1u64;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut loc = String::new();
            for k in 0..(seed % 8) {
                loc.push_str(parts[((seed >> (4 * k)) % 12) as usize]);
            }
            let _ = follow("https://h:1/a/b?q", Some(&loc), true, 0);
            let _ = follow("http://127.0.0.1/", Some(&loc), true, 0);
        }
    }
}
