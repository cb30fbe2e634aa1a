//! scripts/deploy.sh with stand-in `podman` and `ibmcloud` executables on
//! PATH that record their arguments (one argument per line, a blank line
//! after each call). The stand-in podman also records each Containerfile it
//! is given; the stand-in `ibmcloud ce job get` prints a job's JSON when the
//! job exists.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::TempDir;

/// A job as `ibmcloud ce job get --output json` shows it (the parts that
/// matter): two declarations, one of them since removed from job_config.json,
/// a value, and what Secrets Manager injected.
const EXISTING_JOB: &str = r#"{"name":"provider","spec":{"template":{"containers":[{"env":[
{"name": "SMIN_TEAM","value":"type:string, required:true"},
{"name": "SMOUT_OLD_TOKEN","value":"type:string"},
{"name": "SMIN_TEAM_VALUE","value":"x"},
{"name": "SM_INSTANCE_URL","value":"https://x.us-south.secrets-manager.appdomain.cloud"},
{"name": "CE_REMOVE_COMPLETED_JOBS","value":"IMMEDIATELY"}]}]}}}"#;

fn stand_ins(dir: &Path, job_exists: bool) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("calls");
    std::fs::write(dir.join("job.json"), EXISTING_JOB).unwrap();
    for tool in ["podman", "ibmcloud"] {
        let get = if job_exists {
            format!("cat '{}'; exit 0", dir.join("job.json").display())
        } else {
            "echo 'job not found' >&2; exit 1".to_string()
        };
        let script = format!(
            "#!/bin/sh\n{{ echo {tool}; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; echo; }} >> '{log}'\n\
             [ \"$1 $2 $3\" = 'ce job get' ] && {{ {get}; }}\n\
             if [ \"$1\" = build ]; then prev=; for a in \"$@\"; do [ \"$prev\" = -f ] && cat \"$a\" >> '{files}'; prev=$a; done; fi\n\
             exit 0\n",
            log = log.display(),
            files = dir.join("containerfiles").display(),
        );
        support::write_executable(&bin.join(tool), &script);
    }
    bin
}

fn deploy(dir: &Path, bin: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let repo = support::repo();
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let o = support::output_with_stdin(
        Command::new(repo.join("scripts/deploy.sh"))
            .args(args)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("CREDHOOK", support::credhook_bin())
            .env("TMPDIR", &tmp)
            .current_dir(dir),
        stdin.as_bytes(),
    );
    // The build context is removed, whatever happened.
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "deploy.sh left files in TMPDIR"
    );
    support::code_and_text(o)
}

