//! `credhook run` end to end: the real binary, a real hook script, the
//! emulator over real sockets (HTTPS unless a test says otherwise).

mod support;

use credhook_emulator::{Endpoint, Fault};
use support::*;

#[test]
fn create_reports_typed_outputs() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(RECORDING_CREATE).secret("S3cr3t-P4ssw0rd!").secret("svc-user-1");
    let r = w.run();
    r.assert_code(0);
    let u = r.update();
    assert_eq!((u.secret_id.as_str(), u.task_id.as_str()), (SECRET_ID, TASK_ID));
    assert_eq!(
        u.body,
        r#"{"status":"credentials_created","credentials":{"id":"cred-42","payload":{"admin":true,"password":"S3cr3t-P4ssw0rd!","port":5432,"username":"svc-user-1"}}}"#
    );
    assert_eq!(w.hook_calls(), ["create "]);
    // The hook printed the password; the log holds the line, masked.
    assert!(r.log_has("created user [REDACTED] with password [REDACTED]"), "{r}");
}

#[test]
fn delete_reports_deleted() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.set("SM_ACTION", "delete_credentials")
        .set("SM_CREDENTIALS_ID", "cred-42")
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(0);
    assert_eq!(r.update().body, r#"{"status":"credentials_deleted"}"#);
    assert_eq!(w.hook_calls(), ["delete cred-42"]);
}

#[test]
fn log_lines_are_json_with_the_required_fields() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(0);
    let lines = r.log_lines();
    assert_eq!(lines.len(), r.stderr.lines().count(), "every line is JSON\n{r}");
    for l in &lines {
        for k in ["ts", "level", "task_id", "action"] {
            assert!(!field(l, k).is_empty(), "line without {k}: {r}");
        }
        // `msg` is a hook's line for hook output, which may be blank: it must
        // be there, as a string, but may be empty.
        let msg = match l {
            miniserde::json::Value::Object(o) => o.get("msg"),
            _ => None,
        };
        assert!(
            matches!(msg, Some(miniserde::json::Value::String(_))),
            "line without msg: {r}"
        );
        assert!(field(l, "ts").ends_with('Z'));
    }
    let first = &lines[0];
    assert_eq!(field(first, "secret_id"), SECRET_ID);
    assert_eq!(field(first, "task_id"), TASK_ID);
    assert_eq!(field(first, "action"), "create_credentials");
    assert_eq!(field(first, "trigger"), "secret_creation");
    assert_eq!(field(first, "version"), env!("CARGO_PKG_VERSION"));
    assert_eq!(field(first, "credential"), "api_key");
    let last = lines.last().unwrap();
    assert_eq!(field(last, "outcome"), "credentials_created");
    assert_eq!(field(last, "exit"), "0");
    assert!(!field(last, "duration_ms").is_empty());
    let http: Vec<_> = lines.iter().filter(|l| field(l, "msg") == "http call").collect();
    assert_eq!(http.len(), 2, "{r}");
    assert_eq!(field(http[1], "method"), "PUT");
    assert_eq!(field(http[1], "host"), "127.0.0.1");
    assert_eq!(
        field(http[1], "path"),
        format!("/api/v2/secrets/{SECRET_ID}/tasks/{TASK_ID}")
    );
    assert_eq!(field(http[1], "status"), "200");
    assert_eq!(field(http[1], "attempt"), "1");
}

#[test]
fn text_logs_on_request() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(RECORDING_CREATE).set("CREDHOOK_LOG", "text");
    let r = w.run();
    r.assert_code(0);
    assert!(r.stderr.lines().all(|l| !l.starts_with('{')), "{r}");
    assert!(r.stderr.contains("INFO  credhook started"), "{r}");
}

#[test]
fn hook_failure_with_its_own_code_and_message() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook("printf 'error_code=ERR_TAKEN\\nerror_message=The user name is already taken\\n' > \"$CREDHOOK_OUTPUT\"; exit 3");
    let r = w.run();
    r.assert_code(1);
    assert_eq!(r.failed_with("ERR_TAKEN"), "The user name is already taken");
}

