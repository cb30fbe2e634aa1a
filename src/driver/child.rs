//! Running one child process (the hook, or its rollback) to its end: its own
//! process group, stdin null, stdout/stderr and the private output pipe
//! (fd 3) read with `poll` on one thread, a timeout with SIGTERM then SIGKILL
//! to the whole group, and nothing left running in the group after it; the
//! pipes are read until they close or the group is gone. What the output
//! means is [`super::hook`]'s business.

use super::signals;
use crate::core::hook::channel::MAX_OUTPUT_BYTES;
use crate::core::hook::clock::{HookClock, Signal};
use crate::core::hook::verdict::{LAST_STDERR_KEPT, last_stderr_line};
use crate::core::secrets::secret::extend_zeroizing;
use std::fs::File;
use std::io;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::string::ToString;
use std::time::{Duration, Instant};
use std::vec::Vec;
use zeroize::{Zeroize, Zeroizing};

pub(crate) use crate::core::hook::clock::DRAIN_LIMIT;
/// Held stdout/stderr lines, in bytes: each line counts its length plus
/// one, so blank lines count too; once a line does not fit, it and every
/// later line are dropped and counted.
pub(crate) const MAX_HELD_LOG: usize = 256 * 1024;
/// At most this many held lines, whatever their length (the log grows by a
/// JSON record per line).
pub(crate) const MAX_HELD_LINES: usize = 16 * 1024;
/// How much of the output channel is kept: more than it may hold (1 MiB), so
/// that values written past that limit are still registered as secrets.
pub(crate) const MAX_KEPT_OUTPUT: usize = 2 * MAX_OUTPUT_BYTES;
/// Where the hook finds its output channel.
pub(crate) const OUTPUT_PATH: &str = "/dev/fd/3";

pub(crate) struct Spec<'a> {
    pub(crate) path: &'a str,
    pub(crate) arg: &'a str,
    pub(crate) env: super::Vars,
    pub(crate) timeout: Duration,
    /// How long the run may go on after a stop signal before it gets
    /// SIGTERM (SIGKILL follows [`KILL_GRACE`] later). Zero for the hook's
    /// own run; the rollback gets a little time to delete what it can.
    pub(crate) after_stop: Duration,
}

pub(crate) use crate::core::hook::verdict::Ending;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

pub(crate) struct Run {
    pub(crate) ending: Ending,
    /// What the hook wrote to fd 3: at most [`MAX_KEPT_OUTPUT`] bytes of it.
    pub(crate) output: Zeroizing<Vec<u8>>,
    /// More than 1 MiB was written to fd 3.
    pub(crate) output_overflow: bool,
    /// stdout/stderr lines, held whole (a long line is split only after it
    /// is masked) until the hook exits.
    pub(crate) lines: HeldLines,
    pub(crate) dropped_lines: u64,
    /// The last non-blank stderr line (its first 4 KiB), and whether it was
    /// longer.
    pub(crate) last_stderr: Option<(Zeroizing<Vec<u8>>, bool)>,
    pub(crate) duration: Duration,
}

/// Lines in one zeroizing buffer, each a range of it.
#[derive(Default)]
pub(crate) struct HeldLines {
    text: Zeroizing<Vec<u8>>,
    index: Vec<(Stream, u32, u32)>,
}

impl HeldLines {
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Stream, &[u8])> {
        self.index
            .iter()
            .map(|(s, a, b)| (*s, &self.text[*a as usize..*b as usize]))
    }
}

struct LineBuf {
    stream: Stream,
    /// The line so far: as much of it as can still be held, and at least
    /// `LAST_STDERR_KEPT` bytes.
    partial: Zeroizing<Vec<u8>>,
    /// Its whole length.
    len: usize,
}

impl LineBuf {
    fn new(stream: Stream) -> LineBuf {
        LineBuf {
            stream,
            partial: Zeroizing::new(Vec::new()),
            len: 0,
        }
    }
}

struct Collector {
    lines: HeldLines,
    held: usize,
    full: bool,
    dropped: u64,
    last_stderr: Option<(Zeroizing<Vec<u8>>, bool)>,
}

impl Collector {
    fn new() -> Collector {
        Collector {
            lines: HeldLines::default(),
            held: 0,
            full: false,
            dropped: 0,
            last_stderr: None,
        }
    }

