//! `credhook dry-run` behaves like `credhook run`: it resolves a `secret_id`
//! input from `--secret` exactly as run does (same variables, registered as
//! secrets), runs only a delete with `--delete ID`, puts the running
//! credhook first on the hook's PATH, answers `--help` on stdout, and with
//! `--keep` prints the command that finishes up.

mod support;

use std::path::Path;
use std::process::Command;
use support::{TempDir, out, output_with_stdin, write_executable};

const ADMIN_TOKEN: &str = "admin-token-9f8e7d6c5b4a";

fn credhook() -> Command {
    Command::new(support::credhook_bin())
}

/// A provider folder: a config with a `secret_id` login input, one string
/// input and one output, and `hook.sh` beside it.
fn provider(hook: &str) -> TempDir {
    let dir = TempDir::new("credhook-dry-run");
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[
            {"name":"SMIN_LOGIN_SECRET_ID","value":"type:secret_id, required:true"},
            {"name":"SMIN_TEAM","value":"type:string"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    write_executable(&dir.join("hook.sh"), hook);
    std::fs::write(
        dir.join("admin.json"),
        format!(r#"{{"secret_type":"arbitrary","name":"admin","payload":"{ADMIN_TOKEN}"}}"#),
    )
    .unwrap();
    dir
}

fn dry_run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    out(credhook()
        .arg("dry-run")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("STATE", dir.join("state"))
        .current_dir(dir))
}

/// A hook that needs the resolved secret, echoes it to its log the way a
/// careless vendor error would, and records each call.
const HOOK: &str = r#"#!/bin/sh
set -eu
echo "$1 ${SM_CREDENTIALS_ID:-} ${SMIN_LOGIN_SECRET_ID_TYPE:-}" >> "$STATE"
echo "using $SMIN_LOGIN_SECRET_ID_PAYLOAD"
case "$1" in
create) printf 'id=c-42\ntoken=tok-%s\n' "$(date +%s%N)" >&3 ;;
delete) echo "deleted $SM_CREDENTIALS_ID" ;;
esac
"#;

