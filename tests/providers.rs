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

mod support;

use credhook_emulator::vendors::{Vendor, VendorFake};
use credhook_emulator::{Endpoint, Fault};
use miniserde::json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use support::*;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The secret holding the admin credential, and one holding garbage.
const LOGIN_ID: &str = "7c1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e";
const BAD_LOGIN_ID: &str = "7c1d2e3f-4a5b-4c6d-8e7f-000000000bad";

struct Provider {
    /// examples/<dir>
    dir: &'static str,
    vendor: Vendor,
    /// Error code prefix: <P>_UNAUTHORIZED, …
    prefix: &'static str,
    admin: &'static str,
    /// The secret_id input that names the admin credential.
    login: &'static str,
    /// The input that holds the vendor's base URL.
    url_input: &'static str,
    inputs: &'static [(&'static str, &'static str)],
    /// Method and path part of the create call.
    create: (&'static str, &'static str),
    delete: (&'static str, &'static str),
    /// Payload members a created secret must have.
    outputs: &'static [&'static str],
    /// Inputs that must be refused before any call, with the code.
    bad: &'static [(&'static str, &'static str, &'static str)],
}

const JFROG: Provider = Provider {
    dir: "jfrog",
    vendor: Vendor::Jfrog,
    prefix: "JFROG",
    admin: "eyJ2ZXIiOiIyIn0.jfrog-admin-token_0123456789",
    login: "LOGIN_SECRET_ID",
    url_input: "JFROG_BASE_URL",
    inputs: &[
        ("USERNAME", "ci-bot"),
        ("SCOPE", "applied-permissions/user"),
        ("EXPIRES_IN_SECONDS", "3600"),
        ("REFRESHABLE", "TRUE"),
        ("DESCRIPTION", "CI token for \"builds\" & {{JFROG_ADMIN_TOKEN}}"),
        ("INCLUDE_REFERENCE_TOKEN", "false"),
    ],
    create: ("POST", "/access/api/v1/tokens"),
    delete: ("DELETE", "/access/api/v1/tokens/"),
    outputs: &["access_token"],
    bad: &[
        ("JFROG_BASE_URL", "ftp://jfrog.example.com", "JFROG_BAD_INPUT"),
        (
            "JFROG_BASE_URL",
            "https://x.example.com/{{JFROG_ADMIN_TOKEN}}",
            "JFROG_BAD_INPUT",
        ),
        ("EXPIRES_IN_SECONDS", "-5", "JFROG_BAD_INPUT"),
    ],
};

const IAM: Provider = Provider {
    dir: "ibm-iam-apikey",
    vendor: Vendor::Iam,
    prefix: "IAM",
    admin: "iamAdminKey_0123456789abcdefABCDEF-xyz",
    login: "APIKEY_SECRET_ID",
    url_input: "URL",
    inputs: &[("SUPPORT_SESSIONS", "true"), ("ACTION_WHEN_LEAKED", "delete")],
    create: ("POST", "/v1/apikeys"),
    delete: ("DELETE", "/v1/apikeys/"),
    outputs: &["apikey", "crn", "iam_id", "account_id"],
    bad: &[
        ("URL", "http://iam.example.com", "IAM_BAD_INPUT"),
        ("IAM_ID", "IBMid 123", "IAM_BAD_INPUT"),
    ],
};

const PAGERDUTY: Provider = Provider {
    dir: "pagerduty",
    vendor: Vendor::PagerDuty,
    prefix: "PAGERDUTY",
    admin: "y_NbAkKc66ryYTWUXYEu-pd-rest-key",
    login: "LOGIN_SECRET_ID",
    url_input: "API_URL",
    inputs: &[
        ("WEBHOOK_URL", "https://hooks.example.com/pagerduty"),
        ("FILTER_TYPE", "service_reference"),
        ("FILTER_ID", "PSVC123"),
        ("EVENTS", "incident.triggered, incident.resolved"),
    ],
    create: ("POST", "/webhook_subscriptions"),
    delete: ("DELETE", "/webhook_subscriptions/"),
    outputs: &["signing_secret"],
    bad: &[
        ("FILTER_ID", "", "PAGERDUTY_BAD_INPUT"),
        ("WEBHOOK_URL", "http://hooks.example.com/pd", "PAGERDUTY_BAD_INPUT"),
        ("EVENTS", "incident.triggered,$(reboot)", "PAGERDUTY_BAD_INPUT"),
    ],
};