#[test]
fn hook_failure_without_code_names_exit_and_last_stderr_line() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook("echo 'first problem' >&2; echo 'psql: connection refused' >&2; exit 7");
    let r = w.run();
    r.assert_code(1);
    let d = r.failed_with("ERR10004");
    assert!(d.contains("exited with status 7"), "{d}");
    assert!(d.contains("psql: connection refused"), "{d}");
}

#[test]
fn invalid_hook_error_code_is_replaced_but_message_kept() {
    let mut w = World::new();
    w.hook("printf 'error_code=not valid!\\nerror_message=quota exceeded\\n' > \"$CREDHOOK_OUTPUT\"; exit 1");
    let r = w.run();
    assert_eq!(r.failed_with("ERR10004"), "quota exceeded");
}

#[test]
fn missing_required_output_fails_and_rolls_back() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
[ "$1" = create ] && printf 'id=cred-9\nusername=u-1234\n' > "$CREDHOOK_OUTPUT"; exit 0"#,
    );
    let r = w.run();
    r.assert_code(1);
    let d = r.failed_with("ERR10006");
    assert!(d.contains("required output `password`"), "{d}");
    assert!(d.contains("were deleted again"), "{d}");
    assert_eq!(w.hook_calls(), ["create ", "delete cred-9"]);
}

#[test]
fn unknown_output_name_is_a_protocol_error() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook("printf 'id=c\\nusername=u\\npassword=p-very-secret\\ncolour=blue-green\\n' > \"$CREDHOOK_OUTPUT\"")
        .secret("p-very-secret");
    let r = w.run();
    let d = r.failed_with("ERR10006");
    assert!(d.contains("`colour` is not an output of the schema"), "{d}");
    assert!(!d.contains("blue-green"), "value leaked into description: {d}");
}

#[test]
fn error_fields_with_exit_zero_are_a_protocol_error() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook("printf 'id=c\\nusername=u\\npassword=pppp\\nerror_code=E1\\n' > \"$CREDHOOK_OUTPUT\"");
    assert!(w.run().failed_with("ERR10006").contains("exited 0"));
}

#[test]
fn wrong_output_type_is_rejected() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook("printf 'id=c\\nusername=u\\npassword=pppp\\nport=fifty\\n' > \"$CREDHOOK_OUTPUT\"");
    assert!(
        w.run()
            .failed_with("ERR10006")
            .contains("`port` must be a whole number")
    );
}

#[test]
fn multiline_pem_output_arrives_intact() {
    let mut w = World::new();
    w.set("SMOUT_CERTIFICATE", "type:string, required:true");
    w.hook(
        r#"cat > "$CREDHOOK_OUTPUT" <<'OUT'
id=cert-1
certificate<<EOF
-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUJq0rPpYt
-----END CERTIFICATE-----
EOF
OUT"#,
    );
    let r = w.run();
    r.assert_code(0);
    assert_eq!(
        r.update().body,
        r#"{"status":"credentials_created","credentials":{"id":"cert-1","payload":{"certificate":"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUJq0rPpYt\n-----END CERTIFICATE-----"}}}"#
    );
}

#[test]
fn output_written_with_prefix_and_reserved_name() {
    let mut w = World::new();
    w.set("SMOUT_ID", "type:string, required:true")
        .set("SMOUT_TOKEN", "type:string");
    w.hook("printf 'id=outer\\nSMOUT_ID=inner-id\\nSMOUT_TOKEN=tok-abcdef\\n' > \"$CREDHOOK_OUTPUT\"");
    let r = w.run();
    r.assert_code(0);
    assert_eq!(
        r.update().body,
        r#"{"status":"credentials_created","credentials":{"id":"outer","payload":{"id":"inner-id","token":"tok-abcdef"}}}"#
    );
}

