//! The fault matrix: for each call credhook makes (IAM token, secret read,
//! task update) and each way the service can misbehave, the outcome — exit
//! status, the task's final state in the emulator, whether the hook ran,
//! whether a rollback `delete` ran — and that it ended within its bound.
//!
//! The fault table in docs/RELIABILITY.md is this matrix: each test fails
//! when a row it observes is missing from the table or the table has a row for
//! its call that it does not observe (set CREDHOOK_WRITE_DOCS=1, or the older
//! CREDHOOK_WRITE_README=1, to rewrite that call's rows in docs/RELIABILITY.md
//! instead, then review the diff).

mod support;

use credhook_emulator::{Endpoint, Fault};
use std::time::{Duration, Instant};
use support::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Call {
    Token,
    Secret,
    Task,
}

impl Call {
    fn label(self) -> &'static str {
        match self {
            Call::Token => "IAM token",
            Call::Secret => "secret read",
            Call::Task => "task update",
        }
    }

    fn endpoint(self) -> Endpoint {
        match self {
            Call::Token => Endpoint::Token,
            Call::Secret => Endpoint::Secret,
            Call::Task => Endpoint::Task,
        }
    }
}

#[derive(Clone, Copy)]
enum F {
    Refused,
    Reset,
    Stall,
    ServerErrorsUntilGiveUp,
    UnavailableThenOk,
    TooMany,
    Status(u16),
    /// A 3xx with a `Location` elsewhere.
    Redirect(u16),
    /// The request is acted on but its reply is lost (the connection drops);
    /// the retry gets this 4xx.
    LostThen(u16),
    Malformed,
    Truncated,
    Oversized,
    Html,
}

impl F {
    fn label(self) -> String {
        match self {
            F::Refused => "connection refused".into(),
            F::Reset => "connection closed before the reply".into(),
            F::Stall => "stall longer than the timeout".into(),
            F::ServerErrorsUntilGiveUp => "500 until retries run out".into(),
            F::UnavailableThenOk => "503, then success".into(),
            F::TooMany => "429 with Retry-After: 1".into(),
            F::Status(s) => format!("{s}"),
            F::Redirect(s) => format!("{s} redirect elsewhere"),
            F::LostThen(s) => format!("reply lost, then {s}"),
            F::Malformed => "200, malformed JSON".into(),
            F::Truncated => "200, truncated body".into(),
            F::Oversized => "200, body over 1 MiB".into(),
            F::Html => "200, text/html".into(),
        }
    }
}

const FAULTS: [F; 17] = [
    F::Refused,
    F::Reset,
    F::Stall,
    F::ServerErrorsUntilGiveUp,
    F::UnavailableThenOk,
    F::TooMany,
    F::Status(400),
    F::Status(401),
    F::Status(403),
    F::Status(404),
    F::Redirect(302),
    F::Redirect(308),
    F::LostThen(409),
    F::Malformed,
    F::Truncated,
    F::Oversized,
    F::Html,
];

const RETRIES: u32 = 3;
const HTTP_TIMEOUT_S: u64 = 1;

/// The contract's answer for one row.
#[derive(PartialEq, Eq, Debug, Clone)]
struct Outcome {
    exit: i32,
    task: String,
    hook_ran: bool,
    rollback: bool,
}

fn expected(call: Call, fault: F) -> Outcome {
    let transient = matches!(
        fault,
        F::Reset | F::Stall | F::UnavailableThenOk | F::TooMany | F::Truncated
    );
    let created = Outcome {
        exit: 0,
        task: "credentials_created".into(),
        hook_ran: true,
        rollback: false,
    };
    let not_reported = |hook_ran: bool| Outcome {
        exit: 2,
        task: "none".into(),
        hook_ran,
        rollback: hook_ran,
    };
    match call {
        _ if transient => created,
        // No token: nothing can be reported, and nothing is created.
        Call::Token => not_reported(false),
        // Secrets Manager unreachable: the failure cannot be reported either.
        Call::Secret if matches!(fault, F::Refused) => not_reported(false),
        Call::Secret => Outcome {
            exit: 1,
            task: "failed ERR10002".into(),
            hook_ran: false,
            rollback: false,
        },
        // A 2xx is a delivered update, whatever its body.
        Call::Task if matches!(fault, F::Malformed | F::Oversized | F::Html) => created,
        // Secrets Manager acted on the first attempt: it holds the
        // credentials, so they are not rolled back, but the job cannot know.
        Call::Task if matches!(fault, F::LostThen(_)) => Outcome {
            exit: 2,
            task: "credentials_created".into(),
            hook_ran: true,
            rollback: false,
        },
        Call::Task => not_reported(true),
    }
}

fn closed_port_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("https://127.0.0.1:{port}")
}

const SECRET: &str = "5e1f0000-0000-4000-8000-0000000000aa";

