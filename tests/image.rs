//! The image: the Containerfile's final stage is what scripts/rootfs.sh
//! assembles, and that root runs a full create and delete as a container
//! runtime would start it (chroot, /proc, /dev/null, /dev/fd; no /etc/ssl, no
//! libc). No container engine is needed.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn containerfile_final_stage_is_exactly_the_rootfs() {
    let text = std::fs::read_to_string(repo().join("Containerfile")).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    assert_eq!(
        &lines[last_from..],
        [
            "FROM scratch",
            "COPY --from=build /rootfs/ /",
            "ENV PATH=/bin",
            "USER 10001:10001",
            "ENTRYPOINT [\"/credhook\"]"
        ],
        "the final stage must only copy what scripts/rootfs.sh assembled"
    );
    assert!(
        lines.contains(&"RUN scripts/rootfs.sh /rootfs \"$HOOK\""),
        "the build stage must run rootfs.sh"
    );
    // The USER is the non-root user rootfs.sh writes to /etc/passwd.
    let script = std::fs::read_to_string(repo().join("scripts/rootfs.sh")).unwrap();
    assert!(
        script.contains("credhook:x:10001:10001:"),
        "rootfs.sh and USER disagree"
    );
}

fn can_chroot() -> Result<(), String> {
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

/// Runs `/credhook run` inside `root` the way a container runtime would.
fn run_in_root(w: &World, root: &Path, env: &[(&str, &str)]) -> Run {
    let script = r#"set -e
r="$ROOT"
mount -t proc proc "$r/proc"
mount -t tmpfs -o size=1m tmpfs "$r/dev"
touch "$r/dev/null" && mount --bind /dev/null "$r/dev/null"
ln -s /proc/self/fd "$r/dev/fd"
exec chroot --userspec=10001:10001 "$r" /credhook run"#;
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--fork", "sh", "-c", script])
        .env_clear()
        .env("ROOT", root);
    cmd.env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (k, v) in env {
        cmd.env(k, v);
    }
    w.finish(cmd.output().unwrap())
}

#[test]
fn the_image_root_runs_a_create_and_a_delete() {
    if let Err(why) = can_chroot() {
        eprintln!("skipping the scratch-root test: {why} (CI runs it as root)");
        return;
    }
    let w = World::new();
    let root = w.dir.join("rootfs");
    let st = Command::new(repo().join("scripts/rootfs.sh"))
        .arg(&root)
        .arg(repo().join("scripts/hooks/example.sh"))
        .current_dir(repo())
        .status()
        .unwrap();
    assert!(st.success(), "rootfs.sh failed");
    // What a scratch image does not have.
    for absent in ["etc/ssl", "lib", "usr", "lib64"] {
        assert!(!root.join(absent).exists(), "{absent} in the image root");
    }
    std::fs::copy(w.emu.ca_file().unwrap(), root.join("tmp/ca.pem")).unwrap();
    let url = w.emu.url();
    let common: Vec<(&str, &str)> = vec![
        ("SM_INSTANCE_URL", &url),
        ("CREDHOOK_IAM_URL", &url),
        ("CREDHOOK_CA_FILE", "/tmp/ca.pem"),
        ("SM_SECRET_ID", SECRET_ID),
        ("SM_ACCESS_APIKEY", API_KEY),
        ("SMIN_TEAM", "type:string, required:true"),
        ("SM_TEAM_VALUE", "infra"),
        ("SMOUT_USERNAME", "type:string, required:true"),
        ("SMOUT_TOKEN", "type:string, required:true"),
        ("SMOUT_TTL_DAYS", "type:integer"),
        ("SMOUT_ADMIN", "type:boolean"),
        ("EXAMPLE_STORE", "/tmp/store"),
    ];
    let mut create = common.clone();
    create.extend([("SM_ACTION", "create_credentials"), ("SM_SECRET_TASK_ID", "t-create")]);
    let r = run_in_root(&w, &root, &create);
    r.assert_code(0);
    let created = r.update();
    assert_eq!(created.status(), "credentials_created", "{r}");
    let body = created.json();
    let id = match &body {
        miniserde::json::Value::Object(o) => match o.get("credentials") {
            Some(c) => field(c, "id"),
            None => String::new(),
        },
        _ => String::new(),
    };
    assert!(id.starts_with("cred-"), "{r}");
    // The hook's store is inside the root: the credential exists there.
    assert_eq!(std::fs::read_dir(root.join("tmp/store")).unwrap().count(), 1);

    let mut delete = common.clone();
    delete.extend([
        ("SM_ACTION", "delete_credentials"),
        ("SM_SECRET_TASK_ID", "t-delete"),
        ("SM_CREDENTIALS_ID", &id),
    ]);
    let r = run_in_root(&w, &root, &delete);
    r.assert_code(0);
    assert_eq!(r.updates.last().unwrap().status(), "credentials_deleted", "{r}");
    assert_eq!(
        std::fs::read_dir(root.join("tmp/store")).unwrap().count(),
        0,
        "the hook did not delete"
    );
}