#[test]
fn invalid_inputs_fail_before_the_hook_runs() {
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        ("SMIN_PORT", "type:integer", Some("54x"), "must be a whole number"),
        (
            "SMIN_PORT",
            "type:integer",
            Some("99999999999999999999"),
            "fits in 64 bits",
        ),
        ("SMIN_ADMIN", "type:boolean", Some("yes"), "must be `true` or `false`"),
        ("SMIN_MODE", "type:enum[ro|rw]", Some("admin"), "must be one of ro, rw"),
        (
            "SMIN_LOGIN_SECRET_ID",
            "type:secret_id",
            Some("not-a-uuid"),
            "must be the ID",
        ),
        (
            "SMIN_NAME",
            "type:string, required:true",
            None,
            "is required but has no value",
        ),
        ("SMIN_BROKEN", "type:strnig", None, "unknown type `strnig`"),
    ];
    for (var, schema, value, want) in cases {
        let mut w = World::new();
        w.set(var, schema).hook(RECORDING_CREATE);
        if let Some(v) = value {
            let name = var.trim_start_matches("SMIN_");
            w.set(&format!("SM_{name}_VALUE"), v);
        }
        let r = w.run();
        r.assert_code(1);
        let d = r.failed_with("ERR10001");
        assert!(d.contains(want), "{var}: {d}");
        assert!(w.hook_calls().is_empty(), "the hook ran for {var}");
    }
}

#[test]
fn inputs_reach_the_hook_with_fallback_and_the_env_is_scrubbed() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.set("SMIN_SCHEMA_NAME", "type:string")
        .set("SMIN_SCHEMA_NAME_VALUE", "reporting")
        .set("SMIN_LIMIT", "type:integer, required:true")
        .set("SM_LIMIT_VALUE", "10")
        .set("SMIN_LIMIT_VALUE", "99")
        .set("SMIN_FLAG", "type:boolean")
        .set("SM_FLAG_VALUE", "TRUE")
        .set("SMIN_UNSET", "type:string")
        .set("CREDHOOK_HOOK_TIMEOUT", "60")
        .hook(&format!("env > \"$TEST_DIR/env\"\n{RECORDING_CREATE}"));
    w.run().assert_code(0);
    let env = w.file("env");
    let has = |l: &str| env.lines().any(|x| x == l);
    assert!(has("SMIN_SCHEMA_NAME=reporting"), "{env}");
    assert!(has("SMIN_LIMIT=10"), "{env}");
    assert!(has("SMIN_FLAG=true"), "{env}");
    assert!(has("CREDHOOK_OUTPUT=/dev/fd/3"), "{env}");
    assert!(has(&format!("SM_SECRET_ID={SECRET_ID}")), "{env}");
    for l in env.lines() {
        let name = l.split('=').next().unwrap_or("");
        assert!(name != "SM_ACCESS_APIKEY", "{env}");
        assert!(
            !name.starts_with("CREDHOOK_") || name == "CREDHOOK_OUTPUT",
            "{name} reached the hook"
        );
        assert!(!name.starts_with("SMOUT_"), "{name} reached the hook");
        assert!(!name.ends_with("_VALUE"), "{name} reached the hook");
        assert!(name != "SMIN_UNSET", "an input without a value must be unset");
    }
    assert!(!env.contains(API_KEY));
}

#[test]
fn iam_token_reaches_the_hook_only_when_asked() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(&format!(
        "printf '%s' \"${{CREDHOOK_IAM_TOKEN:-none}}\" > \"$TEST_DIR/tok\"\n{RECORDING_CREATE}"
    ));
    w.run().assert_code(0);
    assert_eq!(w.file("tok"), "none");
    w.set("CREDHOOK_HOOK_IAM_TOKEN", "true");
    w.run().assert_code(0);
    assert!(w.emu.issued_tokens().contains(&w.file("tok")), "the hook got no token");
}

fn secret_id_world(reply: &str) -> (World, String) {
    let id = "a1b2c3d4-0000-4000-8000-000000000001";
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.add_secret(id, reply);
    w.set("SMIN_LOGIN", "type:secret_id, required:true")
        .set("SM_LOGIN_VALUE", id)
        .hook(&format!("env > \"$TEST_DIR/env\"\n{RECORDING_CREATE}"));
    (w, id.to_string())
}

