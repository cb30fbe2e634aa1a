//! The few URL facts credhook needs: scheme, host, the loopback rule.

use crate::core::CoreError;
use alloc::borrow::Cow;
use alloc::string::String;
use core::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

/// An absolute `http`/`https` URL, split into the parts we check and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url<'a> {
    pub(crate) scheme: Scheme,
    /// The host as written, without `[]` around an IPv6 address.
    pub(crate) host: &'a str,
    /// Path and query, `/` when empty.
    pub(crate) path: &'a str,
}

/// The URL for messages: a `user:pass@` part is masked, control characters
/// escaped, and a long URL cut.
pub(crate) fn shown(url: &str) -> String {
    let mut out = String::new();
    let masked;
    let url = match userinfo_span(url) {
        Some((start, end)) => {
            masked = alloc::format!("{}***@{}", &url[..start], &url[end..]);
            masked.as_str()
        }
        None => url,
    };
    for (i, c) in url.chars().enumerate() {
        if i >= 200 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Byte span of `user:pass@` in the authority, `@` included.
fn userinfo_span(url: &str) -> Option<(usize, usize)> {
    let start = url.find("://")? + 3;
    let rest = &url[start..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let at = rest[..auth_end].rfind('@')?;
    Some((start, start + at + 1))
}

/// Parses an absolute URL and applies the transport rule: `https://` always,
/// `http://` only to a loopback host. Whitespace and control characters are
/// refused anywhere in it: [`CoreError::UrlMalformed`], [`CoreError::UrlPlainHttp`].
pub(crate) fn parse(url: &str) -> Result<Url<'_>, CoreError> {
    let bad = || CoreError::UrlMalformed(shown(url));
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (scheme, rest) = if let Some(r) = strip_prefix_ci(url, "https://") {
        (Scheme::Https, r)
    } else if let Some(r) = strip_prefix_ci(url, "http://") {
        (Scheme::Http, r)
    } else {
        return Err(bad());
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    if authority.contains('@') {
        return Err(bad());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or_else(bad)?;
        check_port(&v6[close + 1..]).ok_or_else(bad)?;
        &v6[..close]
    } else {
        match authority.rfind(':') {
            Some(colon) => {
                check_port(&authority[colon..]).ok_or_else(bad)?;
                &authority[..colon]
            }
            None => authority,
        }
    };
    if host.is_empty() || path.contains('#') {
        return Err(bad());
    }
    let path = if path.is_empty() { "/" } else { path };
    if scheme == Scheme::Http && !is_loopback(host) {
        return Err(CoreError::UrlPlainHttp(shown(url)));
    }
    Ok(Url { scheme, host, path })
}

/// A base URL that paths are appended to: [`parse`], and no `?` or `#`.
pub(crate) fn parse_base(url: &str) -> Result<Url<'_>, CoreError> {
    let u = parse(url)?;
    if u.path.contains(['?', '#']) {
        return Err(CoreError::UrlNotABase(shown(url)));
    }
    Ok(u)
}

/// The host of an absolute URL of any scheme (a redirect's `Location`, for
/// the message); `None` for a relative one.
pub(crate) fn host_of(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.split(':').next().unwrap_or(authority),
    };
    (!host.is_empty() && host.chars().all(|c| c.is_ascii_graphic())).then_some(host)
}

/// The URL to connect to. `http://localhost` goes to `127.0.0.1` itself: a
/// name is not looked up (`/etc/hosts` could send it anywhere, in clear).
/// Call it on a URL [`parse`] accepted.
pub(crate) fn connect_url(url: &str) -> Cow<'_, str> {
    if let Ok(u) = parse(url)
        && u.scheme == Scheme::Http
        && u.host == "localhost"
        && let Some(at) = url.find("://").map(|i| i + 3)
    {
        let end = at + "localhost".len();
        return Cow::Owned(alloc::format!("{}127.0.0.1{}", &url[..at], &url[end..]));
    }
    Cow::Borrowed(url)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// `""` or `":<port>"` with a valid port.
fn check_port(s: &str) -> Option<()> {
    if s.is_empty() {
        return Some(());
    }
    let digits = s.strip_prefix(':')?;
    (!digits.is_empty() && digits.parse::<u16>().is_ok()).then_some(())
}

/// Loopback: an IPv4 address in 127.0.0.0/8, `::1`, or exactly `localhost`.
/// Nothing else: not `0.0.0.0`, not `::ffff:127.0.0.1`, not `LOCALHOST.`.
pub(crate) fn is_loopback(host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.octets()[0] == 127;
    }
    host.parse::<Ipv6Addr>() == Ok(Ipv6Addr::LOCALHOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_urls() {
        let u = parse("https://abc.us-south.secrets-manager.appdomain.cloud/api/v2/x?y=1").unwrap();
        assert_eq!(u.scheme, Scheme::Https);
        assert_eq!(u.host, "abc.us-south.secrets-manager.appdomain.cloud");
        assert_eq!(u.path, "/api/v2/x?y=1");
        let u = parse("http://[::1]:8080").unwrap();
        assert_eq!((u.host, u.path), ("::1", "/"));
        let u = parse("HTTP://127.9.9.9:1/p").unwrap();
        assert_eq!(u.host, "127.9.9.9");
    }

    #[test]
    fn plain_http_only_to_loopback() {
        for ok in [
            "http://localhost:1/",
            "http://127.0.0.1",
            "http://127.255.0.1:9",
            "http://[::1]/",
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        for no in [
            "http://0.0.0.0/",
            "http://[::ffff:127.0.0.1]/",
            "http://example.com/",
            "http://localhost.example.com/",
            "http://128.0.0.1/",
            "http://10.0.0.1/",
        ] {
            assert!(matches!(parse(no), Err(CoreError::UrlPlainHttp(_))), "{no}");
        }
    }

    #[test]
    fn malformed() {
        for bad in [
            "ftp://x",
            "https://",
            "https://:443",
            "https://a:b",
            "https://u:p@host/",
            "host/path",
            "https://a b/",
            "https://[::1/",
            "https://h:99999/",
            "https://host/a b",
            "https://host/\x01",
            "https://host/\r\nX: y",
            "https://host\t/",
        ] {
            assert!(matches!(parse(bad), Err(CoreError::UrlMalformed(_))), "{bad}");
        }
    }

    #[test]
    fn loopback_is_exact() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("::1"));
        assert!(!is_loopback("127.0.0"));
        assert!(!is_loopback("::ffff:127.0.0.1"));
        assert!(!is_loopback("Localhost"));
    }

    #[test]
    fn userinfo_is_never_shown() {
        let e = parse("https://admin:hunter2-secret@host/").unwrap_err();
        let text = alloc::format!("{e}");
        assert!(!text.contains("hunter2") && !text.contains("admin"), "{text}");
        assert!(text.contains("https://***@host/"), "{text}");
        let e = parse("http://u:pw-secret@example.com/").unwrap_err();
        assert!(!alloc::format!("{e}").contains("pw-secret"));
        assert_eq!(shown("https://h/\x07"), "https://h/\\u{7}");
    }

    #[test]
    fn a_base_has_no_query_or_fragment() {
        assert!(parse_base("https://h/prefix").is_ok());
        for no in ["https://h/?q=1", "https://h?q", "https://h/x?"] {
            assert!(matches!(parse_base(no), Err(CoreError::UrlNotABase(_))), "{no}");
        }
    }

    #[test]
    fn redirect_hosts() {
        assert_eq!(host_of("https://u:p@evil.example:8443/x?y"), Some("evil.example"));
        assert_eq!(host_of("http://[::1]:9/"), Some("::1"));
        assert_eq!(host_of("/relative"), None);
    }

    #[test]
    fn localhost_is_connected_as_127_0_0_1() {
        assert_eq!(connect_url("http://localhost:8080/a?b"), "http://127.0.0.1:8080/a?b");
        assert_eq!(connect_url("HTTP://localhost/"), "HTTP://127.0.0.1/");
        assert_eq!(connect_url("https://localhost/"), "https://localhost/");
        assert_eq!(connect_url("http://127.0.0.1/"), "http://127.0.0.1/");
    }
}
