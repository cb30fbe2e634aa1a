//! The image: the Containerfile's final stage is what scripts/rootfs.sh
//! assembles, and that root runs a full create and delete as a container
//! runtime would start it (chroot, /proc, /dev/null, /dev/fd; no /etc/ssl, no
//! libc). `--with TOOL` adds a tool and its libraries; a base root has no
//! hook. No container engine is needed.

mod support;

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use support::root::{exec_in_root, require_chroot, rootfs, rootfs_command};
use support::*;

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
    // The build stage runs rootfs.sh with the TOOLS as --with flags, and
    // installs PACKAGES; nothing else writes /rootfs.
    let build = &lines[..last_from];
    assert!(
        build.contains(
            &"RUN set -- ; for t in $TOOLS; do set -- \"$@\" --with \"$t\"; done; scripts/rootfs.sh \"$@\" /rootfs \"$HOOK\""
        ),
        "the build stage must run rootfs.sh with the TOOLS"
    );
    assert_eq!(
        build.iter().filter(|l| l.contains("/rootfs")).count(),
        1,
        "only rootfs.sh may write /rootfs: {build:?}"
    );
    for arg in [
        "ARG HOOK=scripts/hooks/example.sh",
        "ARG PACKAGES=\"\"",
        "ARG TOOLS=\"\"",
    ] {
        assert!(build.contains(&arg), "missing {arg}");
    }
    assert!(
        build
            .iter()
            .any(|l| l.contains("apt-get install") && l.contains("$PACKAGES")),
        "PACKAGES must be installed in the build stage"
    );
    // The USER is the non-root user rootfs.sh writes to /etc/passwd.
    let script = std::fs::read_to_string(repo().join("scripts/rootfs.sh")).unwrap();
    assert!(
        script.contains("credhook:x:10001:10001:"),
        "rootfs.sh and USER disagree"
    );
}

