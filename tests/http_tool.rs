//! `credhook http` end to end: the real binary against a real HTTPS server
//! on loopback with a throwaway CA.

#[path = "support/https.rs"]
mod https;
mod support;

use https::{Action, Server, reply, reply_with};
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::TempDir;

const TOKEN: &str = "tok-Zm9vYmFyYmF6-987654321";

struct Out {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            String::from_utf8_lossy(&self.stdout),
            self.stderr
        )
    }
}

impl Out {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// The token appears nowhere the hook's log would show.
    fn no_secret(&self) -> &Out {
        assert!(!self.stderr.contains(TOKEN), "secret in stderr: {self:?}");
        assert!(!self.stdout().contains(TOKEN), "secret in stdout: {self:?}");
        self
    }
}

/// A private directory, removed when dropped.
fn dir() -> TempDir {
    TempDir::new("credhook-http")
}

fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(support::credhook_bin());
    c.arg("http").args(args).env_clear().env("PATH", "/usr/bin:/bin");
    c.env("TOKEN", TOKEN);
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

fn run_with(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Out {
    let out = support::output_with_stdin(&mut command(args, env), stdin);
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs against `server`, trusting its CA with `--cacert`.
fn run(server: &Server, args: &[&str]) -> Out {
    run_in(server, args, b"")
}

fn run_in(server: &Server, args: &[&str], stdin: &[u8]) -> Out {
    let d = dir();
    let ca = server.ca_file(&d);
    let mut all = vec!["--cacert", ca.to_str().unwrap()];
    all.extend_from_slice(args);
    run_with(&all, &[], stdin)
}

fn url(server: &Server, path: &str) -> String {
    format!("{}{path}", server.url())
}

#[test]
fn every_method_is_sent_in_any_letter_case() {
    let s = Server::https(|r, _| reply(200, &format!("hello {}", r.method)));
    for (given, sent) in [
        ("get", "GET"),
        ("POST", "POST"),
        ("Put", "PUT"),
        ("patch", "PATCH"),
        ("DELETE", "DELETE"),
        ("head", "HEAD"),
    ] {
        let out = run(&s, &[given, &url(&s, "/m")]);
        assert_eq!(out.code, 0, "{given}: {out:?}");
        let body = if sent == "HEAD" {
            String::new()
        } else {
            format!("hello {sent}")
        };
        assert_eq!(out.stdout(), body, "{given}");
        assert_eq!(s.requests().last().unwrap().method, sent);
    }
    assert_eq!(s.requests().len(), 6);
}

#[test]
fn names_expand_in_url_headers_and_bodies() {
    let s = Server::https(|_, _| reply(200, "{}"));
    let d = dir();
    let ca = s.ca_file(&d);
    let out = run_with(
        &[
            "--cacert",
            ca.to_str().unwrap(),
            "-H",
            "Authorization: Bearer {{TOKEN}}",
            "--header",
            "X-Braces: {not} {{ a name }} {{{ITEM}}}",
            "--json",
            r#"{"t":"{{TOKEN}}","o":{"k":1}}"#,
            "POST",
            &url(&s, "/items/{{ITEM}}?k={{TOKEN}}"),
        ],
        &[("ITEM", "it-9")],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    out.no_secret();
    let r = &s.requests()[0];
    assert_eq!(r.target, format!("/items/it-9?k={TOKEN}"));
    assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(r.header("x-braces"), Some("{not} {{ a name }} {it-9}"));
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        format!(r#"{{"t":"{TOKEN}","o":{{"k":1}}}}"#)
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("accept"), Some("application/json"));
}

#[test]
fn the_secret_is_never_on_the_command_line() {
    let s = Server::https(|_, _| Action::Stall(Duration::from_secs(20)));
    let d = dir();
    let ca = s.ca_file(&d);
    let mut child = command(
        &[
            "--cacert",
            ca.to_str().unwrap(),
            "-H",
            "Authorization: Bearer {{TOKEN}}",
            "-d",
            "token={{TOKEN}}",
            "--max-time",
            "15",
            "POST",
            &url(&s, "/x?t={{TOKEN}}"),
        ],
        &[],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    support::wait_until(Duration::from_secs(10), || !s.requests().is_empty());
    let req = s.requests();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(req.len(), 1, "the request was in flight");
    assert!(String::from_utf8_lossy(&req[0].body).contains(TOKEN));
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(cmdline.contains("Bearer {{TOKEN}}"), "{cmdline}");
    assert!(!cmdline.contains(TOKEN), "{cmdline}");
}

#[test]
fn an_unset_or_empty_name_is_a_usage_error_and_nothing_is_sent() {
    let s = Server::https(|_, _| reply(200, ""));
    for (args, env) in [
        (vec!["-H", "Authorization: Bearer {{NOPE}}", "GET"], vec![]),
        (vec!["-d", "{{EMPTY}}", "POST"], vec![("EMPTY", "")]),
        (vec!["--form", "a={{NOPE}}", "POST"], vec![]),
    ] {
        let d = dir();
        let ca = s.ca_file(&d);
        let u = url(&s, "/");
        let mut all = vec!["--cacert", ca.to_str().unwrap()];
        all.extend(args);
        all.push(&u);
        let out = run_with(&all, &env, b"");
        assert_eq!(out.code, 2, "{out:?}");
        assert!(
            out.stderr.contains("{{NOPE}}") || out.stderr.contains("{{EMPTY}}"),
            "{out:?}"
        );
        assert!(out.stderr.contains("unset or empty"), "{out:?}");
    }
    let out = run(&s, &["GET", "https://{{NOPE}}/x"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(s.connections.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn stdin_and_file_bodies_are_sent_as_read() {
    let s = Server::https(|_, _| reply(200, "ok"));
    let raw = b"raw {{TOKEN}} \x00\xff\n\r\nend".to_vec();
    let out = run_in(&s, &["-d", "@-", "PUT", &url(&s, "/stdin")], &raw);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(s.requests()[0].body, raw, "no expansion in a stdin body");
    let d = dir();
    let f = d.join("body.json");
    std::fs::write(&f, b"{\"from\":\"file {{TOKEN}}\"}").unwrap();
    let out = run(
        &s,
        &["--json", &format!("@{}", f.display()), "PATCH", &url(&s, "/file")],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let r = &s.requests()[1];
    assert_eq!(r.body, b"{\"from\":\"file {{TOKEN}}\"}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    let out = run(&s, &["-d", "@/nonexistent/body", "POST", &url(&s, "/")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("body file `/nonexistent/body` cannot be read"),
        "{out:?}"
    );
}

#[test]
fn form_and_json_bodies_set_their_content_type_unless_given() {
    let s = Server::https(|_, _| reply(200, ""));
    let out = run(
        &s,
        &[
            "--form",
            "user=a b&c",
            "--form",
            "key={{TOKEN}}",
            "POST",
            &url(&s, "/form"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let r = &s.requests()[0];
    assert_eq!(String::from_utf8_lossy(&r.body), format!("user=a+b%26c&key={TOKEN}"));
    assert_eq!(r.header("content-type"), Some("application/x-www-form-urlencoded"));
    let out = run(
        &s,
        &[
            "-H",
            "content-type: application/vnd.api+json",
            "--json",
            "[1]",
            "POST",
            &url(&s, "/j"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let r = &s.requests()[1];
    assert_eq!(r.header("content-type"), Some("application/vnd.api+json"));
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(
        r.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .count(),
        1
    );
    let out = run(&s, &["-d", "x", "--form", "a=b", "POST", &url(&s, "/")]);
    assert_eq!(out.code, 2, "{out:?}");
}

#[test]
fn statuses_map_to_exit_codes_and_the_body_is_still_written() {
    let s = Server::https(|r, _| match r.target.as_str() {
        "/created" => reply(201, "{\"id\":1}"),
        "/gone" => reply(404, "{\"error\":\"not found\"}"),
        "/conflict" => reply(409, "taken"),
        _ => reply(500, "boom"),
    });
    let out = run(&s, &["POST", &url(&s, "/created")]);
    assert_eq!((out.code, out.stdout().as_str()), (0, "{\"id\":1}"), "{out:?}");
    let out = run(&s, &["DELETE", &url(&s, "/gone")]);
    assert_eq!(
        (out.code, out.stdout().as_str()),
        (1, "{\"error\":\"not found\"}"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("DELETE 127.0.0.1:") && out.stderr.contains("/gone: HTTP 404"),
        "{out:?}"
    );
    let out = run(&s, &["--ok", "404,410", "DELETE", &url(&s, "/gone")]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stderr, "");
    let out = run(&s, &["--ok", "404", "PUT", &url(&s, "/conflict")]);
    assert_eq!(out.code, 1, "{out:?}");
    let out = run(&s, &["GET", &url(&s, "/error")]);
    assert_eq!((out.code, out.stdout().as_str()), (1, "boom"), "{out:?}");
    assert_eq!(s.requests().len(), 5, "a 500 is not retried by default");

    let out = run(&s, &["--status", "DELETE", &url(&s, "/gone")]);
    assert_eq!(
        (out.code, out.stdout().as_str()),
        (1, "404\n{\"error\":\"not found\"}"),
        "{out:?}"
    );
    let d = dir();
    let file = d.join("reply.json");
    let out = run(
        &s,
        &["--status", "-o", file.to_str().unwrap(), "POST", &url(&s, "/created")],
    );
    assert_eq!((out.code, out.stdout().as_str()), (0, "201\n"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"id\":1}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn the_response_size_is_capped() {
    let s = Server::https(|r, _| match r.target.as_str() {
        "/100" => reply(200, &"x".repeat(100)),
        "/101" => reply(200, &"x".repeat(101)),
        _ => reply(200, &"y".repeat((1 << 20) + 1)),
    });
    let out = run(&s, &["--max-size", "100", "GET", &url(&s, "/100")]);
    assert_eq!((out.code, out.stdout.len()), (0, 100), "{out:?}");
    let out = run(&s, &["--max-size", "100", "--status", "GET", &url(&s, "/101")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout(), "000\n", "no usable reply: nothing of the body is written");
    assert!(out.stderr.contains("larger than 100 bytes (--max-size)"), "{out:?}");
    let out = run(&s, &["GET", &url(&s, "/big")]);
    assert_eq!((out.code, out.stdout.len()), (3, 0), "{out:?}");
    assert!(out.stderr.contains("larger than 1048576 bytes"), "{out:?}");
}

#[test]
fn a_server_that_never_completes_the_handshake_hits_the_connect_timeout() {
    // The kernel accepts the connection into the backlog; nobody answers TLS.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let u = format!("https://{}/x", silent.local_addr().unwrap());
    let out = run_with(&["--connect-timeout", "1", "--status", "GET", &u], &[], b"");
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout(), "000\n");
    assert!(out.stderr.contains("--connect-timeout"), "{out:?}");
}

#[test]
fn a_stalled_reply_hits_the_total_timeout() {
    let s = Server::https(|_, _| Action::Stall(Duration::from_secs(30)));
    let out = run(&s, &["--max-time", "1", "--status", "GET", &url(&s, "/slow?q=hidden")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout(), "000\n");
    assert!(
        out.stderr.contains("GET 127.0.0.1:") && out.stderr.contains("/slow:"),
        "{out:?}"
    );
    assert!(out.stderr.contains("--max-time"), "{out:?}");
    assert!(!out.stderr.contains("hidden"), "no query string in errors: {out:?}");
    // --max-time bounds the retries too: one stalled attempt uses it all.
    let out = run(&s, &["--max-time", "1", "--retry", "5", "GET", &url(&s, "/slow")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(s.requests().len(), 2);
}

#[test]
fn a_body_that_stops_midway_hits_the_total_timeout() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"token\": \"partial".to_vec();
    let s = Server::https(move |_, _| Action::Partial(head.clone(), Duration::from_secs(30)));
    let out = run(&s, &["--max-time", "1", "--status", "GET", &url(&s, "/drip")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout(), "000\n", "nothing of a partial body is written");
    assert!(out.stderr.contains("--max-time"), "{out:?}");
}

#[test]
fn get_is_retried_on_503_honouring_retry_after() {
    let s = Server::https(|_, n| {
        if n == 1 {
            reply_with(503, &[("Retry-After", "1")], "busy")
        } else {
            reply(200, "fine")
        }
    });
    let out = run(&s, &["--retry", "2", "GET", &url(&s, "/r")]);
    assert_eq!((out.code, out.stdout().as_str()), (0, "fine"), "{out:?}");
    assert_eq!(s.requests().len(), 2);
    assert!(out.stderr.contains("HTTP 503; retry 1 of 2 in 1.0 s"), "{out:?}");
}

#[test]
fn post_and_patch_are_not_retried_unless_allowed() {
    let busy = || {
        Server::https(|_, n| {
            if n == 1 {
                reply(429, "slow down")
            } else {
                reply(201, "made")
            }
        })
    };
    let s = busy();
    let out = run(&s, &["--retry", "3", "POST", &url(&s, "/tokens")]);
    assert_eq!((out.code, out.stdout().as_str()), (1, "slow down"), "{out:?}");
    assert_eq!(s.requests().len(), 1, "a retried POST could create a second credential");
    let s = busy();
    let out = run(&s, &["--retry", "3", "--retry-post", "POST", &url(&s, "/tokens")]);
    assert_eq!((out.code, out.stdout().as_str()), (0, "made"), "{out:?}");
    assert_eq!(s.requests().len(), 2);
    let s = busy();
    let out = run(&s, &["--retry", "3", "--retry-post", "PATCH", &url(&s, "/t")]);
    assert_eq!((out.code, s.requests().len()), (1, 1), "{out:?}");
    let s = busy();
    let out = run(&s, &["--retry", "3", "--retry-any", "PATCH", &url(&s, "/t")]);
    assert_eq!((out.code, s.requests().len()), (0, 2), "{out:?}");
    for m in ["PUT", "DELETE", "HEAD"] {
        let s = busy();
        let out = run(&s, &["--retry", "1", m, &url(&s, "/t")]);
        assert_eq!((out.code, s.requests().len()), (0, 2), "{m}: {out:?}");
    }
}

#[test]
fn a_dropped_connection_is_retried_for_get_only() {
    // Closing without a reply: the first request may or may not have acted.
    let drop_first = || {
        Server::https(|_, n| {
            if n == 1 {
                Action::Stall(Duration::ZERO)
            } else {
                reply(200, "ok")
            }
        })
    };
    let s = drop_first();
    let out = run(&s, &["--retry", "1", "GET", &url(&s, "/")]);
    assert_eq!((out.code, s.requests().len()), (0, 2), "{out:?}");
    let s = drop_first();
    let out = run(&s, &["--retry", "1", "--status", "POST", &url(&s, "/")]);
    assert_eq!((out.code, s.requests().len()), (3, 1), "{out:?}");
    assert_eq!(out.stdout(), "000\n");
    // No retries by default; other 5xx are never retried.
    let s = drop_first();
    assert_eq!(run(&s, &["GET", &url(&s, "/")]).code, 3);
    assert_eq!(s.requests().len(), 1);
    let s = Server::https(|_, _| reply(502, "bad gateway"));
    let out = run(&s, &["--retry", "3", "GET", &url(&s, "/")]);
    assert_eq!((out.code, s.requests().len()), (1, 1), "{out:?}");
}

#[test]
fn redirects_are_refused_unless_asked_and_then_stay_on_origin() {
    let s = Server::https(|r, _| {
        let port = r
            .header("host")
            .and_then(|h| h.rsplit(':').next())
            .unwrap_or("")
            .to_string();
        match r.target.as_str() {
            "/moved" => reply_with(302, &[("Location", "/here?x=1")], ""),
            "/here?x=1" => reply(200, &format!("{} {}", r.method, String::from_utf8_lossy(&r.body))),
            "/see-other" => reply_with(303, &[("Location", "here?x=1")], ""),
            "/keep" => reply_with(307, &[("Location", "/here?x=1")], ""),
            "/other-host" => reply_with(301, &[("Location", &format!("https://localhost:{port}/here?x=1"))], ""),
            "/downgrade" => reply_with(301, &[("Location", &format!("http://127.0.0.1:{port}/here?x=1"))], ""),
            "/loop" => reply_with(302, &[("Location", "/loop")], ""),
            _ => reply(404, ""),
        }
    });
    let out = run(&s, &["GET", &url(&s, "/moved")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("redirect refused; add --location"), "{out:?}");
    assert_eq!(s.requests().len(), 1);
    let out = run(&s, &["--ok", "302", "--status", "GET", &url(&s, "/moved")]);
    assert_eq!(
        (out.code, out.stdout().as_str()),
        (0, "302\n"),
        "a listed 3xx is a reply"
    );

    let out = run(&s, &["--location", "GET", &url(&s, "/moved")]);
    assert_eq!((out.code, out.stdout().as_str()), (0, "GET "), "{out:?}");
    let out = run(&s, &["--location", "-d", "b", "POST", &url(&s, "/see-other")]);
    assert_eq!(
        (out.code, out.stdout().as_str()),
        (0, "GET "),
        "303 turns a POST into a GET: {out:?}"
    );
    let out = run(&s, &["--location", "-d", "b", "POST", &url(&s, "/keep")]);
    assert_eq!(
        (out.code, out.stdout().as_str()),
        (0, "POST b"),
        "307 keeps method and body: {out:?}"
    );

    let before = s.requests().len();
    for (path, why) in [
        ("/other-host", "redirect to https://localhost refused"),
        ("/downgrade", "redirect to http://127.0.0.1 refused"),
        ("/loop", "more than 5 redirects"),
    ] {
        let out = run(
            &s,
            &[
                "--location",
                "-H",
                "Authorization: Bearer {{TOKEN}}",
                "GET",
                &url(&s, path),
            ],
        );
        assert_eq!(out.code, 3, "{path}: {out:?}");
        assert!(out.stderr.contains(why), "{path}: {out:?}");
        out.no_secret();
    }
    assert_eq!(
        s.requests().len(),
        before + 1 + 1 + 6,
        "nothing sent to a refused target"
    );
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let s = Server::https(|_, _| reply(200, "should not get here"));
    let other = https::pki();
    let d = dir();
    let wrong = d.join("other-ca.pem");
    std::fs::write(&wrong, &other.ca_pem).unwrap();
    let out = run_with(&["--cacert", wrong.to_str().unwrap(), "GET", &url(&s, "/")], &[], b"");
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("TLS failed: invalid peer certificate"), "{out:?}");
    // Without --cacert or SSL_CERT_FILE only Mozilla's roots are trusted.
    let out = run_with(&["GET", &url(&s, "/")], &[], b"");
    assert_eq!(out.code, 3, "{out:?}");
    assert!(s.requests().is_empty());
}

#[test]
fn a_certificate_for_another_host_name_is_refused() {
    // The certificate names 127.0.0.1, localhost and ::1; the server answers on 127.0.0.2.
    let s = Server::start("127.0.0.2:0", Some(https::pki()), |_, _| reply(200, "no"));
    let out = run(&s, &["GET", &url(&s, "/")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr
            .contains("TLS failed: invalid peer certificate: certificate not valid for name"),
        "{out:?}"
    );
    assert!(s.requests().is_empty());
}

#[test]
fn ssl_cert_file_is_trusted_and_cacert_wins_over_it() {
    let s = Server::https(|_, _| reply(200, "trusted"));
    let d = dir();
    let ca = s.ca_file(&d);
    let wrong = d.join("wrong.pem");
    std::fs::write(&wrong, &https::pki().ca_pem).unwrap();
    let u = url(&s, "/");
    let out = run_with(&["GET", &u], &[("SSL_CERT_FILE", ca.to_str().unwrap())], b"");
    assert_eq!((out.code, out.stdout().as_str()), (0, "trusted"), "{out:?}");
    let out = run_with(
        &["--cacert", ca.to_str().unwrap(), "GET", &u],
        &[("SSL_CERT_FILE", wrong.to_str().unwrap())],
        b"",
    );
    assert_eq!(out.code, 0, "{out:?}");
    let out = run_with(&["GET", &u], &[("SSL_CERT_FILE", wrong.to_str().unwrap())], b"");
    assert_eq!(out.code, 3, "{out:?}");
    let out = run_with(&["--cacert", "/nonexistent.pem", "GET", &u], &[], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("--cacert `/nonexistent.pem` cannot be read"),
        "{out:?}"
    );
    std::fs::write(d.join("empty.pem"), "not a certificate\n").unwrap();
    let out = run_with(
        &["GET", &u],
        &[("SSL_CERT_FILE", d.join("empty.pem").to_str().unwrap())],
        b"",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("SSL_CERT_FILE") && out.stderr.contains("BEGIN CERTIFICATE"),
        "{out:?}"
    );
}

#[test]
fn plain_http_only_to_a_loopback_address() {
    for u in [
        "http://example.invalid/x",
        "http://localhost.example.invalid/",
        "http://0.0.0.0:1/",
        "http://[::ffff:127.0.0.1]:1/",
    ] {
        let out = run_with(&["-H", "Authorization: Bearer {{TOKEN}}", "GET", u], &[], b"");
        assert_eq!(out.code, 2, "{u}: {out:?}");
        assert!(
            out.stderr.contains("http:// is only allowed to a loopback address"),
            "{out:?}"
        );
        out.no_secret();
    }
    let s = Server::plain(|_, _| reply(200, "plain ok"));
    let out = run_with(&["GET", &url(&s, "/")], &[], b"");
    assert_eq!((out.code, out.stdout().as_str()), (0, "plain ok"), "{out:?}");
    let localhost = format!("http://localhost:{}/", s.addr.port());
    let out = run_with(&["GET", &localhost], &[], b"");
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn errors_name_method_host_and_path_never_secrets() {
    let s = Server::https(|_, _| reply(401, "{\"error\":\"bad token\"}"));
    let out = run(
        &s,
        &[
            "-H",
            "Authorization: Bearer {{TOKEN}}",
            "-d",
            "{{TOKEN}}",
            "POST",
            &url(&s, "/v1/keys?apikey={{TOKEN}}"),
        ],
    );
    assert_eq!(out.code, 1, "{out:?}");
    out.no_secret();
    assert_eq!(
        out.stderr.trim_end(),
        format!("credhook http: POST {}/v1/keys: HTTP 401", s.addr)
    );
    // A secret in the path is not shown either: messages show the URL as written.
    let out = run(&s, &["GET", &url(&s, "/hooks/{{TOKEN}}")]);
    out.no_secret();
    assert!(out.stderr.contains("/hooks/{{TOKEN}}: HTTP 401"), "{out:?}");
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = refused.local_addr().unwrap().port();
    drop(refused);
    let out = run_with(
        &["GET", &format!("https://127.0.0.1:{port}/p?k={{{{TOKEN}}}}")],
        &[],
        b"",
    );
    assert_eq!(out.code, 3, "{out:?}");
    out.no_secret();
    assert!(
        out.stderr
            .contains(&format!("GET 127.0.0.1:{port}/p: connection failed")),
        "{out:?}"
    );
}

#[test]
fn usage_errors_exit_2_and_say_what_to_do() {
    for (args, says) in [
        (vec!["FETCH", "https://x/"], "is not a method"),
        (vec!["GET"], "give a METHOD and a URL"),
        (vec!["GET", "https://x/", "extra"], "give a METHOD and a URL"),
        (vec!["--bogus", "GET", "https://x/"], "--bogus"),
        (vec!["--retry", "many", "GET", "https://x/"], "--retry `many`"),
        (vec!["--max-time", "0", "GET", "https://x/"], "--max-time `0`"),
        (vec!["--ok", "40x", "GET", "https://x/"], "--ok `40x`"),
        (
            vec!["-H", "NoColonSecret", "GET", "https://x/"],
            "has no `:`; write 'Name: value'",
        ),
        (
            vec!["--form", "NoEqualsSecret", "POST", "https://x/"],
            "has no `=`; write NAME=VALUE",
        ),
        (
            vec!["-H", "Bad Name: v", "GET", "https://x/"],
            "not a valid HTTP header name",
        ),
        (vec!["GET", "ftp://x/"], "not an absolute https:// URL"),
        (
            vec!["GET", "https://user:Secret@x/p"],
            "`x/p` is not an absolute https:// URL",
        ),
        (vec!["-d", "a", "--json", "b", "POST", "https://x/"], "give one body"),
        // A URL from an input that starts with `-` is read as options: its
        // `h` is not a request for help (that exits 0, a pass for --check).
        (vec!["--check", "GET", "-Lhttps://evil.example/"], "-h"),
        (vec!["GET", "-Lhttps://evil.example/"], "-h"),
    ] {
        let out = run_with(&args, &[], b"");
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.contains(says), "{args:?}: {out:?}");
    }
    let out = run_with(
        &["-H", "X: {{NL}}", "GET", "https://127.0.0.1:1/"],
        &[("NL", "a\r\nInjected: yes")],
        b"",
    );
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("line break"), "{out:?}");
    let mut c = command(&["GET"], &[]);
    c.arg(std::ffi::OsStr::from_bytes(b"https://x/\xff"));
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid UTF-8"));
    let help = run_with(&["--help"], &[], b"");
    assert_eq!(help.code, 0);
    assert!(help.stdout().contains("--retry-post"));
    // Every short option the docs give is in the help too.
    for short in ["-H, --header", "-d, --data", "-o, --output", "-L, --location"] {
        assert!(help.stdout().contains(short), "{short}: {}", help.stdout());
    }
}

fn nothing_sent(s: &Server) {
    assert_eq!(
        s.connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "nothing was sent"
    );
}

#[test]
fn after_a_redirect_messages_show_the_path_as_written() {
    let s = Server::https(|r, _| {
        if r.target.ends_with("/a") {
            reply_with(302, &[("Location", "zz-server-path")], "")
        } else if r.target.ends_with("/b") {
            reply_with(302, &[("Location", "busy-server-path")], "")
        } else if r.target.ends_with("/busy-server-path") {
            reply_with(503, &[("Retry-After", "0")], "")
        } else {
            reply(404, "")
        }
    });
    let out = run(&s, &["-L", "GET", &url(&s, "/rawloc/{{TOKEN}}/a")]);
    assert_eq!(out.code, 1, "{out:?}");
    out.no_secret();
    assert!(
        out.stderr.contains("/rawloc/{{TOKEN}}/a (redirected): HTTP 404"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("zz-server-path"), "{out:?}");
    let out = run(&s, &["-L", "--retry", "1", "GET", &url(&s, "/rawloc/{{TOKEN}}/b")]);
    assert_eq!(out.code, 1, "{out:?}");
    out.no_secret();
    assert!(
        out.stderr
            .contains("/rawloc/{{TOKEN}}/b (redirected): HTTP 503; retry 1 of 1"),
        "{out:?}"
    );
    assert!(!out.stderr.contains("busy-server-path"), "{out:?}");
}

#[test]
fn the_output_file_is_private_never_a_symlink_and_untouched_on_usage_errors() {
    use std::os::unix::fs::PermissionsExt;
    let s = Server::https(|_, _| reply(200, "{\"token\":\"new\"}"));
    let d = dir();
    let file = d.join("reply.json");
    std::fs::write(&file, "old").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = run(&s, &["-o", file.to_str().unwrap(), "GET", &url(&s, "/")]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "{\"token\":\"new\"}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600,
        "an existing file is made private before the reply is written"
    );

    let s = Server::https(|_, _| reply(200, "secret reply"));
    let target = d.join("target");
    std::fs::write(&target, "keep").unwrap();
    let link = d.join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = run(&s, &["-o", link.to_str().unwrap(), "POST", &url(&s, "/")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is a symbolic link"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    let out = run(&s, &["-o", d.to_str().unwrap(), "POST", &url(&s, "/")]);
    assert_eq!(out.code, 2, "{out:?}");
    for missing in ["", "/nonexistent-dir/reply.json"] {
        let out = run(&s, &["-o", missing, "POST", &url(&s, "/")]);
        assert_eq!(out.code, 2, "{missing}: {out:?}");
        assert!(out.stderr.contains("directory does not exist"), "{out:?}");
    }
    nothing_sent(&s);

    let out = run(
        &s,
        &[
            "--status",
            "-o",
            target.to_str().unwrap(),
            "-H",
            "X: {{NOPE}}",
            "POST",
            &url(&s, "/"),
        ],
    );
    assert_eq!((out.code, out.stdout().as_str()), (2, "000\n"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    nothing_sent(&s);
}

#[test]
fn out_of_range_options_are_usage_errors_before_anything_is_sent() {
    let s = Server::https(|_, _| reply(200, "ok"));
    for (flag, value) in [
        ("--max-size", "18446744073709551615"),
        ("--max-size", "67108865"),
        ("--max-time", "1.8e19"),
        ("--max-time", "86401"),
        ("--connect-timeout", "1.8e19"),
        ("--connect-timeout", "inf"),
        ("--max-time", "NaN"),
    ] {
        let out = run(&s, &[flag, value, "-d", "x", "POST", &url(&s, "/")]);
        assert_eq!(out.code, 2, "{flag} {value}: {out:?}");
        assert!(out.stderr.contains(&format!("{flag} `{value}`")), "{out:?}");
    }
    nothing_sent(&s);
    let out = run(
        &s,
        &[
            "--max-size",
            "67108864",
            "--max-time",
            "86400",
            "--connect-timeout",
            "86400",
            "GET",
            &url(&s, "/"),
        ],
    );
    assert_eq!((out.code, out.stdout().as_str()), (0, "ok"), "{out:?}");
}

#[test]
fn headers_that_cannot_be_sent_as_given_are_usage_errors() {
    let s = Server::https(|_, _| reply(200, "ok"));
    for ctl in ["\x01", "a\x7fb", "\x1b[31m"] {
        let out = run_with(&["-H", "X-Ctl: {{CTL}}", "GET", &url(&s, "/")], &[("CTL", ctl)], b"");
        assert_eq!(out.code, 2, "{ctl:?}: {out:?}");
        assert!(
            out.stderr.contains("header X-Ctl: its value holds a control character"),
            "{out:?}"
        );
        let out = run(&s, &["-H", &format!("X-Ctl: {ctl}"), "GET", &url(&s, "/")]);
        assert_eq!(out.code, 2, "{ctl:?}: {out:?}");
    }
    let big = "v".repeat(20 * 1024);
    let out = run_with(&["-H", "X-Big: {{BIG}}", "GET", &url(&s, "/")], &[("BIG", &big)], b"");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("more than 16384 bytes"), "{out:?}");
    let long_url = url(&s, &format!("/{}", "p".repeat(17 * 1024)));
    let out = run(&s, &["GET", &long_url]);
    assert_eq!(out.code, 2, "{out:?}");
    for h in ["Content-Length: 0", "transfer-encoding: chunked", "Host: evil.example"] {
        let out = run(&s, &["-H", h, "-d", "data", "POST", &url(&s, "/")]);
        assert_eq!(out.code, 2, "{h}: {out:?}");
        assert!(out.stderr.contains("credhook sets it"), "{h}: {out:?}");
    }
    nothing_sent(&s);
    let out = run(
        &s,
        &[
            "-H",
            "X-Tab: a\tb",
            "-H",
            &format!("X-Fits: {}", "v".repeat(8 * 1024)),
            "GET",
            &url(&s, "/"),
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(s.requests()[0].header("x-tab"), Some("a\tb"));
}

#[test]
fn redirect_locations_are_parsed_not_guessed() {
    let s = Server::https(|r, _| {
        let port = r
            .header("host")
            .and_then(|h| h.rsplit(':').next())
            .unwrap_or("")
            .to_string();
        match r.target.as_str() {
            "/q" => reply_with(302, &[("Location", "/echo?next=https://other.example/x")], ""),
            "/frag" => reply_with(302, &[("Location", "/echo#section")], ""),
            "/dir/query" => reply_with(302, &[("Location", "?page=2")], ""),
            "/upper" => reply_with(302, &[("Location", &format!("HTTPS://127.0.0.1:{port}/echo"))], ""),
            "/scheme-only" => reply_with(302, &[("Location", "https:echo")], ""),
            t if t.starts_with("/echo") || t.starts_with("/dir/query?") => reply(200, t),
            _ => reply(404, ""),
        }
    });
    for (from, to) in [
        ("/q", "/echo?next=https://other.example/x"),
        ("/frag", "/echo"),
        ("/dir/query", "/dir/query?page=2"),
        ("/upper", "/echo"),
    ] {
        let out = run(&s, &["-L", "GET", &url(&s, from)]);
        assert_eq!((out.code, out.stdout().as_str()), (0, to), "{from}: {out:?}");
    }
    let out = run(&s, &["-L", "GET", &url(&s, "/scheme-only")]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(
        out.stderr.contains("Location header is missing or not a URL"),
        "{out:?}"
    );
}

#[test]
fn a_closed_stderr_does_not_crash_the_tool() {
    let s = Server::https(|_, _| reply(404, "gone"));
    let d = dir();
    let ca = s.ca_file(&d);
    let mut child = command(&["--cacert", ca.to_str().unwrap(), "DELETE", &url(&s, "/t")], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "the exit status still says HTTP 404");
    let mut child = command(&["--max-size", "0", "GET", "https://x/"], &[])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(2));
}

#[test]
fn expanding_many_braces_takes_linear_time() {
    let s = Server::https(|_, _| reply(200, "ok"));
    let d = dir();
    let ca = s.ca_file(&d);
    let braces = format!("a={}", "{".repeat(120 * 1024));
    let mut args = vec!["--cacert", ca.to_str().unwrap()];
    for _ in 0..8 {
        args.extend(["--form", braces.as_str()]);
    }
    args.extend(["POST", "/"]);
    let u = url(&s, "/");
    *args.last_mut().unwrap() = &u;
    let mut child = command(&args, &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Quadratic expansion took about 5 s per argument (40 s here); linear, a
    // few milliseconds. The bound only catches the quadratic case.
    let until = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.and_then(|s| s.code()),
        Some(0),
        "expansion did not finish in 20 s"
    );
    assert_eq!(s.requests()[0].body.len(), 8 * (2 + 3 * 120 * 1024) + 7);
}

#[test]
fn a_pem_block_that_is_not_a_certificate_is_a_usage_error() {
    let s = Server::https(|_, _| reply(200, "no"));
    let d = dir();
    let bad = d.join("bad.pem");
    std::fs::write(
        &bad,
        "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQoLDA0ODw==\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let mut both = std::fs::read(s.ca_file(&d)).unwrap();
    both.extend_from_slice(&std::fs::read(&bad).unwrap());
    let mixed = d.join("mixed.pem");
    std::fs::write(&mixed, both).unwrap();
    for f in [&bad, &mixed] {
        let out = run_with(&["--cacert", f.to_str().unwrap(), "GET", &url(&s, "/")], &[], b"");
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("is not a valid X.509 certificate"), "{out:?}");
    }
    nothing_sent(&s);
}
