//! A real PostgreSQL server that accepts only TLS logins (a throwaway CA made
//! with openssl), and the login secrets IBM Cloud Databases gives for it:
//! for tests/postgres.rs and tests/container.rs. Needs root (the server runs
//! as the user postgres) and PostgreSQL's server binaries.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const ADMIN_PASSWORD: &str = "admin-pw-7f3a9c1e2b";
pub const LOGIN_SECRET: &str = "9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f";

pub struct Postgres {
    pub bin: PathBuf,
    pub data: PathBuf,
    pub port: u16,
    /// The CA that signed the server's certificate (PEM file).
    pub ca: PathBuf,
}

pub fn pg_bin() -> Option<PathBuf> {
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

pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA (`NAME.pem`, `NAME.key`) in `dir`.
pub fn make_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
    dir.join(format!("{name}.pem"))
}

pub fn chown_postgres(p: &Path) {
    let st = Command::new("chown").arg("postgres:postgres").arg(p).status().unwrap();
    assert!(st.success());
}

impl Postgres {
    pub fn cmd(&self, tool: &str) -> Command {
        // initdb and postgres refuse to run as root.
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(self.bin.join(tool));
        c
    }

    /// A cluster on a free port of 127.0.0.1 that accepts only TLS logins.
    pub fn start(dir: &Path) -> Option<Postgres> {
        let bin = pg_bin()?;
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).unwrap();
        let pwfile = dir.join("pw");
        std::fs::write(&pwfile, ADMIN_PASSWORD).unwrap();
        let ca = make_ca(dir, "ca");
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        );
        std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                "san.ext",
                "-out",
                "server.pem",
            ],
        );
        for p in [dir, &data, &pwfile, &dir.join("server.key"), &dir.join("server.pem")] {
            chown_postgres(p);
        }
        std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        std::fs::set_permissions(
            dir.join("server.key"),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            bin,
            data: data.clone(),
            port,
            ca,
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
        // TLS only: no plain `host` line.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        let opts = format!(
            "-p {port} -k {d} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={d}/server.pem -c ssl_key_file={d}/server.key",
            d = dir.display()
        );
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
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(dir.join("pg.log")).unwrap_or_default()
        );
        Some(pg)
    }

    /// The admin URI as IBM Cloud Databases composes it.
    pub fn admin_uri(&self) -> String {
        format!(
            "postgres://admin:{ADMIN_PASSWORD}@127.0.0.1:{}/postgres?sslmode=verify-full",
            self.port
        )
    }

    /// `uri` (with sslmode=verify-full) trusting this server's CA.
    pub fn verified(&self, uri: &str) -> String {
        format!("{uri}&sslrootcert={}", self.ca.display())
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

/// The build machine's psql (the test's own view of the database).
pub fn psql(uri: &str, sql: &str) -> Output {
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

pub fn base64(bytes: &[u8]) -> String {
    let out = Command::new("openssl")
        .args(["base64", "-A"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(bytes)?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// A service credentials secret as Secrets Manager returns it for a
/// Databases for PostgreSQL instance (trimmed to the fields that matter).
pub fn service_credentials(composed: &str, ca_pem: &Path) -> String {
    let cert = base64(&std::fs::read(ca_pem).unwrap());
    format!(
        r#"{{"id":"{LOGIN_SECRET}","secret_type":"service_credentials","credentials":{{"connection":{{"postgres":{{"authentication":{{"method":"direct","password":"{ADMIN_PASSWORD}","username":"admin"}},"composed":["{composed}"],"certificate":{{"certificate_base64":"{cert}","name":"ca"}},"database":"postgres","path":"/postgres","scheme":"postgres","type":"uri"}}}},"instance_administration_api":{{"instance_id":"x"}}}}}}"#
    )
}