    /// Ends `buf`'s line: holds it if it fits, else drops it and the rest.
    fn push(&mut self, buf: &mut LineBuf) {
        let line = &buf.partial[..];
        if buf.stream == Stream::Stderr
            && let Some((kept, cut)) = last_stderr_line(line, buf.len)
        {
            self.last_stderr = Some((Zeroizing::new(kept.to_vec()), cut));
        }
        let cost = buf.len + 1;
        if !self.full && self.held + cost <= MAX_HELD_LOG && self.lines.index.len() < MAX_HELD_LINES {
            if self.lines.text.capacity() == 0 {
                // Allocated once: growing would leave unzeroized copies.
                self.lines.text = Zeroizing::new(Vec::with_capacity(MAX_HELD_LOG));
            }
            let start = self.lines.text.len() as u32;
            self.lines.text.extend_from_slice(line);
            let end = self.lines.text.len() as u32;
            self.lines.index.push((buf.stream, start, end));
            self.held += cost;
        } else {
            self.full = true;
            self.dropped += 1;
        }
        buf.partial.zeroize();
        buf.partial.clear();
        buf.len = 0;
    }

    fn feed(&mut self, buf: &mut LineBuf, data: &[u8]) {
        let mut rest = data;
        loop {
            let (piece, ended) = match rest.iter().position(|b| *b == b'\n') {
                Some(nl) => (&rest[..nl], true),
                None => (rest, false),
            };
            // Keep only what can still be held, and at least what the last
            // stderr line needs: a longer line is dropped anyway.
            let keep = if self.full {
                LAST_STDERR_KEPT
            } else {
                MAX_HELD_LOG.saturating_sub(self.held).max(LAST_STDERR_KEPT)
            };
            let room = keep.saturating_sub(buf.partial.len());
            extend_zeroizing(&mut buf.partial, &piece[..piece.len().min(room)]);
            buf.len += piece.len();
            if !ended {
                break;
            }
            self.push(buf);
            rest = &rest[piece.len() + 1..];
        }
    }

    fn finish(&mut self, buf: &mut LineBuf) {
        if buf.len > 0 {
            self.push(buf);
        }
    }
}

