//! This process itself: hardened against leaking its memory (no core dumps,
//! not dumpable), and what it used (CPU time, peak RSS) for the last log line.

use std::io;

/// Turns off core dumps and marks the process non-dumpable, so no secret can
/// end up in a core file or be read through ptrace by another user process.
pub fn harden() -> io::Result<()> {
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

/// This process's own CPU time and peak RSS (the hook is not included).
pub struct Usage {
    pub user_us: u64,
    pub sys_us: u64,
    pub max_rss_kib: u64,
}

pub fn own_usage() -> Usage {
    // SAFETY: a zeroed rusage is valid for getrusage to fill in.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the live struct we pass.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return Usage {
            user_us: 0,
            sys_us: 0,
            max_rss_kib: 0,
        };
    }
    let us = |t: libc::timeval| (t.tv_sec as u64) * 1_000_000 + t.tv_usec as u64;
    Usage {
        user_us: us(ru.ru_utime),
        sys_us: us(ru.ru_stime),
        max_rss_kib: ru.ru_maxrss as u64,
    }
}