#[test]
fn secret_id_inputs_are_resolved_for_every_type() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            r#"{"id":"x","secret_type":"arbitrary","payload":"arb-payload-value"}"#,
            &[
                ("SMIN_LOGIN_TYPE", "arbitrary"),
                ("SMIN_LOGIN_PAYLOAD", "arb-payload-value"),
            ],
        ),
        (
            r#"{"secret_type":"username_password","username":"admin-user","password":"admin-pass-123"}"#,
            &[
                ("SMIN_LOGIN_USERNAME", "admin-user"),
                ("SMIN_LOGIN_PASSWORD", "admin-pass-123"),
            ],
        ),
        (
            r#"{"secret_type":"iam_credentials","api_key":"iam-key-abcdef"}"#,
            &[("SMIN_LOGIN_API_KEY", "iam-key-abcdef")],
        ),
        (
            r#"{"secret_type":"imported_cert","certificate":"CERT-A","private_key":"KEY-AAAA","intermediate":"INT-A"}"#,
            &[
                ("SMIN_LOGIN_CERTIFICATE", "CERT-A"),
                ("SMIN_LOGIN_PRIVATE_KEY", "KEY-AAAA"),
                ("SMIN_LOGIN_INTERMEDIATE", "INT-A"),
            ],
        ),
        (
            r#"{"secret_type":"public_cert","certificate":"CERT-B","private_key":"KEY-BBBB"}"#,
            &[
                ("SMIN_LOGIN_TYPE", "public_cert"),
                ("SMIN_LOGIN_PRIVATE_KEY", "KEY-BBBB"),
            ],
        ),
        (
            r#"{"secret_type":"private_cert","certificate":"CERT-C","private_key":"KEY-CCCC"}"#,
            &[("SMIN_LOGIN_CERTIFICATE", "CERT-C")],
        ),
        (
            r#"{"secret_type":"kv","data":{ "zeta": "z-value", "alpha": 1 }}"#,
            &[("SMIN_LOGIN_DATA", r#"{"zeta":"z-value","alpha":1}"#)],
        ),
        (
            r#"{"secret_type":"custom_credentials","credentials_content":{"b":"bbbb", "a":"aaaa"}}"#,
            &[("SMIN_LOGIN_CREDENTIALS", r#"{"b":"bbbb","a":"aaaa"}"#)],
        ),
        (
            r#"{"secret_type":"service_credentials","credentials":{"apikey":"svc-key-9999"}}"#,
            &[("SMIN_LOGIN_CREDENTIALS", r#"{"apikey":"svc-key-9999"}"#)],
        ),
    ];
    for (reply, want) in cases {
        let (mut w, id) = secret_id_world(reply);
        for (k, v) in *want {
            if !k.ends_with("_TYPE") {
                w.secret(v);
            }
        }
        let r = w.run();
        r.assert_code(0);
        let env = w.file("env");
        for (k, v) in *want {
            assert!(
                env.lines().any(|l| l == format!("{k}={v}")),
                "{k}={v} missing for {reply}:\n{env}"
            );
        }
        assert!(env.lines().any(|l| l == format!("SMIN_LOGIN={id}")), "{env}");
        let call = &w.emu.calls_to(Endpoint::Secret)[0];
        assert_eq!(call.path, format!("/api/v2/secrets/{id}"));
    }
}

#[test]
fn multiline_secret_fields_are_passed_intact() {
    let (mut w, _) = secret_id_world(
        r#"{"secret_type":"imported_cert","certificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----","private_key":"pk-000000"}"#,
    );
    w.secret("pk-000000").hook(&format!(
        "printf '%s' \"$SMIN_LOGIN_CERTIFICATE\" > \"$TEST_DIR/cert\"\n{RECORDING_CREATE}"
    ));
    w.run().assert_code(0);
    assert_eq!(
        w.file("cert"),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
    );
}

#[test]
fn unreadable_secret_fails_with_err10002() {
    let mut w = World::new();
    w.set("SMIN_LOGIN", "type:secret_id")
        .set("SM_LOGIN_VALUE", "a1b2c3d4-0000-4000-8000-00000000dead")
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(1);
    let d = r.failed_with("ERR10002");
    assert!(
        d.contains("a1b2c3d4-0000-4000-8000-00000000dead") && d.contains("404"),
        "{d}"
    );
    assert!(w.hook_calls().is_empty());
}

#[test]
fn resolution_can_be_turned_off() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.set("SMIN_LOGIN", "type:secret_id")
        .set("SM_LOGIN_VALUE", "a1b2c3d4-0000-4000-8000-00000000dead")
        .set("CREDHOOK_RESOLVE_SECRETS", "0")
        .hook(RECORDING_CREATE);
    w.run().assert_code(0);
    assert_eq!(w.calls_to(Endpoint::Secret), 0);
}

#[test]
fn trusted_profile_login_with_cr_token() {
    let cr = "cr-token-eyJhbGciOi.payload.sig";
    let mut w = World::with(|o| o.cr_tokens = vec![cr.into()]);
    declare_outputs(&mut w);
    let tok = w.dir.join("cr-token");
    std::fs::write(&tok, format!("{cr}\n")).unwrap();
    w.secret(cr)
        .set("CREDHOOK_TRUSTED_PROFILE", "Profile-0c8f7e3a-7f5b")
        .set("CREDHOOK_CR_TOKEN_FILE", tok.to_str().unwrap())
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(0);
    let call = &w.emu.calls_to(Endpoint::Token)[0];
    assert!(
        call.form
            .contains(&("grant_type".into(), "urn:ibm:params:oauth:grant-type:cr-token".into()))
    );
    assert!(
        call.form
            .contains(&("profile_id".into(), "Profile-0c8f7e3a-7f5b".into()))
    );
    assert_eq!(field(&r.log_lines()[0], "credential"), "trusted_profile");
}

#[test]
fn trusted_profile_by_name_and_missing_token_file() {
    let mut w = World::with(|o| o.cr_tokens = vec!["crtok-1234".into()]);
    declare_outputs(&mut w);
    let tok = w.dir.join("cr-token");
    std::fs::write(&tok, "crtok-1234").unwrap();
    w.set("CREDHOOK_TRUSTED_PROFILE", "my-provider-profile")
        .set("CREDHOOK_CR_TOKEN_FILE", tok.to_str().unwrap())
        .hook(RECORDING_CREATE);
    w.run().assert_code(0);
    assert!(
        w.emu.calls_to(Endpoint::Token)[0]
            .form
            .contains(&("profile_name".into(), "my-provider-profile".into()))
    );

    w.set("CREDHOOK_CR_TOKEN_FILE", "/nonexistent/token");
    let r = w.run();
    r.assert_code(2);
    assert!(r.log_has("/nonexistent/token"), "{r}");
}

#[test]
fn iam_refusal_exits_2_and_never_runs_the_hook() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.set("SM_ACCESS_APIKEY", "wrong-key-000000")
        .secret("wrong-key-000000")
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(2);
    assert!(r.updates.is_empty());
    assert!(w.hook_calls().is_empty());
    assert!(r.log_has("BXNIM0415E"), "{r}");
    assert_eq!(w.calls_to(Endpoint::Token), 1, "a 400 is not retried");
}

#[test]
fn server_error_then_success_is_retried() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(Endpoint::Token, Fault::Status(500));
    w.emu.fault(Endpoint::Task, Fault::Status(503));
    w.hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(0);
    assert_eq!(w.calls_to(Endpoint::Token), 2);
    assert_eq!(w.calls_to(Endpoint::Task), 2);
    assert_eq!(r.update().status(), "credentials_created");
}

#[test]
fn retries_run_out() {
    let mut w = World::new();
    for _ in 0..3 {
        w.emu.fault(Endpoint::Token, Fault::Status(502));
    }
    w.set("CREDHOOK_RETRIES", "2").hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(2);
    assert_eq!(w.calls_to(Endpoint::Token), 3);
    assert!(w.hook_calls().is_empty());
}

#[test]
fn retry_after_is_honoured() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(Endpoint::Task, Fault::RetryAfter(429, 1));
    w.hook(RECORDING_CREATE);
    w.run().assert_code(0);
    let calls = w.emu.calls_to(Endpoint::Task);
    assert_eq!(calls.len(), 2);
    let gap = calls[1].at - calls[0].at;
    assert!(
        gap >= std::time::Duration::from_millis(1000),
        "retried after {gap:?}, before Retry-After"
    );
}

