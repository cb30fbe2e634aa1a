//! HTTP methods: the ones credhook's calls and `credhook http` send.

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

    /// Whether a request of this method is sent without a body unless one
    /// is given (the others send an empty one, `Content-Length: 0`).
    pub(crate) fn bodiless(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Delete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_in_any_case() {
        assert_eq!(Method::parse("get"), Some(Method::Get));
        assert_eq!(Method::parse("PaTcH"), Some(Method::Patch));
        assert_eq!(Method::parse("OPTIONS"), None);
        assert_eq!(Method::parse(""), None);
        for m in [
            Method::Get,
            Method::Head,
            Method::Post,
            Method::Put,
            Method::Patch,
            Method::Delete,
        ] {
            assert_eq!(Method::parse(m.as_str()), Some(m));
        }
    }
}
