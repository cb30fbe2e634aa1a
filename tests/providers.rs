//! The example providers (examples/<name>/hook.sh and job_config.json) end to
//! end: `credhook run` against the emulator's Secrets Manager, the hook
//! against an HTTPS fake of its vendor's API (emulator/src/vendors/).
//!
//! As root the runs happen inside the image root that `scripts/rootfs.sh DIR
//! examples/<name>/hook.sh` assembles (chroot as uid 10001, as in
//! tests/image.rs): only busybox and credhook are there. Otherwise (or with
//! CREDHOOK_PROVIDERS_ON_HOST set) the same hooks run on this machine with
//! its /bin/sh and credhook first on PATH, and say so.
//!
//! Every run checks: no secret (the admin credential, IAM tokens, the
//! credentials the fake issued) in credhook's stdout or stderr or a task
//! description; none on any process's command line while the hook runs; no
//! request that broke the vendor's documented rules.

mod provider_case;
mod support;

use credhook_emulator::vendors::{Mangle, Vendor, VendorFake};
use credhook_emulator::{Endpoint, Fault};
use miniserde::json::Value;
use provider_case::*;
use std::process::Command;
use support::*;

fn lifecycle(p: &'static Provider) {
    let mut c = Case::new(p);
    let r = c.create(&[]);
    r.assert_code(0);
    let (id, payload) = created(&r);
    for name in p.outputs {
        assert!(
            matches!(payload.get(*name), Some(Value::String(s)) if !s.is_empty()),
            "{name} missing from the payload\n{r}"
        );
    }
    assert_eq!(
        c.fake.live(),
        vec![id.clone()],
        "the fake holds the new credential\n{r}"
    );
    assert_eq!(c.calls(p.create), 1, "one create call\n{r}");

    let r = c.delete(&id);
    r.assert_code(0);
    assert_eq!(last(&r).0, "credentials_deleted", "\n{r}");
    assert!(c.fake.live().is_empty(), "the credential is still there\n{r}");
    // Deleting again (Secrets Manager retries deletes): already gone is success.
    let r = c.delete(&id);
    r.assert_code(0);
    assert_eq!(last(&r).0, "credentials_deleted", "\n{r}");
    // An id the vendor never issued.
    let r = c.delete("999999");
    r.assert_code(0);
    assert_eq!(last(&r).0, "credentials_deleted", "\n{r}");
}

fn error_replies(p: &'static Provider) {
    let mut c = Case::new(p);
    for (status, suffix) in [
        (401, "UNAUTHORIZED"),
        (403, "FORBIDDEN"),
        (404, "NOT_FOUND"),
        (409, "CONFLICT"),
        (429, "RATE_LIMITED"),
        (500, "SERVER_ERROR"),
        (503, "SERVER_ERROR"),
    ] {
        let before = c.calls(p.create);
        c.fake.fail_next(p.create.0, p.create.1, status);
        let r = c.create(&[]);
        r.assert_code(1);
        let (st, code, desc) = last(&r);
        assert_eq!(st, "failed", "\n{r}");
        assert_eq!(code, format!("{}_{suffix}", p.prefix), "{status}\n{r}");
        assert!(desc.contains("creat"), "the description names the step: {desc}");
        assert_eq!(
            c.calls(p.create) - before,
            1,
            "a create is never retried ({status})\n{r}"
        );
        assert!(c.fake.live().is_empty(), "nothing created on {status}\n{r}");
    }
    // A delete that fails is reported, and the credential stays for the retry.
    let r = c.create(&[]);
    let (id, _) = created(&r);
    for (status, suffix) in [(401, "UNAUTHORIZED"), (500, "SERVER_ERROR")] {
        c.fake.fail_next(p.delete.0, p.delete.1, status);
        let r = c.delete(&id);
        r.assert_code(1);
        let (st, code, _) = last(&r);
        assert_eq!(
            (st.as_str(), code),
            ("failed", format!("{}_{suffix}", p.prefix)),
            "\n{r}"
        );
    }
    assert_eq!(c.fake.live(), vec![id.clone()]);
    c.delete(&id).assert_code(0);
    assert!(c.fake.live().is_empty());
}

