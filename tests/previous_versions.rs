//! `CREDHOOK_PREVIOUS_CREDENTIALS=true` end to end: the real binary reads the
//! task's own secret from the emulator, which serves the payload of the last
//! `credentials_created` it accepted, and the hook sees it as
//! `CREDHOOK_PREVIOUS_<FIELD>`.

mod support;

use credhook_emulator::{Endpoint, Fault};
use support::*;

/// A create hook that records every `CREDHOOK_PREVIOUS*` variable it got
/// (sorted, in `$TEST_DIR/previous-N`), prints the previous password (to be
/// masked), and makes a new password from a counter.
const CHAINING_HOOK: &str = r#"
n=$(cat "$TEST_DIR/n" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$TEST_DIR/n"
env | grep '^CREDHOOK_PREVIOUS' | sort > "$TEST_DIR/previous-$n"
echo "previous password: ${CREDHOOK_PREVIOUS_PASSWORD:-none}" >&2
if [ "$1" = create ]; then
  printf 'id=cred-%s\nusername=svc-user\npassword=Pw-%s-chained-secret\nport=%s\n' "$n" "$n" "$((5430 + n))" > "$CREDHOOK_OUTPUT"
fi
"#;

fn world() -> World {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.set("CREDHOOK_PREVIOUS_CREDENTIALS", "true").hook(CHAINING_HOOK);
    for n in 1..=3 {
        w.secret(&format!("Pw-{n}-chained-secret"));
    }
    w
}

fn lines(w: &World, n: u32) -> Vec<String> {
    w.file(&format!("previous-{n}")).lines().map(String::from).collect()
}

#[test]
fn each_create_sees_the_last_version_the_first_sees_none() {
    let mut w = world();
    for n in 1..=3u32 {
        w.set("SM_SECRET_TASK_ID", &format!("task-{n}"));
        let r = w.run();
        r.assert_code(0);
        assert_eq!(w.emu.versions_total(SECRET_ID), u64::from(n), "\n{r}");
        let got = lines(&w, n);
        if n == 1 {
            assert_eq!(got, ["CREDHOOK_PREVIOUS=none"], "\n{r}");
            assert!(r.log_has("previous password: none"), "{r}");
        } else {
            let p = n - 1;
            assert_eq!(
                got,
                [
                    "CREDHOOK_PREVIOUS=present".to_string(),
                    format!("CREDHOOK_PREVIOUS_PASSWORD=Pw-{p}-chained-secret"),
                    format!("CREDHOOK_PREVIOUS_PORT={}", 5430 + p),
                    "CREDHOOK_PREVIOUS_USERNAME=svc-user".to_string(),
                ],
                "\n{r}"
            );
            // A secret the hook printed: masked like any other.
            assert!(r.log_has("previous password: [REDACTED]"), "{r}");
        }
        // The task's own secret, read once, after the token, before the hook.
        let calls = w.emu.calls();
        let own = format!("/api/v2/secrets/{SECRET_ID}");
        assert_eq!(calls.iter().filter(|c| c.path == own).count(), n as usize);
    }
}

#[test]
fn the_emulator_serves_the_last_payload_as_custom_credentials() {
    let w = world();
    w.emu.add_secret(
        SECRET_ID,
        &format!(r#"{{"id":"{SECRET_ID}","name":"chained","secret_type":"custom_credentials","secret_group_id":"g-7","versions_total":0}}"#),
    );
    w.run().assert_code(0);
    // Read it back as a hook would, with credhook http and a token.
    let token = w.emu.issued_tokens().pop().unwrap();
    let ca = w.emu.ca_file().unwrap().to_path_buf();
    let out = std::process::Command::new(credhook_bin())
        .args(["http", "--cacert"])
        .arg(&ca)
        .args(["-H", "Authorization: Bearer {{T}}", "GET"])
        .arg(format!("{}/api/v2/secrets/{SECRET_ID}", w.emu.url()))
        .env_clear()
        .env("T", &token)
        .output()
        .unwrap();
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: miniserde::json::Value = miniserde::json::from_str(&body).unwrap();
    assert_eq!(field(&v, "secret_type"), "custom_credentials", "{body}");
    assert_eq!(field(&v, "secret_group_id"), "g-7", "the seeded group is kept: {body}");
    assert_eq!(field(&v, "name"), "chained");
    assert_eq!(field(&v, "versions_total"), "1");
    assert!(
        body.contains(r#""credentials_content":{"password":"Pw-1-chained-secret","port":5431,"username":"svc-user"}"#),
        "{body}"
    );
}

#[test]
fn a_seeded_secret_without_a_version_is_none() {
    let w = world();
    w.emu.add_secret(
        SECRET_ID,
        &format!(r#"{{"id":"{SECRET_ID}","secret_type":"custom_credentials","versions_total":0}}"#),
    );
    w.run().assert_code(0);
    assert_eq!(lines(&w, 1), ["CREDHOOK_PREVIOUS=none"]);
}

#[test]
fn without_the_setting_nothing_is_read_and_the_jobs_own_values_never_pass() {
    let mut w = world();
    w.unset("CREDHOOK_PREVIOUS_CREDENTIALS")
        .set("CREDHOOK_PREVIOUS", "present")
        .set("CREDHOOK_PREVIOUS_PASSWORD", "spoofed-by-the-job");
    w.run().assert_code(0);
    w.set("SM_SECRET_TASK_ID", "task-2");
    w.run().assert_code(0);
    assert_eq!(w.calls_to(Endpoint::Secret), 0);
    assert!(lines(&w, 2).is_empty(), "{:?}", lines(&w, 2));
}

#[test]
fn a_delete_does_not_read_it() {
    let mut w = world();
    w.set("SM_ACTION", "delete_credentials")
        .set("SM_CREDENTIALS_ID", "cred-1");
    w.run().assert_code(0);
    assert_eq!(w.calls_to(Endpoint::Secret), 0);
    assert!(lines(&w, 1).is_empty());
}

#[test]
fn a_failed_read_is_err10002_before_the_hook_and_404_is_none() {
    for (fault, status) in [
        (Fault::Status(403), "403"),
        (Fault::Status(401), "401"),
        (Fault::Malformed, "malformed"),
    ] {
        let w = world();
        w.emu.fault(Endpoint::Secret, fault);
        let r = w.run();
        r.assert_code(1);
        let d = r.failed_with("ERR10002");
        assert!(d.contains("previous version") && d.contains(SECRET_ID), "{d}");
        assert!(d.contains(status) || status == "malformed", "{d}");
        assert!(w.file("n").is_empty(), "the hook ran\n{r}");
    }
    let mut w = world();
    w.set("CREDHOOK_RETRIES", "1");
    w.emu.fault(Endpoint::Secret, Fault::Status(503));
    w.emu.fault(Endpoint::Secret, Fault::Status(503));
    let r = w.run();
    r.assert_code(1);
    r.failed_with("ERR10002");
    // Not seeded and never created: a 404, which is no previous version.
    let w = world();
    w.run().assert_code(0);
    assert_eq!(lines(&w, 1), ["CREDHOOK_PREVIOUS=none"]);
}

#[test]
fn another_secret_type_is_err10002() {
    let w = world();
    w.emu.add_secret(
        SECRET_ID,
        &format!(r#"{{"id":"{SECRET_ID}","secret_type":"arbitrary","payload":"not-credentials-1234"}}"#),
    );
    let r = w.run();
    let d = r.failed_with("ERR10002");
    assert!(d.contains("`arbitrary` secret, not custom_credentials"), "{d}");
}

#[test]
fn secret_groups_do_not_apply_to_the_tasks_own_secret() {
    let mut w = world();
    w.set("CREDHOOK_SECRET_GROUPS", "only-this-group");
    w.run().assert_code(0);
    w.set("SM_SECRET_TASK_ID", "task-2");
    w.run().assert_code(0);
    assert_eq!(lines(&w, 2)[0], "CREDHOOK_PREVIOUS=present");
}

#[test]
fn a_stop_while_reading_it_is_err10007() {
    let w = world();
    w.emu
        .fault(Endpoint::Secret, Fault::Stall(std::time::Duration::from_secs(20)));
    let r = w.run_and_signal("-TERM", || w.calls_to(Endpoint::Secret) > 0);
    r.assert_code(1);
    r.failed_with("ERR10007");
    assert!(w.file("n").is_empty(), "the hook ran\n{r}");
}

/// A hook that counts the `CREDHOOK_PREVIOUS_*` variables it got.
const COUNTING_HOOK: &str = r#"
env | grep -c '^CREDHOOK_PREVIOUS_' > "$TEST_DIR/count"
printf 'id=cred-1\nusername=u\npassword=Pw-1-chained-secret\nport=1\n' > "$CREDHOOK_OUTPUT"
"#;

#[test]
fn a_version_with_many_fields_gives_each_once_and_names_few_it_skips() {
    // 25,000 members (strings and numbers), 5,000 names no variable can
    // have, and one that differs from the first only in letter case.
    let mut content = String::new();
    for i in 0..25_000 {
        let value = if i % 2 == 0 {
            format!("\"v-{i}-secret\"")
        } else {
            i.to_string()
        };
        content.push_str(&format!("\"f{i}\":{value},"));
        if i % 5 == 0 {
            content.push_str(&format!("\"bad-{i}\":1,"));
        }
    }
    content.push_str("\"F0\":\"twin\"");
    let mut w = world();
    w.hook(COUNTING_HOOK);
    w.emu.add_secret(
        SECRET_ID,
        &format!(r#"{{"id":"{SECRET_ID}","secret_type":"custom_credentials","versions_total":1,"credentials_content":{{{content}}}}}"#),
    );
    let r = w.run();
    r.assert_code(0);
    assert_eq!(w.file("count").trim(), "25000", "\n{r}");
    // One warning of a few names, not 5,001 of them.
    let log = format!("{}{}", r.stdout, r.stderr);
    let warning = log
        .lines()
        .find(|l| l.contains("names cannot be environment variables"))
        .unwrap_or_else(|| panic!("no warning\n{r}"));
    assert!(
        warning.contains("bad-0, bad-5,") && warning.contains("and 4991 more"),
        "{warning}"
    );
    assert!(warning.len() < 1000, "{warning}");
}

/// An input that names the task's own secret and the previous version are
/// one read of that secret ("if one run reads the same secret twice, read it
/// once"). Found by a hostile review of issue 20: it was read twice.
#[test]
fn an_input_naming_the_tasks_own_secret_shares_its_one_read() {
    let mut w = world();
    w.set("SM_SECRET_TASK_ID", "task-1").run().assert_code(0);
    w.set("SM_SECRET_TASK_ID", "task-2")
        .set("SMIN_MINE", "type:secret_id")
        .set("SM_MINE_VALUE", SECRET_ID);
    let r = w.run();
    r.assert_code(0);
    let own = format!("/api/v2/secrets/{SECRET_ID}");
    let reads = w.emu.calls().iter().filter(|c| c.path == own).count();
    assert_eq!(reads, 2, "one read per run\n{r}");
    assert_eq!(
        lines(&w, 2),
        [
            "CREDHOOK_PREVIOUS=present",
            "CREDHOOK_PREVIOUS_PASSWORD=Pw-1-chained-secret",
            "CREDHOOK_PREVIOUS_PORT=5431",
            "CREDHOOK_PREVIOUS_USERNAME=svc-user",
        ],
        "\n{r}"
    );
}