const GITLAB: Provider = Provider {
    dir: "gitlab",
    vendor: Vendor::Gitlab,
    prefix: "GITLAB",
    admin: "glpat-AdminToken0123456789xyz",
    login: "LOGIN_SECRET_ID",
    url_input: "GITLAB_URL",
    inputs: &[
        ("PROJECT_ID", "group/sub/project"),
        ("SCOPES", "read_api, read_repository"),
        ("ACCESS_LEVEL", "30"),
        ("EXPIRES_IN_DAYS", "7"),
    ],
    create: ("POST", "/access_tokens"),
    delete: ("DELETE", "/access_tokens/"),
    outputs: &["token"],
    bad: &[
        ("SCOPES", "read_api,root", "GITLAB_BAD_INPUT"),
        ("EXPIRES_IN_DAYS", "400", "GITLAB_BAD_INPUT"),
        ("PROJECT_ID", "group project", "GITLAB_BAD_INPUT"),
    ],
};

const ALL: [&Provider; 4] = [&JFROG, &IAM, &PAGERDUTY, &GITLAB];

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Root, and able to make a mount namespace (as a container runtime does).
fn can_enter_a_root() -> bool {
    is_root()
        && Command::new("unshare")
            .args(["--mount", "--fork", "true"])
            .status()
            .is_ok_and(|s| s.success())
}

/// Where the hook runs.
enum Place {
    /// The image root, entered with chroot as uid 10001.
    Image(PathBuf),
    /// This machine; the directory holds a `credhook` link to the binary under test.
    Host(PathBuf),
}

struct Case {
    p: &'static Provider,
    w: World,
    fake: VendorFake,
    place: Place,
    schema: Vec<(String, String)>,
    tasks: usize,
}

/// `job_env_variables` of a job_config.json.
fn schema_of(path: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let Ok(Value::Object(o)) = miniserde::json::from_str::<Value>(&text) else {
        panic!("{} is not a JSON object", path.display());
    };
    let Some(Value::Array(vars)) = o.get("job_env_variables") else {
        panic!("no job_env_variables in {}", path.display());
    };
    vars.iter().map(|v| (field(v, "name"), field(v, "value"))).collect()
}