/// `deploy.sh --image IMAGE --job provider EXTRA… --yes`, nothing on stdin.
fn deploy_provider(dir: &Path, bin: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["--image", IMAGE, "--job", "provider"];
    args.extend_from_slice(extra);
    args.push("--yes");
    deploy(dir, bin, &args, "")
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

/// A private directory with a job_config.json, and the stand-ins' directory.
fn site(job_exists: bool) -> (TempDir, PathBuf) {
    let dir = TempDir::new("credhook-deploy");
    config(&dir);
    let bin = stand_ins(&dir, job_exists);
    (dir, bin)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const IMAGE: &str = "us.icr.io/team-ns/provider:1";
const SETTINGS: [&str; 8] = [
    "--retrylimit",
    "0",
    "--cpu",
    "0.125",
    "--memory",
    "0.25G",
    "--maxexecutiontime",
    "1412",
];

#[test]
fn creates_the_job_when_it_does_not_exist() {
    let (dir, bin) = site(false);
    let (code, stdout, stderr) = deploy_provider(&dir, &bin, &["--project", "secrets"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let repo = support::repo();
    let repo = repo.to_str().unwrap();
    let mut c = calls(&dir);
    // The project and the job first: what the job holds sizes its settings,
    // before anything is built.
    assert_eq!(c[0], s(&["ibmcloud", "ce", "project", "select", "--name", "secrets"]));
    assert_eq!(
        c[1],
        s(&["ibmcloud", "ce", "job", "get", "--name", "provider", "--output", "json"])
    );
    c.drain(..2);
    // The base image from this checkout, for x86 whatever the host.
    assert_eq!(
        c[0],
        s(&[
            "podman",
            "build",
            "--platform",
            "linux/amd64",
            "-t",
            "credhook-base:local",
            "--build-arg",
            "HOOK=none",
            "--build-arg",
            "PACKAGES=",
            "--build-arg",
            "TOOLS=",
            "-f",
            &format!("{repo}/Containerfile"),
            repo
        ])
    );
    // The provider: FROM the base, the hook as /hook, from a private context.
    assert_eq!(
        &c[1][..6],
        s(&["podman", "build", "--platform", "linux/amd64", "-t", IMAGE])
    );
    assert_eq!(c[1][6], "-f");
    assert!(
        c[1][7].ends_with("/Containerfile") && c[1][7].starts_with(&c[1][8]),
        "{:?}",
        c[1]
    );
    let files = std::fs::read_to_string(dir.join("containerfiles")).unwrap();
    assert!(
        files.ends_with("FROM credhook-base:local\nCOPY --chmod=0755 hook.sh /hook\n"),
        "{files}"
    );
    assert_eq!(c[2], s(&["podman", "push", IMAGE]));
    let mut create = s(&[
        "ibmcloud", "ce", "job", "create", "--name", "provider", "--image", IMAGE,
    ]);
    create.extend(s(&SETTINGS));
    create.extend(s(&[
        "--env",
        "SMIN_TEAM=type:string, required:true",
        "--env",
        "SMOUT_TOKEN=type:string, required:true",
    ]));
    assert_eq!(c[3], create);
    assert_eq!(c.len(), 4);
    // Each command is shown before it runs.
    assert!(
        stdout.contains("+ podman push us.icr.io/team-ns/provider:1"),
        "{stdout}"
    );
}

#[test]
fn updates_an_existing_job_removing_stale_declarations() {
    let (dir, bin) = site(true);
    let (code, _, stderr) = deploy_provider(&dir, &bin, &["--registry-secret", "icr", "--keep-runs", "3d"]);
    assert_eq!(code, 0, "{stderr}");
    let last = calls(&dir).pop().unwrap();
    let mut want = s(&[
        "ibmcloud",
        "ce",
        "job",
        "update",
        "--name",
        "provider",
        "--image",
        IMAGE,
        "--registry-secret",
        "icr",
        // Gone from job_config.json; nothing Secrets Manager set, no value.
        "--env-rm",
        "SMOUT_OLD_TOKEN",
    ]);
    want.extend(s(&SETTINGS));
    want.extend(s(&[
        "--env",
        "SMIN_TEAM=type:string, required:true",
        "--env",
        "SMOUT_TOKEN=type:string, required:true",
        "--env",
        "CE_REMOVE_COMPLETED_JOBS=4320",
    ]));
    assert_eq!(last, want);
}

#[test]
fn a_provider_from_its_own_repository_with_tools_and_sizes() {
    // The provider lives outside the credhook checkout: hook and
    // job_config.json side by side, deploy.sh run from elsewhere.
    let dir = TempDir::new("credhook-deploy");
    let provider = dir.join("my-provider");
    std::fs::create_dir_all(&provider).unwrap();
    config(&provider);
    std::fs::write(
        provider.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    std::fs::write(provider.join("hook.sh"), "#!/bin/sh\necho hi\n").unwrap();
    let bin = stand_ins(&dir, false);
    let hook = provider.join("hook.sh");
    let (code, _, stderr) = deploy(
        &dir,
        &bin,
        &[
            "--image",
            IMAGE,
            "--job",
            "provider",
            "--hook",
            hook.to_str().unwrap(),
            "--with",
            "psql",
            "--with",
            "jq",
            "--packages",
            "postgresql-client jq",
            "--cpu",
            "0.25",
            "--memory",
            "0.5G",
            "--task-timeout",
            "5m",
            "--hook-timeout",
            "120",
            "--keep-runs",
            "90",
            "--yes",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let c = calls(&dir);
    assert_eq!(c[0][1..4], s(&["ce", "job", "get"]));
    let c = &c[1..];
    assert!(
        c[0].contains(&"PACKAGES=postgresql-client jq".to_string()),
        "{:?}",
        c[0]
    );
    assert!(c[0].contains(&"TOOLS=psql jq".to_string()), "{:?}", c[0]);
    let last = c.last().unwrap();
    // The longest run: two IAM calls of 30 + 65 + 90 s, two Secrets
    // Manager calls of 60 + 65 + 90 s, the hook and a rollback of 120 + 6 s
    // (above 300 s task timeout + 120 s hook timeout + 60 s).
    assert_eq!(
        &last[8..18],
        s(&[
            "--retrylimit",
            "0",
            "--cpu",
            "0.25",
            "--memory",
            "0.5G",
            "--maxexecutiontime",
            "1052",
            "--env",
            "SMOUT_TOKEN=type:string, required:true"
        ])
    );
}

#[test]
fn builds_from_a_given_base_image_only_the_provider() {
    let (dir, bin) = site(false);
    let (code, _, stderr) = deploy_provider(&dir, &bin, &["--base", "us.icr.io/team-ns/credhook-base:1"]);
    assert_eq!(code, 0, "{stderr}");
    let c = calls(&dir);
    assert_eq!(
        &c[1][..6],
        s(&["podman", "build", "--platform", "linux/amd64", "-t", IMAGE])
    );
    let files = std::fs::read_to_string(dir.join("containerfiles")).unwrap();
    assert_eq!(
        files,
        "FROM us.icr.io/team-ns/credhook-base:1\nCOPY --chmod=0755 hook.sh /hook\n"
    );
    // --with needs a base built here.
    let (code, _, stderr) = deploy(
        &dir,
        &bin,
        &[
            "--image", IMAGE, "--job", "p", "--base", "b:1", "--with", "psql", "--yes",
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--base IMAGE the base already has its tools"),
        "{stderr}"
    );
}

#[test]
fn asks_before_each_command_and_stops_on_no() {
    let (dir, bin) = site(false);
    // Yes to the base build, no to the provider build.
    let (code, stdout, stderr) = deploy(&dir, &bin, &["--image", IMAGE, "--job", "provider"], "y\nn\n");
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("stopped; nothing more was run"), "{stderr}");
    let c: Vec<_> = calls(&dir).into_iter().filter(|c| c[0] == "podman").collect();
    assert_eq!(c.len(), 1, "ran more than the base build: {c:?}");
    assert_eq!(c[0][1], "build");
}

#[test]
fn refuses_bad_input_before_running_anything() {
    let dir = TempDir::new("credhook-deploy");
    let bin = stand_ins(&dir, false);
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMOUT_X","value":"type:float"}]}"#,
    )
    .unwrap();
    let (code, _, stderr) = deploy_provider(&dir, &bin, &[]);
    assert_ne!(code, 0);
    assert!(stderr.contains("unknown type `float`"), "{stderr}");
    config(&dir);
    for (args, says) in [
        (vec!["--keep-runs", "forever"], "not a duration like 3d"),
        (vec!["--keep-runs", "3dd"], "not a duration like 3d"),
        (vec!["--keep-runs", "0"], "not a duration like 3d"),
        (
            vec!["--task-timeout", "soon"],
            "--task-timeout `soon` is not a duration",
        ),
        (vec!["--cpu", "1;reboot"], "--cpu `1;reboot`"),
        (vec!["--with", "a b"], "--with a b is not a command name"),
        (
            vec!["--hook", "/nonexistent/hook.sh"],
            "hook /nonexistent/hook.sh does not exist",
        ),
        (vec!["--image"], "--image needs a value"),
    ] {
        let mut all = vec!["--job", "provider", "--yes"];
        if args[0] != "--image" {
            all.extend(["--image", IMAGE]);
        }
        all.extend(args.iter().copied());
        let (code, stdout, stderr) = deploy(&dir, &bin, &all, "");
        assert_ne!(code, 0, "{args:?} was accepted");
        assert!(stderr.contains(says), "{args:?}: {stdout}{stderr}");
    }
    // A hook timeout that the task timeout does not cover.
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMOUT_X","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    let (code, _, stderr) = deploy_provider(&dir, &bin, &["--hook-timeout", "900"]);
    assert_ne!(code, 0);
    assert!(stderr.contains("not below the task timeout"), "{stderr}");
    assert!(calls(&dir).is_empty(), "something ran for bad input");
}

/// The stand-in job, with CREDHOOK_HOOK_TIMEOUT set to `value` (as a
/// Code Engine literal: members in another order than name, value).
fn job_with_hook_timeout(dir: &Path, value: &str) {
    job_with(dir, "CREDHOOK_HOOK_TIMEOUT", value);
}

/// The stand-in job, with `name` set to `value`.
fn job_with(dir: &Path, name: &str, value: &str) {
    let job = EXISTING_JOB.replace(
        r#"{"name": "SMOUT_OLD_TOKEN""#,
        &format!(
            r#"{{"type":"literal","value":"{value}", "name" : "{name}"}},
{{"name": "SMOUT_OLD_TOKEN""#
        ),
    );
    std::fs::write(dir.join("job.json"), job).unwrap();
}

#[test]
fn the_task_timeout_must_cover_the_jobs_retry_windows_too() {
    let w = support::World::new();
    config(&w.dir);
    let bin = stand_ins(&w.dir, true);
    // The job rides out 200 s outages: 300 + 30 + 2 × 200 s does not fit a
    // 10-minute task. Refused, nothing built or updated.
    job_with(&w.dir, "CREDHOOK_RETRY_WINDOW", "200");
    let args = ["--image", IMAGE, "--job", "provider", "--yes"];
    let (code, stdout, stderr) = deploy(&w.dir, &bin, &[&args[..], &["--task-timeout", "10m"]].concat(), "");
    assert_ne!(code, 0, "{stdout}");
    assert!(
        stderr.contains("CREDHOOK_HOOK_TIMEOUT (300 s) plus credhook's retry windows (430 s")
            && stderr.contains("not below the task timeout (600 s)"),
        "{stderr}"
    );
    assert!(calls(&w.dir).iter().all(|c| c[0] == "ibmcloud" && c[3] == "get"));
    // A task timeout that covers them: accepted, sized as usual.
    std::fs::remove_file(w.dir.join("calls")).unwrap();
    let (code, _, stderr) = deploy(&w.dir, &bin, &[&args[..], &["--task-timeout", "15m"]].concat(), "");
    assert_eq!(code, 0, "{stderr}");
    let update = calls(&w.dir).pop().unwrap();
    // 900 + 300 + 60 s is less than the longest run with 200 s windows:
    // 2 × 185 + 2 × (200 + 65 + 90) + 2 × 306 s.
    assert_eq!(flag_value(&update, "--maxexecutiontime"), Some("1692"));
    // The job's HTTP timeout counts too: each of the four calls' last
    // attempt may take 3 × 100 s.
    std::fs::remove_file(w.dir.join("calls")).unwrap();
    job_with(&w.dir, "CREDHOOK_HTTP_TIMEOUT", "100");
    let (code, _, stderr) = deploy(&w.dir, &bin, &[&args[..], &["--task-timeout", "15m"]].concat(), "");
    assert_eq!(code, 0, "{stderr}");
    let update = calls(&w.dir).pop().unwrap();
    assert_eq!(flag_value(&update, "--maxexecutiontime"), Some("2252"));
    // A window deploy.sh cannot read as seconds: refused.
    job_with(&w.dir, "CREDHOOK_IAM_RETRY_WINDOW", "1m");
    let (code, _, stderr) = deploy(&w.dir, &bin, &args, "");
    assert_ne!(code, 0);
    assert!(
        stderr.contains("sets CREDHOOK_IAM_RETRY_WINDOW, but not to a number of seconds"),
        "{stderr}"
    );
}

fn flag_value<'a>(call: &'a [String], flag: &str) -> Option<&'a str> {
    call.iter().position(|a| a == flag).map(|i| call[i + 1].as_str())
}

#[test]
fn sizes_the_job_for_its_current_hook_timeout() {
    let w = support::World::new();
    config(&w.dir);
    let bin = stand_ins(&w.dir, true);
    job_with_hook_timeout(&w.dir, "1500");
    let args = ["--image", IMAGE, "--job", "provider", "--yes"];
    // The job's 1500 s hook would outlive a 10-minute task: refused, nothing
    // built or updated.
    let (code, stdout, stderr) = deploy(&w.dir, &bin, &[&args[..], &["--task-timeout", "10m"]].concat(), "");
    assert_ne!(code, 0, "{stdout}");
    assert!(
        stderr.contains("CREDHOOK_HOOK_TIMEOUT (1500 s) is not below the task timeout (600 s)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("job provider's current CREDHOOK_HOOK_TIMEOUT"),
        "{stderr}"
    );
    let c = calls(&w.dir);
    assert!(
        c.iter().all(|c| c[0] == "ibmcloud" && c[3] == "get"),
        "ran more than job get: {c:?}"
    );

    // A task timeout that covers it: the longest run, 2 × 185 + 2 × 215 +
    // 2 × 1506 s (more than 1800 + 1500 + 60), the value left as it is.
    std::fs::remove_file(w.dir.join("calls")).unwrap();
    let (code, stdout, stderr) = deploy(&w.dir, &bin, &[&args[..], &["--task-timeout", "30m"]].concat(), "");
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("job provider has CREDHOOK_HOOK_TIMEOUT=1500"),
        "{stdout}"
    );
    let update = calls(&w.dir).pop().unwrap();
    assert_eq!(update[3], "update");
    assert_eq!(flag_value(&update, "--maxexecutiontime"), Some("3812"));
    assert!(
        !update.iter().any(|a| a.starts_with("CREDHOOK_HOOK_TIMEOUT")),
        "{update:?}"
    );

    // --hook-timeout replaces it: 2 × 185 + 2 × 215 + 2 × 126 s.
    std::fs::remove_file(w.dir.join("calls")).unwrap();
    let (code, _, stderr) = deploy(&w.dir, &bin, &[&args[..], &["--hook-timeout", "120"]].concat(), "");
    assert_eq!(code, 0, "{stderr}");
    let update = calls(&w.dir).pop().unwrap();
    assert_eq!(flag_value(&update, "--maxexecutiontime"), Some("1052"));
    assert!(
        update.ends_with(&s(&["--env", "CREDHOOK_HOOK_TIMEOUT=120"])),
        "{update:?}"
    );

    // A value it cannot read (not a whole number): refused, asking for one.
    job_with_hook_timeout(&w.dir, "5m");
    std::fs::remove_file(w.dir.join("calls")).unwrap();
    let (code, _, stderr) = deploy(&w.dir, &bin, &args, "");
    assert_ne!(code, 0);
    assert!(stderr.contains("pass --hook-timeout S"), "{stderr}");
    assert!(calls(&w.dir).iter().all(|c| c[0] == "ibmcloud" && c[3] == "get"));
}

#[test]
fn keep_runs_immediately_sets_it_back() {
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
            "--keep-runs",
            "IMMEDIATELY",
            "--yes",
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let update = calls(&w.dir).pop().unwrap();
    assert!(
        update.ends_with(&s(&["--env", "CE_REMOVE_COMPLETED_JOBS=IMMEDIATELY"])),
        "{update:?}"
    );
}

#[test]
fn a_hook_named_like_an_option_is_a_file() {
    let w = support::World::new();
    config(&w.dir);
    let bin = stand_ins(&w.dir, false);
    std::fs::write(w.dir.join("-h"), "#!/bin/sh\necho hi\n").unwrap();
    std::fs::copy(w.dir.join("job_config.json"), w.dir.join("--help")).unwrap();
    let (code, stdout, stderr) = deploy(
        &w.dir,
        &bin,
        &[
            "--image", IMAGE, "--job", "provider", "--hook", "-h", "--config", "--help", "--yes",
        ],
        "",
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let create = calls(&w.dir).pop().unwrap();
    assert_eq!(create[3], "create");
    assert!(
        create.ends_with(&s(&["--env", "SMOUT_TOKEN=type:string, required:true"])),
        "{create:?}"
    );
}

#[test]
fn allow_host_sets_the_jobs_egress_allowlist() {
    let (dir, bin) = site(false);
    let (code, _, stderr) = deploy_provider(
        &dir,
        &bin,
        &["--allow-host", "api.example.com", "--allow-host", "*.example.net:443"],
    );
    assert_eq!(code, 0, "{stderr}");
    let create = calls(&dir).pop().unwrap();
    assert!(
        create.ends_with(&s(&["--env", "CREDHOOK_HTTP_ALLOW=api.example.com,*.example.net:443"])),
        "{create:?}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
}

#[test]
fn without_allow_host_check_warns_once_and_a_jobs_allowlist_is_kept() {
    let (dir, bin) = site(false);
    let (code, _, stderr) = deploy_provider(&dir, &bin, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.matches("unless the job sets CREDHOOK_HTTP_ALLOW").count(),
        1,
        "{stderr}"
    );
    let create = calls(&dir).pop().unwrap();
    assert!(!create.iter().any(|a| a.contains("CREDHOOK_HTTP_ALLOW")), "{create:?}");
    // An existing job's allowlist stays (update never names it).
    let (dir, bin) = site(true);
    let job = EXISTING_JOB.replace(
        r#"{"name": "SMOUT_OLD_TOKEN""#,
        r#"{"name":"CREDHOOK_HTTP_ALLOW","value":"api.example.com"},
{"name": "SMOUT_OLD_TOKEN""#,
    );
    std::fs::write(dir.join("job.json"), job).unwrap();
    let (code, stdout, stderr) = deploy_provider(&dir, &bin, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("sets CREDHOOK_HTTP_ALLOW; it is kept"), "{stdout}");
    let update = calls(&dir).pop().unwrap();
    assert!(!update.iter().any(|a| a.contains("CREDHOOK_HTTP_ALLOW")), "{update:?}");
}

#[test]
fn a_bad_allow_host_stops_before_anything_runs() {
    let (dir, bin) = site(false);
    for (host, says) in [
        ("https://api.example.com", "one HOST[:PORT]"),
        ("a.example.com,b.example.com", "one HOST[:PORT]"),
        ("*", "CREDHOOK_HTTP_ALLOW `*`"),
        ("api.example.com:0", "the port must be a number"),
        ("a.*.example.com", "`*` may only be a whole first label"),
    ] {
        let (code, stdout, stderr) = deploy_provider(&dir, &bin, &["--allow-host", host]);
        assert_ne!(code, 0, "{host} was accepted");
        assert!(
            stdout.contains(says) || stderr.contains(says),
            "{host}: {stdout}{stderr}"
        );
    }
    assert!(calls(&dir).is_empty(), "something ran for a bad --allow-host");
}
