//! examples/slack end to end: `credhook run` with
//! `CREDHOOK_PREVIOUS_CREDENTIALS=true` against the emulator (which serves the
//! secret's last version), the hook in the image root (as uid 10001; on this
//! machine without root) against an HTTPS fake of Slack's `oauth.v2.access`
//! whose refresh tokens are good for one exchange.
//!
//! Every run checks that no secret (client secret, any refresh or access
//! token) reached credhook's output, a task description or a command line,
//! and that every request followed Slack's documented form.

#[allow(dead_code)]
mod provider_case;
mod support;

use credhook_emulator::vendors::{SLACK_CLIENT_ID, SLACK_TEAM_ID, Vendor, VendorFake};
use miniserde::json::Value;
use provider_case::{Place, created, last, watch_command_lines};
use std::path::PathBuf;
use support::*;

const CLIENT_SECRET: &str = "slack-client-secret-0123456789abcdef";
const EXCHANGE_ID: &str = "5e1ac0de-1111-4222-8333-944455556666";

struct Slack {
    w: World,
    fake: VendorFake,
    place: Place,
    hook: PathBuf,
    cas: (String, String),
    /// The refresh token stored in the exchange secret.
    initial: String,
    tasks: usize,
    /// Job settings beyond the defaults (an empty value removes one).
    settings: Vec<(String, String)>,
}

impl Slack {
    fn new() -> Slack {
        let w = World::new();
        let fake = VendorFake::start(Vendor::Slack, &w.dir.join("fake"), CLIENT_SECRET).unwrap();
        let hook = repo().join("examples/slack/hook.sh");
        let place = Place::new(&w, &hook, &[]);
        let cas = (
            place.file(w.emu.ca_file().unwrap(), "sm-ca.pem"),
            place.file(fake.ca_file(), "slack-ca.pem"),
        );
        let mut s = Slack {
            w,
            fake,
            place,
            hook,
            cas,
            initial: String::new(),
            tasks: 0,
            settings: Vec::new(),
        };
        s.store_initial(SLACK_CLIENT_ID, CLIENT_SECRET);
        s
    }

    /// A fresh initial refresh token in the exchange secret, with this client.
    fn store_initial(&mut self, client_id: &str, client_secret: &str) {
        self.initial = self.fake.slack_refresh_token();
        let payload = format!(
            r#"{{"client_id":"{client_id}","client_secret":"{client_secret}","refresh_token":"{}"}}"#,
            self.initial
        );
        self.store_payload(&payload);
    }

    fn store_payload(&mut self, payload: &str) {
        let raw = format!(
            r#"{{"id":"{EXCHANGE_ID}","secret_type":"arbitrary","payload":{}}}"#,
            miniserde::json::to_string(&payload.to_string())
        );
        self.w.emu.add_secret(EXCHANGE_ID, &raw);
        self.w.secret(CLIENT_SECRET);
    }

    fn set(&mut self, k: &str, v: &str) -> &mut Slack {
        self.settings.retain(|(n, _)| n != k);
        self.settings.push((k.into(), v.into()));
        self
    }

