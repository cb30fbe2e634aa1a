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
use provider_case::{JFROG, LOGIN_ID, watch_command_lines};
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
    let mut cmd = Command::new(repo().join("scripts/image.sh"));
    cmd.args(args).current_dir(repo()).env_remove("ENGINE");
    if let Some(e) = engine {
        cmd.env("ENGINE", e);
    }
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
    let (o, on_argv) = watch_command_lines(&fake, || image_sh(&arg_refs, None));
    let mut secrets = fake.secrets();
    secrets.push(p.admin.to_string());
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
