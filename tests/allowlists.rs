//! The job owner's two allowlists, end to end with the real binary:
//! `CREDHOOK_HTTP_ALLOW` (the hosts a hook's `credhook http` may call; `run`
//! hands it to the hook) and `CREDHOOK_SECRET_GROUPS` (the groups a
//! `secret_id` input may name a secret in). Each is tried allowed, refused,
//! and redirected to a refused target; plus the warnings of `check` and
//! `ce-flags` when the egress allowlist is not set.

#[path = "support/https.rs"]
mod https;
mod support;

use credhook_emulator::{Endpoint, Fault};
use https::{Server, reply, reply_with};
use std::process::Command;
use support::*;

const TOKEN: &str = "tok-allowlist-Zm9vYmFy-55501";
const IN_QUERY: &str = "query-secret-0a1b2c3d4e";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `credhook http ARGS` trusting `server`'s CA, with `CREDHOOK_HTTP_ALLOW`
/// set to `allow` (None: unset) and TOKEN in the environment.
fn http(server: &Server, allow: Option<&str>, args: &[&str]) -> Out {
    let dir = TempDir::new("credhook-allow");
    let ca = server.ca_file(&dir);
    let mut c = Command::new(credhook_bin());
    c.arg("http")
        .arg("--cacert")
        .arg(&ca)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("TOKEN", TOKEN)
        .env("HOST", "127.0.0.1");
    if let Some(a) = allow {
        c.env("CREDHOOK_HTTP_ALLOW", a);
    }
    let o = c.output().unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    for s in [TOKEN, IN_QUERY] {
        assert!(
            !out.stderr.contains(s) && !out.stdout.contains(s),
            "{s} leaked: {out:?}"
        );
    }
    out
}

fn ok_server() -> Server {
    Server::https(|r, _| match r.target.as_str() {
        "/moved" => reply_with(302, &[("Location", "/here")], ""),
        "/here" => reply(200, "arrived"),
        _ => reply(200, "ok"),
    })
}

