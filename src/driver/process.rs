//! This process itself: hardened against leaking its memory (no core dumps,
//! not dumpable), and what it used (CPU time, peak RSS) for the last log line.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// Turns off core dumps and marks the process non-dumpable, so no secret can
/// end up in a core file or be read through ptrace by another user process.
pub(crate) fn harden() -> io::Result<()> {
    let zero = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads a valid, initialised rlimit struct.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &zero) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes plain integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Makes an open file's writes blocking again (it was opened `O_NONBLOCK`
/// so that opening a FIFO could not wait for a reader).
pub(crate) fn set_blocking(file: &std::fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl F_GETFL/F_SETFL on a file descriptor this File owns,
    // with plain integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// This process's own CPU time and peak RSS (the hook is not included).
pub(crate) struct Usage {
    pub(crate) user_us: u64,
    pub(crate) sys_us: u64,
    pub(crate) max_rss_kib: u64,
}

/// CPU time (user, system; µs) already spent when [`mark_start`] ran: a
/// container runtime's own process (runc's Go init) execs credhook, and
/// `getrusage` keeps what it spent before the `exec`.
static START_CPU_US: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Snapshots the CPU time spent before credhook's `main` (first thing in
/// `main`), so that [`own_usage`] reports credhook's own.
pub(crate) fn mark_start() {
    let (user, sys) = cpu_us();
    START_CPU_US[0].store(user, Ordering::Relaxed);
    START_CPU_US[1].store(sys, Ordering::Relaxed);
}

/// CPU time since [`mark_start`] and the peak RSS of this address space:
/// `VmHWM` of /proc/self/status, which `exec` resets (getrusage's
/// `ru_maxrss` keeps the high-water mark of the process before `exec`,
/// the container runtime's). Without /proc, `ru_maxrss`.
pub(crate) fn own_usage() -> Usage {
    let (user, sys) = cpu_us();
    let max_rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| vm_hwm_kib(&s))
        .unwrap_or_else(|| rusage().map_or(0, |ru| ru.ru_maxrss as u64));
    Usage {
        user_us: user.saturating_sub(START_CPU_US[0].load(Ordering::Relaxed)),
        sys_us: sys.saturating_sub(START_CPU_US[1].load(Ordering::Relaxed)),
        max_rss_kib,
    }
}

/// `VmHWM:   2400 kB` of a /proc/PID/status text, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line["VmHWM:".len()..].split_whitespace().next()?.parse().ok()
}

fn rusage() -> Option<libc::rusage> {
    // SAFETY: a zeroed rusage is valid for getrusage to fill in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the live struct we pass.
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } == 0).then_some(ru)
}

/// This process's user and system CPU time so far, in µs (0 if unknown).
fn cpu_us() -> (u64, u64) {
    let us = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000 + t.tv_usec as u64;
    rusage().map_or((0, 0), |ru| (us(ru.ru_utime), us(ru.ru_stime)))
}

#[cfg(test)]
mod tests {
    use super::vm_hwm_kib;

    #[test]
    fn reads_vm_hwm() {
        let status = "Name:\tcredhook\nVmPeak:\t   9000 kB\nVmHWM:\t    2412 kB\nVmRSS:\t 2000 kB\n";
        assert_eq!(vm_hwm_kib(status), Some(2412));
        assert_eq!(vm_hwm_kib("Name:\tx\n"), None);
    }
}
