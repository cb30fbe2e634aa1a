//! A string that is zeroized when dropped and never printed.

use alloc::string::String;
use core::fmt;
use zeroize::Zeroizing;

/// A secret value: API key, token, resolved secret field, hook output value.
///
/// Its memory is overwritten when it is dropped, and `Debug` prints
/// `[REDACTED]`, so it cannot reach a log or a panic message by accident.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret(Zeroizing<String>);

impl Secret {
    pub(crate) fn new(value: String) -> Secret {
        Secret(Zeroizing::new(value))
    }

    /// The value itself, for the one place that must send it somewhere.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(String::from(value))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Appends `data` to a zeroizing byte buffer without leaving an old copy
/// behind: when it must grow, the new allocation is made first, the bytes
/// copied, and the old one zeroized as it is dropped. (The one place this
/// rule lives for bytes; [`SecretBuf`] is the same for text.)
pub(crate) fn extend_zeroizing(buf: &mut Zeroizing<alloc::vec::Vec<u8>>, data: &[u8]) {
    if buf.len() + data.len() > buf.capacity() {
        let wanted = (buf.capacity() * 2).max(buf.len() + data.len());
        let mut bigger = Zeroizing::new(alloc::vec::Vec::with_capacity(wanted));
        bigger.extend_from_slice(buf);
        *buf = bigger;
    }
    buf.extend_from_slice(data);
}

/// A growable buffer for secret text that never leaves an old copy behind:
/// when it must grow, the new allocation is made first, the bytes copied, and
/// the old one zeroized as it is dropped.
#[derive(Default)]
pub(crate) struct SecretBuf(Zeroizing<String>);

impl SecretBuf {
    pub(crate) fn with_capacity(capacity: usize) -> SecretBuf {
        SecretBuf(Zeroizing::new(String::with_capacity(capacity)))
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        if self.0.len() + s.len() > self.0.capacity() {
            let wanted = (self.0.len() + s.len()).max(self.0.capacity() * 2);
            let mut bigger = Zeroizing::new(String::with_capacity(wanted));
            bigger.push_str(&self.0);
            self.0 = bigger;
        }
        self.0.push_str(s);
    }

    pub(crate) fn push(&mut self, c: char) {
        let mut tmp = [0u8; 4];
        self.push_str(c.encode_utf8(&mut tmp));
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_secret(self) -> Secret {
        Secret(self.0)
    }
}

impl fmt::Write for SecretBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::from("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn secret_buf_grows_and_keeps_content() {
        let mut b = SecretBuf::with_capacity(2);
        for _ in 0..100 {
            b.push_str("abc");
        }
        b.push('é');
        assert_eq!(b.as_str().len(), 302);
        assert!(b.into_secret().expose().ends_with("cé"));
    }
}
