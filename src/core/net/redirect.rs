//! Redirects: which replies are redirects, where they lead, and whether a
//! call follows them, as its policy says ([`Redirects`]). credhook's own
//! calls never follow one (a bearer token goes nowhere the job did not
//! name); `credhook http --location` follows them to the same origin only,
//! and never to a host `CREDHOOK_HTTP_ALLOW` leaves out.

use super::http_allow::{self, Allowlist};
use super::method::Method;
use super::url::{self, Scheme};
use crate::core::CoreError;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// How a call treats a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Redirects {
    /// Never followed: every 3xx is a final failure naming its `Location`
    /// host (credhook's own calls).
    Never,
    /// `credhook http`: a 301, 302, 303, 307 or 308 not listed in `replies`
    /// (`--ok`) is a redirect; with `follow` (`--location`) it is followed
    /// to the same origin, at most [`MAX_REDIRECTS`] times, unless `allow`
    /// (`CREDHOOK_HTTP_ALLOW`) leaves its host out; without it, refused.
    SameOrigin {
        follow: bool,
        replies: Vec<u16>,
        allow: Option<Allowlist>,
    },
}

impl Redirects {
    /// What a reply with `status` and `location` to a request for `current`
    /// leads to: `None` when it is not a redirect (it is the reply), else
    /// the URL to request next or why not. `followed`: redirects followed
    /// so far in this call.
    pub(crate) fn after(
        &self,
        current: &str,
        status: u16,
        location: Option<&str>,
        followed: u32,
    ) -> Option<Result<String, CoreError>> {
        match self {
            Redirects::Never => (300..=399).contains(&status).then(|| {
                Err(CoreError::RedirectNeverFollowed {
                    status,
                    location_host: location.map(|l| match url::host_of(l) {
                        Some(h) => url::shown(h),
                        None => String::from("(the same host)"),
                    }),
                })
            }),
            Redirects::SameOrigin { follow, replies, allow } => {
                if !is_redirect(status) || replies.contains(&status) {
                    return None;
                }
                if *follow && let Some(refused) = not_allowed(allow.as_ref(), current, location) {
                    return Some(Err(refused));
                }
                Some(self::follow(current, location, *follow, followed))
            }
        }
    }
}