fn world_for(call: Call, fault: F) -> World {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.add_secret(
        SECRET,
        r#"{"secret_type":"username_password","username":"root-user","password":"root-pass-999"}"#,
    );
    w.secret("root-pass-999")
        .set("SMIN_ADMIN_LOGIN", "type:secret_id, required:true")
        .set("SM_ADMIN_LOGIN_VALUE", SECRET)
        .set("CREDHOOK_HTTP_TIMEOUT", &HTTP_TIMEOUT_S.to_string())
        .set("CREDHOOK_RETRIES", &RETRIES.to_string())
        .hook(RECORDING_CREATE);
    if call == Call::Task {
        // The secret read would use the same (faulty) server first.
        w.set("CREDHOOK_RESOLVE_SECRETS", "false");
    }
    let ep = call.endpoint();
    match fault {
        F::Refused if call == Call::Token => {
            w.set("CREDHOOK_IAM_URL", &closed_port_url());
        }
        F::Refused => {
            w.set("SM_INSTANCE_URL", &closed_port_url());
        }
        F::Reset => w.emu.fault(ep, Fault::Reset),
        F::Stall => w.emu.fault(ep, Fault::Stall(Duration::from_secs(HTTP_TIMEOUT_S * 3))),
        F::ServerErrorsUntilGiveUp => {
            for _ in 0..=RETRIES {
                w.emu.fault(ep, Fault::Status(500));
            }
        }
        F::UnavailableThenOk => w.emu.fault(ep, Fault::Status(503)),
        F::TooMany => w.emu.fault(ep, Fault::RetryAfter(429, 1)),
        F::Status(s) => w.emu.fault(ep, Fault::Status(s)),
        F::Redirect(s) => w
            .emu
            .fault(ep, Fault::Redirect(s, "https://elsewhere.example/moved?t=1".into())),
        F::LostThen(s) => {
            w.emu.fault(ep, Fault::Lost);
            w.emu.fault(ep, Fault::Status(s));
        }
        F::Malformed => w.emu.fault(ep, Fault::Malformed),
        F::Truncated => w.emu.fault(ep, Fault::Truncated),
        F::Oversized => w.emu.fault(ep, Fault::Oversized),
        F::Html => w.emu.fault(ep, Fault::Html),
    }
    w
}

/// The most a row may take: every attempt of every call timing out in each
/// of its phases, plus the backoffs and one Retry-After. A hang guard, not a
/// performance claim.
fn bound() -> Duration {
    let per_attempt = 3 * HTTP_TIMEOUT_S + 1;
    Duration::from_secs(3 * u64::from(RETRIES + 1) * per_attempt + 5)
}

fn observe(call: Call, fault: F) -> (Outcome, Duration) {
    let w = world_for(call, fault);
    let started = Instant::now();
    let r = w.run();
    let took = started.elapsed();
    let task = match r.updates.last() {
        None => "none".to_string(),
        Some(u) if u.status() == "failed" => format!("failed {}", u.error().map(|e| e.0).unwrap_or_default()),
        Some(u) => u.status(),
    };
    let calls = w.hook_calls();
    let outcome = Outcome {
        exit: r.code,
        task,
        hook_ran: calls.iter().any(|c| c.starts_with("create")),
        rollback: calls.iter().any(|c| c.starts_with("delete")),
    };
    if outcome != expected(call, fault) {
        panic!(
            "{} / {}: expected {:?}, got {:?}\n{r}",
            call.label(),
            fault.label(),
            expected(call, fault),
            outcome
        );
    }
    // Final and non-retried statuses are not retried.
    if let F::Status(s) | F::Redirect(s) = fault {
        assert_eq!(w.calls_to(call.endpoint()), 1, "{} {s} was retried", call.label());
    }
    if let F::Redirect(s) = fault {
        assert!(
            r.log_has(&format!("http status {s}, a redirect to host `elsewhere.example`")),
            "the redirect is not named\n{r}"
        );
        assert!(!r.stderr.contains("t=1"), "the Location's query was logged\n{r}");
    }
    if let F::LostThen(_) = fault {
        assert_eq!(
            w.calls_to(call.endpoint()),
            2,
            "{}: lost reply not retried once",
            call.label()
        );
    }
    if let (Call::Task, F::LostThen(_)) = (call, fault) {
        assert!(
            r.log_has("may have been delivered") && r.log_has("cred-42"),
            "the ambiguous delivery is not explained with the credentials id\n{r}"
        );
    }
    if matches!(fault, F::ServerErrorsUntilGiveUp) {
        assert_eq!(
            w.calls_to(call.endpoint()),
            RETRIES as usize + 1,
            "{}: wrong number of attempts",
            call.label()
        );
    }
    (outcome, took)
}

fn row(call: Call, fault: F, o: &Outcome) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    format!(
        "| {} | {} | {} | {} | {} | {} |",
        call.label(),
        fault.label(),
        o.exit,
        o.task,
        yes(o.hook_ran),
        yes(o.rollback)
    )
}