#[test]
fn update_404_rolls_back_the_new_credentials() {
    let mut w = World::new();
    declare_outputs(&mut w);
    w.emu.fault(Endpoint::Task, Fault::Status(404));
    w.hook(RECORDING_CREATE).secret("S3cr3t-P4ssw0rd!");
    let r = w.run();
    r.assert_code(2);
    assert!(r.updates.is_empty());
    assert_eq!(w.hook_calls(), ["create ", "delete cred-42"]);
    assert_eq!(w.calls_to(Endpoint::Task), 1, "a 404 on the update is final");
    assert!(r.log_has("rollback done"), "{r}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let mut w = World::new();
    w.set("SM_INSTANCE_URL", "http://sm.example.com").hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(2);
    assert!(r.log_has("only allowed to a loopback host"), "{r}");
    assert!(w.emu.calls().is_empty());

    let mut w = World::new();
    w.set("CREDHOOK_IAM_URL", "http://iam.example.com")
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(2);
    assert!(w.emu.calls().is_empty());
}

#[test]
fn plain_http_to_loopback_works() {
    let mut w = World::with(|o| o.tls = false);
    declare_outputs(&mut w);
    w.hook(RECORDING_CREATE);
    w.run().assert_code(0);
}

#[test]
fn certificates_are_verified() {
    // Without the emulator's CA, the bundled roots do not trust it.
    let mut w = World::new();
    w.unset("CREDHOOK_CA_FILE")
        .set("CREDHOOK_RETRIES", "0")
        .hook(RECORDING_CREATE);
    let r = w.run();
    r.assert_code(2);
    assert!(w.hook_calls().is_empty());
    // A CA file without certificates is a setup error.
    let bad = w.dir.join("empty.pem");
    std::fs::write(&bad, "nothing here").unwrap();
    w.set("CREDHOOK_CA_FILE", bad.to_str().unwrap());
    let r = w.run();
    r.assert_code(2);
    assert!(r.log_has("holds no"), "{r}");
}

#[test]
fn bad_environment_exits_2_naming_each_variable() {
    let mut w = World::new();
    w.unset("SM_SECRET_TASK_ID")
        .set("SM_ACTION", "rotate")
        .set("CREDHOOK_HOOK_TIMEOUT", "soon");
    let r = w.run();
    r.assert_code(2);
    for v in ["SM_SECRET_TASK_ID", "SM_ACTION", "CREDHOOK_HOOK_TIMEOUT"] {
        assert!(r.log_has(&format!("\"variable\":\"{v}\"")), "{v}\n{r}");
    }
    assert!(w.emu.calls().is_empty());
}

#[test]
fn hook_timeout_kills_the_process_group() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // A child that ignores TERM keeps fd 3 and stdout open; credhook must not wait for it.
    w.set("CREDHOOK_HOOK_TIMEOUT", "1").hook(
        r#"echo "$1" >> "$TEST_DIR/calls"
[ "$1" = delete ] && exit 0
printf 'id=cred-slow\n' > "$CREDHOOK_OUTPUT"
(trap '' TERM; sleep 30) &
echo $! > "$TEST_DIR/child"
trap '' TERM
sleep 30"#,
    );
    let started = std::time::Instant::now();
    let r = w.run();
    r.assert_code(1);
    let d = r.failed_with("ERR10005");
    assert!(d.contains("within 1 s"), "{d}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "credhook waited for the hook's child"
    );
    // The rollback deleted what the hook had reported.
    assert_eq!(w.hook_calls(), ["create", "delete"]);
    let child: i32 = w.file("child").trim().parse().unwrap();
    assert!(is_gone(child), "the hook's child survived");
}