#[test]
fn a_secret_is_resolved_and_masked_as_run_resolves_it() {
    let dir = provider(HOOK);
    let (code, stdout, stderr) = dry_run(&dir, &["--secret", "login_secret_id=@admin.json", "--input", "team=qa"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.starts_with("created credentials c-42\n"), "{stdout}");
    assert!(stdout.contains("deleted credentials c-42"), "{stdout}");
    assert!(stderr.contains("using [REDACTED]"), "{stderr}");
    assert!(
        !stdout.contains("admin-token") && !stderr.contains("admin-token"),
        "{stdout}\n{stderr}"
    );
    let calls = std::fs::read_to_string(dir.join("state")).unwrap();
    assert_eq!(calls, "create  arbitrary\ndelete c-42 arbitrary\n");
    // From stdin too.
    let secret = std::fs::read(dir.join("admin.json")).unwrap();
    let o = output_with_stdin(
        credhook()
            .args(["dry-run", "--secret", "login_secret_id=-"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("STATE", dir.join("state2"))
            .current_dir(&dir),
        &secret,
    );
    let (code, stdout, stderr) = support::code_and_text(o);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(!stderr.contains("admin-token"), "{stderr}");
}

#[test]
fn a_vendor_error_echoing_the_secret_is_masked_in_what_dry_run_prints() {
    let dir = provider(
        "#!/bin/sh\necho \"401 for token $SMIN_LOGIN_SECRET_ID_PAYLOAD\" >&2\n\
         printf 'error_code=E_AUTH\\nerror_message=vendor said: bad token %s\\n' \"$SMIN_LOGIN_SECRET_ID_PAYLOAD\" >&3\nexit 3\n",
    );
    let (code, stdout, stderr) = dry_run(&dir, &["--secret", "login_secret_id=@admin.json"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("create failed: E_AUTH: vendor said: bad token [REDACTED]"),
        "{stdout}"
    );
    for text in [&stdout, &stderr] {
        for f in support::fragments(ADMIN_TOKEN) {
            assert!(!text.contains(f), "fragment {f:?} in {text}");
        }
    }
}

#[test]
fn a_missing_required_input_names_the_flag_that_gives_it() {
    let dir = provider(HOOK);
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[
            {"name":"SMIN_LOGIN_SECRET_ID","value":"type:secret_id, required:true"},
            {"name":"SMIN_TEAM","value":"type:string, required:true"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    let (code, stdout, stderr) = dry_run(&dir, &[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    for says in [
        "input `team` is required but has no value; give --input team=VALUE",
        "input `login_secret_id` is required but has no value; give --secret login_secret_id=@FILE \
         (or --input login_secret_id=ID to pass the id unresolved)",
    ] {
        assert!(stderr.contains(says), "{says}: {stderr}");
    }
    assert!(!stderr.contains("SM_TEAM_VALUE"), "{stderr}");
    assert!(!dir.join("state").exists(), "the hook ran");
}

#[test]
fn only_inputs_named_by_secret_are_resolved_and_bad_secrets_are_refused_first() {
    // Without --secret the input passes through unresolved: the hook sees
    // the id only (set -u: the payload variable is unset).
    let dir = provider(
        "#!/bin/sh\nset -eu\n[ -z \"${SMIN_LOGIN_SECRET_ID_PAYLOAD:-}\" ] || exit 9\n\
         [ \"$1\" = delete ] && exit 0\nprintf 'id=c-1\\ntoken=t-%s\\n' \"$SMIN_LOGIN_SECRET_ID\" >&3\n",
    );
    let (code, stdout, stderr) = dry_run(
        &dir,
        &["--input", "login_secret_id=0f9a2b1c-1111-4222-8333-944455556666"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for (args, says) in [
        (
            &["--secret", "team=@admin.json"][..],
            "declares no `secret_id` input `team`",
        ),
        (
            &["--secret", "login_secret_id=@missing.json"],
            // The flag as the user wrote it, not the variable's name.
            "--secret login_secret_id: `missing.json` cannot be read",
        ),
        (
            &["--secret", "login_secret_id=@job_config.json"],
            "has no `secret_type`",
        ),
    ] {
        let (code, stdout, stderr) = dry_run(&dir, args);
        assert_eq!(code, 1, "{args:?}: {stdout}\n{stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stdout.contains("created"), "{stdout}");
    }
    assert!(!dir.join("state").exists());
}

#[test]
fn an_input_given_twice_and_two_secrets_with_one_id_are_refused() {
    let dir = TempDir::new("credhook-dry-run");
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[
            {"name":"SMIN_A","value":"type:secret_id, required:true"},
            {"name":"SMIN_B","value":"type:secret_id, required:true"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    write_executable(
        &dir.join("hook.sh"),
        "#!/bin/sh\nset -eu\necho \"$SMIN_A_PAYLOAD $SMIN_B_PAYLOAD\" >> \"$STATE\"\n\
         [ \"$1\" = delete ] || printf 'id=c-1\\ntoken=t-12345678\\n' >&3\n",
    );
    for (file, payload) in [("a.json", "payload-of-a-1234"), ("b.json", "payload-of-b-5678")] {
        std::fs::write(
            dir.join(file),
            format!(
                r#"{{"id":"0b5571f7-21e6-42b7-91c5-3f5ac9793a46","secret_type":"arbitrary","payload":"{payload}"}}"#
            ),
        )
        .unwrap();
    }
    // Input b would have been given a's payload.
    let (code, stdout, stderr) = dry_run(&dir, &["--secret", "a=@a.json", "--secret", "b=@b.json"]);
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert!(stderr.contains("different secrets with the same `id`"), "{stderr}");
    // One file for both is one secret: fine.
    let (code, stdout, stderr) = dry_run(&dir, &["--secret", "a=@a.json", "--secret", "b=@a.json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let calls = std::fs::read_to_string(dir.join("state")).unwrap();
    assert!(calls.starts_with("payload-of-a-1234 payload-of-a-1234\n"), "{calls}");
    std::fs::remove_file(dir.join("state")).unwrap();
    // A second value for one input would replace the first unseen.
    for twice in [
        &[
            "--secret",
            "a=@a.json",
            "--secret",
            "a=@b.json",
            "--secret",
            "b=@b.json",
        ][..],
        &[
            "--secret",
            "a=@a.json",
            "--secret",
            "b=@a.json",
            "--input",
            "a=0f9a2b1c-1111-4222-8333-944455556666",
        ],
    ] {
        let (code, stdout, stderr) = dry_run(&dir, twice);
        assert_eq!((code, stdout.as_str()), (2, ""), "{twice:?}: {stderr}");
        assert!(stderr.contains("the input `a` is given twice"), "{stderr}");
    }
    assert!(!dir.join("state").exists(), "the hook ran");
}

#[test]
fn delete_runs_only_the_delete_with_the_output_channel_of_a_real_delete() {
    let dir = provider(
        "#!/bin/sh\nset -eu\necho \"$1 $SM_ACTION $SM_CREDENTIALS_ID $CREDHOOK_OUTPUT\" >> \"$STATE\"\n\
         echo '# nothing to report' >&3\n",
    );
    let (code, stdout, stderr) = dry_run(&dir, &["--delete", "c-77", "--secret", "login_secret_id=@admin.json"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(stdout, "deleted credentials c-77\n");
    let calls = std::fs::read_to_string(dir.join("state")).unwrap();
    assert_eq!(calls, "delete delete_credentials c-77 /dev/fd/3\n");
    // A failing delete says so, and that the credentials may remain.
    let dir = provider("#!/bin/sh\necho 'error_message=the vendor is down' >&3\nexit 1\n");
    let (code, stdout, _) = dry_run(&dir, &["--delete", "c-78", "--secret", "login_secret_id=@admin.json"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("delete failed: ERR10004: the vendor is down"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the credentials c-78 may remain; delete them by hand"),
        "{stdout}"
    );
}

#[test]
fn keep_prints_the_command_that_deletes_them() {
    let dir = provider(HOOK);
    let (code, stdout, stderr) = dry_run(&dir, &["--secret", "login_secret_id=@admin.json", "--keep"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let cmd = stdout.lines().last().unwrap().trim().to_string();
    assert_eq!(
        cmd,
        "credhook dry-run --delete 'c-42' --secret 'login_secret_id=@admin.json'"
    );
    // Run as printed, with this credhook.
    let (code, stdout, stderr) = out(Command::new("sh")
        .arg("-c")
        .arg(cmd.replacen("credhook", &support::credhook_bin().display().to_string(), 1))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("STATE", dir.join("state"))
        .current_dir(&dir));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(stdout, "deleted credentials c-42\n");
}

#[test]
fn the_running_credhook_is_first_on_the_hooks_path() {
    let dir = provider(
        "#!/bin/sh\nset -eu\n[ \"$1\" = delete ] && exit 0\ncommand -v credhook > \"$STATE\"\n\
         echo '{\"id\":\"c-1\",\"token\":\"from-credhook-json\"}' | credhook json out id=.id token=.token >&3\n",
    );
    let (code, stdout, stderr) = dry_run(
        &dir,
        &["--input", "login_secret_id=0f9a2b1c-1111-4222-8333-944455556666"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let found = std::fs::read_to_string(dir.join("state")).unwrap();
    let bin = support::credhook_bin().canonicalize().unwrap();
    assert_eq!(Path::new(found.trim()).canonicalize().unwrap(), bin);
}

#[test]
fn without_path_the_hook_still_finds_the_shell_s_tools_and_a_colon_dir_is_left_off() {
    let dir = provider(
        "#!/bin/sh\nset -eu\necho \"$PATH\" > \"$STATE\"\n[ \"$1\" = delete ] && exit 0\n\
         command -v credhook >> \"$STATE\"\nprintf 'id=c-1\\ntoken=%s\\n' \"$(echo tok-12345678 | tr a-z A-Z)\" >&3\n",
    );
    let args = [
        "--keep",
        "--input",
        "login_secret_id=0f9a2b1c-1111-4222-8333-944455556666",
    ];
    // No PATH at all (env -i, a bare cron line): tr is found.
    let (code, stdout, stderr) = out(credhook()
        .arg("dry-run")
        .args(args)
        .env_clear()
        .env("STATE", dir.join("state"))
        .current_dir(&dir));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let state = std::fs::read_to_string(dir.join("state")).unwrap();
    let bin_dir = support::credhook_bin().parent().unwrap().display().to_string();
    assert!(state.starts_with(&format!("{bin_dir}:/usr/local/sbin:")), "{state}");
    // A credhook in a directory holding `:` cannot be named on PATH: said,
    // and no piece of its name (a relative `b`) becomes a PATH entry.
    let colon = dir.join("a:b");
    std::fs::create_dir_all(&colon).unwrap();
    let cp = Command::new("cp")
        .arg(support::credhook_bin())
        .arg(colon.join("credhook"))
        .status();
    assert!(cp.is_ok_and(|s| s.success()));
    let (code, stdout, stderr) = out(Command::new(colon.join("credhook"))
        .arg("dry-run")
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("STATE", dir.join("state"))
        .current_dir(&dir));
    assert_eq!(code, 1, "no credhook on PATH: the hook fails\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("holds a `:`, so it cannot go on the hook's PATH"),
        "{stderr}"
    );
    let state = std::fs::read_to_string(dir.join("state")).unwrap();
    assert_eq!(state.lines().next(), Some("/usr/bin:/bin"), "{state}");
}

#[test]
fn help_is_on_stdout_and_exit_zero() {
    let (code, stdout, stderr) = out(credhook().args(["dry-run", "--help"]));
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(
        stdout.contains("--secret NAME=@FILE") && stdout.contains("--delete ID"),
        "{stdout}"
    );
}

/// A hook that makes the login secret its credentials id: the log and the
/// "kept" line mask it, and so must the command `--keep` prints (the parts
/// to fill in are marked, never the secret or a fragment of it).
#[test]
fn keep_never_prints_a_secret_in_the_delete_command() {
    let dir = provider(
        "#!/bin/sh\nset -eu\ncase $1 in\ncreate) printf 'id=%s\\ntoken=t\\n' \"$SMIN_LOGIN_SECRET_ID_PAYLOAD\" >&3 ;;\nesac\n",
    );
    let (code, stdout, stderr) = dry_run(
        &dir,
        &[
            "--secret",
            "login_secret_id=@admin.json",
            "--input",
            &format!("team={ADMIN_TOKEN}"),
            "--keep",
        ],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    for text in [&stdout, &stderr] {
        for f in support::fragments(ADMIN_TOKEN) {
            assert!(!text.contains(f), "fragment {f:?} in {text}");
        }
    }
    let cmd = stdout.lines().last().unwrap().trim();
    assert_eq!(
        cmd,
        "credhook dry-run --delete '[REDACTED]' --input 'team=[REDACTED]' --secret 'login_secret_id=@admin.json'"
    );
    assert!(stdout.contains("fill in what is [REDACTED]"), "{stdout}");
}

/// The delete after the create fails (or is stopped): the credentials are
/// left, and the dry run prints the command that tries the delete again.
#[test]
fn a_failed_delete_prints_the_command_that_tries_it_again() {
    let dir = provider(
        "#!/bin/sh\ncase $1 in\ncreate) printf 'id=c-5\\ntoken=t\\n' >&3 ;;\n\
         delete) echo 'error_message=the vendor is down' >&3; exit 1 ;;\nesac\n",
    );
    let (code, stdout, stderr) = dry_run(&dir, &["--secret", "login_secret_id=@admin.json", "--input", "team=qa"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("delete failed: ERR10004: the vendor is down"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last().unwrap().trim(),
        "credhook dry-run --delete 'c-5' --input 'team=qa' --secret 'login_secret_id=@admin.json'",
        "{stdout}"
    );
}

/// `--secret NAME=-` waits for the secret on stdin (a user at a terminal
/// who forgot the pipe): a Ctrl-C or SIGTERM then ends the dry run, which
/// has run no hook and created nothing yet.
#[test]
fn a_stop_while_a_secret_is_read_from_stdin_ends_the_dry_run() {
    let dir = provider(HOOK);
    for signal in ["-INT", "-TERM"] {
        let mut child = credhook()
            .args(["dry-run", "--secret", "login_secret_id=-"])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("STATE", dir.join("state"))
            .current_dir(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Blocked in the read of stdin (kept open, never written).
        std::thread::sleep(std::time::Duration::from_millis(300));
        let pid = child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
        let mut ended = None;
        for _ in 0..100 {
            if let Some(status) = child.try_wait().unwrap() {
                ended = Some(status);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        let status = ended.unwrap_or_else(|| panic!("kill {signal}: still reading stdin after 5 s"));
        assert!(!status.success(), "{signal}: {status:?}");
        assert!(!dir.join("state").exists(), "the hook ran");
    }
}