    fn run(&mut self, action: &str, creds_id: Option<&str>) -> Run {
        self.tasks += 1;
        let mut env: Vec<(String, String)> = vec![
            ("SM_ACTION".into(), format!("{action}_credentials")),
            ("SM_TRIGGER".into(), "automatic_secret_rotation".into()),
            ("SM_INSTANCE_URL".into(), self.w.emu.url()),
            ("CREDHOOK_IAM_URL".into(), self.w.emu.url()),
            ("SM_SECRET_ID".into(), SECRET_ID.into()),
            ("SM_SECRET_TASK_ID".into(), format!("task-{:04}", self.tasks)),
            ("SM_SECRET_NAME".into(), "slack-bot".into()),
            ("SM_ACCESS_APIKEY".into(), API_KEY.into()),
            ("CREDHOOK_RETRY_BASE_MS".into(), "20".into()),
            ("CREDHOOK_CA_FILE".into(), self.cas.0.clone()),
            ("SSL_CERT_FILE".into(), self.cas.1.clone()),
            ("CREDHOOK_PREVIOUS_CREDENTIALS".into(), "true".into()),
            ("SLACK_API_URL".into(), format!("{}/api", self.fake.url())),
            ("CREDHOOK_HTTP_ALLOW".into(), "127.0.0.1".into()),
            ("SM_EXCHANGE_TOKENS_SECRET_ID_VALUE".into(), EXCHANGE_ID.into()),
        ];
        if let Some(id) = creds_id {
            env.push(("SM_CREDENTIALS_ID".into(), id.into()));
        }
        env.extend(provider_case::schema_of(&repo().join("examples/slack/job_config.json")));
        for (k, v) in &self.settings {
            env.retain(|(n, _)| n != k);
            if !v.is_empty() {
                env.push((k.clone(), v.clone()));
            }
        }
        let mut cmd = self.place.command(&self.w, env, &self.hook);
        let (out, hits) = watch_command_lines(&self.fake, || cmd.output().expect("run credhook"));
        for s in self.fake.secrets() {
            self.w.secret(&s);
        }
        let run = self.w.finish(out);
        assert!(hits.is_empty(), "secrets on command lines: {hits:?}\n{run}");
        assert!(self.fake.problems().is_empty(), "{:?}\n{run}", self.fake.problems());
        run
    }

    fn create(&mut self) -> Run {
        self.run("create", None)
    }

    /// The refresh tokens the fake got, in order.
    fn exchanged(&self) -> Vec<String> {
        self.fake
            .received()
            .iter()
            .filter(|r| r.method == "POST")
            .map(|r| form_value(&r.body, "refresh_token"))
            .collect()
    }
}

