//! The emulator binary's `--down` and `--rate-limit`, at the HTTP level:
//! the real `credhook-emulator` process, real sockets, HTTPS with its
//! throwaway CA, and its `requests.jsonl` record.

use credhook_emulator::client::{self, Response};
use miniserde::json::{self, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const API_KEY: &str = "failure-modes-api-key-0123456789";
const SECRET_ID: &str = "5e1c2d3b-0000-4000-8000-00000000beef";
const DELETED: &str = r#"{"status":"credentials_deleted"}"#;

/// A running `credhook-emulator` in a private directory; killed when dropped.
struct Emu {
    child: Child,
    dir: PathBuf,
    url: String,
}

impl Emu {
    fn start(name: &str, args: &[&str]) -> Emu {
        let dir = std::env::temp_dir().join(format!("emu-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the emulator's directory");
        let secrets = dir.join("secrets.jsonl");
        std::fs::write(
            &secrets,
            format!("{{\"id\":\"{SECRET_ID}\",\"secret_type\":\"arbitrary\",\"payload\":\"p4yload\"}}\n"),
        )
        .expect("write secrets");
        let child = Command::new(env!("CARGO_BIN_EXE_credhook-emulator"))
            .arg("--dir")
            .arg(&dir)
            .arg("--secrets")
            .arg(&secrets)
            .args(["--api-key", API_KEY])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start credhook-emulator");
        let mut emu = Emu {
            child,
            dir,
            url: String::new(),
        };
        let t0 = Instant::now();
        while emu.url.is_empty() {
            assert!(t0.elapsed() < Duration::from_secs(20), "the emulator wrote no url");
            std::thread::sleep(Duration::from_millis(10));
            emu.url = std::fs::read_to_string(emu.dir.join("url")).unwrap_or_default();
        }
        emu
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Response> {
        let ca = self.dir.join("ca.pem");
        client::request(&self.url, Some(&ca), method, path, headers, body.as_bytes())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// POST /identity/token: `None` when the connection closed without a reply.
    fn token_reply(&self) -> Option<Response> {
        let form = format!("grant_type=urn:ibm:params:oauth:grant-type:apikey&apikey={API_KEY}");
        self.send(
            "POST",
            "/identity/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &form,
        )
    }

    fn token(&self) -> String {
        let r = self.token_reply().expect("a token reply");
        assert_eq!(r.status, 200, "{r:?}");
        let Ok(Value::Object(o)) = json::from_str::<Value>(&r.body) else {
            panic!("not a JSON object: {}", r.body);
        };
        match o.get("access_token") {
            Some(Value::String(t)) => t.clone(),
            _ => panic!("no access_token: {}", r.body),
        }
    }

    fn read_secret(&self, token: &str) -> Option<Response> {
        let auth = format!("Bearer {token}");
        self.send(
            "GET",
            &format!("/api/v2/secrets/{SECRET_ID}"),
            &[("Authorization", &auth)],
            "",
        )
    }

    fn update_task(&self, token: &str, task: &str) -> Option<Response> {
        let auth = format!("Bearer {token}");
        self.send(
            "PUT",
            &format!("/api/v2/secrets/{SECRET_ID}/tasks/{task}"),
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            DELETED,
        )
    }

    /// Every line of `requests.jsonl`, each of which must parse.
    fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.dir.join("requests.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| json::from_str(l).unwrap_or_else(|_| panic!("a record line is not JSON: {l:?}")))
            .collect()
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn status(r: &Option<Response>) -> Option<u16> {
    r.as_ref().map(|r| r.status)
}

fn text(v: &Value, key: &str) -> String {
    match v {
        Value::Object(o) => match o.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::Null) | None => String::from("null"),
            Some(other) => json::to_string(other),
        },
        _ => String::new(),
    }
}

fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

#[test]
fn down_answers_503_from_the_first_request_for_its_window_then_serves() {
    let emu = Emu::start("down-task", &["--down", "task=2"]);
    let token = emu.token();
    // Other endpoints are up.
    assert_eq!(status(&emu.read_secret(&token)), Some(200));
    let t0 = Instant::now();
    let first = emu.update_task(&token, "t1").expect("a reply");
    assert_eq!(first.status, 503, "{first:?}");
    assert!(first.body.contains("--down"), "the body says why: {}", first.body);
    assert_eq!(status(&emu.update_task(&token, "t2")), Some(503), "still down");
    sleep_until(t0 + Duration::from_millis(2300));
    assert_eq!(status(&emu.update_task(&token, "t3")), Some(200), "up after the window");
    assert_eq!(status(&emu.update_task(&token, "t4")), Some(200));

    let tasks: Vec<(String, String)> = emu
        .requests()
        .iter()
        .filter(|r| text(r, "endpoint") == "task")
        .map(|r| (text(r, "status"), text(r, "answer")))
        .collect();
    let want = [("503", "down"), ("503", "down"), ("200", "served"), ("200", "served")];
    assert_eq!(
        tasks,
        want.map(|(s, a)| (s.to_string(), a.to_string())),
        "requests.jsonl"
    );
    let updates = std::fs::read_to_string(emu.dir.join("updates.jsonl")).unwrap_or_default();
    assert_eq!(
        updates.lines().count(),
        2,
        "only the served updates are recorded:\n{updates}"
    );
}

#[test]
fn down_serves_a_gateway_502_or_drops_the_connection_and_sm_covers_both_calls() {
    let emu = Emu::start(
        "down-502",
        &[
            "--down",
            "secret=2:502",
            "--down",
            "token=2:reset",
            "--down",
            "task=2:504",
        ],
    );
    let t0 = Instant::now();
    assert!(emu.token_reply().is_none(), "a reset closes without a reply");
    // The outage comes before authentication, as a gateway's would.
    assert_eq!(status(&emu.read_secret("no-token")), Some(502));
    assert_eq!(status(&emu.update_task("no-token", "t1")), Some(504));
    sleep_until(t0 + Duration::from_millis(2300));
    let token = emu.token();
    assert_eq!(status(&emu.read_secret(&token)), Some(200));
    assert_eq!(status(&emu.update_task(&token, "t2")), Some(200));
    let answers: Vec<String> = emu.requests().iter().map(|r| text(r, "answer")).collect();
    assert_eq!(answers, ["down", "down", "down", "served", "served", "served"]);
    assert_eq!(text(&emu.requests()[0], "status"), "null", "no reply: status null");
    drop(emu);

    // `sm` is the whole instance: its window opens at the first secret read
    // or task update, and covers both; IAM stays up.
    let emu = Emu::start("down-sm", &["--down", "sm=2"]);
    let token = emu.token();
    let t0 = Instant::now();
    assert_eq!(status(&emu.read_secret(&token)), Some(503));
    assert_eq!(status(&emu.update_task(&token, "t1")), Some(503));
    assert_eq!(status(&emu.token_reply()), Some(200));
    sleep_until(t0 + Duration::from_millis(2300));
    assert_eq!(status(&emu.update_task(&token, "t2")), Some(200));
}

#[test]
fn rate_limit_answers_429_with_retry_after_past_n_requests_a_second() {
    let emu = Emu::start("rate", &["--rate-limit", "5"]);
    let token = emu.token();
    // IAM is another service: token calls never count.
    for _ in 0..8 {
        assert_eq!(status(&emu.token_reply()), Some(200));
    }
    // 12 Secrets Manager requests at once, reads and updates alike.
    let replies: Vec<Response> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|i| {
                let (emu, token) = (&emu, &token);
                s.spawn(move || {
                    if i % 2 == 0 {
                        emu.read_secret(token)
                    } else {
                        emu.update_task(token, &format!("t{i}"))
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread").expect("a reply"))
            .collect()
    });
    let served = replies.iter().filter(|r| r.status == 200).count();
    let limited: Vec<&Response> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(served + limited.len(), 12, "only 200 or 429: {replies:?}");
    assert!((1..=5).contains(&served), "at most 5 served in the burst: {served}");
    assert!(!limited.is_empty(), "the burst went past the limit");
    for r in &limited {
        let after: u64 = r
            .header("Retry-After")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("a 429 without a Retry-After in seconds: {r:?}"));
        assert!((1..=60).contains(&after), "Retry-After {after}");
        assert!(r.body.contains("--rate-limit"), "the body says why: {}", r.body);
    }
    // Once a second has passed, it serves again.
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(status(&emu.read_secret(&token)), Some(200));

    // The record: no more than 5 served Secrets Manager requests in any
    // second, every 429 marked as the rate limit's, no IAM call refused.
    let records = emu.requests();
    let at_ms = |r: &Value| text(r, "at_ms").parse::<u64>().expect("at_ms");
    let served_at: Vec<u64> = records
        .iter()
        .filter(|r| text(r, "endpoint") != "token" && text(r, "answer") == "served")
        .map(at_ms)
        .collect();
    for (i, t) in served_at.iter().enumerate() {
        let in_window = served_at[i..].iter().take_while(|u| **u < t + 1000).count();
        assert!(in_window <= 5, "{in_window} served within 1 s of {t} ms: {served_at:?}");
    }
    for r in &records {
        match text(r, "answer").as_str() {
            "rate_limit" => assert_eq!(text(r, "status"), "429"),
            "served" => {}
            other => panic!("unexpected answer {other}: {}", json::to_string(r)),
        }
        if text(r, "endpoint") == "token" {
            assert_eq!(text(r, "answer"), "served", "IAM is not rate-limited");
        }
    }
}

#[test]
fn bad_flags_say_what_is_wrong() {
    for (args, says) in [
        (&["--down", "vault=5"][..], "use token (IAM"),
        (&["--down", "task"][..], "ENDPOINT=SECONDS[:STATUS]"),
        (&["--down", "task=0"][..], "above 0"),
        (&["--down", "task=5:200"][..], "400 to 599"),
        (&["--rate-limit", "0"][..], "at least 1"),
        (&["--rate-limit", "many"][..], "at least 1"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_credhook-emulator"))
            .args(args)
            .output()
            .expect("run credhook-emulator");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// A limit larger than any fleet is no limit. Found by a hostile review of
/// issue 20: the emulator reserved room for N requests at start and died
/// (a capacity overflow for 2^64 - 1, a 64 GB allocation for 4000000000).
#[test]
fn a_huge_rate_limit_starts_and_serves() {
    for n in ["18446744073709551615", "4000000000"] {
        let emu = Emu::start(&format!("huge-{}", n.len()), &["--rate-limit", n]);
        let token = emu.token();
        assert!(
            (0..5).all(|_| status(&emu.read_secret(&token)) == Some(200)),
            "--rate-limit {n}"
        );
    }
}
