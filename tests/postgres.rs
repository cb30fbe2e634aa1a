//! The PostgreSQL example end to end: a real server, `credhook run` against
//! the emulator with scripts/hooks/postgres.sh, a login with the returned
//! password, read-only access, a delete, and the login failing afterwards.
//! Skips with a message when PostgreSQL's server binaries are not installed
//! (.ci/run installs them).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::*;

const ADMIN_PASSWORD: &str = "admin-pw-7f3a9c1e2b";
const LOGIN_SECRET: &str = "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f";

struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .collect();
    dirs.sort();
    dirs.into_iter()
        .rev()
        .map(|d| d.join("bin"))
        .find(|b| b.join("initdb").exists())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

impl Postgres {
    fn cmd(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            // initdb and postgres refuse to run as root.
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn start(dir: &Path) -> Option<Postgres> {
        let bin = pg_bin()?;
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).unwrap();
        let as_postgres = is_root();
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, ADMIN_PASSWORD).unwrap();
        if as_postgres {
            for p in [dir, &data, &pwfile] {
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(p)
                    .status()
                    .unwrap();
            }
            std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            bin,
            data: data.clone(),
            port,
            as_postgres,
        };
        let out = pg
            .cmd("initdb")
            .args(["-D"])
            .arg(&data)
            .args(["-U", "admin", "--auth=scram-sha-256", "--pwfile"])
            .arg(&pwfile)
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let opts = format!("-p {port} -k {} -c listen_addresses=127.0.0.1", dir.display());
        let out = pg
            .cmd("pg_ctl")
            .args(["-D"])
            .arg(&data)
            .args(["-o", &opts, "-w", "-l"])
            .arg(dir.join("pg.log"))
            .arg("start")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(pg)
    }

    fn admin_uri(&self) -> String {
        format!("postgresql://admin:{ADMIN_PASSWORD}@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .cmd("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .output();
    }
}

fn psql(uri: &str, sql: &str) -> Output {
    Command::new("psql")
        .args([
            uri,
            "--no-psqlrc",
            "--quiet",
            "--tuples-only",
            "--no-align",
            "--set",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .unwrap()
}

fn payload_field(update: &credhook_emulator::Update, key: &str) -> String {
    let body = update.json();
    let miniserde::json::Value::Object(o) = &body else {
        return String::new();
    };
    let Some(miniserde::json::Value::Object(c)) = o.get("credentials") else {
        return String::new();
    };
    match c.get("payload") {
        Some(p) => field(p, key),
        None => String::new(),
    }
}

#[test]
fn postgres_roles_are_created_used_and_dropped() {
    let mut w = World::new();
    let Some(pg) = Postgres::start(&w.dir) else {
        eprintln!("skipping the PostgreSQL test: no PostgreSQL server binaries under /usr/lib/postgresql");
        return;
    };
    let admin = pg.admin_uri();
    let setup = psql(
        &admin,
        "CREATE SCHEMA reporting; CREATE TABLE reporting.sales (amount int); INSERT INTO reporting.sales VALUES (5), (7);",
    );
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));

    w.emu.add_secret(
        LOGIN_SECRET,
        &format!(r#"{{"id":"{LOGIN_SECRET}","secret_type":"arbitrary","payload":"{admin}"}}"#),
    );
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hooks/postgres.sh");
    let config =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/postgres/job_config.json"))
            .unwrap();
    for (name, value) in credhook::jobconfig::parse(config.as_bytes()).unwrap() {
        w.set(&name, &value);
    }
    w.set("CREDHOOK_HOOK", hook.to_str().unwrap())
        .set("SM_LOGIN_SECRET_ID_VALUE", LOGIN_SECRET)
        .set("SM_SCHEMA_NAME_VALUE", "reporting")
        .secret(ADMIN_PASSWORD);

    // create
    let r = w.run();
    r.assert_code(0);
    let created = r.update();
    let user = payload_field(created, "username");
    let password = payload_field(created, "password");
    let composed = payload_field(created, "composed");
    assert!(user.starts_with("sm_") && password.len() == 64, "{r}");
    assert_eq!(
        composed,
        format!("postgresql://{user}:{password}@127.0.0.1:{}/postgres", pg.port)
    );
    w.secret(&password);
    let r2 = w.run(); // a second create (a rotation) makes a second, distinct role
    r2.assert_code(0);

    // the new login works, reads, and cannot write
    let read = psql(&composed, "SELECT sum(amount) FROM reporting.sales");
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), "12");
    let write = psql(&composed, "INSERT INTO reporting.sales VALUES (1)");
    assert!(!write.status.success(), "the role can write");
    assert!(String::from_utf8_lossy(&write.stderr).contains("permission denied"));

    // delete: the login fails afterwards; deleting again still succeeds
    w.set("SM_ACTION", "delete_credentials").set("SM_CREDENTIALS_ID", &user);
    w.run().assert_code(0);
    let after = psql(&composed, "SELECT 1");
    assert!(!after.status.success(), "the dropped role can still log in");
    let again = w.run();
    again.assert_code(0);
    assert!(again.log_has("already gone"), "{again}");
    let roles = psql(
        &admin,
        &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"),
    );
    assert_eq!(String::from_utf8_lossy(&roles.stdout).trim(), "0");
}

#[test]
fn postgres_hook_refuses_a_bad_schema_name() {
    let mut w = World::new();
    w.emu.add_secret(
        LOGIN_SECRET,
        r#"{"secret_type":"arbitrary","payload":"postgresql://a:b@127.0.0.1:1/x"}"#,
    );
    let hook = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/hooks/postgres.sh");
    w.set("SMIN_LOGIN_SECRET_ID", "type:secret_id, required:true")
        .set("SMIN_SCHEMA_NAME", "type:string")
        .set("SMOUT_USERNAME", "type:string, required:true")
        .set("SM_LOGIN_SECRET_ID_VALUE", LOGIN_SECRET)
        .set("SM_SCHEMA_NAME_VALUE", "x\"; DROP TABLE users; --")
        .set("CREDHOOK_HOOK", hook.to_str().unwrap());
    let d = w.run().failed_with("PG_BAD_SCHEMA");
    assert!(d.contains("lower-case identifier"), "{d}");
}
