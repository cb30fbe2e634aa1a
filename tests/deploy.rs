//! scripts/deploy.sh with stand-in `podman` and `ibmcloud` executables on
//! PATH that record their arguments (one argument per line, a blank line
//! after each call).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn stand_ins(dir: &Path, job_exists: bool) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls");
    for tool in ["podman", "ibmcloud"] {
        let get = if job_exists {
            "exit 0"
        } else {
            "echo 'job not found' >&2; exit 1"
        };
        let script = format!(
            "#!/bin/sh\n{{ echo {tool}; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; echo; }} >> '{}'\n\
             [ \"$1 $2 $3\" = 'ce job get' ] && {{ {get}; }}\nexit 0\n",
            log.display()
        );
        let p = bin.join(tool);
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    bin
}

fn deploy(dir: &Path, bin: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(repo.join("scripts/deploy.sh"))
        .args(args)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("CREDHOOK", env!("CARGO_BIN_EXE_credhook"))
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The recorded calls, each as its argument list.
fn calls(dir: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("calls")).unwrap_or_default();
    text.split("\n\n")
        .filter(|c| !c.trim().is_empty())
        .map(|c| c.lines().map(String::from).collect())
        .collect()
}

fn config(dir: &Path) {
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMIN_TEAM","value":"type:string, required:true"},{"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
}

const IMAGE: &str = "us.icr.io/team-ns/provider:1";

#[test]
fn creates_the_job_when_it_does_not_exist() {
    let w = support::World::new();
    config(&w.dir);
    let bin = stand_ins(&w.dir, false);
    let (code, stdout, stderr) = deploy(
        &w.dir,
        &bin,
        &["--image", IMAGE, "--job", "provider", "--project", "secrets", "--yes"],
        "",
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let repo = env!("CARGO_MANIFEST_DIR");
    let c = calls(&w.dir);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        c[0],
        s(&[
            "podman",
            "build",
            "-t",
            IMAGE,
            "--build-arg",
            "HOOK=scripts/hooks/example.sh",
            "-f",
            &format!("{repo}/Containerfile"),
            repo
        ])
    );
    assert_eq!(c[1], s(&["podman", "push", IMAGE]));
    assert_eq!(c[2], s(&["ibmcloud", "ce", "project", "select", "--name", "secrets"]));
    assert_eq!(c[3], s(&["ibmcloud", "ce", "job", "get", "--name", "provider"]));
    assert_eq!(
        c[4],
        s(&[
            "ibmcloud",
            "ce",
            "job",
            "create",
            "--name",
            "provider",
            "--image",
            IMAGE,
            "--env",
            "SMIN_TEAM=type:string, required:true",
            "--env",
            "SMOUT_TOKEN=type:string, required:true",
        ])
    );
    assert_eq!(c.len(), 5);
    // Each command is shown before it runs.
    assert!(
        stdout.contains("+ podman push us.icr.io/team-ns/provider:1"),
        "{stdout}"
    );
}

#[test]
fn updates_an_existing_job_with_a_registry_secret() {
    let w = support::World::new();
    config(&w.dir);
    let bin = stand_ins(&w.dir, true);
    let (code, _, stderr) = deploy(
        &w.dir,
        &bin,
        &[
            "--image",
            IMAGE,
            "--job",
            "provider",
            "--registry-secret",
            "icr",
            "--yes",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let last = calls(&w.dir).pop().unwrap();
    assert_eq!(
        &last[..10],
        [
            "ibmcloud",
            "ce",
            "job",
            "update",
            "--name",
            "provider",
            "--image",
            IMAGE,
            "--registry-secret",
            "icr"
        ]
    );
}

#[test]
fn asks_before_each_command_and_stops_on_no() {
    let w = support::World::new();
    config(&w.dir);
    let bin = stand_ins(&w.dir, false);
    // Yes to the build, no to the push.
    let (code, stdout, stderr) = deploy(&w.dir, &bin, &["--image", IMAGE, "--job", "provider"], "y\nn\n");
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("stopped; nothing more was run"), "{stderr}");
    let c = calls(&w.dir);
    assert_eq!(c.len(), 1, "ran more than the build: {c:?}");
    assert_eq!(c[0][1], "build");
}

#[test]
fn refuses_a_broken_config() {
    let w = support::World::new();
    std::fs::write(
        w.dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMOUT_X","value":"type:float"}]}"#,
    )
    .unwrap();
    let bin = stand_ins(&w.dir, false);
    let (code, stdout, _) = deploy(&w.dir, &bin, &["--image", IMAGE, "--job", "provider", "--yes"], "");
    assert_ne!(code, 0);
    assert!(stdout.contains("unknown type `float`"), "{stdout}");
    assert!(calls(&w.dir).is_empty(), "something ran for a broken config");
}