fn matrix(call: Call) -> Vec<String> {
    FAULTS
        .iter()
        .map(|&f| {
            let (o, took) = observe(call, f);
            assert!(
                took < bound(),
                "{} / {} took {took:?}, over its bound {:?}",
                call.label(),
                f.label(),
                bound()
            );
            row(call, f, &o)
        })
        .collect()
}

#[test]
fn token_faults() {
    check_table_rows(Call::Token, matrix(Call::Token));
}

#[test]
fn secret_read_faults() {
    check_table_rows(Call::Secret, matrix(Call::Secret));
}

#[test]
fn task_update_faults() {
    check_table_rows(Call::Task, matrix(Call::Task));
}

/// Held while the doc is read or rewritten: the tests run in parallel and
/// each may rewrite it (CREDHOOK_WRITE_DOCS).
static DOC_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

const TABLE_HEADER: &str = "| call | fault | exit | task | hook | rollback |";

/// The doc that holds the fault table, relative to the checkout.
const DOC: &str = "docs/RELIABILITY.md";

fn doc_path() -> std::path::PathBuf {
    support::repo().join(DOC)
}

/// Whether a difference rewrites the table instead of failing:
/// CREDHOOK_WRITE_DOCS, or CREDHOOK_WRITE_README (its name when the table
/// was in README.md).
fn rewrite_wanted() -> bool {
    ["CREDHOOK_WRITE_DOCS", "CREDHOOK_WRITE_README"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// Where the fault table is: the index of its first row and the rows (the
/// lines after the header and its `|---|` line that start with `|`).
fn fault_table(lines: &[&str]) -> (usize, usize) {
    let header = lines
        .iter()
        .position(|l| *l == TABLE_HEADER)
        .unwrap_or_else(|| panic!("{DOC} has no fault table (a line `{TABLE_HEADER}`)"));
    let first = header + 2;
    let len = lines[first..].iter().take_while(|l| l.starts_with('|')).count();
    (first, len)
}

fn is_row_of(line: &str, call: Call) -> bool {
    line.starts_with(&format!("| {} |", call.label()))
}

/// The fault table holds the observed rows for `call`, no other row for it,
/// in the matrix's order. With CREDHOOK_WRITE_DOCS set, a difference
/// rewrites those rows in the doc instead of failing.
fn check_table_rows(call: Call, rows: Vec<String>) {
    let _guard = DOC_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    let (first, len) = fault_table(&lines);
    let table = &lines[first..first + len];
    let documented: Vec<&str> = table.iter().copied().filter(|l| is_row_of(l, call)).collect();
    if documented == rows {
        return;
    }
    let missing: Vec<&String> = rows.iter().filter(|r| !documented.contains(&r.as_str())).collect();
    let stale: Vec<&&str> = documented.iter().filter(|d| !rows.iter().any(|r| r == **d)).collect();
    if rewrite_wanted() {
        // This call's rows go where its first row was (or at the table's end).
        let at = table.iter().position(|l| is_row_of(l, call)).unwrap_or(len);
        let mut new: Vec<String> = lines[..first].iter().map(|l| l.to_string()).collect();
        let others: Vec<&str> = table.iter().copied().filter(|l| !is_row_of(l, call)).collect();
        let before = table[..at].iter().filter(|l| !is_row_of(l, call)).count();
        new.extend(others[..before].iter().map(|l| l.to_string()));
        new.extend(rows.iter().cloned());
        new.extend(others[before..].iter().map(|l| l.to_string()));
        new.extend(lines[first + len..].iter().map(|l| l.to_string()));
        std::fs::write(doc_path(), new.join("\n") + "\n").unwrap();
        eprintln!("{DOC}: rewrote the {} rows of the fault table", call.label());
        return;
    }
    panic!(
        "the fault table in {DOC} differs from the matrix for the {} \
         (CREDHOOK_WRITE_DOCS=1 rewrites it)\nmissing from {DOC}:\n{}\n\
         in {DOC}, not observed:\n{}\nthe observed rows, in order:\n{}",
        call.label(),
        missing.iter().map(|r| r.as_str()).collect::<Vec<_>>().join("\n"),
        stale.iter().map(|r| **r).collect::<Vec<_>>().join("\n"),
        rows.join("\n")
    );
}

/// Every row of the fault table is a row of one of the calls the matrix
/// runs (the tests above check each call's rows).
#[test]
fn the_fault_table_has_no_row_outside_the_matrix() {
    let _guard = DOC_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let doc = std::fs::read_to_string(doc_path()).unwrap();
    let lines: Vec<&str> = doc.lines().collect();
    let (first, len) = fault_table(&lines);
    assert!(len > 0, "the fault table in {DOC} is empty");
    let strays: Vec<&str> = lines[first..first + len]
        .iter()
        .copied()
        .filter(|l| ![Call::Token, Call::Secret, Call::Task].iter().any(|c| is_row_of(l, *c)))
        .collect();
    assert!(
        strays.is_empty(),
        "{DOC}: fault-table rows for no call the matrix runs:\n{}",
        strays.join("\n")
    );
}
