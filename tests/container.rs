//! The image built and run by a real container engine, through
//! scripts/image.sh: `build` (reproducible, labelled) and `try` (create then
//! delete in a container the way Code Engine runs it, against the emulator).
//! Six images: the base image with the example hook, an HTTPS provider
//! against its vendor fake, the Slack provider against its fake (previous
//! versions on), the certificate provider (`--with openssl`), the PostgreSQL provider (`--with psql`) against a
//! TLS-only PostgreSQL, and an image built FROM the base image by a two-line
//! Containerfile outside the checkout. Each checks the task updates, that no
//! secret reached the output, and that the job ran as the non-root user.
//!
//! The engine tests need root and podman (or a docker engine): they are
//! `#[ignore]`d so that `cargo test` passes anywhere; .ci/run installs podman
//! (`scripts/image.sh setup`) and runs them with `--include-ignored`. The
//! argument checks at the end need neither.

#[allow(dead_code)]
mod provider_case;
mod support;

use credhook_emulator::vendors::VendorFake;
use provider_case::{JFROG, LOGIN_ID, watch_command_lines, watch_command_lines_for};
use std::ffi::OsStr;
use std::process::{Command, Output};
use support::postgres::*;
use support::*;

/// The engine scripts/image.sh picks: podman, else a docker engine.
fn engine() -> &'static str {
    for e in ["podman", "docker"] {
        let ok = Command::new(e).arg("info").output().is_ok_and(|o| o.status.success());
        if ok {
            return e;
        }
    }
    panic!("no container engine answers `info`: run `scripts/image.sh setup` as root (podman and runc)");
}

/// scripts/image.sh with `args`, run from the checkout, ENGINE as given.
fn image_sh(args: &[&OsStr], engine: Option<&str>) -> Output {
    image_sh_with(args, engine, &[])
}

