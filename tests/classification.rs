//! What is secret is decided once (issue 16): masking that decodes instead of
//! guessing encoders, metadata an operator can read, ids checked where they
//! are accepted, and the hook tools' loose ends. The real binary, the
//! emulator over HTTPS, real shells; each test was first seen failing
//! against the binary of 15821ba (`CREDHOOK_TEST_BIN`).

#[path = "support/https.rs"]
mod https;
mod support;

use credhook_emulator::{Endpoint, Fault};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

/// Every text an operator or user reads: each string value of each JSON
/// log line (decoded, as a log viewer shows it), stdout, and each task
/// description.
fn texts(r: &Run) -> Vec<String> {
    fn strings(v: &miniserde::json::Value, out: &mut Vec<String>) {
        use miniserde::json::Value;
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Object(o) => o.values().for_each(|m| strings(m, out)),
            Value::Array(a) => a.iter().for_each(|m| strings(m, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for line in r.log_lines() {
        strings(&line, &mut out);
    }
    out.push(r.stdout.clone());
    for u in &r.updates {
        if let Some((_, d)) = u.error() {
            out.push(d);
        }
    }
    out
}

/// No 4-character fragment of `secret` in any text of the run.
fn assert_no_fragment(r: &Run, secret: &str) {
    let chars: Vec<char> = secret.chars().collect();
    for t in texts(r) {
        for w in chars.windows(4) {
            let f: String = w.iter().collect();
            assert!(!t.contains(&f), "fragment {f:?} of {secret:?} in {t:?}\n{r}");
        }
    }
}

/// The first JSON log line whose `msg` starts with `msg`.
fn line(r: &Run, msg: &str) -> miniserde::json::Value {
    r.log_lines()
        .into_iter()
        .find(|l| field(l, "msg").starts_with(msg))
        .unwrap_or_else(|| panic!("no log line {msg:?}\n{r}"))
}

const LOGIN_ID: &str = "a1b2c3d4-0000-4000-8000-00000000beef";

/// A world whose `SMIN_LOGIN` input resolves to an arbitrary secret holding
/// `payload`, with a required `username` output.
fn with_login(payload: &str) -> World {
    let mut w = World::new();
    w.emu.add_secret(
        LOGIN_ID,
        &format!(
            r#"{{"secret_type":"arbitrary","payload":{},"secret_group_id":"default"}}"#,
            json_string(payload)
        ),
    );
    w.set("SMIN_LOGIN", "type:secret_id, required:true")
        .set("SM_LOGIN_VALUE", LOGIN_ID)
        .set("SMOUT_USERNAME", "type:string, required:true")
        .set("CREDHOOK_HOOK_TIMEOUT", "5");
    w
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// --- Leaks -----------------------------------------------------------------

/// Go's encoding/json escapes only `<`, `>`, `&` (and U+2028/9): a secret
/// holding `&`, `'` and `é` printed by a Go tool, or echoed by a Go API.
#[test]
fn a_secret_printed_by_go_s_encoding_json_is_masked_in_the_log_and_the_description() {
    let secret = "Zq&é'Xv<9>Lm";
    let go = r#"{"token":"Zq\u0026é'Xv\u003c9\u003eLm"}"#;
    let mut w = with_login(secret);
    std::fs::write(w.dir.join("reply.json"), go).unwrap();
    w.hook(
        r#"echo "vendor said: $(cat "$TEST_DIR/reply.json")"
echo "vendor said: $(cat "$TEST_DIR/reply.json")" >&2
printf 'error_message=the vendor refused %s\n' "$(cat "$TEST_DIR/reply.json")" >&3
exit 1"#,
    );
    let r = w.run();
    r.failed_with("ERR10004");
    assert_no_fragment(&r, secret);
}

/// busybox ash (the image's shell) quotes `'` as `'"'"'` under `set -x`,
/// in `set` and in `export -p`.
#[test]
fn busybox_ash_s_quoting_under_set_x_set_and_export_p_is_masked() {
    let secret = "Tq9'Wx-ash-Kz";
    let w = with_login(secret);
    w.hook_file(
        "hook.sh",
        "#!/bin/busybox ash\nset -x\n: \"$SMIN_LOGIN_PAYLOAD\"\nset +x\nexport -p\nset\nexit 1\n",
    );
    let r = w.run();
    r.failed_with("ERR10004");
    assert!(r.log_has("export SMIN_LOGIN_PAYLOAD="), "{r}");
    assert_no_fragment(&r, secret);
}

/// `dry-run` registers what `run` registers: the admin token a user sets
/// as `SMIN_LOGIN_SECRET_ID_PAYLOAD` (the guide's way) is masked when a
/// vendor's error echoes it.
#[test]
fn a_vendor_error_that_echoes_the_admin_token_given_to_dry_run_is_masked() {
    let token = "Adm1n-T0ken-9f8e7d6c";
    let dir = TempDir::new("credhook-classify");
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMIN_LOGIN_SECRET_ID","value":"type:secret_id, required:true"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    let hook = dir.join("hook.sh");
    write_executable(
        &hook,
        "#!/bin/sh\necho \"vendor: token $SMIN_LOGIN_SECRET_ID_PAYLOAD is expired\" >&2\n\
         echo \"error_message=vendor: token $SMIN_LOGIN_SECRET_ID_PAYLOAD is expired\" >&3\nexit 1\n",
    );
    let out = Command::new(credhook_bin())
        .args([
            "dry-run",
            "--input",
            "login_secret_id=0b5571f7-21e6-42b7-91c5-3f5ac9793a46",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CREDHOOK_HOOK", &hook)
        .env("SMIN_LOGIN_SECRET_ID_PAYLOAD", token)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (code, stdout, stderr) = code_and_text(out);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("create failed: ERR10004: vendor: token [REDACTED] is expired"),
        "{stdout}"
    );
    for f in fragments(token) {
        assert!(!stdout.contains(f) && !stderr.contains(f), "{f}\n{stdout}\n{stderr}");
    }
}

// --- Over-masking ----------------------------------------------------------

/// A hook whose `SMOUT_ID` output (as the IAM example's) holds the
/// credentials id, and whose rollback delete fails.
fn id_as_output_world() -> World {
    let mut w = World::new();
    w.set("SMOUT_ID", "type:string, required:true")
        .set("SMOUT_USERNAME", "type:string, required:true")
        .set("CREDHOOK_HOOK_TIMEOUT", "5");
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
if [ "$1" = create ]; then
  printf 'id=ApiKey-77e1c0de\nSMOUT_ID=ApiKey-77e1c0de\nusername=svc-77\nbogus line\n' >&3
  echo "made key ApiKey-77e1c0de"
  exit 0
fi
echo "cannot delete $SM_CREDENTIALS_ID" >&2
exit 1"#,
    );
    w
}

#[test]
fn the_credentials_id_is_never_masked_where_credhook_names_it_as_metadata() {
    let w = id_as_output_world();
    let r = w.run();
    let d = r.failed_with("ERR10006");
    assert!(
        d.contains("Deleting the credentials it had created (ApiKey-77e1c0de) failed too; delete them by hand."),
        "{d}"
    );
    assert_eq!(field(&line(&r, "rolling back"), "credentials_ids"), "ApiKey-77e1c0de");
    assert_eq!(field(&line(&r, "rollback failed"), "credentials_id"), "ApiKey-77e1c0de");
    // Inside masked text (the hook's own lines) it stays masked.
    assert!(
        r.log_has("made key [REDACTED]") && r.log_has("cannot delete [REDACTED]"),
        "{r}"
    );
    assert_eq!(w.hook_calls(), ["create ", "delete ApiKey-77e1c0de"]);
}

#[test]
fn the_ambiguous_delivery_line_names_the_credentials_id_unmasked() {
    let mut w = World::new();
    w.set("SMOUT_ID", "type:string, required:true")
        .set("CREDHOOK_RETRIES", "1");
    w.hook(r#"[ "$1" = create ] && printf 'id=ApiKey-5ca1ab1e\nSMOUT_ID=ApiKey-5ca1ab1e\n' >&3; exit 0"#);
    w.emu.fault(Endpoint::Task, Fault::Lost);
    w.emu.fault(Endpoint::Task, Fault::Status(400));
    let r = w.run();
    r.assert_code(2);
    let l = line(&r, "the task update may have been delivered");
    assert_eq!(field(&l, "credentials_id"), "ApiKey-5ca1ab1e", "{r}");
    assert_eq!(field(&l, "secret_id"), SECRET_ID);
}

#[test]
fn the_final_line_of_a_create_and_of_a_delete_carries_the_credentials_id() {
    let mut w = World::new();
    w.set("SMOUT_ID", "type:string, required:true");
    w.hook(r#"[ "$1" = create ] && printf 'id=cred-f1a1\nSMOUT_ID=cred-f1a1\n' >&3; exit 0"#);
    let r = w.run();
    r.assert_code(0);
    let last = r.log_lines().pop().unwrap();
    assert_eq!(field(&last, "msg"), "credhook finished", "{r}");
    assert_eq!(field(&last, "credentials_id"), "cred-f1a1", "{r}");
    w.set("SM_ACTION", "delete_credentials")
        .set("SM_CREDENTIALS_ID", "cred-f1a1");
    let r = w.run();
    r.assert_code(0);
    assert_eq!(
        field(&r.log_lines().pop().unwrap(), "credentials_id"),
        "cred-f1a1",
        "{r}"
    );
}

/// IBM Cloud Databases service credentials: host names, ports, database,
/// user name are not secret; the password and composed URIs are.
#[test]
fn resolved_service_credentials_mask_only_their_secret_fields() {
    let mut w = World::new();
    let creds = r#"{"connection":{"rediss":{"authentication":{"method":"direct","password":"R3dis-Passw0rd-q7","username":"admin"},
        "composed":["rediss://admin:R3dis-Passw0rd-q7@red-host.databases.example:30511/0"],"database":0,
        "hosts":[{"hostname":"red-host.databases.example","port":30511}],"path":"/0","scheme":"rediss","type":"uri",
        "certificate":{"certificate_base64":"LS0tLS1CRUdJTiBDRVJU","name":"c4f2-cert"}}},
        "apikey":"Svc-Ap1key-x9y8z7","iam_role_crn":"crn:v1:bluemix:public:iam::::serviceRole:Manager"}"#
        .replace('\n', "");
    w.emu.add_secret(
        LOGIN_ID,
        &format!(r#"{{"secret_type":"service_credentials","credentials":{creds},"secret_group_id":"default"}}"#),
    );
    w.set("SMIN_DB", "type:secret_id, required:true")
        .set("SM_DB_VALUE", LOGIN_ID)
        .secret("R3dis-Passw0rd-q7")
        .secret("Svc-Ap1key-x9y8z7");
    w.hook(
        r#"c=$SMIN_DB_CREDENTIALS
host=$(printf %s "$c" | credhook json get '.connection.rediss.hosts[0].hostname')
port=$(printf %s "$c" | credhook json get '.connection.rediss.hosts[0].port')
user=$(printf %s "$c" | credhook json get .connection.rediss.authentication.username)
pw=$(printf %s "$c" | credhook json get .connection.rediss.authentication.password)
uri=$(printf %s "$c" | credhook json get '.connection.rediss.composed[0]')
echo "cannot log in to Redis at $host:$port as $user with $pw ($uri)" >&2
exit 1"#,
    );
    w.set(
        "PATH",
        &format!(
            "{}:{}",
            credhook_bin().parent().unwrap().display(),
            w.get("PATH").unwrap()
        ),
    );
    let r = w.run();
    let d = r.failed_with("ERR10004");
    assert!(
        d.contains("cannot log in to Redis at red-host.databases.example:30511 as admin with [REDACTED] ([REDACTED])"),
        "{d}"
    );
}

/// The rollback sentence says "deleted" only when the delete did, and
/// "already gone" when the delete wrote `already_gone=true`.
#[test]
fn a_rollback_that_finds_the_credentials_already_gone_says_so() {
    let mut w = World::new();
    w.set("SMOUT_USERNAME", "type:string, required:true");
    w.hook(
        r#"if [ "$1" = create ]; then printf 'id=c-0ne\nbogus line\n' >&3; exit 0; fi
echo already_gone=true >&3"#,
    );
    let r = w.run();
    let d = r.failed_with("ERR10006");
    assert!(d.contains("(c-0ne) were already gone"), "{d}");
    assert!(!d.contains("deleted again"), "{d}");
    assert!(r.log_has("rollback done: the credentials were already gone"), "{r}");
}

// --- Ids -------------------------------------------------------------------

#[test]
fn run_refuses_a_credentials_id_with_a_control_character_and_rolls_back_the_others() {
    for (written, shown) in [("c-\\000nul", "c-\\0nul"), ("c-\\033[2J", "c-\\u{1b}[2J")] {
        let mut w = World::new();
        w.set("SMOUT_USERNAME", "type:string, required:true");
        w.hook(&format!(
            r#"echo "$1 ${{SM_CREDENTIALS_ID:-}}" >> "$TEST_DIR/calls"
[ "$1" = create ] && printf 'id={written}\nusername=u-1\n' >&3
exit 0"#
        ));
        let r = w.run();
        let d = r.failed_with("ERR10006");
        assert!(d.contains("holds a control character"), "{d}");
        assert!(d.contains(&format!("({shown}) holds a control character")), "{d}");
        assert_eq!(w.hook_calls(), ["create "], "no delete can be given it\n{r}");
    }
    // The other ids it wrote are rolled back.
    let mut w = World::new();
    w.set("SMOUT_USERNAME", "type:string, required:true");
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
[ "$1" = create ] && printf 'id=c-good\n id=c-\001bad\n' >&3
exit 0"#,
    );
    let r = w.run();
    let d = r.failed_with("ERR10006");
    assert!(
        d.contains("(c-good) were deleted again") && d.contains("control character"),
        "{d}"
    );
    assert_eq!(w.hook_calls(), ["create ", "delete c-good"]);
}

#[test]
fn json_out_refuses_nul_as_it_refuses_cr() {
    let mut cmd = Command::new(credhook_bin());
    cmd.args(["json", "out", "id=.id"]).env_clear();
    let (code, stdout, stderr) = code_and_text(output_with_stdin(&mut cmd, br#"{"id":"a\u0000b"}"#));
    assert_eq!(code, 2, "{stdout:?}\n{stderr}");
    assert!(
        stdout.is_empty() && stderr.contains("holds a NUL character"),
        "{stderr}"
    );
}

// --- The hook tools keep their word -----------------------------------------

#[test]
fn credhook_json_keeps_its_exit_status_when_stderr_is_closed() {
    for (args, stdin, want) in [
        (&["get", ".a"][..], &b"not json"[..], 2),
        (&["get", ".missing"][..], &b"{}"[..], 1),
    ] {
        let mut child = Command::new(credhook_bin())
            .arg("json")
            .args(args)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        {
            use std::io::Write;
            let mut input = child.stdin.take().unwrap();
            let _ = input.write_all(stdin);
        }
        assert_eq!(child.wait().unwrap().code(), Some(want), "{args:?}");
    }
}

#[test]
fn http_output_to_a_fifo_is_refused_without_blocking_and_dev_null_is_fine() {
    let s = https::Server::https(|_, _| https::reply(200, "{\"token\":\"x\"}"));
    let d = TempDir::new("credhook-classify");
    let ca = s.ca_file(&d);
    let fifo = d.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let mut child = Command::new(credhook_bin())
        .args(["http", "--max-time", "2", "--cacert", ca.to_str().unwrap(), "-o"])
        .arg(&fifo)
        .args(["GET", &format!("{}/", s.url())])
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ended = wait_until(Duration::from_secs(8), || child.try_wait().unwrap().is_some());
    if !ended {
        let _ = child.kill();
    }
    let (code, _, stderr) = code_and_text(child.wait_with_output().unwrap());
    assert!(ended, "credhook http blocked on the FIFO past --max-time");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is a FIFO, socket or block device"), "{stderr}");
    let out = Command::new(credhook_bin())
        .args([
            "http",
            "--cacert",
            ca.to_str().unwrap(),
            "-o",
            "/dev/null",
            "GET",
            &format!("{}/", s.url()),
        ])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// The same through `dry-run --secret NAME=@FILE` (resolved as `run`
/// resolves it), the vendor echoing the token JSON-escaped as Go does.
#[test]
fn a_vendor_error_that_echoes_the_admin_token_given_via_dry_run_s_secret_is_masked() {
    let token = "Adm1n&T0ken<9f8e>";
    let dir = TempDir::new("credhook-classify");
    std::fs::write(
        dir.join("job_config.json"),
        r#"{"job_env_variables":[{"name":"SMIN_LOGIN_SECRET_ID","value":"type:secret_id, required:true"},
            {"name":"SMOUT_TOKEN","value":"type:string, required:true"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("admin.json"),
        format!(r#"{{"secret_type":"arbitrary","payload":{}}}"#, json_string(token)),
    )
    .unwrap();
    std::fs::write(
        dir.join("reply.json"),
        r#"{"error":"token Adm1n\u0026T0ken\u003c9f8e\u003e is expired"}"#,
    )
    .unwrap();
    write_executable(
        &dir.join("hook.sh"),
        "#!/bin/sh\ncat reply.json >&2\nprintf 'error_message=vendor: %s\\n' \"$(cat reply.json)\" >&3\nexit 1\n",
    );
    let (code, stdout, stderr) = out(Command::new(credhook_bin())
        .args(["dry-run", "--secret", "login_secret_id=@admin.json"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(&dir)
        .stdin(Stdio::null()));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(r#"create failed: ERR10004: vendor: {"error":"token [REDACTED] is expired"}"#),
        "{stdout}"
    );
    for f in fragments(token) {
        assert!(!stdout.contains(f) && !stderr.contains(f), "{f}\n{stdout}\n{stderr}");
    }
}