#[test]
fn a_timeout_names_the_last_error_line_masked_and_cut_with_the_rollback_kept() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // A last stderr line of 3,000 characters with an output value (a
    // secret) near its start and again past the cut.
    w.set("CREDHOOK_HOOK_TIMEOUT", "1").secret("Pw-7Kq2Zx9Lm4Vb").hook(
        r#"[ "$1" = delete ] && exit 0
printf 'id=cred-slow\nusername=u-1\npassword=Pw-7Kq2Zx9Lm4Vb\n' > "$CREDHOOK_OUTPUT"
pad=$(head -c 3000 /dev/zero | tr '\0' 'x')
echo "retrying with Pw-7Kq2Zx9Lm4Vb $pad Pw-7Kq2Zx9Lm4Vb" >&2
sleep 30"#,
    );
    let r = w.run();
    let d = r.failed_with("ERR10005");
    assert!(d.chars().count() <= 1024, "{} characters", d.chars().count());
    assert!(
        d.starts_with("the hook did not finish within 1 s (CREDHOOK_HOOK_TIMEOUT) and was stopped; its last error line: retrying with [REDACTED] xxx"),
        "{d}"
    );
    assert!(
        d.ends_with("The credentials it had created (cred-slow) were deleted again."),
        "{d}"
    );
}

