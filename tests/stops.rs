//! A stop signal in every phase: credhook reports (when it can) and exits
//! within the README's stop budget, a blocking HTTP read and the rollback
//! included. The bounds here are hang guards with room, not speed claims.

mod support;

use credhook_emulator::{Endpoint, Fault};
use std::time::{Duration, Instant};
use support::*;

const SECRET: &str = "5e1f0000-0000-4000-8000-0000000000bb";

/// A token read that stalls far past any budget: the stop abandons it at once.
#[test]
fn a_stop_during_a_blocked_token_read_exits_2_at_once() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(Endpoint::Token, Fault::Stall(Duration::from_secs(60)));
    w.set("CREDHOOK_HTTP_TIMEOUT", "60").hook(RECORDING_CREATE);
    let t0 = Instant::now();
    let r = w.run_and_signal("-TERM", || !w.emu.calls().is_empty());
    r.assert_code(2);
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "waited out the read: {:?}",
        t0.elapsed()
    );
    assert!(w.hook_calls().is_empty() && r.updates.is_empty());
    assert!(r.log_has("stopped by a signal"), "{r}");
}

/// A secret read blocked when the stop comes is a stop (ERR10007), not an
/// unreadable secret, and the hook never runs.
#[test]
fn a_stop_during_a_blocked_secret_read_is_err10007() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu
        .add_secret(SECRET, r#"{"secret_type":"arbitrary","payload":"pay-load-1"}"#);
    w.emu.fault(Endpoint::Secret, Fault::Stall(Duration::from_secs(60)));
    w.set("SMIN_REF", "type:secret_id")
        .set("SM_REF_VALUE", SECRET)
        .set("CREDHOOK_HTTP_TIMEOUT", "60")
        .hook(RECORDING_CREATE);
    let t0 = Instant::now();
    let r = w.run_and_signal("-TERM", || w.calls_to(Endpoint::Secret) > 0);
    r.assert_code(1);
    let d = r.failed_with("ERR10007");
    assert!(d.contains("referenced secret"), "{d}");
    assert!(w.hook_calls().is_empty());
    assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
}

/// A stop while the rollback runs: the rollback gets 15 s, then SIGTERM,
/// then SIGKILL 5 s later; the task is still reported.
#[test]
fn a_stop_during_the_rollback_ends_it_within_20_s() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // The create writes an id, then fails: a rollback follows. The delete
    // ignores SIGTERM and would take a minute.
    w.hook(
        r#"echo "$1" >> "$TEST_DIR/calls"
if [ "$1" = delete ]; then
  trap '' TERM
  touch "$TEST_DIR/deleting"
  sleep 60
  exit 0
fi
printf 'id=cred-rb\nerror_message=quota exceeded\n' > "$CREDHOOK_OUTPUT"
exit 1"#,
    );
    let deleting = w.dir.join("deleting");
    let t0 = Instant::now();
    let r = w.run_and_signal("-TERM", || deleting.exists());
    let took = t0.elapsed();
    r.assert_code(1);
    let d = r.failed_with("ERR10004");
    assert!(d.contains("quota exceeded"), "{d}");
    assert_eq!(w.hook_calls(), ["create", "delete"]);
    assert!(
        took < Duration::from_secs(30),
        "the rollback was not cut short: {took:?}"
    );
    assert!(
        took >= Duration::from_secs(15),
        "the rollback was not given its 15 s: {took:?}"
    );
}

/// After a stop the task update is still retried, with its backoff (no
/// retries fired back to back).
#[test]
fn after_a_stop_the_task_update_keeps_its_backoff() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(Endpoint::Task, Fault::Status(503));
    w.emu.fault(Endpoint::Task, Fault::Status(503));
    w.set("CREDHOOK_RETRY_BASE_MS", "400").hook(
        r#"touch "$TEST_DIR/ready"
sleep 30"#,
    );
    let ready = w.dir.join("ready");
    let r = w.run_and_signal("-TERM", || ready.exists());
    r.assert_code(1);
    r.failed_with("ERR10007");
    let at: Vec<Instant> = w.emu.calls_to(Endpoint::Task).iter().map(|c| c.at).collect();
    assert_eq!(at.len(), 3, "{r}");
    // Waits are jittered into the upper half of 400 ms, then 800 ms.
    assert!(at[1] - at[0] >= Duration::from_millis(200), "{:?}", at[1] - at[0]);
    assert!(at[2] - at[1] >= Duration::from_millis(400), "{:?}", at[2] - at[1]);
}

