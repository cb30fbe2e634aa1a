//! The image root: built by scripts/rootfs.sh, entered the way a container
//! runtime starts the image (a private mount namespace, /proc, a tmpfs /dev
//! with the usual device nodes, chroot, the image's user 10001). No container
//! engine is needed; it needs root and `unshare`.

use super::{Run, World, repo};
use std::path::Path;
use std::process::Command;

/// Why the image root cannot be entered here, if it cannot.
pub fn can_chroot() -> Result<(), String> {
    let uid = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1).map(String::from))
    });
    if uid.as_deref() != Some("0") {
        return Err("not root".into());
    }
    let ok = Command::new("unshare")
        .args(["--mount", "--fork", "true"])
        .status()
        .map(|s| s.success());
    if !matches!(ok, Ok(true)) {
        return Err("cannot make a mount namespace (unshare --mount)".into());
    }
    Ok(())
}

/// The reason given to `#[ignore]` on a test that enters the image root.
/// (`#[ignore = …]` takes only a literal; keep the tests' text the same.)
pub const NEEDS_ROOT: &str = "needs root and mount namespaces";

/// For a test marked `#[ignore = "needs root and mount namespaces"]`: it
/// runs only when asked for (`--include-ignored`, as .ci/run does), and then
/// it must do its work, so a machine that cannot enter the image root fails
/// it, saying what is missing, instead of letting it pass.
pub fn require_chroot() {
    if let Err(why) = can_chroot() {
        panic!(
            "this test {NEEDS_ROOT} to enter the image root, which this machine cannot give: {why}. \
             Run it as root where `unshare --mount` works (cargo test -- --include-ignored, as .ci/run \
             does), or leave it ignored"
        );
    }
}

/// scripts/rootfs.sh, run from the repository; add options, DIR, HOOK.
pub fn rootfs_command() -> Command {
    let mut cmd = Command::new(repo().join("scripts/rootfs.sh"));
    cmd.current_dir(repo());
    cmd
}

/// Runs scripts/rootfs.sh with `args` (options, DIR, HOOK); its output.
pub fn rootfs(args: &[&std::ffi::OsStr]) -> std::process::Output {
    rootfs_command().args(args).output().expect("run rootfs.sh")
}

/// Runs `command` (argv inside the root) in `root` as the image runs it:
/// uid 10001, PATH=/bin, and only the variables in `env`.
pub fn exec_in_root(root: &Path, env: &[(String, String)], command: &[&str]) -> std::process::Output {
    command_in_root(root, env, command).output().expect("run unshare")
}

/// The command [`exec_in_root`] runs, for a caller that runs it its own way.
pub fn command_in_root(root: &Path, env: &[(String, String)], command: &[&str]) -> Command {
    let script = r#"set -e
r="$CREDHOOK_TEST_ROOT"
mount -t proc proc "$r/proc"
mount -t tmpfs -o size=1m,mode=755 tmpfs "$r/dev"
for d in null zero random urandom; do touch "$r/dev/$d" && mount --bind "/dev/$d" "$r/dev/$d"; done
ln -s /proc/self/fd "$r/dev/fd"
chroot=$(command -v chroot)
unset CREDHOOK_TEST_ROOT
PATH=/bin exec "$chroot" --userspec=10001:10001 "$r" "$@""#;
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--fork", "sh", "-c", script, "sh"])
        .args(command)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("CREDHOOK_TEST_ROOT", root)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    cmd
}

impl World {
    /// `credhook run` inside `root` with this world's environment, the paths
    /// moved into the root: the emulator's CA as /tmp/ca.pem, the hook the
    /// image's /hook. The run's `updates` are the ones this run made.
    pub fn run_in_root(&self, root: &Path) -> Run {
        let before = self.emu.updates().len();
        let mut env: Vec<(String, String)> = self
            .env
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "PATH" | "CREDHOOK_HOOK" | "TEST_DIR" | "CREDHOOK_CA_FILE"))
            .cloned()
            .collect();
        if let Some(ca) = self.emu.ca_file() {
            std::fs::copy(ca, root.join("tmp/ca.pem")).expect("copy the CA into the root");
            env.push(("CREDHOOK_CA_FILE".into(), "/tmp/ca.pem".into()));
        }
        let mut run = self.finish(exec_in_root(root, &env, &["/credhook", "run"]));
        run.updates.drain(..before);
        run
    }
}