#[test]
fn sigterm_while_the_hook_runs_reports_err10007_and_rolls_back() {
    for signal in ["-TERM", "-INT"] {
        let mut w = World::new();
        declare_outputs(&mut w);
        w.hook(
            r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
[ "$1" = delete ] && exit 0
printf 'id=cred-term\n' > "$CREDHOOK_OUTPUT"
echo 'copying the grants' >&2
touch "$TEST_DIR/ready"
sleep 30"#,
        );
        let ready = w.dir.join("ready");
        let t0 = std::time::Instant::now();
        let r = w.run_and_signal(signal, || ready.exists());
        r.assert_code(1);
        let d = r.failed_with("ERR10007");
        assert!(d.contains("were deleted again"), "{d}");
        assert!(d.contains("its last error line: copying the grants"), "{d}");
        assert_eq!(w.hook_calls(), ["create ", "delete cred-term"]);
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(15),
            "{signal} took too long"
        );
    }
}

#[test]
fn token_is_refreshed_when_it_expires_soon() {
    let mut w = World::with(|o| o.token_ttl = 200);
    declare_outputs(&mut w);
    w.hook(RECORDING_CREATE);
    w.run().assert_code(0);
    // 200 s is inside the 5-minute margin: a fresh token before the update.
    assert_eq!(w.calls_to(Endpoint::Token), 2);
}

#[test]
fn background_children_are_killed_when_the_hook_exits() {
    let mut w = World::new();
    declare_outputs(&mut w);
    // The child keeps stdout and fd 3 open; credhook must neither wait for it
    // nor leave it running.
    w.hook(&format!(
        "sleep 30 &\necho $! > \"$TEST_DIR/child\"\n{RECORDING_CREATE}"
    ));
    let started = std::time::Instant::now();
    w.run().assert_code(0);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "credhook waited for the child"
    );
    let child: i32 = w.file("child").trim().parse().unwrap();
    assert!(is_gone(child), "the hook's background child survived");
}

/// The image's busybox (Debian's busybox-static) when this machine has it,
/// else the `timeout` on PATH (GNU's leaves no watcher: the case is then
/// weaker, not wrong).
fn busybox_timeout() -> String {
    let static_busybox = std::process::Command::new("sh")
        .args(["-c", "readelf -l /bin/busybox 2>/dev/null | grep -q INTERP && exit 1; /bin/busybox timeout --help >/dev/null 2>&1"])
        .status()
        .is_ok_and(|s| s.success());
    if static_busybox {
        "/bin/busybox timeout".into()
    } else {
        eprintln!("no static /bin/busybox here (busybox-static): using the timeout on PATH");
        "timeout".into()
    }
}

/// The fastest of `n` runs of `w`'s hook, each a full create.
fn fastest_run(w: &World, n: usize) -> std::time::Duration {
    (0..n)
        .map(|_| {
            let t = std::time::Instant::now();
            w.run().assert_code(0);
            t.elapsed()
        })
        .min()
        .unwrap()
}

