//! `CREDHOOK_HTTP_ALLOW=host[:port][,…]`: the hosts a hook's `credhook http`
//! may call, chosen by the job's owner (a secret's creator chooses only the
//! inputs, URLs among them).
//!
//! - `api.example.com` allows that host on any port; `api.example.com:8443`
//!   only on that port (a URL without a port has 443, or 80 for `http://`).
//! - `*.example.com` allows every name that ends in `.example.com`
//!   (`a.example.com`, `a.b.example.com`), never `example.com` itself: list
//!   that too if the job calls it.
//! - `[2001:db8::1]` and `[2001:db8::1]:443` allow an IPv6 address (compared
//!   as addresses); an IPv4 address is compared as written.
//! - Names are compared in ASCII, any letter case; a trailing dot is part of
//!   the name (`api.example.com.` is not `api.example.com`); international
//!   names are written in punycode (`xn--…`), and a URL whose host is not
//!   ASCII never matches.
//!
//! Nothing else is normalised: a host that could reach an allowed server
//! under another spelling (`127.1`, an encoded name) is refused, not guessed.

use crate::core::CoreError;
use crate::core::net::url::{self, Scheme};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::Ipv6Addr;

/// The setting's name, for messages.
pub(crate) const SETTING: &str = "CREDHOOK_HTTP_ALLOW";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// Lower-case.
    Name(String),
    /// `*.example.com`, held as `.example.com`, lower-case.
    Subdomains(String),
    V6(Ipv6Addr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllowedHost {
    host: Host,
    port: Option<u16>,
}

/// A parsed allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Allowlist {
    entries: Vec<AllowedHost>,
}

/// Longest DNS name.
const MAX_NAME: usize = 253;

/// `name` is dot-separated labels of ASCII letters, digits, `-` and `_`,
/// none empty.
fn check_name(name: &str, entry: &str) -> Result<(), CoreError> {
    if !name.is_ascii() {
        return Err(CoreError::HttpAllow(format!(
            "`{entry}` is not ASCII; write an international name in punycode (xn--…)"
        )));
    }
    if name.len() > MAX_NAME
        || name.split('.').any(|l| {
            l.is_empty() || l.len() > 63 || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    {
        return Err(CoreError::HttpAllow(format!(
            "`{entry}` is not a host name (letters, digits, `-` and `_` in dot-separated labels, no empty label \
             or trailing dot), `*.domain` or `[IPv6]`, with an optional `:port`"
        )));
    }
    Ok(())
}

fn parse_port(port: &str, entry: &str) -> Result<u16, CoreError> {
    match port.parse::<u16>() {
        Ok(p) if p > 0 && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => Ok(p),
        _ => Err(CoreError::HttpAllow(format!(
            "`{entry}`: the port must be a number from 1 to 65535"
        ))),
    }
}

fn parse_entry(entry: &str) -> Result<AllowedHost, CoreError> {
    let (host, port) = if let Some(v6) = entry.strip_prefix('[') {
        let close = v6
            .find(']')
            .ok_or_else(|| CoreError::HttpAllow(format!("`{entry}`: an IPv6 address needs its closing `]`")))?;
        let addr = v6[..close]
            .parse::<Ipv6Addr>()
            .map_err(|_| CoreError::HttpAllow(format!("`{entry}` is not an IPv6 address in brackets")))?;
        let port = match &v6[close + 1..] {
            "" => None,
            rest => match rest.strip_prefix(':') {
                Some(p) => Some(parse_port(p, entry)?),
                None => return Err(CoreError::HttpAllow(format!("`{entry}`: only `:port` may follow `]`"))),
            },
        };
        return Ok(AllowedHost {
            host: Host::V6(addr),
            port,
        });
    } else {
        match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(parse_port(p, entry)?)),
            None => (entry, None),
        }
    };
    if host.contains(':') {
        return Err(CoreError::HttpAllow(format!(
            "`{entry}`: write an IPv6 address in brackets, e.g. [2001:db8::1]:443"
        )));
    }
    let host = host.to_ascii_lowercase();
    let host = match host.strip_prefix("*.") {
        Some(domain) => {
            check_name(domain, entry)?;
            Host::Subdomains(format!(".{domain}"))
        }
        None => {
            if host.contains('*') {
                return Err(CoreError::HttpAllow(format!(
                    "`{entry}`: `*` may only be a whole first label, as in `*.example.com`"
                )));
            }
            check_name(&host, entry)?;
            Host::Name(host)
        }
    };
    Ok(AllowedHost { host, port })
}

/// Parses the setting's value: comma-separated entries, whitespace around
/// each ignored. Every broken entry is named ([`CoreError::HttpAllow`]).
pub(crate) fn parse(setting: &str) -> Result<Allowlist, CoreError> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for raw in setting.split(',') {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        match parse_entry(raw) {
            Ok(e) => entries.push(e),
            Err(CoreError::HttpAllow(p)) => problems.push(p),
            Err(other) => problems.push(other.to_string()),
        }
    }
    if !problems.is_empty() {
        return Err(CoreError::HttpAllow(problems.join("; ")));
    }
    if entries.is_empty() {
        return Err(CoreError::HttpAllow(String::from(
            "holds no host; list the hosts the hook may call, e.g. api.example.com,*.example.net:443",
        )));
    }
    Ok(Allowlist { entries })
}

