//! The test world: an emulator on its own port, a private directory, a real
//! hook script, and the real `credhook` binary run with a controlled
//! environment. Everything is printed when an assertion fails.

#![allow(dead_code)]

pub mod postgres;
pub mod root;

use credhook_emulator::{Emulator, Endpoint, Options, Update};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const API_KEY: &str = "test-api-key-Zm9vYmFy-0123456789";
pub const SECRET_ID: &str = "0f9a2b1c-1111-4222-8333-944455556666";
pub const TASK_ID: &str = "task-7d3c";

/// The root of this checkout (where Cargo.toml, README.md and scripts/ are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary under test: `CREDHOOK_TEST_BIN` when set (CI points it at the
/// static release binary the image ships), else the one cargo built.
pub fn credhook_bin() -> std::path::PathBuf {
    match std::env::var_os("CREDHOOK_TEST_BIN") {
        Some(p) => std::fs::canonicalize(&p).unwrap_or_else(|e| panic!("CREDHOOK_TEST_BIN {p:?}: {e}")),
        None => env!("CARGO_BIN_EXE_credhook").into(),
    }
}

pub struct World {
    pub emu: Emulator,
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    /// Values that must never appear in stdout, stderr or a task description.
    pub secrets: Vec<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A new empty directory `<tmp>/<prefix>-<pid>-<n>`, unique in this process.
pub fn fresh_dir(prefix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test dir");
    dir
}

/// A [`fresh_dir`] removed when dropped (kept, like a [`World`]'s, when
/// the test fails, to look at).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> TempDir {
        TempDir(fresh_dir(prefix))
    }
}

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Writes `text` to `path` as an executable (mode 0755) file.
pub fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
}

/// Runs `cmd` to its end: exit code (-1 for a signal), stdout, stderr.
pub fn out(cmd: &mut Command) -> (i32, String, String) {
    code_and_text(cmd.output().expect("run command"))
}

/// An ended command's exit code (-1 for a signal), stdout and stderr.
pub fn code_and_text(o: Output) -> (i32, String, String) {
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `cmd` with `stdin` written to its standard input, which is then
/// closed (the command sees EOF) whether or not it read everything.
pub fn output_with_stdin(cmd: &mut Command, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start command");
    {
        let mut input = child.stdin.take().expect("piped stdin");
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("wait for command")
}

/// Polls `done` until it holds or `limit` has passed; whether it held.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    loop {
        if done() {
            return true;
        }
        if t0.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether a process has ended (gone, or a zombie awaiting its parent).
/// SIGKILL is delivered asynchronously: a killed process closes its files
/// (which lets credhook finish) a moment before it is gone, so allow it 5 s.
pub fn is_gone(pid: i32) -> bool {
    wait_until(Duration::from_secs(5), || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
    })
}

impl World {
    /// HTTPS emulator, API key login, a create action, no schema.
    pub fn new() -> World {
        Self::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut Options)) -> World {
        let dir = fresh_dir("credhook-test");
        let mut opts = Options::new(dir.join("emulator"));
        opts.api_keys = vec![API_KEY.into()];
        tweak(&mut opts);
        let emu = Emulator::start(opts).expect("start emulator");
        let url = emu.url();
        let mut env = vec![
            (
                "PATH".to_string(),
                std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
            ),
            ("SM_ACTION".into(), "create_credentials".into()),
            ("SM_TRIGGER".into(), "secret_creation".into()),
            ("SM_INSTANCE_URL".into(), url.clone()),
            ("SM_SECRET_ID".into(), SECRET_ID.into()),
            ("SM_SECRET_TASK_ID".into(), TASK_ID.into()),
            ("SM_SECRET_NAME".into(), "test-secret".into()),
            ("SM_SECRET_GROUP_ID".into(), "default".into()),
            ("SM_ACCESS_APIKEY".into(), API_KEY.into()),
            ("CREDHOOK_IAM_URL".into(), url),
            ("CREDHOOK_HOOK".into(), dir.join("hook.sh").display().to_string()),
            ("CREDHOOK_RETRY_BASE_MS".into(), "20".into()),
            ("TEST_DIR".into(), dir.display().to_string()),
        ];
        if let Some(ca) = emu.ca_file() {
            env.push(("CREDHOOK_CA_FILE".into(), ca.display().to_string()));
        }
        World {
            emu,
            dir,
            env,
            secrets: vec![API_KEY.into()],
        }
    }

    pub fn set(&mut self, k: &str, v: &str) -> &mut World {
        self.env.retain(|(n, _)| n != k);
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut World {
        self.env.retain(|(n, _)| n != k);
        self
    }

    pub fn get(&self, k: &str) -> Option<&str> {
        self.env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    pub fn secret(&mut self, s: &str) -> &mut World {
        self.secrets.push(s.into());
        self
    }

    /// Writes the hook: `#!/bin/sh` and `body`.
    pub fn hook(&mut self, body: &str) -> &mut World {
        self.hook_file("hook.sh", &format!("#!/bin/sh\n{body}\n"));
        self
    }

    /// Writes `text` as the executable file `name` in the world's directory;
    /// its path.
    pub fn hook_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        write_executable(&path, text);
        path
    }

    /// Lines the hook appended to `$TEST_DIR/calls` (a convention of the test hooks).
    pub fn hook_calls(&self) -> Vec<String> {
        read_lines(&self.dir.join("calls"))
    }

    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap_or_default()
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(credhook_bin());
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `credhook run` to its end.
    pub fn run(&self) -> Run {
        let out = self.command().output().expect("run credhook");
        self.finish(out)
    }

    /// Starts `credhook run` with its stdout and stderr piped.
    fn spawn(&self) -> std::process::Child {
        self.command()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start credhook")
    }

    /// Runs `credhook run` to its end, but fails the test (killing credhook)
    /// instead of hanging past `limit`.
    pub fn run_within(&self, limit: Duration) -> Run {
        let mut child = self.spawn();
        if !wait_until(limit, || child.try_wait().expect("wait for credhook").is_some()) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("credhook did not finish within {limit:?}");
        }
        self.finish(child.wait_with_output().expect("wait for credhook"))
    }

    /// Starts `credhook run`, waits (at most 10 s) until `ready()`, sends it
    /// `signal` (e.g. `-TERM`) with the real `kill` command, and collects the run.
    pub fn run_and_signal(&self, signal: &str, ready: impl Fn() -> bool) -> Run {
        let child = self.spawn();
        wait_until(Duration::from_secs(10), ready);
        let sent = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill {signal} failed");
        self.finish(child.wait_with_output().expect("wait for credhook"))
    }

    pub fn finish(&self, out: Output) -> Run {
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            updates: self.emu.updates(),
        };
        run.assert_no_secret(&self.all_secrets());
        run
    }

    /// Known secrets plus every token the emulator issued.
    fn all_secrets(&self) -> Vec<String> {
        let mut s = self.secrets.clone();
        s.extend(self.emu.issued_tokens());
        s
    }

    pub fn calls_to(&self, e: Endpoint) -> usize {
        self.emu.calls_to(e).len()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn read_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub updates: Vec<Update>,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "exit: {}", self.code)?;
        writeln!(f, "--- stdout\n{}", self.stdout)?;
        writeln!(f, "--- stderr\n{}", self.stderr)?;
        for u in &self.updates {
            writeln!(f, "--- update {}", u.body)?;
        }
        Ok(())
    }
}