#[test]
fn http_allow_lets_listed_hosts_through_on_their_ports() {
    let s = ok_server();
    let port = s.addr.port();
    let url = format!("https://127.0.0.1:{port}/x");
    for allow in [
        "127.0.0.1".to_string(),
        format!("127.0.0.1:{port}"),
        format!("api.example.com, 127.0.0.1:{port} ,"),
    ] {
        let out = http(&s, Some(&allow), &["GET", &url]);
        assert_eq!((out.code, out.stdout.as_str()), (0, "ok"), "{allow}: {out:?}");
    }
    let out = http(&s, Some("localhost"), &["GET", &format!("https://LOCALHOST:{port}/")]);
    assert_eq!(out.code, 0, "names in any case: {out:?}");
    // A redirect on the same origin is followed as before.
    let out = http(
        &s,
        Some("127.0.0.1"),
        &["--location", "GET", &format!("https://127.0.0.1:{port}/moved")],
    );
    assert_eq!((out.code, out.stdout.as_str()), (0, "arrived"), "{out:?}");
    // Unset: any host, as before.
    let out = http(&s, None, &["GET", &url]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(s.requests().len(), 7, "the redirect is two");
}

#[test]
fn http_allow_refuses_other_hosts_before_sending_naming_host_and_setting_only() {
    let s = ok_server();
    let port = s.addr.port();
    let path = format!("https://127.0.0.1:{port}/steal/{{{{TOKEN}}}}?q={IN_QUERY}");
    for allow in [
        "api.example.com".to_string(),
        format!("127.0.0.1:{}", port.wrapping_add(1).max(1)),
        "*.0.0.1".to_string(),
        "localhost".to_string(),
        "[::1]".to_string(),
    ] {
        let out = http(
            &s,
            Some(&allow),
            &["--status", "-H", "Authorization: Bearer {{TOKEN}}", "GET", &path],
        );
        assert_eq!(out.code, 2, "{allow}: {out:?}");
        assert_eq!(out.stdout, "000\n", "{out:?}");
        assert!(
            out.stderr
                .contains(&format!("GET refused: 127.0.0.1:{port} is not in CREDHOOK_HTTP_ALLOW")),
            "{allow}: {out:?}"
        );
        assert!(!out.stderr.contains("/steal"), "the path is not named: {out:?}");
    }
    // A name an address parser reads as 127.0.0.1 is no name a wildcard
    // matches: `*.1` does not let `127.1` (or `0x7f.1`) through.
    for host in ["127.1", "0x7f.1"] {
        let out = http(
            &s,
            Some("*.1"),
            &["--status", "GET", &format!("https://{host}:{port}/")],
        );
        assert_eq!(out.code, 2, "{host}: {out:?}");
        assert!(
            out.stderr
                .contains(&format!("GET refused: {host}:{port} is not in CREDHOOK_HTTP_ALLOW")),
            "{host}: {out:?}"
        );
    }
    // A host made by expansion is named as written.
    let out = http(
        &s,
        Some("api.example.com"),
        &["GET", &format!("https://{{{{HOST}}}}:{port}/")],
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains(&format!(
            "the host `{{{{HOST}}}}:{port}` (once expanded) is not in CREDHOOK_HTTP_ALLOW"
        )),
        "{out:?}"
    );
    // A broken allowlist refuses everything.
    for broken in ["*", "127.0.0.1:0", "a.*.example.com", ","] {
        let out = http(&s, Some(broken), &["GET", &format!("https://127.0.0.1:{port}/")]);
        assert_eq!(out.code, 2, "{broken}: {out:?}");
        assert!(out.stderr.contains("CREDHOOK_HTTP_ALLOW"), "{out:?}");
    }
    assert!(s.requests().is_empty(), "nothing reaches a refused host");
    assert_eq!(
        s.connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "not even a connection"
    );
}

#[test]
fn http_allow_that_is_not_utf8_refuses_every_call() {
    // Not readable is not unset: the allowlist fails closed.
    use std::os::unix::ffi::OsStringExt;
    let s = ok_server();
    let url = format!("https://127.0.0.1:{}/x", s.addr.port());
    let dir = TempDir::new("credhook-allow");
    let o = Command::new(credhook_bin())
        .arg("http")
        .arg("--cacert")
        .arg(s.ca_file(&dir))
        .args(["GET", &url])
        .env_clear()
        .env(
            "CREDHOOK_HTTP_ALLOW",
            std::ffi::OsString::from_vec(b"127.0.0.1\xff".to_vec()),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("CREDHOOK_HTTP_ALLOW") && stderr.contains("UTF-8"),
        "{stderr}"
    );
    assert!(s.requests().is_empty(), "something was sent");
}

#[test]
fn http_allow_refuses_a_redirect_to_a_host_it_does_not_list() {
    // 127.0.0.1 redirects to localhost: the same server under another name.
    let s = Server::https(|r, _| {
        let port = r
            .header("host")
            .and_then(|h| h.rsplit(':').next())
            .unwrap_or("")
            .to_string();
        match r.target.as_str() {
            "/away" => reply_with(
                302,
                &[("Location", &format!("https://localhost:{port}/landing?q={IN_QUERY}"))],
                "",
            ),
            _ => reply(200, "landed"),
        }
    });
    let port = s.addr.port();
    let from = format!("https://127.0.0.1:{port}/away");
    let args = [
        "--status",
        "--location",
        "-H",
        "Authorization: Bearer {{TOKEN}}",
        "GET",
        &from,
    ];
    let out = http(&s, Some("127.0.0.1"), &args);
    assert_eq!((out.code, out.stdout.as_str()), (3, "000\n"), "{out:?}");
    assert!(
        out.stderr
            .contains("redirect to localhost refused: it is not in CREDHOOK_HTTP_ALLOW"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("/landing"), "{out:?}");
    // Allowed too: the existing rule still keeps --location on its origin.
    let out = http(&s, Some(&format!("127.0.0.1,localhost:{port}")), &args);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr
            .contains("redirect to https://localhost refused; --location follows redirects only"),
        "{out:?}"
    );
    assert_eq!(
        s.requests().iter().filter(|r| r.target.starts_with("/landing")).count(),
        0,
        "the refused target got nothing"
    );
}

#[test]
fn run_hands_http_allow_to_the_hook_and_its_credhook_http_obeys() {
    let s = ok_server();
    let port = s.addr.port();
    let mut w = World::new();
    declare_outputs(&mut w);
    let ca = s.ca_file(&w.dir);
    let bin = credhook_bin();
    w.set("CREDHOOK_HTTP_ALLOW", &format!("api.example.com,localhost:{port}"))
        .set("CREDHOOK_HOOK_TIMEOUT", "30")
        .hook(&format!(
            r#"env | grep '^CREDHOOK_' | sort > "$TEST_DIR/env"
"{bin}" http --cacert "{ca}" GET https://localhost:{port}/ok > "$TEST_DIR/allowed" 2>&1; echo "rc=$?" >> "$TEST_DIR/allowed"
"{bin}" http --cacert "{ca}" GET https://127.0.0.1:{port}/no > "$TEST_DIR/refused" 2>&1; echo "rc=$?" >> "$TEST_DIR/refused"
{RECORDING_CREATE}"#,
            bin = bin.display(),
            ca = ca.display()
        ));
    let r = w.run();
    r.assert_code(0);
    let env = w.file("env");
    assert!(
        env.lines()
            .any(|l| l == format!("CREDHOOK_HTTP_ALLOW=api.example.com,localhost:{port}")),
        "{env}"
    );
    assert!(
        env.lines()
            .all(|l| l.starts_with("CREDHOOK_HTTP_ALLOW=") || l.starts_with("CREDHOOK_OUTPUT=")),
        "only the allowlist passes among the settings: {env}"
    );
    assert_eq!(w.file("allowed"), "okrc=0\n");
    let refused = w.file("refused");
    assert!(
        refused.contains(&format!("127.0.0.1:{port} is not in CREDHOOK_HTTP_ALLOW")) && refused.ends_with("rc=2\n"),
        "{refused}"
    );
    assert_eq!(s.requests().len(), 1);
}

#[test]
fn run_refuses_a_broken_http_allow_before_anything() {
    let mut w = World::new();
    w.set("CREDHOOK_HTTP_ALLOW", "https://api.example.com/")
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(2);
    assert!(r.log_has("CREDHOOK_HTTP_ALLOW"), "{r}");
    assert!(w.hook_calls().is_empty());
    assert!(r.updates.is_empty());
}

const GROUP_OK: &str = "4a1f0c55-2222-4333-8444-955566667777";
const LOGIN: &str = "a1b2c3d4-0000-4000-8000-000000000042";
const LOGIN_SECRET: &str = "login-secret-value-9f8e7d6c";

/// A world whose `login` input names a secret in `group` (None: no
/// `secret_group_id` in the seed, which the emulator makes `default`).
fn group_world(group: Option<&str>, allowed: &str) -> World {
    let mut w = World::new();
    declare_outputs(&mut w);
    let group = group.map_or(String::new(), |g| format!(r#","secret_group_id":"{g}""#));
    w.emu.add_secret(
        LOGIN,
        &format!(r#"{{"id":"{LOGIN}","secret_type":"arbitrary","payload":"{LOGIN_SECRET}"{group}}}"#),
    );
    w.set("SMIN_LOGIN", "type:secret_id, required:true")
        .set("SM_LOGIN_VALUE", LOGIN)
        .set("CREDHOOK_SECRET_GROUPS", allowed)
        .secret(LOGIN_SECRET)
        .hook(&format!(
            "echo \"$SMIN_LOGIN_PAYLOAD\" > \"$TEST_DIR/login\"\n{RECORDING_CREATE}"
        ));
    w
}

#[test]
fn secret_groups_allow_secrets_in_listed_groups() {
    let w = group_world(Some(GROUP_OK), &format!("default, {GROUP_OK}"));
    w.run().assert_code(0);
    assert_eq!(w.file("login"), format!("{LOGIN_SECRET}\n"));
    // The emulator's secrets are in `default` unless seeded otherwise.
    let w = group_world(None, "default");
    w.run().assert_code(0);
    assert_eq!(w.hook_calls(), ["create "]);
}

#[test]
fn secret_groups_refuse_a_secret_in_another_group_before_the_hook() {
    for (group, allowed, names) in [
        (
            Some("0000aaaa-1111-4222-8333-944455556666"),
            GROUP_OK,
            "0000aaaa-1111-4222-8333-944455556666",
        ),
        (None, GROUP_OK, "`default`"),
        (Some(GROUP_OK), "default", GROUP_OK),
    ] {
        let w = group_world(group, allowed);
        let r = w.run();
        r.assert_code(1);
        let d = r.failed_with("ERR10002");
        assert!(d.contains("input `login`") && d.contains(names), "{d}");
        assert!(d.contains("CREDHOOK_SECRET_GROUPS does not list"), "{d}");
        assert!(w.hook_calls().is_empty(), "the hook ran\n{r}");
    }
    // A reply that names no group cannot be checked: refused.
    let w = group_world(Some(GROUP_OK), GROUP_OK);
    w.emu.fault(
        Endpoint::Secret,
        Fault::Body(format!(
            r#"{{"id":"{LOGIN}","secret_type":"arbitrary","payload":"{LOGIN_SECRET}"}}"#
        )),
    );
    let r = w.run();
    let d = r.failed_with("ERR10002");
    assert!(d.contains("names no secret_group_id"), "{d}");
    assert!(w.hook_calls().is_empty());
}

#[test]
fn secret_groups_a_read_redirected_elsewhere_is_refused() {
    // A redirect is never followed: the secret (and its group) is unread.
    let w = group_world(Some(GROUP_OK), GROUP_OK);
    w.emu.fault(
        Endpoint::Secret,
        Fault::Redirect(302, "https://elsewhere.example/api/v2/secrets/x".into()),
    );
    let r = w.run();
    let d = r.failed_with("ERR10002");
    assert!(d.contains("input `login`") && d.contains("302"), "{d}");
    assert!(w.hook_calls().is_empty());
}

#[test]
fn secret_groups_without_resolving_secrets_stops_the_job() {
    // With CREDHOOK_RESOLVE_SECRETS=false credhook reads no `secret_id`
    // input, so the groups would check nothing while the hook reads them
    // itself: refused, like a broken value.
    let mut w = group_world(Some("0000aaaa-1111-4222-8333-944455556666"), GROUP_OK);
    w.set("CREDHOOK_RESOLVE_SECRETS", "false");
    let r = w.run();
    r.assert_code(2);
    assert!(
        r.log_has("CREDHOOK_SECRET_GROUPS") && r.log_has("CREDHOOK_RESOLVE_SECRETS=false"),
        "{r}"
    );
    assert!(w.hook_calls().is_empty(), "the hook ran\n{r}");
    assert_eq!(w.calls_to(Endpoint::Secret), 0);
}

#[test]
fn a_broken_secret_groups_setting_stops_the_job() {
    let w = group_world(Some(GROUP_OK), "a group");
    let r = w.run();
    r.assert_code(2);
    assert!(r.log_has("CREDHOOK_SECRET_GROUPS"), "{r}");
    assert!(w.hook_calls().is_empty());
}

fn config() -> std::path::PathBuf {
    repo().join("examples/gitlab/job_config.json")
}

#[test]
fn check_and_ce_flags_warn_when_no_egress_allowlist_is_set() {
    let run = |cmd: &str, allow: Option<&str>| {
        let mut c = Command::new(credhook_bin());
        c.arg(cmd).arg(config()).env_remove("CREDHOOK_HTTP_ALLOW");
        if let Some(a) = allow {
            c.env("CREDHOOK_HTTP_ALLOW", a);
        }
        out(&mut c)
    };
    let (code, stdout, stderr) = run("check", None);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.ends_with("job_config.json: ok (6 inputs, 1 outputs)\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: unless the job sets CREDHOOK_HTTP_ALLOW") && stderr.contains("any host"),
        "{stderr}"
    );
    let (code, _, stderr) = run("check", Some("gitlab.example.com"));
    assert_eq!(code, 0);
    assert!(!stderr.contains("warning"), "{stderr}");
    let (code, _, stderr) = run("check", Some("*"));
    assert_eq!(code, 1);
    assert!(stderr.contains("CREDHOOK_HTTP_ALLOW `*`"), "{stderr}");

    let (code, plain, stderr) = run("ce-flags", None);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("warning: unless the job sets CREDHOOK_HTTP_ALLOW"),
        "{stderr}"
    );
    let (_, quiet, stderr) = run("ce-flags", Some("gitlab.example.com"));
    assert_eq!(plain, quiet, "stdout is the arguments either way");
    assert_eq!(stderr, "");
    assert!(plain.starts_with("--env "), "{plain}");
}