/// Why `CREDHOOK_HTTP_ALLOW` refuses the target of a redirect from
/// `current` to `location`, if it does: checked before the redirect rules,
/// whatever they say. Names the host, never the path.
fn not_allowed(allow: Option<&Allowlist>, current: &str, location: Option<&str>) -> Option<CoreError> {
    let allow = allow?;
    // An unusable Location is the redirect rules' to refuse.
    let target = target(current, location).ok()?;
    let refused = match http_allow::host_port(&target) {
        Some((host, port)) if allow.allows(host, port) => return None,
        Some((host, _)) => String::from(host),
        None => String::from(url::host_of(&target).unwrap_or("another host")),
    };
    Some(CoreError::RedirectNotAllowed(refused))
}

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
pub(crate) fn target(current: &str, location: Option<&str>) -> Result<String, CoreError> {
    let location = location
        .map(|l| l[..l.find('#').unwrap_or(l.len())].trim())
        .filter(|l| !l.is_empty())
        .ok_or(CoreError::RedirectBadLocation)?;
    let scheme_end = current.find("://").ok_or(CoreError::RedirectBadLocation)?;
    let target = if has_scheme(location) {
        // `https:path` (a scheme without `//`) is not followed.
        if !location.contains("://") || location.find("://") != location.find(':') {
            return Err(CoreError::RedirectBadLocation);
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
pub(crate) fn follow(current: &str, location: Option<&str>, asked: bool, followed: u32) -> Result<String, CoreError> {
    if !asked {
        return Err(CoreError::RedirectNotAsked);
    }
    if followed >= MAX_REDIRECTS {
        return Err(CoreError::RedirectTooMany);
    }
    let here = origin(current).ok_or(CoreError::RedirectBadLocation)?;
    let target = target(current, location)?;
    match origin(&target) {
        Some(o) if o == here => Ok(target),
        Some(_) => Err(CoreError::RedirectOtherOrigin(match url::parse(&target) {
            Ok(u) => format!(
                "{}://{}",
                if u.scheme == Scheme::Https { "https" } else { "http" },
                u.host
            ),
            Err(_) => String::from("another host"),
        })),
        None => Err(match target.get(..7) {
            Some(s) if s.eq_ignore_ascii_case("http://") => CoreError::RedirectOtherOrigin(String::from("plain http")),
            _ => CoreError::RedirectBadLocation,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            Err(CoreError::RedirectOtherOrigin("https://evil.example.net".into()))
        );
        assert!(matches!(
            f("http://api.example.com/x"),
            Err(CoreError::RedirectOtherOrigin(_))
        ));
        assert!(matches!(
            f("https://api.example.com:8443/x"),
            Err(CoreError::RedirectOtherOrigin(_))
        ));
        assert!(matches!(
            f("//evil.example.net/"),
            Err(CoreError::RedirectOtherOrigin(_))
        ));
        assert_eq!(follow(cur, None, true, 0), Err(CoreError::RedirectBadLocation));
        assert_eq!(follow(cur, Some("/x"), false, 0), Err(CoreError::RedirectNotAsked));
        assert_eq!(follow(cur, Some("/x"), true, 5), Err(CoreError::RedirectTooMany));
        let lo = "http://127.0.0.1:8080/a/b";
        assert_eq!(follow(lo, Some("c"), true, 0).unwrap(), "http://127.0.0.1:8080/a/c");
        assert!(matches!(
            follow(lo, Some("http://127.0.0.1:9/"), true, 0),
            Err(CoreError::RedirectOtherOrigin(_))
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

    #[test]
    fn each_policy_treats_a_3xx_as_it_says() {
        let cur = "https://api.example.com/v1";
        let never = Redirects::Never;
        for s in [300, 301, 304, 308, 399] {
            assert!(matches!(
                never.after(cur, s, Some("/x"), 0),
                Some(Err(CoreError::RedirectNeverFollowed { .. }))
            ));
        }
        assert_eq!(never.after(cur, 200, None, 0), None);
        assert_eq!(never.after(cur, 404, None, 0), None);
        let e = never.after(cur, 302, Some("https://elsewhere.example/moved?t=1"), 0);
        let text = alloc::string::ToString::to_string(&e.unwrap().unwrap_err());
        assert_eq!(
            text,
            "http status 302, a redirect to host `elsewhere.example`, which is not followed; configure the final address"
        );
        let e = never.after(cur, 301, Some("/same"), 0).unwrap().unwrap_err();
        assert!(alloc::string::ToString::to_string(&e).contains("to host `(the same host)`"));
        let e = never.after(cur, 301, None, 0).unwrap().unwrap_err();
        assert!(alloc::string::ToString::to_string(&e).contains("without a usable Location"));

        let tool = |follow, replies: &[u16], allow: Option<&str>| Redirects::SameOrigin {
            follow,
            replies: replies.to_vec(),
            allow: allow.map(|a| http_allow::parse(a).unwrap()),
        };
        // Only 301/302/303/307/308 redirect; others, and listed ones, are replies.
        assert_eq!(tool(true, &[], None).after(cur, 304, Some("/x"), 0), None);
        assert_eq!(tool(true, &[302], None).after(cur, 302, Some("/x"), 0), None);
        assert_eq!(
            tool(false, &[], None).after(cur, 302, Some("/x"), 0),
            Some(Err(CoreError::RedirectNotAsked))
        );
        assert_eq!(
            tool(true, &[], None).after(cur, 302, Some("/x"), 0),
            Some(Ok("https://api.example.com/x".into()))
        );
        // The allowlist is checked first, whatever the redirect rules say.
        let limited = tool(true, &[], Some("api.example.com"));
        assert_eq!(
            limited.after(cur, 302, Some("https://evil.example.net/x"), 0),
            Some(Err(CoreError::RedirectNotAllowed("evil.example.net".into())))
        );
        assert_eq!(
            limited.after(cur, 302, Some("/x"), 0),
            Some(Ok("https://api.example.com/x".into()))
        );
        // Without --location the allowlist has nothing to refuse.
        assert_eq!(
            tool(false, &[], Some("api.example.com")).after(cur, 302, Some("https://evil.example.net/"), 0),
            Some(Err(CoreError::RedirectNotAsked))
        );
    }
}