impl Run {
    /// No secret of 4 or more characters, nor any 8-character fragment of
    /// one, in stdout, the log or a task description.
    pub fn assert_no_secret(&self, secrets: &[String]) {
        for s in secrets.iter().filter(|s| s.chars().count() >= 4) {
            for needle in fragments(s) {
                assert!(
                    !self.stdout.contains(needle),
                    "secret {s:?} (as {needle:?}) in stdout\n{self}"
                );
                assert!(
                    !self.stderr.contains(needle),
                    "secret {s:?} (as {needle:?}) in stderr\n{self}"
                );
                for u in &self.updates {
                    if let Some((_, d)) = u.error() {
                        assert!(
                            !d.contains(needle),
                            "secret {s:?} (as {needle:?}) in a task description\n{self}"
                        );
                    }
                }
            }
        }
    }

    pub fn assert_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "unexpected exit status\n{self}");
        self
    }

    /// The only update, which must exist.
    pub fn update(&self) -> &Update {
        assert_eq!(self.updates.len(), 1, "expected exactly one task update\n{self}");
        &self.updates[0]
    }

    /// Asserts a `failed` update with `code`; returns its description.
    pub fn failed_with(&self, code: &str) -> String {
        let u = self.update();
        assert_eq!(u.status(), "failed", "\n{self}");
        let (c, d) = u.error().expect("failed update has an error");
        assert_eq!(c, code, "wrong error code\n{self}");
        assert!(d.chars().count() <= 1024, "description too long\n{self}");
        d
    }

    /// JSON log lines on stderr.
    pub fn log_lines(&self) -> Vec<miniserde::json::Value> {
        self.stderr
            .lines()
            .filter_map(|l| miniserde::json::from_str(l).ok())
            .collect()
    }

    pub fn log_has(&self, needle: &str) -> bool {
        self.stderr.contains(needle)
    }
}

/// `s` itself and every 8-character window of it.
pub fn fragments(s: &str) -> Vec<&str> {
    let starts: Vec<usize> = s.char_indices().map(|(i, _)| i).chain([s.len()]).collect();
    let mut out = vec![s];
    if starts.len() > 9 {
        for w in starts.windows(9) {
            out.push(&s[w[0]..w[8]]);
        }
    }
    out
}

/// A field of a JSON object value as a string (`""` when absent).
pub fn field(v: &miniserde::json::Value, key: &str) -> String {
    use miniserde::json::{Number, Value};
    match v {
        Value::Object(o) => match o.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(Number::U64(n))) => n.to_string(),
            Some(Value::Number(Number::I64(n))) => n.to_string(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Object(_)) => "<object>".into(),
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// Declares a create hook's usual outputs.
pub fn declare_outputs(w: &mut World) {
    w.set("SMOUT_USERNAME", "type:string, required:true")
        .set("SMOUT_PASSWORD", "type:string, required:true")
        .set("SMOUT_PORT", "type:integer, required:false")
        .set("SMOUT_ADMIN", "type:boolean");
}

/// A hook that records `$1 $SM_CREDENTIALS_ID` and creates with fixed outputs.
pub const RECORDING_CREATE: &str = r#"
echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
if [ "$1" = create ]; then
  printf 'id=cred-42\nusername=svc-user-1\npassword=S3cr3t-P4ssw0rd!\nport=5432\nadmin=TRUE\n' > "$CREDHOOK_OUTPUT"
  echo "created user svc-user-1 with password S3cr3t-P4ssw0rd!"
fi
"#;