/// [`image_sh`] with these variables in its environment.
fn image_sh_with(args: &[&OsStr], engine: Option<&str>, vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(repo().join("scripts/image.sh"));
    cmd.args(args).current_dir(repo()).env_remove("ENGINE");
    if let Some(e) = engine {
        cmd.env("ENGINE", e);
    }
    cmd.envs(vars.iter().copied());
    cmd.stdin(std::process::Stdio::null());
    cmd.output().expect("run scripts/image.sh")
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `build`'s last line: the image ID.
fn built_id(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(o.status.success(), "image.sh build failed\n{out}\n{err}");
    let id = out.lines().last().unwrap_or("").to_string();
    assert!(
        id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "the last line is not an image ID: {out}"
    );
    id
}

/// Checks a `try` that should have created and deleted: exit 0, both task
/// updates, in a container, as `user`; none of `secrets` in its output.
fn assert_tried(o: &Output, user: &str, secrets: &[String]) -> String {
    let (out, err) = text(o);
    let all = format!("--- stdout\n{out}\n--- stderr\n{err}");
    assert_eq!(o.status.code(), Some(0), "{all}");
    assert!(out.contains("try-create: credentials_created id="), "{all}");
    assert!(out.contains("try-delete: credentials_deleted"), "{all}");
    assert!(out.contains("try ok: created and deleted"), "{all}");
    assert!(out.contains("in a container"), "not run in a container\n{all}");
    assert!(out.contains(&format!(", user {user}\n")), "not run as {user}\n{all}");
    for s in secrets {
        assert!(!all.contains(s.as_str()), "a secret reached the output: {s}\n{all}");
    }
    out
}

/// `max_rss_kib` of each `credhook finished` line.
fn finished_rss(out: &str) -> Vec<u64> {
    out.lines()
        .filter(|l| l.contains("credhook finished"))
        .filter_map(|l| l.split("max_rss_kib=").nth(1)?.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The image's labels as `key=value` lines.
fn labels(engine: &str, image: &str) -> String {
    let o = Command::new(engine)
        .args([
            "image",
            "inspect",
            "--format",
            "{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}\n{{end}}",
            image,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Removes these image names when dropped (the images stay while another
/// name or image uses them).
struct Untag(&'static str, Vec<String>);

impl Drop for Untag {
    fn drop(&mut self) {
        for name in &self.1 {
            let _ = Command::new(self.0).args(["rmi", name]).output();
        }
    }
}

#[test]
#[ignore = "needs root and a container engine"]
fn the_base_image_with_the_example_hook_builds_reproducibly_and_runs_in_a_container() {
    let engine = engine();
    let hook = repo().join("scripts/hooks/example.sh");
    let first = built_id(&image_sh(&[os("build"), hook.as_os_str()], None));
    let second = built_id(&image_sh(&[os("build"), hook.as_os_str()], None));
    assert_eq!(first, second, "two builds of the same inputs gave two image IDs");

    let labels = labels(engine, &first);
    let sha = |p: &str| {
        let o = Command::new("sha256sum").arg(repo().join(p)).output().unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    for (key, want) in [
        ("org.opencontainers.image.base.name", Some("scratch".to_string())),
        ("org.opencontainers.image.title", Some("credhook".into())),
        (
            "org.opencontainers.image.licenses",
            Some("Apache-2.0 AND GPL-2.0-only".into()),
        ),
        ("org.opencontainers.image.version", Some(credhook::VERSION.into())),
        ("credhook.sbom", Some("credhook.cdx.json".into())),
        ("credhook.sbom.sha256", Some(sha("target/static/credhook.cdx.json"))),
        ("credhook.binary.sha256", Some(sha("target/static/credhook"))),
        ("org.opencontainers.image.source", None),
        ("org.opencontainers.image.revision", None),
        ("org.opencontainers.image.created", None),
        ("org.opencontainers.image.description", None),
    ] {
        let got = labels
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no label {key}:\n{labels}"));
        assert!(!got.is_empty(), "{key} is empty");
        if let Some(want) = want {
            assert_eq!(got, want, "{key}");
        }
    }
    // created is the image's own (fixed) creation time.
    let o = Command::new(engine)
        .args(["image", "inspect", "--format", "{{.Created}}", &first])
        .output()
        .unwrap();
    let created = labels
        .lines()
        .find_map(|l| l.strip_prefix("org.opencontainers.image.created="))
        .unwrap();
    let day = &created[..10];
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with(day),
        "created {created}, the image says {}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = image_sh(&[os("try"), hook.as_os_str()], None);
    let out = assert_tried(&o, "10001:10001", &[]);
    assert!(out.contains(&format!("image: {first} ({engine})")), "{out}");
    // The example's token (tok-<48 hex>) is masked everywhere, as are
    // the payload's strings.
    assert!(!out.contains("tok-"), "{out}");
    assert!(out.contains(r#""token":"****""#), "{out}");
}

#[test]
#[ignore = "needs root and a container engine"]
fn the_finished_line_reports_credhooks_own_rss_in_the_container() {
    engine();
    let hook = repo().join("scripts/hooks/example.sh");
    let o = image_sh(&[os("try"), hook.as_os_str()], None);
    let out = assert_tried(&o, "10001:10001", &[]);
    let container = finished_rss(&out);
    let o = image_sh(&[os("try"), hook.as_os_str()], Some("none"));
    let (chroot_out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{chroot_out}\n{err}");
    assert!(chroot_out.contains("in a chroot (no engine)"), "{chroot_out}");
    assert!(err.contains("falling back to the image root in a chroot"), "{err}");
    let chroot = finished_rss(&chroot_out);
    assert_eq!(container.len(), 2, "{out}");
    assert_eq!(chroot.len(), 2, "{chroot_out}");
    for (c, h) in container.iter().zip(&chroot) {
        // getrusage's ru_maxrss reported runc's init here: 11 MiB.
        assert!(*c < 4096, "max_rss_kib={c} in the container (chroot: {h})\n{out}");
        assert!(*c <= 2 * *h, "max_rss_kib={c} in the container, {h} in the chroot");
    }
}

#[test]
#[ignore = "needs root and a container engine"]
fn an_https_provider_runs_in_its_image_against_its_vendor_fake() {
    engine();
    let p = &JFROG;
    let dir = TempDir::new("credhook-container");
    let fake = VendorFake::start(p.vendor, &dir.join("fake"), p.admin).expect("start the fake");
    let login = dir.join("login secret.json");
    std::fs::write(
        &login,
        format!(
            r#"{{"id":"{LOGIN_ID}","secret_type":"arbitrary","payload":"{}\n"}}"#,
            p.admin
        ),
    )
    .unwrap();
    let config = repo().join("examples").join(p.dir).join("job_config.json");
    let hook = repo().join("examples").join(p.dir).join("hook.sh");
    let mut args: Vec<std::ffi::OsString> = vec!["try".into(), "--config".into(), config.into()];
    let mut secret = std::ffi::OsString::from(format!("{}=@", p.login.to_lowercase()));
    secret.push(&login);
    args.extend(["--secret".into(), secret]);
    let mut env = vec![
        format!("SM_{}_VALUE={}", p.url_input, fake.url()),
        format!("SSL_CERT_FILE={}", fake.ca_file().display()),
    ];
    env.extend(p.inputs.iter().map(|(k, v)| format!("SM_{k}_VALUE={v}")));
    for e in env {
        args.extend(["--env".into(), e.into()]);
    }
    args.push(hook.into());
    let arg_refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    // The admin token (from the --secret file) too: on no command line.
    let watched = || {
        let mut s = fake.secrets();
        s.push(p.admin.to_string());
        s
    };
    let (o, on_argv) = watch_command_lines_for(watched, || image_sh(&arg_refs, None));
    let secrets = watched();
    assert_tried(&o, "10001:10001", &secrets);
    assert!(on_argv.is_empty(), "secrets on command lines: {on_argv:?}");
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    assert!(fake.live().is_empty(), "the credential was left behind");
    let calls = |(m, path): (&str, &str)| {
        fake.received()
            .iter()
            .filter(|r| r.method == m && r.path.contains(path))
            .count()
    };
    assert_eq!((calls(p.create), calls(p.delete)), (1, 1));
}

#[test]
#[ignore = "needs root and a container engine"]
fn the_postgres_provider_with_psql_runs_in_its_image_against_a_tls_postgres() {
    engine();
    let dir = fresh_dir("credhook-container-pg");
    let pg = Postgres::start(&dir).expect("PostgreSQL's server binaries (.ci/run installs postgresql)");
    let setup = psql(
        &pg.verified(&pg.admin_uri()),
        "CREATE SCHEMA reporting; CREATE TABLE reporting.sales (amount int);",
    );
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    let login = dir.join("login.json");
    std::fs::write(&login, service_credentials(&pg.admin_uri(), &pg.ca)).unwrap();
    let mut secret = std::ffi::OsString::from("login_secret_id=@");
    secret.push(&login);
    let o = image_sh(
        &[
            os("try"),
            os("--with"),
            os("psql"),
            os("--config"),
            repo().join("examples/postgres/job_config.json").as_os_str(),
            os("--secret"),
            &secret,
            os("--env"),
            os("SM_SCHEMA_NAME_VALUE=reporting"),
            repo().join("examples/postgres/hook.sh").as_os_str(),
        ],
        None,
    );
    let out = assert_tried(&o, "10001:10001", &[ADMIN_PASSWORD.to_string()]);
    // The new role's password (64 hex) is nowhere: only the image ID is
    // that long a hex run.
    for word in out.split(|c: char| !c.is_ascii_hexdigit()) {
        assert!(
            word.len() < 64 || out.contains(&format!("image: {word}")),
            "a 64-hex value in the output: {out}"
        );
    }
    assert!(out.contains(r#""password":"****""#), "{out}");
    let roles = psql(
        &pg.verified(&pg.admin_uri()),
        "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'sm\\_%'",
    );
    assert_eq!(
        String::from_utf8_lossy(&roles.stdout).trim(),
        "0",
        "the role is still there"
    );
    drop(pg);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `try` with `args` (each `--env`/`--secret` given as a string), then the
/// hook; `OsString`s so paths with spaces pass as they are.
fn try_args(config: &std::path::Path, extra: &[String], hook: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["try".into(), "--config".into(), config.into()];
    args.extend(extra.iter().map(std::ffi::OsString::from));
    args.push(hook.into());
    args
}

#[test]
#[ignore = "needs root and a container engine"]
fn the_slack_provider_rotates_in_its_image_against_its_fake() {
    use credhook_emulator::vendors::{SLACK_CLIENT_ID, Vendor};
    engine();
    const CLIENT_SECRET: &str = "slack-client-secret-container-0123456789";
    let dir = TempDir::new("credhook-container-slack");
    let fake = VendorFake::start(Vendor::Slack, &dir.join("fake"), CLIENT_SECRET).expect("start the fake");
    let initial = fake.slack_refresh_token();
    let exchange = dir.join("exchange.json");
    let payload =
        format!(r#"{{"client_id":"{SLACK_CLIENT_ID}","client_secret":"{CLIENT_SECRET}","refresh_token":"{initial}"}}"#);
    std::fs::write(
        &exchange,
        format!(
            r#"{{"secret_type":"arbitrary","payload":{}}}"#,
            miniserde::json::to_string(&payload)
        ),
    )
    .unwrap();
    let examples = repo().join("examples/slack");
    let extra = [
        "--secret".into(),
        format!("exchange_tokens_secret_id=@{}", exchange.display()),
        "--env".into(),
        "CREDHOOK_PREVIOUS_CREDENTIALS=true".into(),
        "--env".into(),
        format!("SLACK_API_URL={}/api", fake.url()),
        "--env".into(),
        "CREDHOOK_HTTP_ALLOW=127.0.0.1".into(),
        "--env".into(),
        format!("SSL_CERT_FILE={}", fake.ca_file().display()),
    ];
    let args = try_args(&examples.join("job_config.json"), &extra, &examples.join("hook.sh"));
    let refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (o, on_argv) = watch_command_lines(&fake, || image_sh(&refs, None));
    let mut secrets = fake.secrets();
    secrets.extend([CLIENT_SECRET.to_string(), initial.clone()]);
    let out = assert_tried(&o, "10001:10001", &secrets);
    assert!(on_argv.is_empty(), "secrets on command lines: {on_argv:?}");
    assert!(fake.problems().is_empty(), "{:?}", fake.problems());
    // The job sets CREDHOOK_HTTP_ALLOW (--env): ce-flags does not warn that it does not.
    let (_, err) = text(&o);
    assert!(!err.contains("unless the job sets CREDHOOK_HTTP_ALLOW"), "{err}");
    // The first rotation had no previous version: it spent the initial token.
    assert!(out.contains("previous=\"none\""), "{out}");
    assert!(out.contains(r#""slack_refresh_token":"****""#), "{out}");
}

#[test]
#[ignore = "needs root and a container engine"]
fn the_certificate_provider_with_openssl_issues_in_its_image() {
    engine();
    let examples = repo().join("examples/certificate");
    let extra = [
        "--with".into(),
        "openssl".into(),
        "--env".into(),
        "SM_COMMON_NAME_VALUE=api.example.com".into(),
        "--env".into(),
        "SM_SAN_VALUE=api.example.com,10.0.0.7".into(),
        "--env".into(),
        "SM_KEY_ALGO_VALUE=ECDSA".into(),
    ];
    let args = try_args(&examples.join("job_config.json"), &extra, &examples.join("hook.sh"));
    let refs: Vec<&OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let o = image_sh(&refs, None);
    let out = assert_tried(&o, "10001:10001", &[]);
    for needle in ["BEGIN", "PRIVATE KEY", "LS0tLS1CRUdJTi"] {
        assert!(!out.contains(needle), "{needle} in the output: {out}");
    }
    assert!(out.contains(r#""private_key_base64":"****""#), "{out}");
}

#[test]
#[ignore = "needs root and a container engine"]
fn an_image_built_from_the_base_image_outside_the_checkout_runs_as_the_user() {
    let engine = engine();
    let tag = format!("localhost/credhook-test-base:{}", std::process::id());
    let derived = format!("localhost/credhook-test-derived:{}", std::process::id());
    let _untag = Untag(engine, vec![derived.clone(), tag.clone()]);
    built_id(&image_sh(&[os("build"), os("--tag"), os(&tag), os("none")], None));

    let dir = TempDir::new("credhook-derived");
    assert!(!dir.starts_with(repo()));
    write_executable(
        &dir.join("hook.sh"),
        "#!/bin/sh\nset -eu\necho \"hook runs as $(id -u):$(id -g), secret $SMIN_LOGIN_PAYLOAD\"\n\
         case \"$1\" in\ncreate) printf 'id=derived-1\\nword=%s\\n' \"$SMIN_LOGIN_PAYLOAD\" > \"$CREDHOOK_OUTPUT\" ;;\n\
         delete) echo \"deleted $SM_CREDENTIALS_ID\" ;;\nesac\n",
    );
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMIN_LOGIN","value":"type:secret_id, required:true"},{"name":"SMOUT_WORD","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("Containerfile"),
        format!("FROM {tag}\nCOPY --chmod=0755 hook.sh /hook\n"),
    )
    .unwrap();
    let o = Command::new(engine)
        .args(["build", "--timestamp", "0", "-t", &derived])
        .arg(&*dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(labels(engine, &derived).contains("org.opencontainers.image.base.name=scratch"));

    let payload = "derived-secret-Zq8xW2vK7pL4";
    let secret_file = dir.join("secret.json");
    // No "id": try gives it one.
    std::fs::write(
        &secret_file,
        format!("{{\n  \"secret_type\": \"arbitrary\",\n  \"payload\": \"{payload}\"\n}}\n"),
    )
    .unwrap();
    let mut secret = std::ffi::OsString::from("login=@");
    secret.push(&secret_file);
    let o = image_sh(
        &[
            os("try"),
            os("--image"),
            os(&derived),
            os("--config"),
            dir.join("job_config.json").as_os_str(),
            os("--secret"),
            &secret,
        ],
        None,
    );
    let out = assert_tried(&o, "10001:10001", &[payload.to_string()]);
    assert!(out.contains("hook runs as 10001:10001, secret [REDACTED]"), "{out}");
    assert!(out.contains("deleted derived-1"), "{out}");
    assert!(out.contains(r#"payload={"word":"****"}"#), "{out}");
}

/// The sha256 of `bytes`, in hex (sha256sum: the image's busybox has it too).
fn sha256_hex(bytes: &[u8]) -> String {
    let o = output_with_stdin(&mut Command::new("sha256sum"), bytes);
    String::from_utf8_lossy(&o.stdout)
        .split(' ')
        .next()
        .unwrap_or("")
        .to_string()
}

#[test]
#[ignore = "needs root and a container engine"]
fn variables_reach_the_container_exactly_and_on_no_command_line() {
    engine();
    // Names the engine reads itself (GO*, REGISTRY_*) go through an env
    // file, the others through its environment; `--env NAME` takes the
    // value from image.sh's environment, so no value is on any command line.
    let vars = [
        ("GOOGLE_API_KEY", " goog-sekret-7Qx A=B "),
        ("REGISTRY_PASSWORD", "#reg-sekret-9Lp 'q\""),
        ("NOTE_TOKEN", "note-sekret-3Vd\nsecond line"),
    ];
    let want = sha256_hex(format!("{}|{}|{}", vars[0].1, vars[1].1, vars[2].1).as_bytes());
    let dir = TempDir::new("credhook-container-vars");
    write_executable(
        &dir.join("hook.sh"),
        "#!/bin/sh\nset -eu\n\
         got=$(printf '%s|%s|%s' \"$GOOGLE_API_KEY\" \"$REGISTRY_PASSWORD\" \"$NOTE_TOKEN\" | sha256sum | cut -d' ' -f1)\n\
         if [ \"$got\" = \"$WANT_SHA\" ]; then echo 'values arrived intact'; else echo 'values differ'; fi\n\
         case \"$1\" in create) printf 'id=vars-1\\ntoken=t\\n' > \"$CREDHOOK_OUTPUT\" ;; esac\n",
    );
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    let want_env = format!("WANT_SHA={want}");
    let hook = dir.join("hook.sh");
    let args: Vec<&OsStr> = vec![
        os("try"),
        os("--env"),
        os("GOOGLE_API_KEY"),
        os("--env"),
        os("REGISTRY_PASSWORD"),
        os("--env"),
        os("NOTE_TOKEN"),
        os("--env"),
        os(&want_env),
        hook.as_os_str(),
    ];
    let needles: Vec<String> = ["goog-sekret-7Qx", "reg-sekret-9Lp", "note-sekret-3Vd"]
        .map(String::from)
        .to_vec();
    let (o, on_argv) = watch_command_lines_for(|| needles.clone(), || image_sh_with(&args, None, &vars));
    let out = assert_tried(&o, "10001:10001", &needles);
    assert!(on_argv.is_empty(), "secrets on command lines: {on_argv:?}");
    assert_eq!(out.matches("values arrived intact").count(), 2, "{out}");
}

#[test]
#[ignore = "needs root and podman"]
fn an_interrupted_build_lets_the_engine_finish_and_leaves_nothing_behind() {
    use std::io::BufRead;
    use std::process::Stdio;
    use std::time::Duration;
    assert_eq!(
        engine(),
        "podman",
        "this checks podman's working containers: run `scripts/image.sh setup` as root (podman and runc)"
    );
    // Build containers (buildah's), which `podman ps` shows with --external.
    let working = || -> Vec<String> {
        let o = Command::new("podman")
            .args(["ps", "-a", "--external", "-q", "--no-trunc"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).lines().map(String::from).collect()
    };
    let before = working();
    let tmp = TempDir::new("credhook-image-interrupt");
    // Its own session with SIGINT at its default, as a terminal runs it.
    let mut child = Command::new("setsid")
        .args(["env", "--default-signal=INT"])
        .arg(repo().join("scripts/image.sh"))
        .arg("build")
        .arg(repo().join("scripts/hooks/example.sh"))
        .current_dir(repo())
        .env_remove("ENGINE")
        .env("TMPDIR", &*tmp)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start image.sh build");
    let stderr = child.stderr.take().unwrap();
    let (started, building) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("STEP 1/") {
                let _ = started.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    if building.recv_timeout(Duration::from_secs(600)).is_err() {
        let _ = child.kill();
        panic!("the build never started: {}", reader.join().unwrap());
    }
    // Ctrl-C: SIGINT to the foreground process group (image.sh's session).
    let sent = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let err = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("letting the podman build finish"), "{err}");
    // Other tests' builds end by themselves; a leaked one stays.
    let new: Vec<String> = working().into_iter().filter(|c| !before.contains(c)).collect();
    let gone = wait_until(Duration::from_secs(120), || {
        let now = working();
        new.iter().all(|c| !now.contains(c))
    });
    assert!(gone, "working containers left behind: {new:?}\n{err}");
    let left: Vec<_> = std::fs::read_dir(&*tmp).unwrap().flatten().map(|e| e.path()).collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
}

#[test]
#[ignore = "needs root and a container engine"]
fn an_image_of_a_binary_built_at_another_commit_is_not_labelled_as_head() {
    let engine = engine();
    built_id(&image_sh(&[os("build"), os("none")], None)); // the static binary, built once
    let dir = TempDir::new("credhook-image-stale");
    let clone = dir.join("credhook");
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&clone)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let o = Command::new("git")
        .args(["clone", "-q", "--no-hardlinks"])
        .arg(repo())
        .arg(&clone)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::create_dir_all(clone.join("target/static")).unwrap();
    for f in ["credhook", "credhook.cdx.json", "credhook.mode"] {
        std::fs::copy(
            repo().join("target/static").join(f),
            clone.join("target/static").join(f),
        )
        .unwrap();
    }
    // HEAD moves on; the binary stays at the commit it was built at.
    git(&["commit", "-q", "--allow-empty", "-m", "a later commit"]);
    let head = git(&["rev-parse", "HEAD"]);
    let o = Command::new(clone.join("scripts/image.sh"))
        .args(["build", "scripts/hooks/example.sh"])
        .current_dir(&clone)
        .env_remove("ENGINE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let id = built_id(&o);
    let (_, err) = text(&o);
    assert!(err.contains("target/static/credhook was built at commit"), "{err}");
    let labels = labels(engine, &id);
    assert!(
        labels.contains(&format!("org.opencontainers.image.revision={head}-dirty\n")),
        "{labels}"
    );
}

// --- argument checks: no engine, no root ------------------------------------

fn refused(args: &[&str], says: &str) {
    let o = image_sh(&args.iter().map(|a| os(a)).collect::<Vec<_>>(), Some("none"));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}\n{out}\n{err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}: {out}");
}

#[test]
fn image_sh_refuses_bad_arguments_without_echoing_values() {
    let hook = repo().join("scripts/hooks/example.sh");
    let hook = hook.to_str().unwrap();
    refused(
        &["try", "--secret", "login=hunter2-value", hook],
        "--secret takes NAME=@FILE",
    );
    refused(
        &["try", "--secret", "lo gin=@/etc/hostname", hook],
        "letters, digits and _",
    );
    refused(
        &["try", "--env", "BAD-NAME=hunter2-value", hook],
        "a variable name must be",
    );
    refused(&["try", "--env", "hunter2-value", hook], "--env takes NAME=VALUE");
    // A bare NAME takes its value from the environment; an unset one is
    // refused without saying the name (it may be a secret without NAME=).
    refused(&["try", "--env", "hunter2value", hook], "that variable is not set");
    refused(&["try", "--env", "SM_ACCESS_APIKEY=hunter2-value", hook], "try sets it");
    refused(&["try", "--env", "SM_ACTION=delete_credentials", hook], "try sets it");
    refused(&["try", "none"], "try needs a hook");
    refused(&["build", "--config", "x.json", hook], "--config is for try");
    refused(&["build", "-weird.sh"], "goes after --");
    refused(&["build", hook, hook], "one HOOK only");
    refused(&["try", "--image", "x", hook], "give no HOOK");
    refused(&["frobnicate"], "unknown command");
    // A --with tool missing here is said before anything is built (exit 1:
    // the arguments are fine, this machine lacks the tool).
    let o = image_sh(
        &[os("try"), os("--with"), os("no-such-tool-xyz"), os(hook)],
        Some("none"),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        err.contains("--with no-such-tool-xyz: no such command on this machine's PATH") && out.is_empty(),
        "{err}"
    );
    for args in [
        vec!["try", "--secret", "login=hunter2-value", hook],
        vec!["try", "--env", "hunter2-value", hook],
        vec!["try", "--env", "hunter2value", hook],
        vec!["try", "--env", "SM_ACCESS_APIKEY=hunter2-value", hook],
    ] {
        let o = image_sh(&args.iter().map(|a| os(a)).collect::<Vec<_>>(), Some("none"));
        let (out, err) = text(&o);
        assert!(!out.contains("hunter2") && !err.contains("hunter2"), "{args:?}: {err}");
    }
}

#[test]
fn a_hook_named_like_an_option_or_with_spaces_is_a_file_after_dashes() {
    let dir = TempDir::new("credhook-image-args");
    let odd = dir.join("-my hook.sh");
    write_executable(&odd, "#!/bin/sh\nexit 0\n");
    // Without an engine, build stops at the engine after taking the hook.
    let o = image_sh(&[os("build"), os("--"), odd.as_os_str()], Some("none"));
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("no working container engine"), "{err}");
    assert!(
        err.contains("apt-get install -y --no-install-recommends podman runc"),
        "{err}"
    );
    assert!(err.contains("scripts/image.sh setup"), "{err}");
    let o = image_sh(&[os("build"), dir.join("missing hook.sh").as_os_str()], Some("none"));
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(1));
    assert!(err.contains("missing hook.sh is not a file"), "{err}");
}

#[test]
fn a_secret_file_too_large_a_fifo_or_a_device_is_refused_before_anything_is_built() {
    use std::time::Duration;
    let dir = TempDir::new("credhook-image-secret-file");
    let hook = repo().join("scripts/hooks/example.sh");
    // A well-formed secret one byte over 1 MiB (it took bash minutes, and a
    // SIGTERM waited for it, before the cap).
    let big = dir.join("big.json");
    let frame = r#"{"payload":"hunter2"}"#.len();
    let payload = format!("hunter2{}", "x".repeat((1 << 20) + 1 - frame));
    std::fs::write(&big, format!(r#"{{"payload":"{payload}"}}"#)).unwrap();
    assert_eq!(std::fs::metadata(&big).unwrap().len(), (1 << 20) + 1);
    let fifo = dir.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for (file, says) in [
        (big.as_path(), "holds 1048577 bytes; a secret is at most 1048576 bytes"),
        (fifo.as_path(), "is not a regular file"),
        (std::path::Path::new("/dev/zero"), "is not a regular file"),
    ] {
        let mut secret = std::ffi::OsString::from("login=@");
        secret.push(file);
        let mut child = Command::new(repo().join("scripts/image.sh"))
            .args([os("try"), os("--secret"), &secret, hook.as_os_str()])
            .current_dir(repo())
            .env("ENGINE", "none")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if !wait_until(Duration::from_secs(60), || child.try_wait().unwrap().is_some()) {
            let _ = child.kill();
            panic!("image.sh try --secret @{} did not finish", file.display());
        }
        let o = child.wait_with_output().unwrap();
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{}: {out}\n{err}", file.display());
        assert!(err.contains(says), "{}: {err}", file.display());
        assert!(out.is_empty() && !err.contains("hunter2"), "{out}\n{err}");
    }
}

#[test]
fn without_an_engine_a_user_is_told_at_once_that_the_chroot_needs_root() {
    let hook = repo().join("scripts/hooks/example.sh");
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let as_nobody = |program: &str| {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", program]);
        c
    };
    // A checkout under a private directory (/root) is not nobody's to
    // read: as root, nobody runs a copy of scripts/ in a directory of its own.
    let copy = TempDir::new("credhook-nobody");
    let script = if root {
        let cp = Command::new("cp")
            .arg("-r")
            .arg(repo().join("scripts"))
            .arg(&*copy)
            .status();
        assert!(cp.is_ok_and(|s| s.success()), "cp -r scripts");
        let chmod = Command::new("chmod").args(["-R", "a+rX"]).arg(&*copy).status();
        assert!(chmod.is_ok_and(|s| s.success()), "chmod");
        copy.join("scripts/image.sh")
    } else {
        repo().join("scripts/image.sh")
    };
    let hook = if root {
        copy.join("scripts/hooks/example.sh")
    } else {
        hook
    };
    let mut cmd = if root {
        as_nobody(script.to_str().unwrap())
    } else {
        Command::new(repo().join("scripts/image.sh"))
    };
    let o = cmd
        .args([os("try"), hook.as_os_str()])
        .current_dir("/")
        .env("ENGINE", "none")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("which needs root"), "{err}");
    assert!(err.contains("scripts/image.sh setup"), "{err}");
    // Before the static binary, the config or the emulator: nothing built.
    for later in ["building the static binary", "ce-flags", "job config", "emulator"] {
        assert!(!err.contains(later), "{later}: {err}");
    }
}