impl Case {
    fn new(p: &'static Provider) -> Case {
        let mut w = World::new();
        let fake = VendorFake::start(p.vendor, &w.dir.join("fake"), p.admin).expect("start the fake");
        w.emu.add_secret(
            LOGIN_ID,
            &format!(
                r#"{{"id":"{LOGIN_ID}","secret_type":"arbitrary","payload":"{}\n"}}"#,
                p.admin
            ),
        );
        w.emu.add_secret(
            BAD_LOGIN_ID,
            &format!(r#"{{"id":"{BAD_LOGIN_ID}","secret_type":"arbitrary","payload":"two words"}}"#),
        );
        w.secret(p.admin);
        let hook = repo().join("examples").join(p.dir).join("hook.sh");
        let place = if can_enter_a_root() && std::env::var_os("CREDHOOK_PROVIDERS_ON_HOST").is_none() {
            let root = w.dir.join("rootfs");
            let out = Command::new(repo().join("scripts/rootfs.sh"))
                .arg(&root)
                .arg(&hook)
                .current_dir(repo())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "rootfs.sh: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::copy(w.emu.ca_file().unwrap(), root.join("tmp/sm-ca.pem")).unwrap();
            std::fs::copy(fake.ca_file(), root.join("tmp/vendor-ca.pem")).unwrap();
            Place::Image(root)
        } else {
            eprintln!(
                "providers: running {} on this machine, not in the image root (that needs root)",
                p.dir
            );
            let bin = w.dir.join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::os::unix::fs::symlink(credhook_bin(), bin.join("credhook")).unwrap();
            Place::Host(bin)
        };
        let schema = schema_of(&repo().join("examples").join(p.dir).join("job_config.json"));
        Case {
            p,
            w,
            fake,
            place,
            schema,
            tasks: 0,
        }
    }

    /// The provider's valid inputs with `changes` applied (an empty value
    /// removes an input), as `SM_<NAME>_VALUE` variables.
    fn inputs(&self, changes: &[(&str, &str)]) -> Vec<(String, String)> {
        let url = self.fake.url();
        let mut v: Vec<(String, String)> = vec![
            (self.p.login.to_string(), LOGIN_ID.to_string()),
            (self.p.url_input.to_string(), url),
        ];
        v.extend(self.p.inputs.iter().map(|(k, x)| (k.to_string(), x.to_string())));
        for (k, x) in changes {
            v.retain(|(n, _)| n != k);
            v.push((k.to_string(), x.to_string()));
        }
        v.into_iter().map(|(k, x)| (format!("SM_{k}_VALUE"), x)).collect()
    }

    /// Runs `credhook run` for `action` and checks that no secret leaked.
    fn run(&mut self, action: &str, creds_id: Option<&str>, changes: &[(&str, &str)]) -> Run {
        self.tasks += 1;
        let task = format!("task-{:04}-{action}", self.tasks);
        let mut env: Vec<(String, String)> = vec![
            ("SM_ACTION".into(), format!("{action}_credentials")),
            ("SM_TRIGGER".into(), "secret_creation".into()),
            ("SM_INSTANCE_URL".into(), self.w.emu.url()),
            ("CREDHOOK_IAM_URL".into(), self.w.emu.url()),
            ("SM_SECRET_ID".into(), SECRET_ID.into()),
            ("SM_SECRET_TASK_ID".into(), task),
            ("SM_SECRET_NAME".into(), "ci-secret".into()),
            ("SM_ACCESS_APIKEY".into(), API_KEY.into()),
            ("CREDHOOK_RETRY_BASE_MS".into(), "20".into()),
        ];
        if let Some(id) = creds_id {
            env.push(("SM_CREDENTIALS_ID".into(), id.into()));
        }
        env.extend(self.schema.iter().cloned());
        env.extend(self.inputs(changes));
        let mut cmd = match &self.place {
            Place::Image(root) => {
                env.push(("CREDHOOK_CA_FILE".into(), "/tmp/sm-ca.pem".into()));
                env.push(("SSL_CERT_FILE".into(), "/tmp/vendor-ca.pem".into()));
                env.push(("PATH".into(), "/bin".into()));
                // PATH=/bin is the image's (the Containerfile's ENV); the
                // tools that enter the root come from this machine.
                let script = r#"set -e
PATH=/usr/sbin:/usr/bin:/sbin:/bin
r="$ROOT"
mount -t proc proc "$r/proc"
mount -t tmpfs -o size=1m tmpfs "$r/dev"
touch "$r/dev/null" && mount --bind /dev/null "$r/dev/null"
ln -s /proc/self/fd "$r/dev/fd"
exec env PATH=/bin "$(command -v chroot)" --userspec=10001:10001 "$r" /credhook run"#;
                let mut c = Command::new("unshare");
                c.args(["--mount", "--fork", "/bin/sh", "-c", script])
                    .env_clear()
                    .env("ROOT", root);
                c
            }
            Place::Host(bin) => {
                env.push((
                    "CREDHOOK_CA_FILE".into(),
                    self.w.emu.ca_file().unwrap().display().to_string(),
                ));
                env.push(("SSL_CERT_FILE".into(), self.fake.ca_file().display().to_string()));
                env.push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
                let hook = repo().join("examples").join(self.p.dir).join("hook.sh");
                env.push(("CREDHOOK_HOOK".into(), hook.display().to_string()));
                let mut c = Command::new(credhook_bin());
                c.arg("run").env_clear().current_dir(&self.w.dir);
                c
            }
        };
        cmd.envs(env).stdin(std::process::Stdio::null());
        let out = watch_command_lines(&self.fake, || cmd.output().expect("run credhook"));
        for s in self.fake.secrets() {
            self.w.secret(&s);
        }
        let run = self.w.finish(out.0);
        assert!(out.1.is_empty(), "secrets on command lines: {:?}\n{run}", out.1);
        assert!(self.fake.problems().is_empty(), "{:?}\n{run}", self.fake.problems());
        run
    }

    /// From now on the hook trusts Secrets Manager's CA instead of the vendor's.
    fn distrust_the_vendor(&self) {
        let ca = match &self.place {
            Place::Image(root) => root.join("tmp/vendor-ca.pem"),
            Place::Host(_) => self.fake.ca_file().to_path_buf(),
        };
        std::fs::copy(self.w.emu.ca_file().unwrap(), ca).unwrap();
    }

    fn create(&mut self, changes: &[(&str, &str)]) -> Run {
        self.run("create", None, changes)
    }

    fn delete(&mut self, id: &str) -> Run {
        self.run("delete", Some(id), &[])
    }

    /// Requests the fake got for `(method, path part)`.
    fn calls(&self, call: (&str, &str)) -> usize {
        self.fake
            .received()
            .iter()
            .filter(|r| r.method == call.0 && r.path.contains(call.1))
            .count()
    }
}

/// Runs `f` while another thread reads every process's command line for the
/// fake's secrets; returns `f`'s output and the processes where one was seen.
fn watch_command_lines(fake: &VendorFake, f: impl FnOnce() -> Output) -> (Output, Vec<String>) {
    let stop = AtomicBool::new(false);
    let hits = Mutex::new(Vec::new());
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let needles = fake.secrets();
                for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
                    let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
                        continue;
                    };
                    let text = String::from_utf8_lossy(&cmdline);
                    if needles.iter().any(|n| text.contains(n.as_str())) {
                        let name = text.split('\0').next().unwrap_or("").to_string();
                        let hit = format!("pid {} ({name})", e.file_name().to_string_lossy());
                        let mut hits = hits.lock().unwrap();
                        if !hits.contains(&hit) {
                            hits.push(hit);
                        }
                    }
                }
            }
        });
        let out = f();
        stop.store(true, Ordering::SeqCst);
        out
    });
    (out, hits.into_inner().unwrap())
}

