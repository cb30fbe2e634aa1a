//! docs/GUIDE.md's "Writing a provider" is executable: its `sh` blocks,
//! in order and as written, run in one bash session from the top of a
//! clean clone of this checkout (`credhook new`, `check`, `dry-run` create,
//! `dry-run --delete`, a real run against the emulator, and `image.sh try`
//! where podman or docker answers), with HOME a new empty directory, and
//! the whole walkthrough's time is printed. Blocks fenced `shell`, `json`
//! or `text` are illustrations and are not run.
//!
//! The clone is `target/walkthrough/credhook`: fetched again and cleaned
//! of everything but its own `target/` (the build cache: the sources are a
//! clean clone's, the first build takes minutes), with this checkout's
//! uncommitted changes laid over it; its `target/static/` goes too, so the
//! image gets a static binary built from those sources.
//! `CREDHOOK_WALKTHROUGH_FRESH=1` removes the whole cache first.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::repo;

/// The `sh` blocks of the guide's "Writing a provider" section.
fn walkthrough_blocks(guide: &str) -> Vec<String> {
    let start = guide
        .find("\n## Writing a provider\n")
        .expect("the guide has `## Writing a provider`");
    let section = &guide[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section[..end].lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some("sh")) => current = Some(String::new()),
            (Some(block), Some("")) => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "an unclosed block in the walkthrough");
    blocks
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        o.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A clean clone of this checkout's HEAD, with its uncommitted changes (and
/// new files git does not ignore) laid over it; its `target/` kept.
fn clean_clone() -> PathBuf {
    let here = repo();
    let clone = here.join("target/walkthrough/credhook");
    if std::env::var_os("CREDHOOK_WALKTHROUGH_FRESH").is_some() {
        let _ = std::fs::remove_dir_all(&clone);
    }
    if !clone.join(".git").exists() {
        let _ = std::fs::remove_dir_all(&clone);
        std::fs::create_dir_all(clone.parent().unwrap()).unwrap();
        git(
            &here,
            &["clone", "--quiet", "--no-hardlinks", ".", clone.to_str().unwrap()],
        );
    }
    git(&clone, &["fetch", "--quiet", here.to_str().unwrap(), "HEAD"]);
    git(&clone, &["reset", "--quiet", "--hard", "FETCH_HEAD"]);
    git(&clone, &["clean", "--quiet", "-d", "-f", "-f", "-x", "-e", "/target"]);
    // The static binary image.sh puts in the image is built again, as in a
    // fresh clone (its build directory stays: the cache).
    let _ = std::fs::remove_dir_all(clone.join("target/static"));
    let changed = git(
        &here,
        &["ls-files", "--modified", "--others", "--exclude-standard", "-z"],
    );
    for f in changed.split('\0').filter(|f| !f.is_empty()) {
        let (from, to) = (here.join(f), clone.join(f));
        if from.exists() {
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap_or_else(|e| panic!("copy {f}: {e}"));
        } else {
            let _ = std::fs::remove_file(&to);
        }
    }
    clone
}

fn engine_answers() -> bool {
    ["podman", "docker"]
        .iter()
        .any(|e| Command::new(e).arg("info").output().is_ok_and(|o| o.status.success()))
}

#[test]
fn the_walkthrough_s_blocks_parse_as_the_steps_it_promises() {
    let guide = std::fs::read_to_string(repo().join("docs/GUIDE.md")).unwrap();
    let all = walkthrough_blocks(&guide).join("");
    for step in [
        "credhook new ",
        "credhook check ",
        "credhook dry-run --keep --secret login_secret_id=@",
        "credhook dry-run --delete \"$id\" --secret login_secret_id=@",
        "until [ -s \"$emu/url\" ]",
        "credhook run",
        "scripts/image.sh try ",
    ] {
        assert!(all.contains(step), "the walkthrough no longer has `{step}`:\n{all}");
    }
    // The emulator's URL is read only after the wait for it.
    assert!(all.find("until [ -s \"$emu/url\" ]") < all.find("$(cat \"$emu/url\")"));
    let blocks = walkthrough_blocks(
        "x\n## Writing a provider\n```sh\na\n```\n```shell\nb\n```\n```sh\nc\n```\n## Next\n```sh\nd\n```\n",
    );
    assert_eq!(blocks, ["a\n", "c\n"]);
}

#[test]
#[ignore = "builds a clean clone in release mode (minutes the first time) and runs the whole walkthrough"]
fn the_guide_s_walkthrough_runs_as_written_on_a_clean_clone() {
    let started = Instant::now();
    let clone = clean_clone();
    let guide = std::fs::read_to_string(clone.join("docs/GUIDE.md")).unwrap();
    let engine = engine_answers();
    let mut script = String::from("set -euo pipefail\n");
    for (n, block) in walkthrough_blocks(&guide).iter().enumerate() {
        script.push_str(&format!(
            "printf '\\n==> walkthrough block {} (at %s s)\\n' \"$SECONDS\"\n",
            n + 1
        ));
        if block.contains("image.sh try") && !engine {
            script.push_str("echo 'skipped: no container engine answers (podman info, docker info)'\n");
        } else {
            script.push_str(block);
        }
    }
    script.push_str("printf '\\n==> walkthrough done (%s s)\\n' \"$SECONDS\"\n");
    let home = support::TempDir::new("credhook-walkthrough-home");
    let real_home = PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()));
    let keep = |var: &str, default: PathBuf| std::env::var_os(var).map_or(default, PathBuf::from);
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&clone)
        .env("HOME", &*home)
        .env("CARGO_HOME", keep("CARGO_HOME", real_home.join(".cargo")))
        .env("RUSTUP_HOME", keep("RUSTUP_HOME", real_home.join(".rustup")))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CREDHOOK_HTTP_ALLOW")
        .process_group(0)
        .spawn()
        .expect("start bash");
    let limit = Duration::from_secs(40 * 60);
    if !support::wait_until(limit, || child.try_wait().expect("wait for bash").is_some()) {
        // The walkthrough runs in a process group of its own: end it all.
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{}", child.id())])
            .status();
        let _ = child.wait();
        panic!("the walkthrough did not finish within {limit:?}");
    }
    let status = child.wait().unwrap();
    eprintln!(
        "walkthrough: {:.1} s in all ({} the container step)",
        started.elapsed().as_secs_f64(),
        if engine { "with" } else { "without" }
    );
    assert!(
        status.success(),
        "the walkthrough failed ({status}); its output is above"
    );
    assert!(home.join("my-provider/hook.sh").is_file());
}
