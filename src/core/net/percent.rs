//! Percent-encoding, the one copy: a form value
//! (`application/x-www-form-urlencoded`, for IAM's token request and
//! `credhook http --form`) and a URL path segment (IDs in API paths).

use crate::core::secrets::secret::SecretBuf;
use alloc::string::String;
use core::fmt::Write;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_escaped(out: &mut impl Write, b: u8) {
    let _ = out.write_char('%');
    let _ = out.write_char(HEX[usize::from(b >> 4)] as char);
    let _ = out.write_char(HEX[usize::from(b & 15)] as char);
}

/// Appends a form value: letters, digits and `*-._` as is, space as `+`,
/// every other byte `%XX`. Into a zeroizing buffer: values are secrets.
pub(crate) fn form_encode(out: &mut SecretBuf, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => push_escaped(out, b),
        }
    }
}

/// One URL path segment: RFC 3986's unreserved characters as is, every other
/// byte `%XX` (so an ID can never add a `/`, `?` or `#`).
pub(crate) fn path_segment(s: &str) -> String {
    // `.` and `..` would be dot-segments that a proxy may resolve.
    let dots_only = s.bytes().all(|b| b == b'.');
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_~".contains(&b) || (b == b'.' && !dots_only) {
            out.push(b as char);
        } else {
            push_escaped(&mut out, b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_paths() {
        let mut f = SecretBuf::with_capacity(8);
        form_encode(&mut f, "a b&c=d*é");
        assert_eq!(f.as_str(), "a+b%26c%3Dd*%C3%A9");
        assert_eq!(path_segment("../x?y#z é"), "..%2Fx%3Fy%23z%20%C3%A9");
        assert_eq!(path_segment("a-b_c.d~e"), "a-b_c.d~e");
        assert_eq!(path_segment(".."), "%2E%2E");
    }
}
