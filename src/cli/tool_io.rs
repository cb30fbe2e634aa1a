//! What the hook tools read and write: arguments as UTF-8, stdin or a file
//! into a bounded buffer that is zeroized when dropped (it may hold a
//! secret), and stdout written past std's buffer (which is never zeroized).

use std::ffi::OsString;
use std::format;
use std::io::{self, Read};
use std::string::String;
use std::vec::Vec;
use zeroize::Zeroizing;

/// An argument as UTF-8; `what` names it in the message. Unlike
/// [`super::utf8`] the value is never shown: the hook tools' arguments may
/// hold a secret someone typed in place of a `{{NAME}}`.
pub(crate) fn utf8(arg: OsString, what: &str) -> Result<String, String> {
    arg.into_string()
        .map_err(|_| format!("{what} is not valid UTF-8; pass text (secrets through {{{{NAME}}}} and the environment)"))
}

/// Why [`read_capped`] stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    TooLarge(usize),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::TooLarge(cap) => write!(f, "more than {cap} bytes"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Reads all of `r` (at most `cap` bytes) into a zeroizing buffer; every
/// smaller buffer it outgrows is zeroized too.
pub(crate) fn read_capped(mut r: impl Read, cap: usize) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(8192));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match r.read(&mut chunk[..]) {
            Ok(0) => return Ok(buf),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        if buf.len() + n > cap {
            return Err(ReadError::TooLarge(cap));
        }
        crate::core::secrets::secret::extend_zeroizing(&mut buf, &chunk[..n]);
    }
}

/// `{{NAME}}` lookups in a snapshot of the environment (zeroized when
/// dropped), borrowing its values instead of copying them.
pub(crate) fn lookup<'e>(env: &'e crate::driver::Env) -> impl Fn(&str) -> Option<&'e [u8]> + Copy {
    use std::os::unix::ffi::OsStrExt;
    move |name: &str| {
        env.all
            .0
            .iter()
            .find(|(k, _)| k.as_bytes() == name.as_bytes())
            .map(|(_, v)| v.as_bytes())
    }
}

/// Writes `bytes` to stdout unbuffered: through a duplicate of fd 1, so no
/// copy of a secret stays in std's stdout buffer for the rest of the process.
pub(crate) fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::fd::AsFd;
    let fd = std::io::stdout().as_fd().try_clone_to_owned()?;
    std::fs::File::from(fd).write_all(bytes)
}
