//! Bounded input: the crate's one capped, zeroizing reader, and a small
//! file named by a setting read with it (regular files only: `/dev/zero`
//! would otherwise be read until memory runs out, and a FIFO would block
//! the job forever, deaf to SIGTERM, waiting for a writer).

use super::DriverError;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::string::String;
use std::vec::Vec;
use zeroize::Zeroizing;

/// Reads `path` whole into a zeroizing buffer, if it is a regular file of at
/// most `limit` bytes.
pub(crate) fn read_regular(path: &str, limit: u64) -> Result<Zeroizing<Vec<u8>>, DriverError> {
    // O_NONBLOCK: opening a FIFO must not wait for a writer. It has no effect
    // on reading a regular file.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| DriverError::File(std::format!("cannot be read: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| DriverError::File(std::format!("cannot be read: {e}")))?;
    if !meta.is_file() {
        return Err(DriverError::File(String::from(
            "is not a regular file (a device, FIFO or directory); point it at a file",
        )));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    // `take` guards a file that grows while it is read.
    let cap = usize::try_from(limit).unwrap_or(usize::MAX);
    read_capped(file.take(limit.saturating_add(1)), cap, meta.len() as usize).map_err(|e| match e {
        DriverError::TooLarge(_) => too_large(limit),
        e => DriverError::File(std::format!("cannot be read: {e}")),
    })
}

/// Opens `path` to write a reply that may hold a secret: a regular file
/// (created 0600, an existing one truncated and made 0600) or a character
/// device (`/dev/null`, `/dev/stdout`), never a symbolic link, FIFO,
/// socket or block device. The open never waits: a FIFO with no reader
/// would otherwise block past every time limit.
pub(crate) fn open_output(path: &str) -> Result<std::fs::File, DriverError> {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let cannot = |e: std::io::Error| DriverError::File(std::format!("cannot be written: {e}"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => special(),
            Some(libc::ELOOP) => DriverError::File(String::from(
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

fn special() -> DriverError {
    DriverError::File(String::from(
        "is a FIFO, socket or block device; give a regular file's path (or a character device such as /dev/null)",
    ))
}

/// The crate's one capped reader: all of `r`, at most `cap` bytes, into a
/// buffer that is zeroized on drop (it may hold a secret: a reply, a token
/// file, a hook tool's input). `hint` is the expected length: the buffer is
/// sized for it up front (up to `cap`), and every smaller buffer it outgrows
/// is zeroized too.
pub(crate) fn read_capped(mut r: impl Read, cap: usize, hint: usize) -> Result<Zeroizing<Vec<u8>>, DriverError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(hint.min(cap).saturating_add(1).max(1024)));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match r.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DriverError::Io(e)),
        };
        if buf.len() + n > cap {
            return Err(DriverError::TooLarge(cap));
        }
        crate::core::secrets::secret::extend_zeroizing(&mut buf, &chunk[..n]);
    }
}

fn too_large(limit: u64) -> DriverError {
    DriverError::File(std::format!("is larger than {limit} bytes; point it at the right file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn regular_files_only_and_capped() {
        let dir = std::env::temp_dir().join(std::format!("credhook-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small");
        std::fs::write(&small, b"hello").unwrap();
        assert_eq!(&read_regular(small.to_str().unwrap(), 5).unwrap()[..], b"hello");
        let e = read_regular(small.to_str().unwrap(), 4).unwrap_err();
        assert!(e.to_string().contains("larger than 4 bytes"), "{e:?}");
        let e = read_regular("/dev/zero", 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e:?}");
        let e = read_regular(dir.to_str().unwrap(), 1 << 20).unwrap_err();
        assert!(
            e.to_string().contains("not a regular file") || e.to_string().contains("cannot be read"),
            "{e:?}"
        );
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let e = read_regular(fifo.to_str().unwrap(), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e:?}");
        let e = read_regular("/nonexistent/x", 10).unwrap_err();
        assert!(e.to_string().contains("cannot be read"), "{e:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_capped_reader_stops_at_its_cap() {
        assert_eq!(&read_capped(&b"hello"[..], 5, 0).unwrap()[..], b"hello");
        assert!(matches!(
            read_capped(&b"hello!"[..], 5, 100),
            Err(DriverError::TooLarge(5))
        ));
        let big = std::vec![7u8; 100_000];
        assert_eq!(read_capped(&big[..], 100_000, 10).unwrap().len(), 100_000);
        assert!(matches!(
            read_capped(std::io::repeat(0), 1 << 20, 0),
            Err(DriverError::TooLarge(_))
        ));
    }
}
