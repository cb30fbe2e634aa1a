//! Reading a small file named by a setting: regular files only, size capped.
//!
//! `/dev/zero` would otherwise be read until memory runs out, and a FIFO
//! would block the job forever (deaf to SIGTERM) waiting for a writer.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::string::String;
use std::vec::Vec;
use zeroize::Zeroizing;

/// Why a file could not be read; the text names the problem and the fix
/// (the caller adds which setting and path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileError(pub String);

/// Reads `path` whole into a zeroizing buffer, if it is a regular file of at
/// most `limit` bytes.
pub(crate) fn read_regular(path: &str, limit: u64) -> Result<Zeroizing<Vec<u8>>, FileError> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer. It has no effect
    // on reading a regular file.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| FileError(std::format!("cannot be read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| FileError(std::format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(FileError(String::from(
            "is not a regular file (a device, FIFO or directory); point it at a file",
        )));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    read_capped(file, limit)
}

/// Opens `path` to write a reply that may hold a secret: a regular file
/// (created 0600, an existing one truncated and made 0600) or a character
/// device (`/dev/null`, `/dev/stdout`), never a symbolic link, FIFO,
/// socket or block device. The open never waits: a FIFO with no reader
/// would otherwise block past every time limit.
pub(crate) fn open_output(path: &str) -> Result<File, FileError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let cannot = |e: std::io::Error| FileError(std::format!("cannot be written: {e}"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => special(),
            Some(libc::ELOOP) => FileError(String::from(
                "is a symbolic link; give the path of a regular file (or a new one)",
            )),
            _ => cannot(e),
        })?;
    let meta = file.metadata().map_err(cannot)?;
    let kind = meta.file_type();
    if !kind.is_file() && !kind.is_char_device() {
        return Err(special());
    }
    if kind.is_file() {
        file.set_len(0).map_err(cannot)?;
        if meta.permissions().mode() & 0o7777 != 0o600 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(cannot)?;
        }
    }
    super::process::set_blocking(&file).map_err(cannot)?;
    Ok(file)
}

/// Whether `path` names a special file [`open_output`] refuses (checked
/// before anything is sent).
pub(crate) fn is_refused_special(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    t.is_fifo() || t.is_socket() || t.is_block_device()
}

fn special() -> FileError {
    FileError(String::from(
        "is a FIFO, socket or block device; give a regular file's path (or a character device such as /dev/null)",
    ))
}

fn read_capped(file: File, limit: u64) -> Result<Zeroizing<Vec<u8>>, FileError> {
    // Sized from the file's length up front, so no smaller copy is left
    // behind unzeroized; `take` guards a file that grows while we read.
    let hint = file.metadata().map_or(0, |m| m.len()).min(limit) as usize;
    let mut buf = Zeroizing::new(Vec::with_capacity(hint + 1));
    let mut chunk = Zeroizing::new([0u8; 4096]);
    let mut reader = file.take(limit + 1);
    loop {
        let n = reader
            .read(&mut chunk[..])
            .map_err(|e| FileError(std::format!("cannot be read: {e}")))?;
        if n == 0 {
            break;
        }
        if buf.len() + n > limit as usize {
            return Err(too_large(limit));
        }
        crate::core::secrets::secret::extend_zeroizing(&mut buf, &chunk[..n]);
    }
    Ok(buf)
}

fn too_large(limit: u64) -> FileError {
    FileError(std::format!("is larger than {limit} bytes; point it at the right file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_only_and_capped() {
        let dir = std::env::temp_dir().join(std::format!("credhook-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small");
        std::fs::write(&small, b"hello").unwrap();
        assert_eq!(&read_regular(small.to_str().unwrap(), 5).unwrap()[..], b"hello");
        let e = read_regular(small.to_str().unwrap(), 4).unwrap_err();
        assert!(e.0.contains("larger than 4 bytes"), "{e:?}");
        let e = read_regular("/dev/zero", 1 << 20).unwrap_err();
        assert!(e.0.contains("not a regular file"), "{e:?}");
        let e = read_regular(dir.to_str().unwrap(), 1 << 20).unwrap_err();
        assert!(
            e.0.contains("not a regular file") || e.0.contains("cannot be read"),
            "{e:?}"
        );
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let e = read_regular(fifo.to_str().unwrap(), 1 << 20).unwrap_err();
        assert!(e.0.contains("not a regular file"), "{e:?}");
        let e = read_regular("/nonexistent/x", 10).unwrap_err();
        assert!(e.0.contains("cannot be read"), "{e:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