/// A task update that hangs when the stop comes gets the report budget
/// (10 s), then is abandoned. It may have reached Secrets Manager, so the
/// new credentials are not rolled back; the log says what to check.
#[test]
fn a_stop_during_a_blocked_task_update_ends_within_the_report_budget() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(Endpoint::Task, Fault::Stall(Duration::from_secs(60)));
    w.set("CREDHOOK_HTTP_TIMEOUT", "60").hook(RECORDING_CREATE);
    let t0 = Instant::now();
    let r = w.run_and_signal("-TERM", || w.calls_to(Endpoint::Task) > 0);
    let took = t0.elapsed();
    r.assert_code(2);
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert_eq!(
        w.hook_calls(),
        ["create "],
        "rolled back an update that may have arrived"
    );
    assert!(r.log_has("may have been delivered") && r.log_has("cred-42"), "{r}");
}

// Found by a hostile review of delivery and stops.

/// However many ids the hook wrote, the rollback after a stop shares one
/// 15 s budget (then TERM, KILL 5 s later); every id is logged before the
/// first delete, and ids past the 16th are logged to delete by hand.
#[test]
fn a_rollback_of_many_ids_after_a_stop_keeps_one_budget() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
if [ "$1" = create ]; then
  i=0; while [ $i -lt 20 ]; do echo "id=c-$i"; i=$((i+1)); done > "$CREDHOOK_OUTPUT"
  touch "$TEST_DIR/ready"
  sleep 100
fi
if [ "$1" = delete ]; then sleep 100; fi"#,
    );
    let ready = w.dir.join("ready");
    let t0 = Instant::now();
    let r = w.run_and_signal("-TERM", || ready.exists());
    let took = t0.elapsed();
    // Hook: 5 s grace; rollback: 15 + 5 s in all; report: 10 s at most.
    assert!(
        took < Duration::from_secs(37),
        "the stop budget was exceeded: {took:?}\n{r}"
    );
    let d = r.failed_with("ERR10007");
    assert!(d.contains("c-0") && d.contains("delete them by hand"), "{d}");
    let first_delete = r.stderr.find("\"source\":\"rollback\"").unwrap_or(r.stderr.len());
    let listed = r.stderr.find("rolling back").expect("the ids are logged");
    assert!(listed < first_delete, "ids logged after the first delete\n{r}");
    assert!(r.log_has("c-19"), "the 20th id is not in the log\n{r}");
    let deletes = w.hook_calls().iter().filter(|c| c.starts_with("delete")).count();
    assert!((1..=16).contains(&deletes), "{deletes} deletes\n{r}");
}

/// The report after a stop gets its 10 s even when the token it needs has
/// expired by then: the refresh is part of the report.
#[test]
fn a_stop_after_the_token_expired_still_reports() {
    let mut w = World::with(|o| o.token_ttl = 2);
    declare_outputs(&mut w);
    w.hook(
        r#"echo "$1" >> "$TEST_DIR/calls"
if [ "$1" = create ]; then sleep 3; touch "$TEST_DIR/ready"; sleep 100; fi"#,
    );
    let ready = w.dir.join("ready");
    let r = w.run_and_signal("-TERM", || ready.exists());
    r.failed_with("ERR10007");
}

/// A 502/504 from a gateway may follow an update that arrived; a 409 on the
/// retry then says it did: no rollback, exit 2, the id logged.
#[test]
fn a_gateway_timeout_then_409_is_not_rolled_back() {
    for status in [504, 502] {
        let mut w = World::new();
        declare_outputs(&mut w);
        w.emu.fault(Endpoint::Task, Fault::Status(status));
        w.emu.fault(Endpoint::Task, Fault::Status(409));
        w.hook(RECORDING_CREATE);
        let r = w.run();
        r.assert_code(2);
        assert_eq!(w.hook_calls().len(), 1, "rolled back after {status} then 409\n{r}");
        assert!(r.log_has("may have been delivered") && r.log_has("cred-42"), "{r}");
    }
}
