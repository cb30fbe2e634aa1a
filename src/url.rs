//! The few URL facts credhook needs: scheme, host, the loopback rule.

use alloc::string::String;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// An absolute `http`/`https` URL, split into the parts we check and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url<'a> {
    pub scheme: Scheme,
    /// The host as written, without `[]` around an IPv6 address.
    pub host: &'a str,
    /// Path and query, `/` when empty.
    pub path: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Not `http://…` or `https://…` with a host.
    Malformed(String),
    /// `http://` to a host that is not loopback.
    PlainHttp(String),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Malformed(u) => {
                write!(f, "`{u}` is not an absolute https:// URL with a host")
            }
            UrlError::PlainHttp(u) => write!(
                f,
                "`{u}` uses http://, which is only allowed to a loopback host \
                 (127.0.0.0/8, ::1, localhost); use https://"
            ),
        }
    }
}

/// Parses an absolute URL and applies the transport rule: `https://` always,
/// `http://` only to a loopback host.
pub fn parse(url: &str) -> Result<Url<'_>, UrlError> {
    let bad = || UrlError::Malformed(String::from(url));
    let (scheme, rest) = if let Some(r) = strip_prefix_ci(url, "https://") {
        (Scheme::Https, r)
    } else if let Some(r) = strip_prefix_ci(url, "http://") {
        (Scheme::Http, r)
    } else {
        return Err(bad());
    };
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(auth_end);
    if authority.contains('@') || authority.chars().any(|c| c.is_whitespace()) {
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
        return Err(UrlError::PlainHttp(String::from(url)));
    }
    Ok(Url { scheme, host, path })
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
pub fn is_loopback(host: &str) -> bool {
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
            assert!(matches!(parse(no), Err(UrlError::PlainHttp(_))), "{no}");
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
        ] {
            assert!(matches!(parse(bad), Err(UrlError::Malformed(_))), "{bad}");
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
}