fn bad_inputs(p: &'static Provider) {
    let mut c = Case::new(p);
    let mut cases: Vec<(&str, &str, String)> = p.bad.iter().map(|(k, v, code)| (*k, *v, code.to_string())).collect();
    cases.push((p.login, BAD_LOGIN_ID, format!("{}_BAD_LOGIN_SECRET", p.prefix)));
    cases.push((
        p.url_input,
        "https://x.example.com/a b",
        format!("{}_BAD_INPUT", p.prefix),
    ));
    // URLs that credhook http refuses are the provider's bad input, not
    // <P>_HOOK_ERROR: a name that only looks like loopback, a short form,
    // no host, a port out of range or empty.
    for url in [
        "http://127.0.0.1.nip.io",
        "http://127.1",
        "http://127.0.0.01",
        "https:///v",
        "https://h:99999",
        "https://h:0",
        "https://:443",
        "http://localhost:",
    ] {
        cases.push((p.url_input, url, format!("{}_BAD_INPUT", p.prefix)));
    }
    for (input, value, code) in cases {
        let r = c.create(&[(input, value)]);
        r.assert_code(1);
        let (_, got, desc) = last(&r);
        assert_eq!(got, code, "{input}={value:?}\n{r}");
        assert!(!desc.is_empty());
        assert!(
            c.fake.received().is_empty(),
            "{input}={value:?}: the fake got a request\n{r}"
        );
    }
}

fn bad_ids(p: &'static Provider) {
    let mut c = Case::new(p);
    for id in [
        ".",
        "..",
        "../../admin",
        "a/b",
        "x?y=1",
        "{{SMIN_LOGIN_SECRET_ID_PAYLOAD}}",
    ] {
        let r = c.delete(id);
        r.assert_code(1);
        let (_, code, _) = last(&r);
        assert_eq!(code, format!("{}_BAD_CREDENTIALS_ID", p.prefix), "{id}\n{r}");
    }
    assert!(c.fake.received().is_empty(), "a bad id reached the API");
}

fn rollback(p: &'static Provider) {
    let mut c = Case::new(p);
    // Secrets Manager refuses the update: credhook must delete what the hook made.
    c.w.emu.fault(Endpoint::Task, Fault::Status(400));
    let r = c.create(&[]);
    assert_eq!(c.calls(p.create), 1, "\n{r}");
    assert!(c.calls(p.delete) >= 1, "no rollback delete\n{r}");
    assert!(c.fake.live().is_empty(), "the credential was left behind\n{r}");
}

fn unreachable_or_untrusted(p: &'static Provider) {
    let mut c = Case::new(p);
    // Nothing listens on port 1.
    let r = c.create(&[(p.url_input, "https://127.0.0.1:1")]);
    assert_eq!(last(&r).1, format!("{}_UNREACHABLE", p.prefix), "\n{r}");
    // A certificate from a CA the job does not trust.
    c.distrust_the_vendor();
    let r = c.create(&[]);
    assert_eq!(last(&r).1, format!("{}_UNREACHABLE", p.prefix), "\n{r}");
    assert_eq!(
        c.calls(p.create),
        0,
        "a request went through an untrusted TLS connection"
    );
}

fn reply_without_the_secret(p: &'static Provider) {
    let mut c = Case::new(p);
    c.fake.withhold_secret_next(p.create.0, p.create.1);
    let r = c.create(&[]);
    r.assert_code(1);
    let (st, code, _) = last(&r);
    assert_eq!(
        (st.as_str(), code),
        ("failed", format!("{}_BAD_REPLY", p.prefix)),
        "\n{r}"
    );
    // The hook still named the id, so credhook deleted what was made.
    assert_eq!(c.calls(p.create), 1, "\n{r}");
    assert!(c.fake.live().is_empty(), "the credential was left behind\n{r}");
}