/// Every path under `root` (relative), sorted, with a mode and link target.
fn listing(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if m.file_type().is_symlink() {
                out.push(format!("{rel} -> {}", std::fs::read_link(&p).unwrap().display()));
            } else {
                out.push(format!("{rel} {:o}", m.permissions().mode()));
                if m.is_dir() {
                    walk(root, &p, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

#[test]
fn a_base_root_has_no_hook_and_a_provider_built_from_it_equals_a_full_root() {
    let w = World::new();
    let base = w.dir.join("base");
    let out = rootfs(&[base.as_os_str(), OsStr::new("none")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!base.join("hook").exists(), "a base root has a /hook");
    assert!(base.join("credhook").exists() && base.join("bin/sh").exists());
    // --no-hook is the same thing.
    let base2 = w.dir.join("base2");
    let out = rootfs(&[OsStr::new("--no-hook"), base2.as_os_str()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(listing(&base), listing(&base2));
    // `FROM base` + `COPY --chmod=0755 hook.sh /hook` gives what rootfs.sh
    // gives with the hook.
    let hook = repo().join("scripts/hooks/example.sh");
    std::fs::copy(&hook, base.join("hook")).unwrap();
    std::fs::set_permissions(base.join("hook"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let full = w.dir.join("full");
    let out = rootfs(&[full.as_os_str(), hook.as_os_str()]);
    assert!(out.status.success());
    assert_eq!(listing(&base), listing(&full));
}

#[test]
fn rootfs_refuses_bad_tools_naming_the_problem() {
    let w = World::new();
    let bin = w.dir.join("tools");
    std::fs::create_dir_all(&bin).unwrap();
    // A script, a setuid copy of a real executable, a path.
    support::write_executable(&bin.join("myscript"), "#!/bin/sh\necho hi\n");
    std::fs::copy("/usr/bin/env", bin.join("suidenv")).unwrap();
    std::fs::set_permissions(bin.join("suidenv"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let root = w.dir.join("root");
    for (tool, says) in [
        ("myscript", "not an ELF executable"),
        ("suidenv", "setuid or setgid"),
        ("no-such-tool-xyz", "no such command on PATH"),
        ("/usr/bin/env", "a command name, not a path"),
    ] {
        let out = rootfs_command()
            .args(["--with", tool])
            .arg(&root)
            .arg("none")
            .env("PATH", &path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--with {tool} was accepted");
        assert!(!root.exists(), "--with {tool} was refused but left {}", root.display());
        assert!(err.contains(says), "--with {tool}: {err}");
    }
    // DIR is replaced whole, so a directory that is not an image root is refused.
    let precious = w.dir.join("precious");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("notes.txt"), "keep me").unwrap();
    let out = rootfs(&[precious.as_os_str(), OsStr::new("none")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an image root made by rootfs.sh"));
    assert!(
        precious.join("notes.txt").exists(),
        "rootfs.sh removed a foreign directory"
    );
    let out = rootfs(&[OsStr::new("--bogus"), root.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option --bogus"));
}

#[test]
#[ignore = "needs root and mount namespaces"]
fn a_tool_runs_in_the_root_as_the_image_user_with_only_its_closure() {
    require_chroot();
    let w = World::new();
    let root = w.dir.join("rootfs");
    // GNU env (dynamically linked) replaces busybox's applet of that name.
    let out = rootfs(&[
        OsStr::new("--with"),
        OsStr::new("env"),
        root.as_os_str(),
        OsStr::new("none"),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("+ /bin/env ("), "{stdout}");
    assert!(stdout.contains("libc.so.6"), "{stdout}");
    assert!(stdout.contains("--with env added "), "{stdout}");
    assert!(
        !std::fs::symlink_metadata(root.join("bin/env"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!root.join("etc/ssl").exists(), "env does no TLS: no CA bundle");
    let run = exec_in_root(&root, &[], &["/bin/env", "--version"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("GNU coreutils"));

    // A static tool comes alone: no loader, no libraries.
    let tools = w.dir.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    // (the static credhook the root above was built with)
    std::fs::copy(repo().join("target/static/credhook"), tools.join("mystatic")).unwrap();
    let root2 = w.dir.join("rootfs2");
    let out = rootfs_command()
        .args(["--with", "mystatic"])
        .arg(&root2)
        .arg("none")
        .env("PATH", path_first(&tools))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!root2.join("lib64").exists() && !root2.join("lib").exists(), "{stdout}");
    let run = exec_in_root(&root2, &[], &["/bin/mystatic", "--version"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
#[ignore = "needs root and mount namespaces"]
fn the_image_root_runs_a_create_and_a_delete() {
    require_chroot();
    let mut w = World::new();
    let root = w.dir.join("rootfs");
    let out = rootfs(&[root.as_os_str(), repo().join("scripts/hooks/example.sh").as_os_str()]);
    assert!(out.status.success(), "rootfs.sh failed");
    // What a scratch image does not have.
    for absent in ["etc/ssl", "lib", "usr", "lib64"] {
        assert!(!root.join(absent).exists(), "{absent} in the image root");
    }
    w.set("SMIN_TEAM", "type:string, required:true")
        .set("SM_TEAM_VALUE", "infra")
        .set("SMOUT_USERNAME", "type:string, required:true")
        .set("SMOUT_TOKEN", "type:string, required:true")
        .set("SMOUT_TTL_DAYS", "type:integer")
        .set("SMOUT_ADMIN", "type:boolean")
        .set("EXAMPLE_STORE", "/tmp/store")
        .set("SM_SECRET_TASK_ID", "t-create");
    let r = w.run_in_root(&root);
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

    w.set("SM_ACTION", "delete_credentials")
        .set("SM_SECRET_TASK_ID", "t-delete")
        .set("SM_CREDENTIALS_ID", &id);
    let r = w.run_in_root(&root);
    r.assert_code(0);
    assert_eq!(r.updates.last().unwrap().status(), "credentials_deleted", "{r}");
    assert_eq!(
        std::fs::read_dir(root.join("tmp/store")).unwrap().count(),
        0,
        "the hook did not delete"
    );
}

#[test]
fn example_provider_containerfiles_are_from_a_base_plus_the_hook() {
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let file = entry.unwrap().path().join("Containerfile");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert_eq!(lines.len(), 2, "{}: {lines:?}", file.display());
        assert!(lines[0].starts_with("FROM "), "{}", file.display());
        assert_eq!(lines[1], "COPY --chmod=0755 hook.sh /hook", "{}", file.display());
        assert!(file.with_file_name("hook.sh").exists(), "{}", file.display());
    }
}

/// Runs scripts/rootfs.sh through `sh -c PRELUDE; exec rootfs.sh "$@"`, in
/// `cwd`, with `path` as PATH when given.
fn rootfs_after(prelude: &str, cwd: &Path, path: Option<&str>, args: &[&OsStr]) -> std::process::Output {
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{prelude}\nexec \"$0\" \"$@\""))
        .arg(repo().join("scripts/rootfs.sh"))
        .args(args)
        .current_dir(cwd);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    cmd.output().expect("run rootfs.sh")
}

/// `dir` first on this process's PATH, for rootfs.sh to find a tool there
/// (and still find cargo and rustup when it must build the static binary).
fn path_first(dir: &Path) -> String {
    let rest = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    format!("{}:{rest}", dir.display())
}

fn ok(out: &std::process::Output) -> bool {
    if !out.status.success() {
        eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    }
    out.status.success()
}

/// A tool that finds its library through `$ORIGIN/../lib`, as OpenJDK's
/// keytool finds libjli.so, built in `w`'s directory: its `app/` (bin/mytool,
/// lib/libmine.so) and a root made with `--with mytool`.
struct OriginTool {
    app: std::path::PathBuf,
    root: std::path::PathBuf,
}

fn cc(args: &[&OsStr]) {
    let o = std::process::Command::new("cc").args(args).output().expect("run cc");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn origin_tool(w: &World) -> OriginTool {
    let app = w.dir.join("app");
    std::fs::create_dir_all(app.join("bin")).unwrap();
    std::fs::create_dir_all(app.join("lib")).unwrap();
    std::fs::write(app.join("mine.c"), "int mine(void) { return 42; }\n").unwrap();
    std::fs::write(
        app.join("main.c"),
        "#include <stdio.h>\nint mine(void);\nint main(void) { printf(\"mine %d\\n\", mine()); return 0; }\n",
    )
    .unwrap();
    let lib = app.join("lib/libmine.so");
    cc(&[
        OsStr::new("-shared"),
        OsStr::new("-fPIC"),
        OsStr::new("-o"),
        lib.as_os_str(),
        app.join("mine.c").as_os_str(),
    ]);
    let exe = app.join("bin/mytool");
    cc(&[
        OsStr::new("-o"),
        exe.as_os_str(),
        app.join("main.c").as_os_str(),
        OsStr::new("-L"),
        app.join("lib").as_os_str(),
        OsStr::new("-lmine"),
        OsStr::new("-Wl,-rpath,$ORIGIN/../lib"),
    ]);
    let root = w.dir.join("root");
    let path = path_first(&app.join("bin"));
    let out = rootfs_after(
        "",
        &repo(),
        Some(&path),
        &[
            OsStr::new("--with"),
            OsStr::new("mytool"),
            root.as_os_str(),
            OsStr::new("none"),
        ],
    );
    assert!(ok(&out));
    // The tool keeps its own path; /bin/mytool points at it.
    assert_eq!(
        std::fs::read_link(root.join("bin/mytool")).unwrap(),
        exe,
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    OriginTool { app, root }
}

#[test]
fn a_tool_with_an_origin_rpath_keeps_its_path_and_ld_library_path_is_refused() {
    let w = World::new();
    let tool = origin_tool(&w);
    // A library found only through LD_LIBRARY_PATH would be missing in the
    // image (which does not set it): refused, naming why.
    let plain = w.dir.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let exe2 = plain.join("plaintool");
    cc(&[
        OsStr::new("-o"),
        exe2.as_os_str(),
        tool.app.join("main.c").as_os_str(),
        OsStr::new("-L"),
        tool.app.join("lib").as_os_str(),
        OsStr::new("-lmine"),
    ]);
    let root2 = w.dir.join("root2");
    let out = rootfs_after(
        &format!("export LD_LIBRARY_PATH='{}'", tool.app.join("lib").display()),
        &repo(),
        Some(&path_first(&plain)),
        &[
            OsStr::new("--with"),
            OsStr::new("plaintool"),
            root2.as_os_str(),
            OsStr::new("none"),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LD_LIBRARY_PATH is not used") && err.contains("libmine.so"),
        "{err}"
    );
    assert!(!root2.exists(), "a refused tool left a DIR behind");
}

#[test]
#[ignore = "needs root and mount namespaces"]
fn a_tool_with_an_origin_rpath_finds_its_libraries_in_the_root() {
    require_chroot();
    let w = World::new();
    let tool = origin_tool(&w);
    let run = exec_in_root(&tool.root, &[], &["/bin/mytool"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(String::from_utf8_lossy(&run.stdout), "mine 42\n");
}

#[test]
fn rootfs_replaces_only_roots_it_made() {
    let w = World::new();
    // Looks like a root (credhook, etc/passwd, proc/) but rootfs.sh did not
    // make it: refused, nothing removed.
    let lookalike = w.dir.join("lookalike");
    for d in ["proc", "etc", "home/me"] {
        std::fs::create_dir_all(lookalike.join(d)).unwrap();
    }
    std::fs::write(lookalike.join("credhook"), "x").unwrap();
    std::fs::write(lookalike.join("etc/passwd"), "x").unwrap();
    std::fs::write(lookalike.join("home/me/notes.txt"), "keep me").unwrap();
    let out = rootfs(&[lookalike.as_os_str(), OsStr::new("none")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an image root made by rootfs.sh"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lookalike.join("home/me/notes.txt").exists());

    // A root it made is replaced; through a symlink (even as `link/`) it is not.
    let real = w.dir.join("real");
    assert!(ok(&rootfs(&[real.as_os_str(), OsStr::new("none")])));
    assert!(real.join(".credhook-rootfs").is_file());
    assert!(ok(&rootfs(&[real.as_os_str(), OsStr::new("none")])));
    std::os::unix::fs::symlink(&real, w.dir.join("link")).unwrap();
    for link in ["link", "link/", "link//"] {
        let out = rootfs(&[w.dir.join(link).as_os_str(), OsStr::new("none")]);
        assert!(!out.status.success(), "{link} was followed");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is a symlink"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(real.join("credhook").exists());

    // `.`, an empty directory: built in place, and again.
    let here = w.dir.join("here");
    std::fs::create_dir_all(&here).unwrap();
    for _ in 0..2 {
        let out = rootfs_after("", &here, None, &[OsStr::new("."), OsStr::new("none")]);
        assert!(ok(&out));
        assert!(here.join("credhook").is_file() && here.join("bin/sh").exists());
    }

    // A refused tool leaves a previous root as it was, and makes no DIR.
    let before = listing(&real);
    let out = rootfs(&[
        OsStr::new("--with"),
        OsStr::new("no-such-tool-xyz"),
        real.as_os_str(),
        OsStr::new("none"),
    ]);
    assert!(!out.status.success());
    assert_eq!(listing(&real), before);
}

/// A checkout holding only what rootfs.sh reads, without target/static/:
/// its scripts/build-static.sh is a stand-in that records its call and
/// "builds" target/static/credhook as a copy of /bin/busybox.
fn checkout_without_a_binary(w: &World) -> std::path::PathBuf {
    let c = w.dir.join("checkout");
    for d in ["scripts/hooks", "examples"] {
        std::fs::create_dir_all(c.join(d)).unwrap();
    }
    for f in ["scripts/rootfs.sh", "scripts/hooks/example.sh", "examples/common.sh"] {
        std::fs::copy(repo().join(f), c.join(f)).unwrap();
    }
    support::write_executable(
        &c.join("scripts/build-static.sh"),
        "#!/bin/sh\nset -e\ncd \"$(dirname \"$0\")/..\"\necho \"build-static.sh $*\" >> build-calls\n\
         mkdir -p target/static\ncp /bin/busybox target/static/credhook\n",
    );
    c
}

#[test]
fn rootfs_builds_a_missing_binary_saying_so_or_refuses_with_no_build() {
    let w = World::new();
    let c = checkout_without_a_binary(&w);
    let root = w.dir.join("root");
    let script = c.join("scripts/rootfs.sh");
    let run = |args: &[&OsStr]| std::process::Command::new(&script).args(args).output().unwrap();

    let out = run(&[OsStr::new("--no-build"), root.as_os_str(), OsStr::new("none")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("target/static/credhook is missing and --no-build says not to build it")
            && err.contains("run scripts/build-static.sh"),
        "{err}"
    );
    assert!(!root.exists() && !c.join("build-calls").exists(), "{err}");

    let out = run(&[root.as_os_str(), OsStr::new("none")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("target/static/credhook is missing: building it with scripts/build-static.sh"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(c.join("build-calls")).unwrap(),
        "build-static.sh \n"
    );
    assert_eq!(
        std::fs::read(root.join("credhook")).unwrap(),
        std::fs::read(c.join("target/static/credhook")).unwrap()
    );
}

#[test]
fn rootfs_binary_takes_a_static_credhook_only() {
    let w = World::new();
    let c = checkout_without_a_binary(&w);
    let script = c.join("scripts/rootfs.sh");
    let root = w.dir.join("root");
    // The static credhook this checkout builds (rootfs.sh builds it if needed).
    assert!(ok(&rootfs(&[w.dir.join("scratch").as_os_str(), OsStr::new("none")])));
    let good = w.dir.join("my credhook");
    std::fs::copy(repo().join("target/static/credhook"), &good).unwrap();
    let out = std::process::Command::new(&script)
        .args([
            OsStr::new("--binary"),
            good.as_os_str(),
            root.as_os_str(),
            OsStr::new("none"),
        ])
        .output()
        .unwrap();
    assert!(ok(&out));
    assert_eq!(
        std::fs::read(root.join("credhook")).unwrap(),
        std::fs::read(&good).unwrap()
    );
    assert!(!c.join("build-calls").exists(), "--binary built anyway");

    for (binary, says) in [
        ("/usr/bin/env", "is not a static executable"),
        ("/bin/busybox", "does not answer --version as credhook does"),
        ("/no/such/credhook", "is not an executable file"),
    ] {
        let out = std::process::Command::new(&script)
            .args([
                OsStr::new("--binary"),
                OsStr::new(binary),
                root.as_os_str(),
                OsStr::new("none"),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{binary}: {err}");
        // Refused before the previous root was touched.
        assert_eq!(
            std::fs::read(root.join("credhook")).unwrap(),
            std::fs::read(&good).unwrap()
        );
    }
}

/// `--binary credhook`, a file in the current directory: its `--version`
/// is asked of that file, not of a `credhook` found on PATH (which would
/// vouch for a file it is not).
#[test]
fn rootfs_binary_asks_the_file_it_installs_not_a_namesake_on_path() {
    let w = World::new();
    let c = checkout_without_a_binary(&w);
    let cwd = w.dir.join("cwd");
    let bin = w.dir.join("bin");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    // Static, but not credhook.
    std::fs::copy("/bin/busybox", cwd.join("credhook")).unwrap();
    support::write_executable(&bin.join("credhook"), "#!/bin/sh\necho 'credhook 9.9.9'\n");
    let root = w.dir.join("root");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new(c.join("scripts/rootfs.sh"))
        .args([
            OsStr::new("--binary"),
            OsStr::new("credhook"),
            root.as_os_str(),
            OsStr::new("none"),
        ])
        .current_dir(&cwd)
        .env("PATH", path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("does not answer --version as credhook does"), "{err}");
    assert!(!root.join("credhook").exists());
}

/// Something mounted under a previous root (a bind-mounted /dev): refused,
/// the mounted directory's contents kept.
#[test]
#[ignore = "needs root and mount namespaces"]
fn rootfs_refuses_a_root_with_something_mounted_in_it() {
    require_chroot();
    let w = World::new();
    let real = w.dir.join("real");
    assert!(ok(&rootfs(&[real.as_os_str(), OsStr::new("none")])));
    let other = w.dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("data"), "keep me").unwrap();
    let out = std::process::Command::new("unshare")
        .args([
            "--mount",
            "--fork",
            "sh",
            "-c",
            "mount --bind \"$1\" \"$2/dev\" && exec \"$3\" \"$2\" none",
            "sh",
        ])
        .arg(&other)
        .arg(&real)
        .arg(repo().join("scripts/rootfs.sh"))
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is mounted in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        other.join("data").exists(),
        "rootfs.sh removed a mounted directory's contents"
    );
}

/// A root with `--with env` built under `umask 077` in a setgid directory.
fn root_under_umask_077(w: &World) -> std::path::PathBuf {
    let parent = w.dir.join("sgid");
    std::fs::create_dir_all(&parent).unwrap();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o2775)).unwrap();
    let root = parent.join("root");
    let out = rootfs_after(
        "umask 077",
        &repo(),
        None,
        &[
            OsStr::new("--with"),
            OsStr::new("env"),
            root.as_os_str(),
            OsStr::new("none"),
        ],
    );
    assert!(ok(&out));
    root
}

#[test]
fn rootfs_modes_do_not_depend_on_umask_or_a_setgid_parent() {
    let w = World::new();
    let root = root_under_umask_077(&w);
    let mode = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(""), 0o755);
    for dir in ["bin", "etc", "proc", "dev"] {
        assert_eq!(mode(dir), 0o755, "{dir}");
    }
    assert_eq!(mode("tmp"), 0o1777);
    assert_eq!(mode("etc/passwd"), 0o644);
    assert_eq!(mode("etc/group"), 0o644);
    assert_eq!(mode("credhook"), 0o755);
    for line in listing(&root).iter().filter(|l| !l.contains(" -> ")) {
        if let Some((path, m)) = line.rsplit_once(' ') {
            let m = u32::from_str_radix(m, 8).unwrap();
            if m & 0o170000 == 0o040000 {
                assert_eq!(m & 0o6000, 0, "{path} is setgid/setuid");
                assert_eq!(m & 0o005, 0o005, "{path} is not readable by others");
            }
        }
    }
}

/// The image user can read and run what such a root holds.
#[test]
#[ignore = "needs root and mount namespaces"]
fn a_root_built_under_umask_077_runs_as_the_image_user() {
    require_chroot();
    let w = World::new();
    let root = root_under_umask_077(&w);
    let run = exec_in_root(&root, &[], &["/bin/sh", "-c", "cat /etc/passwd && /bin/env --version"]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
}

#[test]
#[ignore = "runs scripts/build-static.sh: minutes unless its build is cached, as in CI"]
fn build_static_replaces_the_binary_while_it_runs() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let out = repo().join("target/static");
    let mode =
        std::fs::read_to_string(out.join("credhook.mode")).map_or_else(|_| "stable".into(), |m| m.trim().to_string());
    let build = || {
        Command::new(repo().join("scripts/build-static.sh"))
            .arg(format!("--{mode}"))
            .current_dir(repo())
            .stdin(Stdio::null())
            .output()
            .expect("run scripts/build-static.sh")
    };
    if !out.join("credhook").exists() {
        assert!(build().status.success(), "the first static build failed");
    }
    // A run that lasts (a test, an `image.sh try`): `json get` waits for stdin.
    let mut running = Command::new(out.join("credhook"))
        .args(["json", "get", ".x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = build();
    // cp over a running executable fails with ETXTBSY ("Text file busy").
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    running
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"x":"still here"}"#)
        .unwrap();
    let done = running.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&done.stdout).trim(), "still here");
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains(".tmp")), "{names:?}");
}
