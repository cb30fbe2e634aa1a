//! `credhook check`, `ce-flags` and `dry-run`, run as a user would.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::{TempDir, out, repo};

fn credhook() -> Command {
    Command::new(support::credhook_bin())
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/configs").join(name)
}

#[test]
fn check_accepts_realistic_configs() {
    for (name, counts) in [
        ("jfrog-token.json", "(4 inputs, 3 outputs)"),
        ("postgres-role.json", "(2 inputs, 3 outputs)"),
        ("iam-apikey.json", "(2 inputs, 2 outputs)"),
        ("certificate.json", "(3 inputs, 3 outputs)"),
    ] {
        let f = fixture(name);
        // With the egress allowlist set, check has nothing to warn about.
        let (code, stdout, stderr) = out(credhook()
            .arg("check")
            .arg(&f)
            .env("CREDHOOK_HTTP_ALLOW", "api.example.com"));
        assert_eq!(code, 0, "{name}: {stderr}");
        assert_eq!(stderr, "", "no problem, no line");
        assert_eq!(stdout, format!("{}: ok {counts}\n", f.display()));
    }
}

#[test]
fn check_names_every_problem_and_its_fix() {
    let f = fixture("broken.json");
    let (code, stdout, stderr) = out(credhook().arg("check").arg(&f));
    assert_eq!((code, stdout.as_str()), (1, ""));
    let p = f.display();
    let want = [
        format!("{p}: smin_login: the prefix must be `SMIN_`; rename it to `SMIN_LOGIN`"),
        format!("{p}: SMIN_PORT: unknown type `float`; use string, integer, boolean, enum[a|b|c] or secret_id"),
        format!("{p}: SMOUT_REF: `secret_id` is an input type only; declare the output as `type:string`"),
        format!("{p}: SMOUT_NOTE: `required:maybe` must be `required:true` or `required:false`"),
        format!("{p}: SMOUT_NOTE: declared more than once; keep one"),
        format!("{p}: SMOUT_TOKEN: attribute `string` is not `key:value`; write e.g. `type:string, required:true`"),
        format!(
            "{p}: no required output: mark at least one SMOUT_ variable `required:true` (the credentials must hold something)"
        ),
    ];
    assert_eq!(stderr.lines().collect::<Vec<_>>(), want);
}

#[test]
fn check_reports_malformed_and_missing_files() {
    let (code, _, stderr) = out(credhook().arg("check").arg(fixture("malformed.json")));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("malformed JSON at byte") && stderr.contains("the file must be JSON"),
        "{stderr}"
    );
    // Without an argument it reads ./job_config.json.
    let dir = std::env::temp_dir();
    let (code, _, stderr) = out(credhook().arg("check").current_dir(&dir));
    assert_eq!(code, 1);
    assert!(stderr.starts_with("./job_config.json: cannot be read"), "{stderr}");
}

#[test]
fn ce_flags_survive_eval_exactly() {
    let dir = TempDir::new("credhook-tooling");
    let tricky = dir.join("job_config.json");
    std::fs::write(
        &tricky,
        r#"{"job_env_variables":[
            {"name":"SMIN_NOTE","value":"type:string, required:false"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"},
            {"name":"CREDHOOK_NOTE","value":"it's $HOME and `date` \\ \"quoted\"\nnext line"}]}"#,
    )
    .unwrap();
    let script = format!(
        "eval \"set -- $({} ce-flags)\"; printf '%s\\0' \"$@\"",
        support::credhook_bin().display()
    );
    let o = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args: Vec<String> = o
        .stdout
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    assert_eq!(
        args,
        [
            "--env",
            "SMIN_NOTE=type:string, required:false",
            "--env",
            "SMOUT_TOKEN=type:string, required:true",
            "--env",
            "CREDHOOK_NOTE=it's $HOME and `date` \\ \"quoted\"\nnext line",
        ]
    );
    // One pair per line, continued with ` \`.
    let (_, text, _) = out(credhook().arg("ce-flags").arg(&tricky));
    assert!(
        text.starts_with("--env 'SMIN_NOTE=type:string, required:false' \\\n--env 'SMOUT_TOKEN="),
        "{text}"
    );
}