fn form_value(body: &str, name: &str) -> String {
    body.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        // Tokens and client ids need no percent-encoding.
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn payload_token(r: &Run, name: &str) -> String {
    let (_, payload) = created(r);
    field(&Value::Object(payload), name)
}

#[test]
fn three_chained_rotations_each_exchange_the_last_versions_token() {
    let mut s = Slack::new();
    let mut expect_exchanged = vec![s.initial.clone()];
    let mut ids = Vec::new();
    for n in 1..=3 {
        let r = s.create();
        r.assert_code(0);
        let (id, _) = created(&r);
        assert!(id.starts_with(&format!("slack-{SLACK_TEAM_ID}-20")), "{id}\n{r}");
        ids.push(id);
        let access = payload_token(&r, "slack_access_token");
        let refresh = payload_token(&r, "slack_refresh_token");
        assert!(
            access.starts_with("xoxe.xoxb-") && refresh.starts_with("xoxe-1-"),
            "\n{r}"
        );
        assert_eq!(s.exchanged(), expect_exchanged, "rotation {n}\n{r}");
        assert_eq!(s.w.emu.versions_total(SECRET_ID), n as u64);
        if n == 1 {
            assert!(r.log_has("no previous version with a refresh token"), "{r}");
        } else {
            assert!(r.log_has("exchanging the previous version's refresh token"), "{r}");
        }
        assert!(!r.log_has("falling back"), "{r}");
        // Only the newest refresh token is still good.
        assert_eq!(s.fake.slack_unspent(), vec![refresh.clone()], "\n{r}");
        expect_exchanged.push(refresh);
    }
    // The last version's token is what a fourth rotation would exchange.
    assert_eq!(s.fake.slack_unspent().len(), 1);
    // Deleting an old version has nothing to revoke.
    let before = s.fake.received().len();
    let r = s.run("delete", Some(&ids[0]));
    r.assert_code(0);
    assert_eq!(last(&r).0, "credentials_deleted", "\n{r}");
    assert!(r.log_has("nothing to revoke"), "{r}");
    assert_eq!(s.fake.received().len(), before, "a delete calls nothing");
}

#[test]
fn the_first_rotation_with_no_previous_version_uses_the_initial_token() {
    let mut s = Slack::new();
    let r = s.create();
    r.assert_code(0);
    assert_eq!(s.exchanged(), [s.initial.clone()]);
    let form = &s.fake.received()[0].body;
    assert!(form.contains("grant_type=refresh_token"), "{form}");
    assert!(form.contains(&format!("client_id={SLACK_CLIENT_ID}")), "{form}");
}

#[test]
fn a_refused_previous_token_falls_back_once_to_the_initial_one() {
    let mut s = Slack::new();
    s.create().assert_code(0);
    // Someone exchanged the version's refresh token elsewhere: spent.
    let spent = s.fake.slack_unspent().pop().unwrap();
    s.fake.slack_spend(&spent);
    s.store_initial(SLACK_CLIENT_ID, CLIENT_SECRET);
    let r = s.create();
    r.assert_code(0);
    assert!(
        r.log_has("Slack refused the previous version's refresh token (invalid_refresh_token): falling back once to the initial refresh token"),
        "{r}"
    );
    let ex = s.exchanged();
    assert_eq!(ex[1..], [spent.clone(), s.initial.clone()], "\n{r}");
    // When the initial one is spent too, the task fails after one fallback.
    let spent = s.fake.slack_unspent().pop().unwrap();
    s.fake.slack_spend(&spent);
    let r = s.create();
    r.assert_code(1);
    let (_, code, desc) = last(&r);
    assert_eq!(code, "SLACK_INVALID_REFRESH_TOKEN", "\n{r}");
    assert!(
        desc.contains("initial refresh token in exchange_tokens_secret_id"),
        "{desc}"
    );
    assert_eq!(s.exchanged().len(), ex.len() + 2, "one fallback, no more");
}

#[test]
fn slacks_ok_false_errors_have_their_own_codes() {
    let mut s = Slack::new();
    s.store_initial(SLACK_CLIENT_ID, "not-the-client-secret-0000");
    s.w.secret("not-the-client-secret-0000");
    let r = s.create();
    r.assert_code(1);
    assert_eq!(last(&r).1, "SLACK_BAD_CLIENT_SECRET", "\n{r}");
    s.store_initial("1.2", CLIENT_SECRET);
    let r = s.create();
    assert_eq!(last(&r).1, "SLACK_INVALID_CLIENT_ID", "\n{r}");
    s.store_initial(SLACK_CLIENT_ID, CLIENT_SECRET);
    for (error, code) in [
        ("invalid_grant_type", "SLACK_INVALID_GRANT_TYPE"),
        ("ratelimited", "SLACK_RATE_LIMITED"),
        ("account_inactive", "SLACK_API_ERROR"),
    ] {
        s.fake.reply_next(
            "POST",
            "oauth.v2.access",
            200,
            "application/json",
            &format!(r#"{{"ok":false,"error":"{error}"}}"#),
        );
        let r = s.create();
        r.assert_code(1);
        let (_, got, desc) = last(&r);
        assert_eq!(got, code, "\n{r}");
        assert!(desc.contains(error), "{desc}");
    }
    // A 200 that is not Slack's shape.
    s.fake
        .reply_next("POST", "oauth.v2.access", 200, "text/html", "<html>hi</html>");
    assert_eq!(last(&s.create()).1, "SLACK_BAD_REPLY");
    assert_eq!(s.w.emu.versions_total(SECRET_ID), 0, "nothing was created");
}

#[test]
fn an_error_that_is_not_a_slack_code_is_not_echoed() {
    // A server (or a proxy in front of Slack) that puts part of the refresh
    // token or client secret it got in `error`: a fragment no registry
    // masks (only whole values are), so the hook shows only Slack-shaped
    // codes. The run's check finds any 8-character piece of a secret.
    let mut s = Slack::new();
    let piece = &s.initial[..s.initial.len() - 6];
    for error in [
        format!("invalid_refresh_token: {piece}"),
        format!("bad client_secret {}", &CLIENT_SECRET[..20]),
        "x".repeat(200),
    ] {
        s.fake.reply_next(
            "POST",
            "oauth.v2.access",
            200,
            "application/json",
            &format!(r#"{{"ok":false,"error":{}}}"#, miniserde::json::to_string(&error)),
        );
        let r = s.create();
        r.assert_code(1);
        let (_, code, desc) = last(&r);
        assert_eq!(code, "SLACK_API_ERROR", "\n{r}");
        assert!(desc.contains("not shown"), "{desc}");
        assert!(!desc.contains(&error[..12]), "{desc}");
    }
    // Slack's own codes are still named.
    s.fake.reply_next(
        "POST",
        "oauth.v2.access",
        200,
        "application/json",
        r#"{"ok":false,"error":"team_access_not_granted"}"#,
    );
    assert!(last(&s.create()).2.contains("team_access_not_granted"));
}

#[test]
fn a_429_is_retried_honouring_retry_after_then_fails_when_it_lasts() {
    let mut s = Slack::new();
    s.fake.fail_next("POST", "oauth.v2.access", 429);
    let r = s.create();
    r.assert_code(0);
    assert_eq!(
        s.exchanged(),
        [s.initial.clone(), s.initial.clone()],
        "the token was not spent by a 429"
    );
    for _ in 0..3 {
        s.fake.fail_next("POST", "oauth.v2.access", 429);
    }
    let before = s.exchanged().len();
    let r = s.create();
    r.assert_code(1);
    let (_, code, desc) = last(&r);
    assert_eq!(code, "SLACK_RATE_LIMITED", "\n{r}");
    assert!(desc.contains("429"), "{desc}");
    assert_eq!(s.exchanged().len() - before, 3, "two retries");
}

#[test]
fn slack_down_is_unreachable_or_a_server_error() {
    let mut s = Slack::new();
    s.set("SLACK_API_URL", "https://127.0.0.1:1/api");
    let r = s.create();
    r.assert_code(1);
    assert_eq!(last(&r).1, "SLACK_UNREACHABLE", "\n{r}");
    s.set("SLACK_API_URL", &format!("{}/api", s.fake.url()));
    for _ in 0..3 {
        s.fake.fail_next("POST", "oauth.v2.access", 503);
    }
    let r = s.create();
    assert_eq!(last(&r).1, "SLACK_SERVER_ERROR", "\n{r}");
    s.fake.fail_next("POST", "oauth.v2.access", 500);
    let r = s.create();
    assert_eq!(last(&r).1, "SLACK_SERVER_ERROR", "\n{r}");
    assert_eq!(s.w.emu.versions_total(SECRET_ID), 0);
    // The initial token was never taken: the next rotation works.
    s.create().assert_code(0);
}

#[test]
fn the_job_must_turn_on_previous_versions_and_allow_the_host() {
    let mut s = Slack::new();
    s.set("CREDHOOK_PREVIOUS_CREDENTIALS", "");
    let r = s.create();
    assert_eq!(last(&r).1, "SLACK_NO_PREVIOUS_VERSION", "\n{r}");
    s.set("CREDHOOK_PREVIOUS_CREDENTIALS", "true")
        .set("CREDHOOK_HTTP_ALLOW", "slack.com");
    let r = s.create();
    let (_, code, desc) = last(&r);
    assert_eq!(code, "SLACK_HOST_NOT_ALLOWED", "\n{r}");
    assert!(
        desc.contains("SLACK_API_URL") && desc.contains("CREDHOOK_HTTP_ALLOW"),
        "{desc}"
    );
    s.set("SLACK_API_URL", "http://slack.example.com/api");
    assert_eq!(last(&s.create()).1, "SLACK_BAD_SETTING");
    assert!(s.fake.received().is_empty(), "nothing reached Slack");
}

#[test]
fn a_broken_exchange_secret_is_named() {
    let mut s = Slack::new();
    for payload in [
        "not json".to_string(),
        r#"{"client_id":"1.2","client_secret":"x-secret-value"}"#.to_string(),
        format!(r#"{{"client_id":"{SLACK_CLIENT_ID}","client_secret":"two words here","refresh_token":"t-token-1"}}"#),
    ] {
        s.store_payload(&payload);
        let r = s.create();
        r.assert_code(1);
        let (_, code, _) = last(&r);
        assert!(
            code == "SLACK_BAD_EXCHANGE_SECRET" || code == "SLACK_BAD_LOGIN_SECRET",
            "{payload}\n{r}"
        );
    }
    assert!(s.fake.received().is_empty());
}

#[test]
fn the_slack_job_config_passes_check() {
    let out = std::process::Command::new(credhook_bin())
        .arg("check")
        .arg(repo().join("examples/slack/job_config.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
