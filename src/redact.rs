//! Masking known secret values in text that is about to be logged or sent.

use crate::inputs::{parse_boolean, parse_integer};
use crate::secret::Secret;
use alloc::string::String;
use alloc::vec::Vec;

pub const MASK: &str = "[REDACTED]";

/// The secret values known so far; [`Redactor::apply`] masks them all.
#[derive(Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    secrets: Vec<Secret>,
}

impl Redactor {
    /// Adds a value to mask. Values of fewer than 4 characters, integers and
    /// booleans are not masked: they would turn ordinary text into noise.
    pub fn add(&mut self, value: &str) {
        if value.chars().count() < 4 || parse_integer(value).is_some() || parse_boolean(value).is_some() {
            return;
        }
        if self.secrets.iter().any(|s| s.expose() == value) {
            return;
        }
        let pos = self
            .secrets
            .iter()
            .position(|s| s.expose().len() < value.len())
            .unwrap_or(self.secrets.len());
        self.secrets.insert(pos, Secret::from(value));
        // A multi-line value (a certificate) may be logged a line at a time.
        if value.contains('\n') {
            for line in value.lines() {
                if line.len() >= 16 {
                    self.add(line);
                }
            }
        }
    }

    /// `text` with every known secret replaced by `[REDACTED]`.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::from(text);
        for s in &self.secrets {
            if out.contains(s.expose()) {
                out = out.replace(s.expose(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_known_values() {
        let mut r = Redactor::default();
        r.add("hunter2-secret");
        r.add("hunter2-secret-longer");
        r.add("abc");
        r.add("12345");
        r.add("TRUE");
        assert_eq!(
            r.apply("a hunter2-secret-longer b hunter2-secret c abc 12345 TRUE"),
            "a [REDACTED] b [REDACTED] c abc 12345 TRUE"
        );
    }

    #[test]
    fn masks_lines_of_multiline_values() {
        let mut r = Redactor::default();
        r.add("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----");
        assert_eq!(r.apply("x MIIEvQIBADANBgkqhkiG9w0BAQEFAASC y"), "x [REDACTED] y");
    }
}
