//! What the hook tools read and write: `{{NAME}}` lookups in the
//! environment, and stdout written past std's buffer (which is never
//! zeroized). Their input is read with [`crate::driver::files::read_capped`].

use std::io;

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