impl Allowlist {
    /// Whether `host` (as a URL has it, IPv6 without brackets) on `port` is
    /// allowed.
    pub(crate) fn allows(&self, host: &str, port: u16) -> bool {
        if !host.is_ascii() {
            return false;
        }
        let host = host.to_ascii_lowercase();
        let v6 = host.parse::<Ipv6Addr>().ok();
        // A name only as the entries are written: `evil.net\.api.example.com`
        // or `%61pi.example.com` could be read as another host by a parser
        // downstream.
        if v6.is_none() && check_name(&host, "").is_err() {
            return false;
        }
        // An address is no name: `*.0.0.1` must not match 127.0.0.1, nor
        // `*.1` 127.1 or 0x7f.1 (inet_aton reads both as 127.0.0.1). A host
        // whose last label is a number never matches a wildcard.
        let v4 = numeric_last_label(&host);
        self.entries.iter().any(|e| {
            let host_ok = match (&e.host, v6) {
                (Host::V6(a), Some(b)) => *a == b,
                (Host::V6(_), None) | (_, Some(_)) => false,
                (Host::Name(n), None) => *n == host,
                (Host::Subdomains(suffix), None) => {
                    !v4 && host
                        .strip_suffix(suffix.as_str())
                        .is_some_and(|sub| !sub.is_empty() && !sub.ends_with('.'))
                }
            };
            host_ok && e.port.is_none_or(|p| p == port)
        })
    }

    /// Whether the absolute `url` goes to an allowed host and port. A URL
    /// that does not parse is not allowed.
    #[cfg(test)]
    pub(crate) fn allows_url(&self, url: &str) -> bool {
        host_port(url).is_some_and(|(h, p)| self.allows(h, p))
    }
}

/// Whether `host`'s last label (a trailing dot aside) is a number, decimal
/// or `0x` hex: such a host may be read as an IPv4 address.
fn numeric_last_label(host: &str) -> bool {
    let last = host.trim_end_matches('.').rsplit('.').next().unwrap_or("");
    !last.is_empty() && (last.bytes().all(|b| b.is_ascii_digit()) || last.starts_with("0x"))
}

/// The host (IPv6 without brackets) and the port an absolute `http(s)://`
/// URL connects to: its explicit port, else 443 for `https`, 80 for `http`.
pub(crate) fn host_port(url: &str) -> Option<(&str, u16)> {
    let u = url::parse(url).ok()?;
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let after_host = match authority.strip_prefix('[') {
        Some(v6) => &v6[v6.find(']')? + 1..],
        None => authority.rfind(':').map_or("", |i| &authority[i..]),
    };
    let port = match after_host.strip_prefix(':') {
        Some(p) => p.parse::<u16>().ok()?,
        None if u.scheme == Scheme::Https => 443,
        None => 80,
    };
    Some((u.host, port))
}

/// `host:port` as a message shows it (`[v6]:port` for an IPv6 address).
pub(crate) fn shown(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why a host was refused, for `credhook http`'s message: `shown` is the
/// host (and port) as [`shown`] gives it, never a path or query.
pub(crate) fn refusal(shown: &str) -> String {
    format!(
        "{shown} is not in {SETTING}, the hosts this job may call; nothing was sent (the job's owner sets \
         {SETTING}, e.g. with scripts/deploy.sh --allow-host HOST)"
    )
}

impl core::fmt::Display for Allowlist {
    /// The entries as they are matched, comma-separated.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &e.host {
                Host::Name(n) => f.write_str(n)?,
                Host::Subdomains(s) => write!(f, "*{s}")?,
                Host::V6(a) => write!(f, "[{a}]")?,
            }
            if let Some(p) = e.port {
                write!(f, ":{p}")?;
            }
        }
        Ok(())
    }
}

