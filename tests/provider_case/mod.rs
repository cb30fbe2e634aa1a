//! The provider test world: a [`World`] (emulator, binary, secret checks),
//! an HTTPS fake of the vendor, and the place the hook runs (the image root
//! as uid 10001, or this machine), with a watch on every process's command
//! line while credhook runs.

mod table;

pub use table::*;

use crate::support::root::{can_chroot, command_in_root, rootfs};
use crate::support::*;
use credhook_emulator::vendors::VendorFake;
use miniserde::json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where the hook runs.
pub enum Place {
    /// The image root, entered with chroot as uid 10001.
    Image(PathBuf),
    /// This machine; the directory holds a `credhook` link to the binary under test.
    Host(PathBuf),
}

impl Place {
    /// The image root that `scripts/rootfs.sh [--with TOOL]… DIR hook`
    /// assembles in `w`'s directory, when it can be entered (root, and
    /// CREDHOOK_PROVIDERS_ON_HOST unset); else this machine, saying so.
    pub fn new(w: &World, hook: &Path, with: &[&str]) -> Place {
        if can_chroot().is_ok() && std::env::var_os("CREDHOOK_PROVIDERS_ON_HOST").is_none() {
            let root = w.dir.join("rootfs");
            let mut args: Vec<&std::ffi::OsStr> = Vec::new();
            for t in with {
                args.push("--with".as_ref());
                args.push(t.as_ref());
            }
            args.push(root.as_os_str());
            args.push(hook.as_os_str());
            let out = rootfs(&args);
            assert!(
                out.status.success(),
                "rootfs.sh: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Place::Image(root)
        } else {
            eprintln!(
                "providers: running {} on this machine, not in the image root (that needs root)",
                hook.display()
            );
            let bin = w.dir.join("bin");
            std::fs::create_dir_all(&bin).unwrap();
            std::os::unix::fs::symlink(credhook_bin(), bin.join("credhook")).unwrap();
            for t in with {
                if let Some(path) = which(t) {
                    std::os::unix::fs::symlink(path, bin.join(t)).unwrap();
                }
            }
            Place::Host(bin)
        }
    }

    /// Copies `src` (a CA file) to `/tmp/NAME` in the image root; the path
    /// the hook and credhook see it at.
    pub fn file(&self, src: &Path, name: &str) -> String {
        match self {
            Place::Image(root) => {
                std::fs::copy(src, root.join("tmp").join(name)).unwrap();
                format!("/tmp/{name}")
            }
            Place::Host(_) => src.display().to_string(),
        }
    }

    /// `credhook run` there, with only `env` (and PATH), its hook `hook`.
    pub fn command(&self, w: &World, mut env: Vec<(String, String)>, hook: &Path) -> Command {
        let mut cmd = match self {
            // PATH=/bin is the image's (the Containerfile's ENV).
            Place::Image(root) => command_in_root(root, &env, &["/credhook", "run"]),
            Place::Host(bin) => {
                env.push(("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())));
                env.push(("CREDHOOK_HOOK".into(), hook.display().to_string()));
                let mut c = Command::new(credhook_bin());
                c.arg("run").env_clear().current_dir(&w.dir).envs(env);
                c
            }
        };
        cmd.stdin(std::process::Stdio::null());
        cmd
    }
}

/// A command on this machine's PATH.
fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

pub struct Case {
    pub p: &'static Provider,
    pub w: World,
    pub fake: VendorFake,
    place: Place,
    /// Where the hook finds Secrets Manager's CA and the vendor's.
    cas: (String, String),
    schema: Vec<(String, String)>,
    tasks: usize,
}

/// `job_env_variables` of a job_config.json.
pub fn schema_of(path: &Path) -> Vec<(String, String)> {
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
    pub fn new(p: &'static Provider) -> Case {
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
        let place = Place::new(&w, &hook, &[]);
        let cas = (
            place.file(w.emu.ca_file().unwrap(), "sm-ca.pem"),
            place.file(fake.ca_file(), "vendor-ca.pem"),
        );
        let schema = schema_of(&repo().join("examples").join(p.dir).join("job_config.json"));
        Case {
            p,
            w,
            fake,
            place,
            cas,
            schema,
            tasks: 0,
        }
    }

    /// The provider's valid inputs with `changes` applied (an empty value
    /// removes an input), as `SM_<NAME>_VALUE` variables.
    pub fn inputs(&self, changes: &[(&str, &str)]) -> Vec<(String, String)> {
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
    pub fn run(&mut self, action: &str, creds_id: Option<&str>, changes: &[(&str, &str)]) -> Run {
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
        env.push(("CREDHOOK_CA_FILE".into(), self.cas.0.clone()));
        env.push(("SSL_CERT_FILE".into(), self.cas.1.clone()));
        let hook = repo().join("examples").join(self.p.dir).join("hook.sh");
        let mut cmd = self.place.command(&self.w, env, &hook);
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
    pub fn distrust_the_vendor(&self) {
        let ca = match &self.place {
            Place::Image(root) => root.join("tmp/vendor-ca.pem"),
            Place::Host(_) => self.fake.ca_file().to_path_buf(),
        };
        std::fs::copy(self.w.emu.ca_file().unwrap(), ca).unwrap();
    }

    pub fn create(&mut self, changes: &[(&str, &str)]) -> Run {
        self.run("create", None, changes)
    }

    pub fn delete(&mut self, id: &str) -> Run {
        self.run("delete", Some(id), &[])
    }

    /// Requests the fake got for `(method, path part)`.
    pub fn calls(&self, call: (&str, &str)) -> usize {
        self.fake
            .received()
            .iter()
            .filter(|r| r.method == call.0 && r.path.contains(call.1))
            .count()
    }
}

/// Runs `f` while another thread reads every process's command line for the
/// fake's secrets; returns `f`'s output and the processes where one was seen.
pub fn watch_command_lines(fake: &VendorFake, f: impl FnOnce() -> Output) -> (Output, Vec<String>) {
    watch_command_lines_for(|| fake.secrets(), f)
}

/// [`watch_command_lines`] for the strings `secrets()` gives (asked again
/// and again: a fake issues new ones as it goes).
pub fn watch_command_lines_for(
    secrets: impl Fn() -> Vec<String> + Sync,
    f: impl FnOnce() -> Output,
) -> (Output, Vec<String>) {
    let stop = AtomicBool::new(false);
    let hits = Mutex::new(Vec::new());
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::SeqCst) {
                let needles = secrets();
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
pub fn last(r: &Run) -> (String, String, String) {
    let u = r.updates.last().unwrap_or_else(|| panic!("no task update\n{r}"));
    let (c, d) = u.error().unwrap_or_default();
    (u.status(), c, d)
}

/// The created credentials' id and payload.
pub fn created(r: &Run) -> (String, miniserde::json::Object) {
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