/// Runs the hook to its end and collects what it wrote.
pub(crate) fn run(spec: Spec<'_>) -> Run {
    let started = Instant::now();
    let not_started = |e: io::Error| Run {
        ending: Ending::NotStarted(e.to_string()),
        output: Zeroizing::new(Vec::new()),
        output_overflow: false,
        lines: HeldLines::default(),
        dropped_lines: 0,
        last_stderr: None,
        duration: started.elapsed(),
    };
    // Both ends close on exec; the child's copy is made fd 3 below.
    let (out_read, out_write) = match io::pipe() {
        Ok(p) => p,
        Err(e) => return not_started(e),
    };
    let mut cmd = Command::new(spec.path);
    cmd.arg(spec.arg)
        .env_clear()
        .envs(spec.env.0.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let w = out_write.as_raw_fd();
    // SAFETY: the closure runs in the forked child before exec and only calls
    // dup2 and fcntl, which are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if w == 3 {
                // dup2 onto itself would keep FD_CLOEXEC; clear it instead.
                if libc::fcntl(3, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(w, 3) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    become_subreaper();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return not_started(e),
    };
    // Our copy of the write end must go, or the pipe never reaches EOF.
    drop(out_write);
    let mut run = supervise(&mut child, File::from(OwnedFd::from(out_read)), &spec);
    run.duration = started.elapsed();
    run
}

/// The hook's three pipes and what has been read from them.
struct Pipes {
    stdout: Option<File>,
    stderr: Option<File>,
    output_fd: Option<File>,
    out_buf: LineBuf,
    err_buf: LineBuf,
    collector: Collector,
    output: Zeroizing<Vec<u8>>,
    overflow: bool,
    chunk: Zeroizing<[u8; 8192]>,
}

impl Pipes {
    fn open(&self) -> bool {
        self.stdout.is_some() || self.stderr.is_some() || self.output_fd.is_some()
    }

    /// A pollfd for each pipe still open.
    fn pollfds(&self) -> Vec<libc::pollfd> {
        [&self.stdout, &self.stderr, &self.output_fd]
            .into_iter()
            .flatten()
            .map(|f| libc::pollfd {
                fd: f.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            })
            .collect()
    }

    /// Waits until a pipe or the signal self-pipe has something, or until
    /// `until` (at most 1 s; 10 ms without the self-pipe, so that the child
    /// is looked at often), and reads what came.
    fn wait_and_read(&mut self, until: Option<Instant>) {
        let mut fds = self.pollfds();
        let wake = signals::wake_fd();
        if wake >= 0 {
            fds.push(libc::pollfd {
                fd: wake,
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let cap = if wake >= 0 {
            Duration::from_secs(1)
        } else {
            Duration::from_millis(10)
        };
        let wait = until.map_or(cap, |n| n.saturating_duration_since(Instant::now()).min(cap));
        let ms = wait.as_millis().clamp(1, 1000) as libc::c_int;
        // SAFETY: `fds` is a live, initialised array of `fds.len()` pollfds.
        if unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) } <= 0 {
            return;
        }
        for p in fds.iter().filter(|p| p.revents != 0) {
            if p.fd == wake {
                signals::drain_wake();
            } else {
                self.read(p.fd);
            }
        }
    }

    /// The run's record: the held lines ended, what fd 3 carried.
    fn into_run(self, ending: Ending) -> Run {
        let Pipes {
            mut out_buf,
            mut err_buf,
            mut collector,
            output,
            overflow,
            ..
        } = self;
        collector.finish(&mut out_buf);
        collector.finish(&mut err_buf);
        Run {
            ending,
            output,
            output_overflow: overflow,
            lines: collector.lines,
            dropped_lines: collector.dropped,
            last_stderr: collector.last_stderr,
            duration: Duration::ZERO,
        }
    }

    /// Reads what the pipes hold now, without waiting for more (until
    /// `deadline` at the latest: a writer outside the group may not stop).
    fn read_buffered(&mut self, deadline: Option<Instant>) {
        while deadline.is_none_or(|d| Instant::now() < d) {
            let mut fds = self.pollfds();
            // SAFETY: `fds` is a live, initialised array of `fds.len()` pollfds.
            if fds.is_empty() || unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) } <= 0 {
                return;
            }
            for p in fds.iter().filter(|p| p.revents != 0) {
                self.read(p.fd);
            }
        }
    }

    /// Reads what `fd` has; closes it at its end.
    fn read(&mut self, fd: libc::c_int) {
        let raw = |f: &Option<File>| f.as_ref().map_or(-1, |f| f.as_raw_fd());
        let (which, file) = if fd == raw(&self.stdout) {
            (Some(Stream::Stdout), &mut self.stdout)
        } else if fd == raw(&self.stderr) {
            (Some(Stream::Stderr), &mut self.stderr)
        } else if fd == raw(&self.output_fd) {
            (None, &mut self.output_fd)
        } else {
            return;
        };
        let n = file.as_ref().map_or(0, |f| read_some(f, &mut self.chunk[..]));
        if n == 0 {
            *file = None;
            return;
        }
        let data = &self.chunk[..n];
        match which {
            Some(Stream::Stdout) => self.collector.feed(&mut self.out_buf, data),
            Some(Stream::Stderr) => self.collector.feed(&mut self.err_buf, data),
            None => {
                // Kept past the limit too (up to twice it), so that values
                // written after the limit are still registered as secrets.
                let room = MAX_KEPT_OUTPUT.saturating_sub(self.output.len());
                extend_zeroizing(&mut self.output, &data[..data.len().min(room)]);
                self.overflow |= self.output.len() > MAX_OUTPUT_BYTES;
            }
        }
    }
}