/// The allowlist a hook's environment sets, if any: `None` when unset or
/// empty (every host is allowed), [`CoreError::HttpAllow`] (its `Display` names
/// the setting) when broken.
pub(crate) fn from_setting(value: Option<&str>) -> Result<Option<Allowlist>, CoreError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse(v).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(setting: &str) -> Allowlist {
        parse(setting).unwrap()
    }

    #[test]
    fn exact_hosts_any_port_unless_given() {
        let a = allow("api.example.com, Other.Example.net:8443");
        assert!(a.allows("api.example.com", 443));
        assert!(a.allows("API.EXAMPLE.COM", 1));
        assert!(a.allows("other.example.net", 8443));
        assert!(!a.allows("other.example.net", 443));
        for no in [
            "example.com",
            "x.api.example.com",
            "api.example.com.",
            "api.example.com.evil.net",
            "apiexample.com",
            "",
        ] {
            assert!(!a.allows(no, 443), "{no}");
        }
    }

    #[test]
    fn a_wildcard_is_subdomains_only() {
        let a = allow("*.example.com");
        assert!(a.allows("a.example.com", 443));
        assert!(a.allows("a.b.EXAMPLE.com", 443));
        for no in [
            "example.com",
            ".example.com",
            "a..example.com",
            "evil-example.com",
            "example.com.evil.net",
            "a.example.com.evil.net",
            "a.example.com.",
            "a.example.co",
            "evil.net\\.example.com",
            "%61.example.com",
            "a.example.com:443",
        ] {
            assert!(!a.allows(no, 443), "{no}");
        }
        let a = allow("*.example.com:443");
        assert!(a.allows("a.example.com", 443) && !a.allows("a.example.com", 8443));
    }

    #[test]
    fn addresses() {
        let a = allow("[2001:db8::1], 10.0.0.1:443");
        assert!(a.allows("2001:db8:0:0::1", 9));
        assert!(a.allows("2001:DB8::1", 443));
        assert!(!a.allows("2001:db8::2", 443));
        assert!(a.allows("10.0.0.1", 443));
        assert!(!a.allows("10.0.0.1", 80));
        assert!(!a.allows("10.1", 443), "another spelling is refused");
        assert!(!a.allows("::ffff:10.0.0.1", 443));
        assert!(
            !allow("*.0.0.1").allows("127.0.0.1", 443),
            "a wildcard never matches an address"
        );
        // Nor a name an address parser reads as one (inet_aton: 127.1 is
        // 127.0.0.1, so is 0x7f.1); names ending in a letter still match.
        for (entry, host) in [
            ("*.1", "127.1"),
            ("*.1", "0x7f.1"),
            ("*.0.1", "127.0.1"),
            ("*.1", "127.1."),
        ] {
            assert!(!allow(entry).allows(host, 443), "{entry} allowed {host}");
        }
        assert!(allow("*.example.com").allows("10.example.com", 443));
        assert!(allow("*.x1").allows("a.x1", 443));
        let a = allow("[::1]:8443");
        assert!(a.allows("::1", 8443) && !a.allows("::1", 443));
    }

    #[test]
    fn non_ascii_hosts_never_match() {
        let a = allow("xn--bcher-kva.example");
        assert!(a.allows("xn--bcher-kva.example", 443));
        assert!(!a.allows("bücher.example", 443));
    }

    #[test]
    fn broken_settings_name_each_entry() {
        for bad in [
            "*",
            "*.",
            "a.*.com",
            "*example.com",
            "api.example.com:",
            "api.example.com:0",
            "api.example.com:65536",
            "api.example.com:+443",
            "api.example.com:x",
            "::1",
            "[::1",
            "[::1]x",
            "[nope]",
            "bücher.example",
            "a b.example",
            "example.com.",
            ".example.com",
            "a..b",
            "https://api.example.com",
            "api.example.com/path",
            "user@api.example.com",
            ",",
            " , ",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let e = parse("ok.example.com, a.*.com, b:0").unwrap_err().to_string();
        assert!(e.contains("`a.*.com`") && e.contains("`b:0`"), "{e}");
        assert!(parse("a.example.com,,b.example.com,").is_ok());
    }

    #[test]
    fn urls() {
        let a = allow("api.example.com:443,127.0.0.1:8080,[::1]");
        assert!(a.allows_url("https://api.example.com/x?y=1"));
        assert!(a.allows_url("https://API.example.com:443/"));
        assert!(a.allows_url("https://api.example.com:0443/"), "the port is a number");
        assert!(!a.allows_url("https://api.example.com:8443/"));
        assert!(!a.allows_url("http://api.example.com/"));
        assert!(a.allows_url("http://127.0.0.1:8080/"));
        assert!(a.allows_url("https://[::1]:9/"));
        for no in [
            "https://u:p@api.example.com/",
            "https://evil.net/api.example.com",
            "https://evil.net?api.example.com",
            "https://evil.net#@api.example.com",
            "https://api.example.com.evil.net/",
            "https://api.example.com\\@evil.net/",
            "not a url",
        ] {
            assert!(!a.allows_url(no), "{no}");
        }
        assert_eq!(host_port("https://h:8443/p"), Some(("h", 8443)));
        assert_eq!(host_port("http://localhost/"), Some(("localhost", 80)));
        assert_eq!(host_port("https://[::1]/"), Some(("::1", 443)));
    }

    #[test]
    fn unset_and_shown() {
        assert_eq!(from_setting(None), Ok(None));
        assert_eq!(from_setting(Some(" ")), Ok(None));
        let e = from_setting(Some("*")).unwrap_err().to_string();
        assert!(e.starts_with("CREDHOOK_HTTP_ALLOW `*`"), "{e}");
        let a = from_setting(Some("A.example.com:1, *.B.net, [0::1]")).unwrap().unwrap();
        assert_eq!(a.to_string(), "a.example.com:1,*.b.net,[::1]");
        let r = refusal(&shown("::1", 443));
        assert!(r.starts_with("[::1]:443 is not in CREDHOOK_HTTP_ALLOW"), "{r}");
        assert_eq!(shown("h", 1), "h:1");
    }
}
