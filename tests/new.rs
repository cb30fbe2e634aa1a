//! `credhook new`: the provider it writes passes `credhook check` and
//! `credhook dry-run` create and `--delete` as it is written, in each
//! variant (a `--with` tool, `--http`, neither), through its own test.sh;
//! no secret reaches a command line; a non-empty directory is refused
//! unless `--force`; names make valid error-code prefixes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{TempDir, credhook_bin, out, write_executable};

/// The admin credential the tests' login secret holds.
const LOGIN: &str = "admin-Login-9f3Kq7Zx2Lm";

/// An arbitrary login secret holding [`LOGIN`], written in `dir`: the
/// `--secret` argument that gives it to `login_secret_id`.
fn login_secret(dir: &Path) -> String {
    let login = dir.join("login.json");
    std::fs::write(&login, format!(r#"{{"secret_type":"arbitrary","payload":"{LOGIN}"}}"#)).unwrap();
    format!("login_secret_id=@{}", login.display())
}

fn credhook() -> Command {
    Command::new(credhook_bin())
}

/// A PATH on which every command the generated hooks and test.sh run
/// (credhook included) is a wrapper that appends its arguments to
/// `argv.log`, then runs the real one. credhook itself runs as
/// `real/credhook-bin`, so that the directory dry-run puts first on the
/// hook's PATH has no `credhook` in it and the hook's calls go through
/// the wrapper too.
struct Shims {
    path: String,
    log: PathBuf,
}

fn shims(dir: &Path) -> Shims {
    let shim = dir.join("shim");
    let real = dir.join("real");
    std::fs::create_dir_all(&shim).unwrap();
    std::fs::create_dir_all(&real).unwrap();
    // Copied by `cp`, not by this process: a test thread that forks while
    // this process holds the copy open for writing would make it "text
    // file busy" to exec.
    let cp = Command::new("cp")
        .arg(credhook_bin())
        .arg(real.join("credhook-bin"))
        .status();
    assert!(cp.is_ok_and(|s| s.success()), "cp credhook");
    let log = dir.join("argv.log");
    let outer = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into());
    for name in [
        "od", "tr", "cut", "mkdir", "rm", "sed", "cat", "head", "mktemp", "readlink", "dirname",
    ] {
        write_executable(
            &shim.join(name),
            &format!(
                "#!/bin/sh\nprintf '%s\\n' \"{name} $*\" >> '{}'\nPATH='{outer}' exec {name} \"$@\"\n",
                log.display()
            ),
        );
    }
    write_executable(
        &shim.join("credhook"),
        &format!(
            "#!/bin/sh\nprintf '%s\\n' \"credhook $*\" >> '{}'\nexec '{}' \"$@\"\n",
            log.display(),
            real.join("credhook-bin").display()
        ),
    );
    Shims {
        path: format!("{}:{outer}", shim.display()),
        log,
    }
}

/// Runs `credhook new` with `args`; exit code, stdout, stderr.
fn new(args: &[&str]) -> (i32, String, String) {
    out(credhook().arg("new").args(args))
}

#[test]
fn each_variant_passes_check_and_dry_run_create_and_delete_as_written() {
    for variant in [&["--with", "redis-cli"][..], &["--http"], &[]] {
        let tmp = TempDir::new("credhook-new");
        let dir = tmp.join("my-provider");
        let (code, stdout, stderr) = new(&[&[dir.to_str().unwrap()][..], variant].concat());
        assert_eq!(code, 0, "{variant:?}: {stderr}");
        assert!(stdout.contains("error codes MY_PROVIDER_*"), "{stdout}");
        for f in [
            "job_config.json",
            "hook.sh",
            "test.sh",
            "Containerfile",
            "README.md",
            ".gitignore",
        ] {
            assert!(dir.join(f).is_file(), "{variant:?}: no {f}");
        }
        let hook = std::fs::read_to_string(dir.join("hook.sh")).unwrap();
        assert!(hook.contains("P=MY_PROVIDER ") && hook.contains("STAND-IN"), "{hook}");

        // Its own test.sh, as a user runs it: check, dry-run --keep, then
        // dry-run --delete of the id it printed.
        let s = shims(&tmp);
        let login = tmp.join("login.json");
        std::fs::write(
            &login,
            format!(r#"{{"id":"0b5571f7-21e6-42b7-91c5-3f5ac9793a46","secret_type":"arbitrary","payload":"{LOGIN}"}}"#),
        )
        .unwrap();
        let (code, stdout, stderr) = out(Command::new(dir.join("test.sh"))
            .arg("--no-image")
            .env("PATH", &s.path)
            .env("TMPDIR", &*tmp)
            .env("LOGIN_SECRET", &login)
            .env_remove("CREDHOOK_HTTP_ALLOW"));
        assert_eq!(code, 0, "{variant:?}\n{stdout}\n{stderr}");
        assert!(stdout.contains(": ok (2 inputs, 2 outputs)"), "{stdout}");
        assert!(
            stdout.contains("created credentials ") && stdout.contains("deleted credentials "),
            "{variant:?}\n{stdout}\n{stderr}"
        );
        assert!(!stdout.contains(LOGIN) && !stderr.contains(LOGIN), "{stdout}{stderr}");
        // The stand-in's store is empty again.
        let store = tmp.join("my-provider-standin");
        assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0, "{variant:?}");

        let argv = std::fs::read_to_string(&s.log).unwrap();
        assert!(
            argv.contains("credhook dry-run --keep"),
            "the wrappers saw nothing: {argv}"
        );
        assert!(!argv.contains(LOGIN), "the login secret on a command line:\n{argv}");
        if variant.contains(&"--http") {
            assert!(argv.contains("credhook json build name="), "{argv}");
        }
    }
}

/// The `--with` hook's `server` input is the secret creator's choice and
/// the admin credential goes there: the job's `CREDHOOK_HTTP_ALLOW` bounds
/// it (checked by `credhook http --check`) before anything is made.
#[test]
fn the_cli_variant_refuses_a_server_the_jobs_allowlist_leaves_out() {
    let tmp = TempDir::new("credhook-new");
    let dir = tmp.join("allow");
    assert_eq!(new(&[dir.to_str().unwrap(), "--with", "redis-cli"]).0, 0);
    let secret = login_secret(&tmp);
    let dry_run = |server: &str, allow: &str| {
        out(credhook()
            .args([
                "dry-run",
                "--secret",
                &secret,
                "--input",
                &format!("server={server}"),
                "--keep",
            ])
            .current_dir(&dir)
            .env("TMPDIR", &*tmp)
            .env("CREDHOOK_HTTP_ALLOW", allow))
    };
    let store = tmp.join("allow-standin");
    let (code, stdout, stderr) = dry_run("attacker.example.net:6379", "db.example.com,*.db.example.com");
    assert_ne!(code, 0, "{stdout}\n{stderr}");
    let all = format!("{stdout}\n{stderr}");
    assert!(all.contains("ALLOW_HOST_NOT_ALLOWED"), "{all}");
    assert!(
        all.contains("CREDHOOK_HTTP_ALLOW"),
        "the reason names the setting: {all}"
    );
    assert!(!all.contains(LOGIN), "{all}");
    assert!(
        std::fs::read_dir(&store).map_or(true, |mut d| d.next().is_none()),
        "a user was made for a refused server"
    );
    for server in ["db.example.com", "db.example.com:6379", "eu.db.example.com:6380"] {
        let (code, stdout, stderr) = dry_run(server, "db.example.com,*.db.example.com");
        assert_eq!(code, 0, "{server}: {stdout}\n{stderr}");
    }
}

/// The `--http` variant's api_url is checked with `credhook http --check
/// GET "$api"`: an api_url that starts with `-` is read there as options
/// (`-Lh…` asks for help, which exits 0), so it must be refused before.
#[test]
fn the_http_variant_refuses_an_api_url_that_credhook_http_reads_as_options() {
    let tmp = TempDir::new("credhook-new");
    let dir = tmp.join("opt");
    assert_eq!(new(&[dir.to_str().unwrap(), "--http"]).0, 0);
    let secret = login_secret(&tmp);
    let dry_run = |api: &str| {
        out(credhook()
            .args([
                "dry-run",
                "--secret",
                &secret,
                "--input",
                &format!("api_url={api}"),
                "--keep",
            ])
            .current_dir(&dir)
            .env("TMPDIR", &*tmp)
            .env("CREDHOOK_HTTP_ALLOW", "api.example.com"))
    };
    for api in ["-Lhttps://attacker.example.net", "-h", "--location"] {
        let (code, stdout, stderr) = dry_run(api);
        assert_ne!(code, 0, "{api}: {stdout}\n{stderr}");
        assert!(stdout.contains("OPT_BAD_INPUT"), "{api}: {stdout}\n{stderr}");
        assert!(!stdout.contains("created credentials"), "{api}: {stdout}");
    }
    let (code, stdout, stderr) = dry_run("https://api.example.com/v1");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
}

#[test]
fn the_cli_variant_keeps_the_new_password_off_command_lines() {
    let tmp = TempDir::new("credhook-new");
    let dir = tmp.join("pw");
    assert_eq!(new(&[dir.to_str().unwrap(), "--with", "psql"]).0, 0);
    let s = shims(&tmp);
    let secret = login_secret(&tmp);
    let dry_run = |args: &[&str]| {
        out(Command::new("credhook")
            .args(["dry-run", "--secret", &secret, "--input", "server=db.example.com"])
            .args(args)
            .current_dir(&dir)
            .env("PATH", &s.path)
            .env("TMPDIR", &*tmp)
            .env("CREDHOOK_HOOK", "./hook.sh"))
    };
    let (code, stdout, stderr) = dry_run(&["--keep"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("created credentials "))
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_string();
    // The stand-in keeps the new user's password in its store.
    let kept = tmp.join("pw-standin").join(&id);
    let password = std::fs::read_to_string(&kept).unwrap().trim().to_string();
    assert_eq!(password.len(), 48, "{password}");
    let (code, stdout, stderr) = dry_run(&["--delete", &id]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!kept.exists(), "the delete left {}", kept.display());
    // Deleting again succeeds: the credentials are gone already.
    let (code, _, stderr) = dry_run(&["--delete", &id]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("was gone already"), "{stderr}");
    let argv = std::fs::read_to_string(&s.log).unwrap();
    assert!(
        !argv.contains(&password) && !argv.contains(LOGIN),
        "a secret on a command line:\n{argv}"
    );
    // An id that is not one of its users is refused by its own code.
    let (code, stdout, _) = dry_run(&["--delete", "a/b"]);
    assert_ne!(code, 0);
    assert!(stdout.contains("PW_BAD_CREDENTIALS_ID"), "{stdout}");
}

#[test]
fn a_non_empty_directory_is_refused_unless_force() {
    let tmp = TempDir::new("credhook-new");
    let dir = tmp.join("prov");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    std::fs::write(dir.join("hook.sh"), "old").unwrap();
    let d = dir.to_str().unwrap();
    let (code, stdout, stderr) = new(&[d]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(
        stderr.contains("is not empty") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("hook.sh")).unwrap(), "old");
    assert!(!dir.join("job_config.json").exists());
    // --force writes its files, replacing those of the same names (a link
    // is replaced, not followed), and leaves the others.
    std::os::unix::fs::symlink(tmp.join("elsewhere"), dir.join("README.md")).unwrap();
    let (code, _, stderr) = new(&[d, "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    assert!(
        std::fs::read_to_string(dir.join("hook.sh"))
            .unwrap()
            .starts_with("#!/bin/sh")
    );
    assert!(!tmp.join("elsewhere").exists(), "--force followed a link");
    assert!(dir.join("README.md").is_file());
    // An empty directory needs no --force; `.` is named after itself.
    let empty = tmp.join("Redis ACL");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, stdout, stderr) = out(credhook().args(["new", "."]).current_dir(&empty));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("the provider redis-acl in . (error codes REDIS_ACL_*)"),
        "{stdout}"
    );
}

#[test]
fn test_sh_run_from_elsewhere_reads_a_relative_login_secret_from_there() {
    let tmp = TempDir::new("credhook-new");
    assert_eq!(new(&[tmp.join("p").to_str().unwrap()]).0, 0);
    std::fs::write(
        tmp.join("mine.json"),
        format!(r#"{{"secret_type":"arbitrary","payload":"{LOGIN}"}}"#),
    )
    .unwrap();
    let bin_dir = credhook_bin().parent().unwrap().to_path_buf();
    let (code, stdout, stderr) = out(Command::new("p/test.sh")
        .arg("--no-image")
        .current_dir(&tmp)
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("TMPDIR", &*tmp)
        .env("LOGIN_SECRET", "mine.json")
        .env_remove("CREDHOOK_HTTP_ALLOW"));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("login_secret_id=@/"), "the file it used: {stdout}");
    assert!(stdout.contains("/mine.json"), "{stdout}");
    assert!(stdout.contains("deleted credentials "), "{stdout}");
}

#[test]
fn force_over_a_directory_named_like_one_of_its_files_writes_nothing() {
    let tmp = TempDir::new("credhook-new");
    let dir = tmp.join("prov");
    std::fs::create_dir_all(dir.join("hook.sh")).unwrap();
    std::fs::write(dir.join("job_config.json"), "mine").unwrap();
    let (code, stdout, stderr) = new(&[dir.to_str().unwrap(), "--force"]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert!(stderr.contains("hook.sh is a directory; move it away"), "{stderr}");
    // Refused before the first file: the user's job_config.json is intact.
    assert_eq!(std::fs::read_to_string(dir.join("job_config.json")).unwrap(), "mine");
    assert!(!dir.join("test.sh").exists());
}

#[test]
fn the_summary_s_cd_is_safe_to_paste_whatever_the_directory_s_name() {
    let tmp = TempDir::new("credhook-new");
    let marker = tmp.join("pwned");
    for name in ["-p", "my prov", "it's $(touch pwned)"] {
        let (code, stdout, stderr) = out(credhook().args(["new", "--name", "p", "--", name]).current_dir(&tmp));
        assert_eq!(code, 0, "{name}: {stderr}");
        let next = stdout.lines().find_map(|l| l.strip_prefix("next: ")).unwrap();
        // Pasted into a shell, it enters the new directory and nothing else.
        let cmd = next.split("   (").next().unwrap().replace("./test.sh", "pwd");
        let (code, pwd, stderr) = out(Command::new("sh").args(["-c", &cmd]).current_dir(&tmp));
        assert_eq!(code, 0, "{next}: {stderr}");
        assert_eq!(
            Path::new(pwd.trim()).file_name().unwrap().to_str(),
            Some(name),
            "{next}"
        );
        assert!(!marker.exists(), "{next} ran a command");
    }
}

#[test]
fn names_must_make_valid_prefixes() {
    let tmp = TempDir::new("credhook-new");
    let (code, _, stderr) = new(&[tmp.join("2fa").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("give --name NAME"), "{stderr}");
    assert!(!tmp.join("2fa").exists(), "refused, yet written");
    let (code, _, stderr) = new(&[tmp.join("x").to_str().unwrap(), "--name", "bad name"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--name `bad name` must be a letter"), "{stderr}");
    let dir = tmp.join("2fa");
    let (code, stdout, stderr) = new(&[dir.to_str().unwrap(), "--name", "Two_Factor", "--http"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("error codes TWO_FACTOR_*"), "{stdout}");
    let hook = std::fs::read_to_string(dir.join("hook.sh")).unwrap();
    assert!(
        hook.contains("P=TWO_FACTOR ") && hook.contains("two-factor-standin"),
        "{hook}"
    );
    let containerfile = std::fs::read_to_string(dir.join("Containerfile")).unwrap();
    let lines: Vec<&str> = containerfile.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        ["FROM localhost/credhook-base", "COPY --chmod=0755 hook.sh /hook"]
    );
}

#[test]
#[ignore = "needs root and a container engine"]
fn the_generated_test_sh_builds_its_containerfile_from_the_base_and_tries_it() {
    let engine = ["podman", "docker"]
        .into_iter()
        .find(|e| Command::new(e).arg("info").output().is_ok_and(|o| o.status.success()))
        .expect("no container engine answers `info`: run `scripts/image.sh setup` as root");
    let tmp = TempDir::new("credhook-new");
    let dir = tmp.join("new-http-try");
    assert_eq!(new(&[dir.to_str().unwrap(), "--http"]).0, 0);
    let bin_dir = credhook_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let (code, stdout, stderr) = out(Command::new(dir.join("test.sh"))
        .env("PATH", path)
        .env("CREDHOOK_CHECKOUT", support::repo())
        .env("ENGINE", engine)
        .env_remove("CREDHOOK_HTTP_ALLOW")
        .stdin(std::process::Stdio::null()));
    let _ = Command::new(engine)
        .args(["rmi", "localhost/new-http-try:test"])
        .output();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("==> podman build: this Containerfile") || stdout.contains("==> docker build"),
        "{stdout}"
    );
    assert!(stdout.contains("try ok: created and deleted"), "{stdout}");
    assert!(
        stdout.contains("payload={\"token\":\"****\",\"token_name\":\"****\"}"),
        "{stdout}"
    );
}

/// Whether `r` is an image reference an engine takes (the distribution
/// grammar's path: components of lower-case letters and digits, joined by
/// `.`, `_`, `__` or runs of `-`, never at either end).
fn is_image_reference(r: &str) -> bool {
    r.len() <= 255
        && r.split('/').all(|c| {
            let seps: Vec<&str> = c
                .split(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                .collect();
            c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && c.ends_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit())
                && seps
                    .iter()
                    .all(|s| s.is_empty() || *s == "." || *s == "_" || *s == "__" || s.chars().all(|ch| ch == '-'))
        })
}

#[test]
fn the_base_image_is_a_valid_reference_whatever_the_tools_are_called() {
    assert!(is_image_reference("localhost/credhook-redis-cli"));
    assert!(!is_image_reference("localhost/credhook-g--"));
    let tmp = TempDir::new("credhook-new");
    for tools in [&["g++"][..], &["x."], &["a_", "b..c", "redis-cli"]] {
        let dir = tmp.join(tools.join("-"));
        let mut args = vec![dir.to_str().unwrap(), "--name", "p"];
        for t in tools {
            args.extend(["--with", t]);
        }
        let (code, _, stderr) = new(&args);
        assert_eq!(code, 0, "{stderr}");
        let containerfile = std::fs::read_to_string(dir.join("Containerfile")).unwrap();
        let base = containerfile.lines().find_map(|l| l.strip_prefix("FROM ")).unwrap();
        assert!(is_image_reference(base), "{tools:?}: FROM {base}");
        // test.sh builds it under that name.
        let test = std::fs::read_to_string(dir.join("test.sh")).unwrap();
        assert!(test.contains(&format!("build --tag {base} ")), "{test}");
    }
}
