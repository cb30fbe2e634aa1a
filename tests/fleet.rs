//! Many runs at once against one Secrets Manager instance, as a rotation
//! schedule starts them: 200 real `credhook run`s at the same time against
//! one emulator over HTTPS, each reading a secret and reporting its task.
//! Every line of every record the emulator writes must parse, and every run
//! must deliver.

mod support;

use credhook_emulator::{Answer, Endpoint};
use miniserde::json::{self, Value};
use std::fs::File;
use std::process::Child;
use std::time::Duration;
use support::*;

const RUNS: usize = 200;
const LOGIN_ID: &str = "a1b2c3d4-0000-4000-8000-00000000f1ee";
const ADMIN_PAYLOAD: &str = "fleet-admin-token-Zm9vYmFy";

/// Every line of a record file, parsed; a line that does not parse (a
/// split or interleaved record) fails the test.
fn parse_lines(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "{}: a partial last line",
        path.display()
    );
    text.lines()
        .enumerate()
        .map(|(no, l)| {
            json::from_str(l).unwrap_or_else(|_| panic!("{}:{}: not one JSON record: {l:?}", path.display(), no + 1))
        })
        .collect()
}

fn task_of(record: &Value) -> String {
    field(record, "task_id")
}

#[test]
fn two_hundred_concurrent_runs_all_deliver_and_every_record_line_is_whole() {
    let w = fleet(None);
    // Per endpoint, from the record: one token, one secret read and one task
    // update per run, all served.
    let requests = parse_lines(&w.dir.join("emulator/requests.jsonl"));
    for (endpoint, name) in [
        (Endpoint::Token, "token"),
        (Endpoint::Secret, "secret"),
        (Endpoint::Task, "task"),
    ] {
        let in_file = requests.iter().filter(|r| field(r, "endpoint") == name).count();
        assert_eq!(in_file, RUNS, "{name} requests in requests.jsonl");
        let calls = w.emu.calls_to(endpoint);
        assert_eq!(calls.len(), RUNS, "{name} calls");
        assert!(
            calls
                .iter()
                .all(|c| c.answer == Answer::Served && c.status == Some(200)),
            "every {name} call served with a 200"
        );
    }
}

/// IBM's guidance is to keep an instance below 20 requests a second. A
/// fleet of 200 runs started at once needs 400 of them (a secret read and a
/// task update each): the instance answers 429 to the rest, and each run
/// keeps retrying within its 60 s window until it is served.
#[test]
fn two_hundred_concurrent_runs_against_20_requests_a_second_all_deliver_with_no_rollback() {
    let w = fleet(Some(20));
    let calls = w.emu.calls();
    let refused = calls.iter().filter(|c| c.status == Some(429)).count();
    assert!(refused > 0, "the rate limit was never met");
    for endpoint in [Endpoint::Secret, Endpoint::Task] {
        let served = w
            .emu
            .calls_to(endpoint)
            .iter()
            .filter(|c| c.answer == Answer::Served)
            .count();
        assert_eq!(served, RUNS, "{endpoint:?}: one served request per run");
    }
}

