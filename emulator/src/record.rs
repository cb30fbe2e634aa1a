//! Append-only JSON-lines record files (`updates.jsonl`, `requests.jsonl`).
//!
//! Each line goes out whole: it is formatted with its newline first, then
//! written with one `write_all` on a file opened once in append mode, under a
//! lock. Concurrent connections therefore never interleave or split lines
//! (formatting straight into the file would issue one `write` per piece).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

pub struct Record {
    file: Mutex<File>,
}

impl Record {
    /// Opens (creating it and its directory if needed) `path` for appending.
    pub fn open(path: &Path) -> io::Result<Record> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Record { file: Mutex::new(file) })
    }

    /// Appends `line` (without its newline) as one line.
    pub fn append(&self, line: &str) {
        let mut whole = String::with_capacity(line.len() + 1);
        whole.push_str(line);
        whole.push('\n');
        // A poisoned lock still holds a usable file: every write is whole.
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // The emulator keeps serving if its disk is full; the in-memory
        // copy (and GET /emulator/updates) still has the record.
        let _ = f.write_all(whole.as_bytes());
    }
}
