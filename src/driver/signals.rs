//! Stop signals and child exits.
//!
//! Every catchable signal whose default action ends the process is a stop
//! (so none can end credhook silently, leaving the task unreported and the
//! hook running): SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
//! SIGVTALRM, SIGPROF, SIGXCPU, SIGIO, SIGPWR, SIGSTKFLT and the real-time
//! signals. SIGPIPE stays ignored (a write to a closed pipe is an error
//! instead) and SIGXFSZ is a stop too. Faults (SEGV, BUS, FPE, ILL, ABRT,
//! TRAP, SYS) keep their default. A stop sets a flag; it and SIGCHLD also
//! write a byte to a self-pipe, so a `poll` that waits for the hook wakes at
//! once. Handlers are reset by `exec`, so the hook gets default dispositions.

use std::io;
use std::os::fd::RawFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);
static STOP_SIGNAL: AtomicI32 = AtomicI32::new(0);
static STOP_NANOS: AtomicU64 = AtomicU64::new(0);
static STOPPED_AT: OnceLock<Instant> = OnceLock::new();
static WAKE_READ: AtomicI32 = AtomicI32::new(-1);
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The signals handled as a stop, besides the real-time ones.
pub(crate) const STOP_SIGNALS: [libc::c_int; 14] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGIO,
    libc::SIGPWR,
    libc::SIGSTKFLT,
];

extern "C" fn on_signal(sig: libc::c_int) {
    if sig != libc::SIGCHLD {
        // The first stop signal is the one named in the log.
        if STOP_SIGNAL
            .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            // When it came, not when a loop next looks: every stop budget
            // counts from here, even if credhook was busy.
            STOP_NANOS.store(monotonic_nanos(), Ordering::SeqCst);
        }
        STOP.store(true, Ordering::SeqCst);
    }
    let fd = WAKE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = sig as u8;
        // SAFETY: write(2) is async-signal-safe; the buffer is a live local and
        // the pipe is non-blocking, so a full pipe just drops the byte.
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
}

/// Installs the handlers: every stop signal, and SIGCHLD.
pub(crate) fn install() -> io::Result<()> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two fds into a live two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    WAKE_READ.store(fds[0], Ordering::SeqCst);
    WAKE_WRITE.store(fds[1], Ordering::SeqCst);
    for sig in STOP_SIGNALS.into_iter().chain([libc::SIGCHLD]) {
        handle(sig)?;
    }
    // The C library may keep some real-time signals for itself (outside
    // SIGRTMIN..=SIGRTMAX); one that cannot be caught is left alone.
    for sig in libc::SIGRTMIN()..=libc::SIGRTMAX() {
        let _ = handle(sig);
    }
    Ok(())
}

fn handle(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: a zeroed sigaction is a valid starting value; we set a handler
    // that only touches atomics and write(2), with SA_RESTART so blocking
    // I/O elsewhere is not interrupted (waits that must end on a stop poll
    // the self-pipe or the flag instead).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        sa.sa_flags = libc::SA_RESTART | if sig == libc::SIGCHLD { libc::SA_NOCLDSTOP } else { 0 };
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether a stop signal has arrived.
pub(crate) fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// When the first stop signal arrived (recorded by the handler); `None`
/// before a stop.
pub(crate) fn stopped_at() -> Option<Instant> {
    if !stop_requested() {
        return None;
    }
    Some(*STOPPED_AT.get_or_init(|| {
        let at = STOP_NANOS.load(Ordering::SeqCst);
        let ago = monotonic_nanos().saturating_sub(at);
        let now = Instant::now();
        if at == 0 {
            now
        } else {
            now.checked_sub(Duration::from_nanos(ago)).unwrap_or(now)
        }
    }))
}

/// CLOCK_MONOTONIC (what `Instant` uses on Linux) in nanoseconds; 0 if it
/// cannot be read. Async-signal-safe.
fn monotonic_nanos() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into a live timespec; it is
    // async-signal-safe (POSIX).
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// The name of the first stop signal, for the log (`SIGTERM`, `SIGRTMIN+3`).
pub(crate) fn stop_signal_name() -> Option<std::string::String> {
    let sig = STOP_SIGNAL.load(Ordering::SeqCst);
    (sig != 0).then(|| signal_name(sig))
}

pub(crate) fn signal_name(sig: libc::c_int) -> std::string::String {
    const NAMES: [(libc::c_int, &str); 14] = [
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGVTALRM, "SIGVTALRM"),
        (libc::SIGPROF, "SIGPROF"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
        (libc::SIGIO, "SIGIO"),
        (libc::SIGPWR, "SIGPWR"),
        (libc::SIGSTKFLT, "SIGSTKFLT"),
    ];
    match NAMES.iter().find(|(n, _)| *n == sig) {
        Some((_, name)) => std::string::String::from(*name),
        None if sig >= libc::SIGRTMIN() => std::format!("SIGRTMIN+{}", sig - libc::SIGRTMIN()),
        None => std::format!("signal {sig}"),
    }
}

/// The read end of the self-pipe (`-1` before [`install`]).
pub(crate) fn wake_fd() -> RawFd {
    WAKE_READ.load(Ordering::SeqCst)
}

/// Empties the self-pipe after `poll` said it is readable.
pub(crate) fn drain_wake() {
    let fd = wake_fd();
    let mut buf = [0u8; 64];
    // SAFETY: reading into a live local buffer of the given length from a
    // non-blocking fd we own.
    while fd >= 0 && unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// Sleeps for `d`, or less when a stop signal arrives. Returns false if it did.
pub(crate) fn sleep(d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if stop_requested() {
            return false;
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        let fd = wake_fd();
        if fd < 0 {
            std::thread::sleep(left);
            continue;
        }
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call.
        if unsafe { libc::poll(&mut pfd, 1, ms) } > 0 {
            drain_wake();
        }
    }
}