#[test]
fn ce_flags_job_settings_come_first_and_are_checked() {
    let dir = TempDir::new("credhook-tooling");
    let cfg = dir.join("job_config.json");
    std::fs::write(
        &cfg,
        r#"{"job_env_variables":[{"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    // The default output is the --env pairs only (the contract).
    let (code, text, _) = out(credhook().arg("ce-flags").arg(&cfg));
    assert_eq!(
        (code, text.as_str()),
        (0, "--env 'SMOUT_TOKEN=type:string, required:true'\n")
    );
    let (code, text, err) = out(credhook().args(["ce-flags", "--job-settings"]).arg(&cfg));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        text,
        "--retrylimit 0 \\\n--cpu 0.125 \\\n--memory 0.25G \\\n--maxexecutiontime 1412 \\\n--env 'SMOUT_TOKEN=type:string, required:true'\n"
    );
    let (code, text, _) = out(credhook()
        .args([
            "ce-flags",
            "--job-settings",
            "--task-timeout",
            "1h",
            "--cpu",
            "1",
            "--memory",
            "4G",
        ])
        .arg(&cfg));
    assert_eq!(code, 0);
    assert!(
        text.starts_with("--retrylimit 0 \\\n--cpu 1 \\\n--memory 4G \\\n--maxexecutiontime 3960 \\\n"),
        "{text}"
    );
    for (args, code, says) in [
        (vec!["--cpu", "1"], 2, "--cpu only applies with --job-settings"),
        (
            vec!["--job-settings", "--task-timeout", "ten"],
            2,
            "--task-timeout `ten` is not a duration",
        ),
        (
            vec!["--job-settings", "--task-timeout"],
            2,
            "--task-timeout needs a value",
        ),
        (vec!["--bogus"], 2, "unknown option `--bogus`"),
        (vec!["a.json", "b.json"], 2, "one FILE only"),
        (vec!["--job-settings", "--task-timeout", "4m"], 2, "5m to 24h"),
        (
            vec!["--job-settings", "--task-timeout", "5m"],
            1,
            "not below the task timeout",
        ),
        (
            vec!["--job-settings", "--hook-timeout", "600"],
            1,
            "not below the task timeout",
        ),
        // A hook timeout above the default task timeout (10m).
        (
            vec!["--job-settings", "--hook-timeout", "5000"],
            1,
            "CREDHOOK_HOOK_TIMEOUT (5000 s) is not below the task timeout (600 s)",
        ),
        (
            vec!["--job-settings", "--task-timeout", "24h", "--hook-timeout", "0"],
            1,
            "from 1 to 86400",
        ),
        (
            vec!["--job-settings", "--hook-timeout", "-5"],
            2,
            "is not a whole number",
        ),
        (
            vec!["--job-settings", "--hook-timeout", "soon"],
            2,
            "--hook-timeout `soon` is not a whole number",
        ),
        (
            vec!["--job-settings", "--http-timeout", "0"],
            1,
            "--http-timeout 0 must be a whole number of seconds from 1 to 3600",
        ),
        (
            vec!["--http-timeout", "60"],
            2,
            "--http-timeout only applies with --job-settings",
        ),
    ] {
        let mut cmd = credhook();
        cmd.arg("ce-flags").args(&args).current_dir(&dir);
        let (c, stdout, stderr) = out(&mut cmd);
        assert_eq!(c, code, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// `--maxexecutiontime` is at least the longest a run can take: each
/// secret a `secret_id` input may name is one more Secrets Manager call
/// (60 s window + 65 s for a `Retry-After` + 3 × 30 s), and a longer HTTP
/// timeout makes each of the run's calls longer. Found by a hostile review
/// of issue 20 (it was 960 s whatever they were).
#[test]
fn ce_flags_size_the_execution_time_for_the_secrets_read_and_the_http_timeout() {
    let dir = TempDir::new("credhook-tooling");
    let cfg = dir.join("job_config.json");
    std::fs::write(
        &cfg,
        r#"{"job_env_variables":[{"name":"SMIN_ADMIN","value":"type:secret_id, required:true"},
            {"name":"SMIN_READER","value":"type:secret_id"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    let max = |extra: &[&str]| {
        let (code, text, err) = out(credhook().args(["ce-flags", "--job-settings"]).args(extra).arg(&cfg));
        assert_eq!(code, 0, "{err}");
        let line = text
            .lines()
            .find(|l| l.starts_with("--maxexecutiontime "))
            .expect("a --maxexecutiontime");
        line.trim_end_matches(" \\")
            .rsplit(' ')
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(max(&[]), 1412 + 2 * 215);
    assert_eq!(max(&["--http-timeout", "60"]) - max(&[]), 6 * 90);
}

fn example_config(dir: &Path) -> PathBuf {
    let path = dir.join("job_config.json");
    std::fs::write(
        &path,
        r#"{"job_env_variables":[
            {"name":"SMIN_TEAM","value":"type:string, required:true"},
            {"name":"SMIN_TTL_DAYS","value":"type:integer"},
            {"name":"SMOUT_USERNAME","value":"type:string, required:true"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"},
            {"name":"SMOUT_TTL_DAYS","value":"type:integer"},
            {"name":"SMOUT_ADMIN","value":"type:boolean"}]}"#,
    )
    .unwrap();
    path
}

fn dry_run(dir: &Path, hook: &Path, args: &[&str]) -> (i32, String, String) {
    out(credhook()
        .arg("dry-run")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CREDHOOK_HOOK", hook)
        .env("EXAMPLE_STORE", dir.join("store"))
        .current_dir(dir))
}

fn store_count(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("store")).map(|d| d.count()).unwrap_or(0)
}

#[test]
fn dry_run_creates_checks_masks_and_deletes() {
    let dir = TempDir::new("credhook-tooling");
    example_config(&dir);
    let hook = repo().join("scripts/hooks/example.sh");
    let (code, stdout, stderr) = dry_run(&dir, &hook, &["--input", "team=qa", "--input", "SMIN_TTL_DAYS=3"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let id = stdout
        .lines()
        .next()
        .unwrap()
        .strip_prefix("created credentials ")
        .unwrap()
        .to_string();
    assert!(id.starts_with("cred-"), "{stdout}");
    assert!(
        stdout.contains("  token     string   52 characters (value masked)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  ttl_days  integer  1 characters (value masked)"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("deleted credentials {id}")), "{stdout}");
    // The token (tok-<48 hex>) is never printed, not even in the hook's log line.
    assert!(
        !stdout.contains("tok-") && !stderr.contains("tok-"),
        "{stdout}\n{stderr}"
    );
    assert!(stderr.contains("created [REDACTED] (token [REDACTED])"), "{stderr}");
    assert_eq!(store_count(&dir), 0, "the delete did not run");
}

#[test]
fn dry_run_keep_leaves_the_credentials() {
    let dir = TempDir::new("credhook-tooling");
    example_config(&dir);
    let hook = repo().join("scripts/hooks/example.sh");
    let (code, stdout, _) = dry_run(&dir, &hook, &["--input", "team=qa", "--keep"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("kept credentials cred-"), "{stdout}");
    assert_eq!(store_count(&dir), 1);
}

#[test]
fn dry_run_fails_naming_the_problem() {
    let dir = TempDir::new("credhook-tooling");
    example_config(&dir);
    let hook = repo().join("scripts/hooks/example.sh");
    // A missing required input: the hook never runs.
    let (code, _, stderr) = dry_run(&dir, &hook, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("input `team` is required but has no value"), "{stderr}");
    assert_eq!(store_count(&dir), 0);
    // Outputs that break the schema: named, and the created credentials deleted again.
    let bad = dir.join("bad.sh");
    support::write_executable(
        &bad,
        &format!(
            "#!/bin/sh\n[ \"$1\" = delete ] && {{ echo \"$SM_CREDENTIALS_ID\" > \"{}/deleted\"; exit 0; }}\nprintf 'id=c-1\\nusername=u\\ntoken=t-12345\\nttl_days=soon\\n' > \"$CREDHOOK_OUTPUT\"\n",
            dir.display()
        ),
    );
    let (code, stdout, _) = dry_run(&dir, &bad, &["--input", "team=qa"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("create failed: ERR10006: output `ttl_days` must be a whole number"),
        "{stdout}"
    );
    assert_eq!(std::fs::read_to_string(dir.join("deleted")).unwrap().trim(), "c-1");
}

#[test]
fn non_utf8_and_unknown_arguments_get_a_clear_error_not_a_panic() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let bad = OsStr::from_bytes(b"\xff.json");
    for cmd in ["check", "ce-flags"] {
        let (code, _, stderr) = out(credhook().arg(cmd).arg(bad));
        assert_eq!(code, 2, "{cmd}: {stderr}");
        assert!(stderr.contains("is not valid UTF-8"), "{cmd}: {stderr}");
        let (code, _, stderr) = out(credhook().arg(cmd).args(["a.json", "b.json"]));
        assert_eq!(code, 2, "{cmd}: {stderr}");
        assert!(
            stderr.contains("unexpected argument `b.json`") || stderr.contains("`b.json` is a second"),
            "{cmd}: {stderr}"
        );
    }
    let (code, _, stderr) = out(credhook().args([OsStr::new("dry-run"), OsStr::new("--input"), bad]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    let (code, _, stderr) = out(credhook().arg(bad));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unknown arguments"), "{stderr}");
}

#[test]
fn every_subcommand_answers_help_on_stdout() {
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["new", "--help"],
        &["check", "--help"],
        &["check", "job_config.json", "-h"],
        &["ce-flags", "--help"],
        &["dry-run", "--help"],
        &["http", "--help"],
        &["json", "--help"],
    ] {
        let (code, stdout, stderr) = out(credhook().args(args));
        assert_eq!((code, stderr.as_str()), (0, ""), "{args:?}");
        assert!(stdout.contains("credhook"), "{args:?}: {stdout}");
    }
}

#[test]
fn check_reads_only_small_regular_files() {
    let (code, _, stderr) = out(credhook().args(["check", "/dev/zero"]));
    assert_eq!(code, 1);
    assert!(stderr.contains("/dev/zero: is not a regular file"), "{stderr}");
}

#[test]
fn check_rejects_names_that_are_not_declarations() {
    let dir = TempDir::new("credhook-tooling");
    let f = dir.join("job_config.json");
    std::fs::write(
        &f,
        r#"{"job_env_variables":[
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"},
            {"name":"MY_SETTING","value":"type:string"}]}"#,
    )
    .unwrap();
    let (code, _, stderr) = out(credhook().arg("check").arg(&f));
    assert_eq!(code, 1);
    assert!(
        stderr.contains("MY_SETTING: not a declaration; names must start with `SMIN_` (input) or `SMOUT_` (output)"),
        "{stderr}"
    );
}

#[test]
fn dry_run_strips_the_input_prefix_once() {
    let dir = TempDir::new("credhook-tooling");
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[
            {"name":"SMIN_SMIN_X","value":"type:string, required:true"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    let hook = dir.join("hook.sh");
    support::write_executable(
        &hook,
        "#!/bin/sh\n[ \"$1\" = delete ] && exit 0\nprintf 'id=c-1\\ntoken=%s\\n' \"$SMIN_SMIN_X\" > \"$CREDHOOK_OUTPUT\"\n",
    );
    let (code, stdout, stderr) = dry_run(&dir, &hook, &["--input", "SMIN_SMIN_X=value-123"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("token  string   9 characters"), "{stdout}");
}