#[test]
fn a_process_left_outside_the_hook_s_group_costs_the_run_no_drain_wait() {
    // busybox `timeout` leaves a watcher in a session of its own that holds
    // fd 3 for up to a second after the command ended; `setsid … &` holds
    // all three pipes. Once the hook's group is gone, credhook stops
    // reading: neither may add the 1 s drain limit to the run.
    let timeout = busybox_timeout();
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(&format!("true\n{RECORDING_CREATE}"));
    let plain = fastest_run(&w, 3);
    for (what, line) in [
        ("busybox timeout", format!("{timeout} 5 true")),
        ("a command in its own session", "setsid sleep 2 &".to_string()),
    ] {
        w.hook(&format!("{line}\n{RECORDING_CREATE}"));
        let took = fastest_run(&w, 3);
        assert!(
            took < plain + std::time::Duration::from_millis(100),
            "{what}: {took:?} against {plain:?} for `true`"
        );
        // What the hook wrote before it exited was still read whole.
        let last = w.emu.updates().pop().unwrap();
        assert!(last.body.contains(r#""id":"cred-42""#), "{what}: {}", last.body);
    }
}

#[test]
fn core_dumps_are_off_and_the_process_is_not_dumpable() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let mut w = World::new();
    declare_outputs(&mut w);
    // The hook (same user as credhook) looks at its parent from outside.
    w.hook(&format!(
        "cat /proc/$PPID/limits > \"$TEST_DIR/limits\"; stat -c %u /proc/$PPID/environ > \"$TEST_DIR/owner\"\n{RECORDING_CREATE}"
    ));
    // A non-dumpable process's /proc files belong to root whoever runs it.
    // As root that proves nothing, so credhook then runs as `nobody`.
    let mut cmd = w.command();
    if current_uid() == 0 {
        // The checkout may sit under a directory `nobody` cannot enter, so run a copy.
        let copy = w.dir.join("credhook");
        std::fs::copy(credhook_bin(), &copy).unwrap();
        std::fs::set_permissions(&w.dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let mut as_nobody = std::process::Command::new(&copy);
        as_nobody.env_clear();
        for (k, v) in cmd.get_envs() {
            if let Some(v) = v {
                as_nobody.env(k, v);
            }
        }
        as_nobody
            .current_dir(&w.dir)
            .stdin(std::process::Stdio::null())
            .uid(65534)
            .gid(65534);
        cmd = as_nobody;
    }
    let r = w.finish(cmd.output().unwrap());
    r.assert_code(0);
    let limits = w.file("limits");
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap_or_default()
        .to_string();
    assert_eq!(core.split_whitespace().nth(4), Some("0"), "{limits}");
    assert_eq!(w.file("owner").trim(), "0", "credhook is dumpable");
}

fn current_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn an_id_written_as_a_multiline_value_is_rolled_back_too() {
    // Found by the hook_output fuzz check: the rollback's id finder missed
    // `id<<EOF`, so a create with bad outputs would orphan its credentials.
    let mut w = World::new();
    declare_outputs(&mut w);
    w.hook(
        r#"echo "$1 ${SM_CREDENTIALS_ID:-}" >> "$TEST_DIR/calls"
[ "$1" = create ] && printf 'id<<END\ncred-heredoc\nEND\nusername=u-1\nport=not-a-number\n' > "$CREDHOOK_OUTPUT"
exit 0"#,
    );
    let r = w.run();
    assert!(r.failed_with("ERR10006").contains("were deleted again"), "{r}");
    assert_eq!(w.hook_calls(), ["create ", "delete cred-heredoc"]);
}

#[test]
fn proxy_variables_are_ignored() {
    // A proxy nobody configured for credhook must not reroute its bearer tokens.
    let mut w = World::new();
    declare_outputs(&mut w);
    w.set("HTTPS_PROXY", "http://127.0.0.1:9")
        .set("https_proxy", "http://127.0.0.1:9")
        .set("ALL_PROXY", "http://127.0.0.1:9")
        .set("CREDHOOK_RETRIES", "0")
        .hook(RECORDING_CREATE);
    w.run().assert_code(0);
}
