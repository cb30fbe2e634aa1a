//! The job log: one JSON object per line on stderr (or plain text), every
//! string masked with the secret registry first, but metadata
//! ([`LogValue::Meta`]: ids credhook names, which are not secret, masked
//! only with the secrets credhook read for itself).

use super::known_secrets;
use crate::core::job::settings::LogFormat;
use std::io::Write;
use std::string::String;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// A log field's value.
pub(crate) enum LogValue<'a> {
    /// Masked with every known secret.
    Str(&'a str),
    Num(u64),
    /// Metadata credhook names: a credentials, secret or task id (not
    /// secret by the classification, and an operator must be able to find
    /// what it names even when an output holds the same text). Masked only
    /// where it holds a secret credhook read for itself (the API key, a
    /// token, a referenced secret's field: [`known_secrets::mask_meta`]).
    Meta(&'a str),
}

pub(crate) struct Log {
    format: LogFormat,
    task_id: String,
    action: String,
    pub(crate) started: Instant,
}

impl Log {
    pub(crate) fn new(format: LogFormat, task_id: &str, action: &str) -> Log {
        Log {
            format,
            task_id: task_id.into(),
            action: action.into(),
            started: Instant::now(),
        }
    }

    pub(crate) fn info(&self, msg: &str, fields: &[(&str, LogValue<'_>)]) {
        self.event(Level::Info, msg, fields);
    }

    pub(crate) fn warn(&self, msg: &str, fields: &[(&str, LogValue<'_>)]) {
        self.event(Level::Warn, msg, fields);
    }

    pub(crate) fn error(&self, msg: &str, fields: &[(&str, LogValue<'_>)]) {
        self.event(Level::Error, msg, fields);
    }

    pub(crate) fn event(&self, level: Level, msg: &str, fields: &[(&str, LogValue<'_>)]) {
        let line = self.render(level, msg, fields);
        // One write per line, so lines from a crash never interleave; a log
        // that cannot be written is not a reason to abandon the task.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn render(&self, level: Level, msg: &str, fields: &[(&str, LogValue<'_>)]) -> String {
        use std::fmt::Write as _;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let ts = crate::core::time::rfc3339(millis);
        let r = known_secrets::mask;
        let m = known_secrets::mask_meta;
        let mut out = String::with_capacity(160);
        match self.format {
            LogFormat::Json => {
                out.push_str("{\"ts\":\"");
                out.push_str(&ts);
                out.push_str("\",\"level\":\"");
                out.push_str(level.as_str());
                out.push_str("\",\"msg\":");
                crate::core::json::write_string(&mut out, &r(msg));
                out.push_str(",\"task_id\":");
                crate::core::json::write_string(&mut out, &self.task_id);
                out.push_str(",\"action\":");
                crate::core::json::write_string(&mut out, &self.action);
                for (k, v) in fields {
                    out.push(',');
                    crate::core::json::write_string(&mut out, k);
                    out.push(':');
                    match v {
                        LogValue::Str(s) => crate::core::json::write_string(&mut out, &r(s)),
                        LogValue::Meta(s) => crate::core::json::write_string(&mut out, &m(s)),
                        LogValue::Num(n) => {
                            let _ = write!(out, "{n}");
                        }
                    }
                }
                out.push('}');
            }
            LogFormat::Text => {
                // A hook's line must not move the cursor, ring or rewrite
                // the line: control characters are written escaped.
                let _ = write!(out, "{ts} {:<5} ", level.as_str().to_uppercase());
                write_escaped(&mut out, &r(msg));
                for (k, v) in fields {
                    let _ = match v {
                        LogValue::Str(s) => write!(out, " {k}={:?}", r(s)),
                        LogValue::Meta(s) => write!(out, " {k}={:?}", m(s)),
                        LogValue::Num(n) => write!(out, " {k}={n}"),
                    };
                }
            }
        }
        out.push('\n');
        out
    }

    pub(crate) fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

/// Writes `s` with control characters and bidirectional-text controls
/// escaped (`\u{1b}`, `\r`, …), so that text from a hook cannot move the
/// cursor, ring the bell, overwrite a line or fake another log line.
pub(crate) fn write_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        let bidi = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}