/// The vendor's error text reaches the task whole: credhook masks the admin
/// credential wherever it falls (a cut in the hook would leave a fragment of
/// it unmasked), a multi-byte character is never split (the output would not
/// be UTF-8 and credhook would drop it), and credhook cuts a long message.
fn error_text_is_masked_whole(p: &'static Provider) {
    let mut c = Case::new(p);
    let api_error = format!("{}_API_ERROR", p.prefix);
    // Every fake's message starts "400 Bad Request: " (17 bytes): the admin
    // credential starts at byte 290 of it, a 2-byte character at byte 299.
    for (msg, end) in [
        (format!("{}{} tail", "a".repeat(273), p.admin), "[REDACTED] tail"),
        (format!("{}é… end", "b".repeat(282)), "bé… end"),
    ] {
        c.fake.fail_next_saying(p.create.0, p.create.1, 400, &msg);
        let r = c.create(&[]);
        r.assert_code(1);
        let (_, code, desc) = last(&r);
        assert_eq!(code, api_error, "\n{r}");
        assert!(desc.ends_with(end), "{desc}");
    }
    // A long one is masked whole, then cut by credhook.
    let msg = format!("{} {} tail", "c".repeat(30_000), p.admin);
    c.fake.fail_next_saying(p.create.0, p.create.1, 400, &msg);
    let r = c.create(&[]);
    let (_, code, desc) = last(&r);
    assert_eq!(code, api_error, "\n{r}");
    assert!(desc.chars().count() <= 1100, "{} characters", desc.chars().count());
    // A reply over 64 KiB is no reply at all.
    c.fake
        .fail_next_saying(p.create.0, p.create.1, 400, &"d".repeat(70_000));
    let r = c.create(&[]);
    let (_, code, desc) = last(&r);
    assert_eq!(code, format!("{}_UNREACHABLE", p.prefix), "\n{r}");
    assert!(desc.contains("over 64 KiB"), "{desc}");
    assert!(c.fake.live().is_empty());
}