/// The last task update's status, and its error code and description.
fn last(r: &Run) -> (String, String, String) {
    let u = r.updates.last().unwrap_or_else(|| panic!("no task update\n{r}"));
    let (c, d) = u.error().unwrap_or_default();
    (u.status(), c, d)
}

/// The created credentials' id and payload.
fn created(r: &Run) -> (String, miniserde::json::Object) {
    let u = r.updates.last().unwrap_or_else(|| panic!("no task update\n{r}"));
    assert_eq!(u.status(), "credentials_created", "\n{r}");
    let Value::Object(body) = u.json() else { panic!("{r}") };
    let Some(Value::Object(creds)) = body.get("credentials") else {
        panic!("{r}")
    };
    let Some(Value::Object(payload)) = creds.get("payload") else {
        panic!("{r}")
    };
    (field(&Value::Object(creds.clone()), "id"), payload.clone())
}

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
    for id in ["../../admin", "a/b", "x?y=1", "{{SMIN_LOGIN_SECRET_ID_PAYLOAD}}"] {
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
    assert!(
        !post.body.contains("username") && !post.body.contains("description"),
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
fn every_hook_carries_the_common_block_verbatim() {
    let common = std::fs::read_to_string(repo().join("examples/common.sh")).unwrap();
    for p in ALL {
        let hook = std::fs::read_to_string(repo().join("examples").join(p.dir).join("hook.sh")).unwrap();
        assert!(hook.starts_with("#!/bin/sh\n"), "{}", p.dir);
        assert!(
            hook.contains(&common),
            "examples/{}/hook.sh differs from examples/common.sh",
            p.dir
        );
    }
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
            String::from_utf8_lossy(&out.stdout)
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