fn supervise(child: &mut Child, out_read: File, spec: &Spec<'_>) -> Run {
    let pgid = child.id() as libc::pid_t;
    let mut pipes = Pipes {
        stdout: child.stdout.take().map(|p| File::from(OwnedFd::from(p))),
        stderr: child.stderr.take().map(|p| File::from(OwnedFd::from(p))),
        output_fd: Some(out_read),
        out_buf: LineBuf::new(Stream::Stdout),
        err_buf: LineBuf::new(Stream::Stderr),
        collector: Collector::new(),
        output: Zeroizing::new(Vec::with_capacity(4096)),
        overflow: false,
        chunk: Zeroizing::new([0u8; 8192]),
    };
    // The TERM/KILL rules are the core's; here they meet the clock.
    let started = Instant::now();
    let mut clock = HookClock::new(spec.timeout, spec.after_stop);
    // A run that starts after the stop (a rollback) counts from its start.
    let stopped_at = || signals::stopped_at().map(|at| at.max(started) - started);
    let mut exited: Option<std::process::ExitStatus> = None;
    let mut drain_until: Option<Instant> = None;

    loop {
        if exited.is_none() {
            match clock.tick(started.elapsed(), stopped_at()) {
                Some(Signal::Term) => signal_group(pgid, libc::SIGTERM),
                Some(Signal::Kill) => signal_group(pgid, libc::SIGKILL),
                None => {}
            }
            if has_exited(pgid) {
                // Whatever the hook left running in its group goes with it,
                // before the hook is reaped so the group ID cannot be reused.
                signal_group(pgid, libc::SIGKILL);
                exited = child.wait().ok();
                drain_until = Some(Instant::now() + DRAIN_LIMIT);
            }
        }
        if exited.is_some() {
            if !pipes.open() || drain_until.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            // Only processes outside the hook's group still hold its pipes
            // (busybox `timeout`'s watcher, a `setsid` command): what the
            // hook wrote is in the pipes already.
            if !group_alive(pgid) {
                pipes.read_buffered(drain_until);
                break;
            }
        }
        // After the exit, look at the group often: its killed members are
        // gone within milliseconds.
        let group_check = exited.map(|_| Instant::now() + GROUP_CHECK);
        let next = [
            clock.next_due(stopped_at()).map(|d| started + d),
            drain_until,
            group_check,
        ]
        .into_iter()
        .flatten()
        .min();
        pipes.wait_and_read(next);
    }
    let ending = match clock.ended_by() {
        Some(by) => by.ending(),
        None => exit_ending(exited),
    };
    pipes.into_run(ending)
}

/// How a hook that the clock did not end ended: its exit status or signal.
fn exit_ending(exited: Option<std::process::ExitStatus>) -> Ending {
    match exited.map(|status| (status.code(), status.signal())) {
        Some((Some(c), _)) => Ending::Exited(c),
        Some((None, Some(s))) => Ending::Signaled(s),
        _ => Ending::Exited(-1),
    }
}

/// Reads what is there; 0 on EOF or error (either way the pipe is done).
/// `poll` said it is readable, so this does not block.
fn read_some(mut file: &File, buf: &mut [u8]) -> usize {
    loop {
        match file.read(buf) {
            Ok(n) => return n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return 0,
        }
    }
}

/// `waitid(which, id, WEXITED | WNOHANG | flags)`: whether a child it
/// names had ended (then reaped, unless `flags` has `WNOWAIT`).
fn child_ended(which: libc::idtype_t, id: libc::pid_t, flags: libc::c_int) -> bool {
    // SAFETY: a zeroed siginfo_t is valid for waitid to fill in.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid only looks at (or reaps) our own children; `info` is a
    // live siginfo_t.
    let r = unsafe {
        libc::waitid(
            which,
            id as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | flags,
        )
    };
    // SAFETY: si_pid is set by waitid (zero when no child changed state).
    r == 0 && unsafe { info.si_pid() } != 0
}

/// Whether the hook's own process has ended, without reaping it.
fn has_exited(pid: libc::pid_t) -> bool {
    child_ended(libc::P_PID, pid, libc::WNOWAIT)
}

/// How often the hook's process group is looked at once the hook exited.
const GROUP_CHECK: Duration = Duration::from_millis(5);

/// Makes credhook the reaper of the hook's orphaned descendants (as it is
/// when it runs as PID 1 in its container), so that [`group_alive`] can reap
/// the hook's killed group and see it gone. Idempotent; if the kernel
/// refuses, the pipes are read for [`DRAIN_LIMIT`] as before.
fn become_subreaper() {
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) takes plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Reaps the members of the hook's process group that have ended (once the
/// hook is gone they are credhook's children: see [`become_subreaper`]) and
/// says whether any is left. Call it only after the hook itself was reaped.
fn group_alive(pgid: libc::pid_t) -> bool {
    while child_ended(libc::P_PGID, pgid, 0) {}
    // SAFETY: kill(2) with signal 0 only checks that the group exists.
    if unsafe { libc::kill(-pgid, 0) } == 0 {
        return true;
    }
    io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn signal_group(pgid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill(2) with a negative pid signals the hook's process group,
    // which we created for it; no memory is involved.
    unsafe { libc::kill(-pgid, sig) };
}