/// Only the vendor's own "no such credential" 404 is already gone: a 404
/// from a proxy, another service or a project GitLab cannot find fails the
/// delete, and the credential stays for the retry.
fn a_foreign_404_fails_the_delete(p: &'static Provider) {
    let mut c = Case::new(p);
    let (id, _) = created(&c.create(&[]));
    let mut replies = vec![("text/html", "<html><body>404 Not Found</body></html>")];
    match p.vendor {
        Vendor::Gitlab => replies.push(("application/json", r#"{"message":"404 Project Not Found"}"#)),
        // Artifactory's 404 (a base URL with /artifactory), not Access's.
        Vendor::Jfrog => replies.push((
            "application/json",
            r#"{"errors":[{"status":404,"message":"Not Found"}]}"#,
        )),
        _ => {}
    }
    for (ctype, body) in replies {
        c.fake.reply_next(p.delete.0, p.delete.1, 404, ctype, body);
        let r = c.delete(&id);
        r.assert_code(1);
        let (st, code, _) = last(&r);
        assert_eq!(
            (st.as_str(), code),
            ("failed", format!("{}_NOT_FOUND", p.prefix)),
            "{body}\n{r}"
        );
        assert_eq!(c.fake.live(), vec![id.clone()], "{body}");
    }
    c.delete(&id).assert_code(0);
    assert!(c.fake.live().is_empty());
}

/// A 2xx create reply with no usable id (not JSON, or the id null): nothing
/// can be deleted by it, so the task says the credential may remain and
/// where to look, and no id (never "null") reaches credhook.
fn a_create_reply_without_a_usable_id(p: &'static Provider) {
    let mut c = Case::new(p);
    for how in [
        Mangle::Body("<html><body>Created</body></html>".into()),
        Mangle::NullMember(p.id_member),
    ] {
        let made = c.fake.live().len();
        c.fake.mangle_next(p.create.0, p.create.1, how.clone());
        let r = c.create(&[]);
        r.assert_code(1);
        let (st, code, desc) = last(&r);
        assert_eq!(
            (st.as_str(), code),
            ("failed", format!("{}_BAD_REPLY", p.prefix)),
            "{how:?}\n{r}"
        );
        assert!(
            desc.contains("without a usable id") && desc.contains("look in"),
            "{desc}"
        );
        assert!(!desc.contains("being deleted"), "{desc}");
        assert_eq!(c.calls(p.delete), 0, "{how:?}\n{r}");
        assert_eq!(
            c.fake.live().len(),
            made + 1,
            "the fake made it, as the task says it may have"
        );
    }
}

/// A create reply whose id a delete could not use (a `/`, a control
/// character): the hook checks it with `need_id` before it goes out, so
/// nothing is emitted, and the task says where to look.
fn unfit_vendor_id(p: &'static Provider) {
    let mut c = Case::new(p);
    for bad in ["a/../b", "c-\u{0}-d", "e\u{1b}[2Jf"] {
        let bad = bad.to_string();
        c.fake
            .mangle_next(p.create.0, p.create.1, Mangle::Member(p.id_member, bad.clone()));
        let r = c.create(&[]);
        r.assert_code(1);
        let (_, code, desc) = last(&r);
        assert_eq!(code, format!("{}_BAD_REPLY", p.prefix), "{bad:?}\n{r}");
        assert!(
            desc.contains("not letters, digits") && desc.contains("look in"),
            "{desc}"
        );
        assert!(!r.log_has("rolling back"), "an id went out\n{r}");
        assert_eq!(c.calls(p.delete), 0, "{bad:?}\n{r}");
    }
}

/// A rollback whose delete finds the vendor's own "no such credential":
/// the hook's `gone` writes `already_gone=true`, and the log says so.
fn rollback_finds_it_gone(p: &'static Provider) {
    let mut c = Case::new(p);
    let body = match p.vendor {
        Vendor::Gitlab => r#"{"message":"Could not find project access token with token_id: 7"}"#,
        Vendor::Jfrog => r#"{"errors":[{"code":"NOT_FOUND","message":"Token not found"}]}"#,
        Vendor::PagerDuty => r#"{"error":{"code":2100,"message":"Not Found"}}"#,
        _ => r#"{"errors":[{"code":"not_found","message":"not found"}]}"#,
    };
    c.w.emu.fault(Endpoint::Task, Fault::Status(400));
    c.fake.reply_next(p.delete.0, p.delete.1, 404, "application/json", body);
    let r = c.create(&[]);
    assert!(r.log_has("rollback done: the credentials were already gone"), "\n{r}");
}

macro_rules! provider_tests {
    ($($name:ident: $p:expr;)*) => {$(
        mod $name {
            use super::*;
            #[test]
            fn create_delete_and_delete_again() { lifecycle($p) }
            #[test]
            fn each_error_reply_has_its_code() { error_replies($p) }
            #[test]
            fn bad_input_is_refused_before_any_call() { bad_inputs($p) }
            #[test]
            fn an_undeliverable_update_deletes_the_credential() { rollback($p) }
            #[test]
            fn a_credentials_id_unfit_for_a_url_is_refused() { bad_ids($p) }
            #[test]
            fn no_reply_or_an_untrusted_certificate_is_unreachable() { unreachable_or_untrusted($p) }
            #[test]
            fn a_reply_without_the_secret_deletes_the_credential() { reply_without_the_secret($p) }
            #[test]
            fn the_api_error_text_is_masked_whole_never_cut_in_the_hook() { error_text_is_masked_whole($p) }
            #[test]
            fn a_404_that_is_not_the_vendors_no_such_credential_fails_the_delete() { a_foreign_404_fails_the_delete($p) }
            #[test]
            fn a_create_reply_without_a_usable_id_says_the_credential_may_remain() { a_create_reply_without_a_usable_id($p) }
            #[test]
            fn a_vendor_id_unfit_for_a_url_is_refused_before_it_goes_out() { unfit_vendor_id($p) }
            #[test]
            fn a_rollback_that_finds_the_credential_gone_says_already_gone() { rollback_finds_it_gone($p) }
        }
    )*};
}

provider_tests! {
    jfrog: &JFROG;
    ibm_iam_apikey: &IAM;
    pagerduty: &PAGERDUTY;
    gitlab: &GITLAB;
}

#[test]
fn jfrog_sends_what_the_inputs_say_and_expands_nothing_twice() {
    let mut c = Case::new(&JFROG);
    c.create(&[]).assert_code(0);
    let post = c.fake.received().into_iter().find(|r| r.method == "POST").unwrap();
    let Ok(Value::Object(body)) = miniserde::json::from_str::<Value>(&post.body) else {
        panic!("{}", post.body)
    };
    let v = Value::Object(body);
    assert_eq!(field(&v, "username"), "ci-bot");
    assert_eq!(field(&v, "expires_in"), "3600");
    assert_eq!(field(&v, "refreshable"), "true");
    assert_eq!(field(&v, "force_revocable"), "true", "short tokens must stay revocable");
    // A {{NAME}} in an input is text, never the admin token.
    assert_eq!(
        field(&v, "description"),
        "CI token for \"builds\" & {{JFROG_ADMIN_TOKEN}}"
    );
    assert!(!post.body.contains(JFROG.admin));
    // Defaults: 90 days, and optional members absent.
    c.create(&[("EXPIRES_IN_SECONDS", ""), ("USERNAME", ""), ("DESCRIPTION", "")])
        .assert_code(0);
    // Over JFrog's limit, refused here; a line break is sent escaped.
    let long = "d".repeat(1025);
    let r = c.create(&[("DESCRIPTION", &long)]);
    assert_eq!(last(&r).1, "JFROG_BAD_INPUT", "\n{r}");
    c.create(&[("DESCRIPTION", "two\nlines"), ("EXPIRES_IN_SECONDS", "+00600")])
        .assert_code(0);
    let post = c.fake.received().into_iter().rfind(|r| r.method == "POST").unwrap();
    assert!(post.body.contains(r#""description":"two\nlines""#), "{}", post.body);
    assert!(post.body.contains(r#""expires_in":600,"#), "{}", post.body);
    let post = c
        .fake
        .received()
        .into_iter()
        .filter(|r| r.method == "POST")
        .nth(1)
        .unwrap();
    assert!(post.body.contains("\"expires_in\":7776000"), "{}", post.body);
    assert!(!post.body.contains("username"), "{}", post.body);
    assert!(
        post.body
            .contains(r#""description":"Secrets Manager secret ci-secret ("#),
        "{}",
        post.body
    );
}

#[test]
fn iam_locks_the_key_and_uses_the_login_keys_identity() {
    let mut c = Case::new(&IAM);
    let r = c.create(&[]);
    r.assert_code(0);
    let (id, payload) = created(&r);
    let post = c.fake.received().into_iter().find(|r| r.path == "/v1/apikeys").unwrap();
    assert_eq!(post.header("entity-lock"), Some("true"));
    assert!(post.body.contains("\"iam_id\":\"IBMid-FAKEADMIN1\""), "{}", post.body);
    assert!(post.body.contains("\"name\":\"ci-secret-delete\"") || post.body.contains("\"name\":\"ci-secret-"));
    assert_eq!(
        field(&Value::Object(payload.clone()), "id"),
        id,
        "SMOUT_ID is the key's id"
    );
    // The locked key is unlocked, then deleted.
    c.delete(&id).assert_code(0);
    let paths: Vec<String> = c
        .fake
        .received()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, [format!("/v1/apikeys/{id}/lock"), format!("/v1/apikeys/{id}")]);
}

#[test]
fn gitlab_encodes_the_project_path_and_sets_an_expiry() {
    let mut c = Case::new(&GITLAB);
    c.create(&[]).assert_code(0);
    let post = c.fake.received().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/api/v4/projects/group%2Fsub%2Fproject/access_tokens");
    assert!(
        post.body.contains("\"scopes\":[\"read_api\",\"read_repository\"]"),
        "{}",
        post.body
    );
    assert!(post.body.contains("\"access_level\":30"), "{}", post.body);
    assert!(post.body.contains("\"expires_at\":\"20"), "{}", post.body);
}

#[test]
fn pagerduty_sends_the_documented_subscription() {
    let mut c = Case::new(&PAGERDUTY);
    c.create(&[]).assert_code(0);
    let post = c.fake.received().into_iter().find(|r| r.method == "POST").unwrap();
    assert!(
        post.body
            .contains(r#""events":["incident.triggered","incident.resolved"]"#),
        "{}",
        post.body
    );
    assert!(
        post.body
            .contains(r#""filter":{"type":"service_reference","id":"PSVC123"}"#),
        "{}",
        post.body
    );
    // account_reference needs no id.
    c.create(&[("FILTER_TYPE", "account_reference"), ("FILTER_ID", "")])
        .assert_code(0);
}

/// The helpers every hook shares are one text: examples/common.sh, copied
/// verbatim into each hook (a hook is one file in the image).
#[test]
fn every_hook_sources_the_one_copy_of_the_common_helpers() {
    let common = std::fs::read_to_string(repo().join("examples/common.sh")).unwrap();
    let first_helper = common.lines().find(|l| l.ends_with("() {")).unwrap();
    for p in ALL {
        let hook = std::fs::read_to_string(repo().join("examples").join(p.dir).join("hook.sh")).unwrap();
        assert!(hook.starts_with("#!/bin/sh\n"), "{}", p.dir);
        assert!(
            hook.contains("/etc/credhook/provider.sh"),
            "{} does not source the helpers",
            p.dir
        );
        assert!(
            !hook.contains(first_helper),
            "examples/{}/hook.sh carries its own copy",
            p.dir
        );
    }
    // The image root holds them, byte for byte.
    let dir = support::TempDir::new("credhook-provider-lib");
    let root = dir.join("root");
    let out = Command::new(repo().join("scripts/rootfs.sh"))
        .arg(&root)
        .arg(repo().join("examples/jfrog/hook.sh"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(root.join("etc/credhook/provider.sh")).unwrap(),
        common
    );
}

#[test]
fn every_job_config_passes_credhook_check() {
    for p in ALL {
        let out = Command::new(credhook_bin())
            .arg("check")
            .arg(repo().join("examples").join(p.dir).join("job_config.json"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            p.dir,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn an_api_error_that_echoes_the_admin_credential_is_redacted() {
    for p in ALL {
        let mut c = Case::new(p);
        c.fake
            .fail_next_saying(p.create.0, p.create.1, 400, &format!("bad token {} for you", p.admin));
        let r = c.create(&[]);
        r.assert_code(1);
        let (_, code, desc) = last(&r);
        assert_eq!(code, format!("{}_API_ERROR", p.prefix), "\n{r}");
        assert!(desc.contains("bad token") && !desc.contains(p.admin), "{desc}");
    }
}

/// A secret the hook gets at run time (IAM's bearer token) is no secret
/// credhook knows: the hook masks it when an API echoes it in an error.
#[test]
fn iam_masks_its_own_token_when_the_api_echoes_it() {
    let mut c = Case::new(&IAM);
    c.fake.fail_next_echoing_auth("POST", "/v1/apikeys", 401);
    let r = c.create(&[]);
    r.assert_code(1);
    let (_, code, desc) = last(&r);
    assert_eq!(code, "IAM_UNAUTHORIZED", "\n{r}");
    assert!(desc.contains("token Bearer [REDACTED] is expired"), "{desc}");
    let (id, _) = created(&c.create(&[]));
    c.fake.fail_next_echoing_auth("DELETE", "/lock", 403);
    let r = c.delete(&id);
    let (_, code, desc) = last(&r);
    assert_eq!(code, "IAM_FORBIDDEN", "\n{r}");
    assert!(desc.contains("token Bearer [REDACTED] is expired"), "{desc}");
}

/// The watch itself: a process whose arguments hold a secret is seen.
#[test]
fn the_command_line_watch_sees_a_secret_argument() {
    let w = World::new();
    let fake = VendorFake::start(Vendor::Jfrog, &w.dir.join("fake"), "watch-me-0123456789").unwrap();
    let (_, hits) = watch_command_lines(&fake, || {
        Command::new("sh")
            .args(["-c", "sleep 0.3", "watch-me-0123456789"])
            .output()
            .unwrap()
    });
    assert!(hits.iter().any(|h| h.contains("(sh)")), "{hits:?}");
}

/// Not a scripted fault: the fake itself refuses a credential it does not know.
#[test]
fn a_wrong_admin_credential_is_unauthorized() {
    const WRONG_ID: &str = "7c1d2e3f-4a5b-4c6d-8e7f-00000000beef";
    for p in ALL {
        let mut c = Case::new(p);
        c.w.emu.add_secret(
            WRONG_ID,
            &format!(r#"{{"id":"{WRONG_ID}","secret_type":"arbitrary","payload":"wrOngCr3d-9f8e7d6c5b4a"}}"#),
        );
        c.w.secret("wrOngCr3d-9f8e7d6c5b4a");
        // IAM: with iam_id given, the key goes straight to the token call.
        let r = c.create(&[(p.login, WRONG_ID), ("IAM_ID", "IBMid-0001")]);
        r.assert_code(1);
        assert_eq!(last(&r).1, format!("{}_UNAUTHORIZED", p.prefix), "\n{r}");
        assert!(c.fake.live().is_empty());
    }
}