/// Runs [`RUNS`] creates at once against one emulator (rate-limited to
/// `rate_limit` Secrets Manager requests a second, if given), with
/// credhook's default retry settings, and asserts that every run delivered,
/// without a rollback or a leak, and that every record line parses.
fn fleet(rate_limit: Option<usize>) -> World {
    let mut w = World::with(|o| {
        o.record_file = Some(o.dir.join("updates.jsonl"));
        o.request_file = Some(o.dir.join("requests.jsonl"));
        o.rate_limit = rate_limit;
    });
    declare_outputs(&mut w);
    w.emu.add_secret(
        LOGIN_ID,
        &format!(r#"{{"id":"{LOGIN_ID}","secret_type":"arbitrary","payload":"{ADMIN_PAYLOAD}"}}"#),
    );
    w.unset("CREDHOOK_RETRY_BASE_MS")
        .set("SMIN_LOGIN", "type:secret_id, required:true")
        .set("SM_LOGIN_VALUE", LOGIN_ID)
        .secret(ADMIN_PAYLOAD)
        .hook(
            r#"[ "$1" = create ] || exit 0
[ "$SMIN_LOGIN_PAYLOAD" = fleet-admin-token-Zm9vYmFy ] || { echo "wrong login secret" >&2; exit 1; }
printf 'id=cred-%s\nusername=user-%s\npassword=pw-%s-0123456789\n' "$SM_SECRET_TASK_ID" "$SM_SECRET_TASK_ID" "$SM_SECRET_TASK_ID" > "$CREDHOOK_OUTPUT""#,
        );
    let logs = w.dir.join("logs");
    std::fs::create_dir_all(&logs).expect("create the log directory");

    // Output goes to files, not pipes: 400 pipes would have to be drained
    // while the runs go on.
    let file = |name: String| File::create(logs.join(name)).expect("create a log file");
    let mut children: Vec<(String, Child)> = (0..RUNS)
        .map(|i| {
            let task = format!("fleet-{i:03}");
            let child = w
                .command()
                .env("SM_SECRET_TASK_ID", &task)
                .stdout(file(format!("{task}.out")))
                .stderr(file(format!("{task}.log")))
                .spawn()
                .expect("start credhook");
            (task, child)
        })
        .collect();
    let all_done = wait_until(Duration::from_secs(300), || {
        children
            .iter_mut()
            .all(|(_, c)| c.try_wait().expect("wait for credhook").is_some())
    });
    if !all_done {
        for (_, c) in &mut children {
            let _ = c.kill();
            let _ = c.wait();
        }
        panic!("{RUNS} concurrent runs did not all finish within 300 s");
    }

    // Each run: exit 0, JSON logs, no rollback, and no secret in its output:
    // neither the API key nor the login secret (nor a fragment of either),
    // nor any token issued to any run (whole; tests/no_leaks.rs checks
    // fragments of tokens).
    let tokens = w.emu.issued_tokens();
    assert_eq!(tokens.len(), RUNS, "one token per run");
    let all_updates = w.emu.updates();
    for (task, mut child) in children {
        let status = child.wait().expect("wait for credhook");
        let read = |ext: &str| std::fs::read_to_string(logs.join(format!("{task}.{ext}"))).unwrap_or_default();
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: read("out"),
            stderr: read("log"),
            updates: all_updates.iter().filter(|u| u.task_id == task).cloned().collect(),
        };
        run.assert_no_secret(&w.secrets);
        for t in &tokens {
            assert!(
                !run.stdout.contains(t) && !run.stderr.contains(t),
                "a token in {task}'s output\n{run}"
            );
        }
        run.assert_code(0);
        assert_eq!(run.update().status(), "credentials_created", "{task}\n{run}");
        assert_eq!(
            run.log_lines().len(),
            run.stderr.lines().count(),
            "a log line is not JSON\n{run}"
        );
        assert!(!run.log_has("rolling back"), "{task} rolled back\n{run}");
    }

    // Every record line parses, and matches what the emulator holds.
    let dir = w.dir.join("emulator");
    let updates = parse_lines(&dir.join("updates.jsonl"));
    let requests = parse_lines(&dir.join("requests.jsonl"));
    assert_eq!(updates.len(), w.emu.updates().len());
    assert_eq!(requests.len(), w.emu.calls().len());

    // One delivered credentials_created per task, with its own credentials.
    let mut tasks: Vec<String> = updates.iter().map(task_of).collect();
    tasks.sort();
    let want: Vec<String> = (0..RUNS).map(|i| format!("fleet-{i:03}")).collect();
    assert_eq!(tasks, want, "one update per task");
    for u in &updates {
        let Value::Object(o) = u else { panic!("not an object") };
        let body = o.get("body").cloned().unwrap_or(Value::Null);
        assert_eq!(field(&body, "status"), "credentials_created");
        let Value::Object(b) = &body else { panic!("no body") };
        let creds = b.get("credentials").cloned().unwrap_or(Value::Null);
        assert_eq!(field(&creds, "id"), format!("cred-{}", task_of(u)));
    }

    w
}
