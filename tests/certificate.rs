//! examples/certificate end to end: `credhook run` against the emulator, the
//! hook in the image root that `scripts/rootfs.sh --with openssl` assembles
//! (as uid 10001; on this machine without root). Each certificate is read
//! back with `openssl x509 -text` and checked with `openssl verify`.
//!
//! The private key must reach no argument list, log or lasting file. Every
//! run is traced with `strace -f -e trace=execve`, so the argument list of
//! every program started (not a sample of them) is on record: none may hold
//! a line of the new key or of the CA's key. The run's output is checked
//! like every other secret's, and the hook's temporary directory must be
//! gone afterwards.

#[allow(dead_code)]
mod provider_case;
mod support;

use miniserde::json::Value;
use provider_case::{Place, created, last};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

const CA_SECRET: &str = "c0ffee00-1111-4222-8333-944455556666";

struct Cert {
    w: World,
    place: Place,
    hook: PathBuf,
    sm_ca: String,
    /// Where the hook's temporary directories go (on this machine).
    tmp: PathBuf,
    tasks: usize,
    /// Lines of CA keys handed to the job (secrets too).
    ca_key_lines: Vec<String>,
}

/// What one create made.
struct Made {
    run: Run,
    id: String,
    key: String,
    cert: String,
    chain: Option<String>,
    dir: support::TempDir,
}

fn b64(s: &str) -> String {
    let out = Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(s.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "not base64: {s}");
    String::from_utf8(out.stdout).unwrap()
}

fn openssl(args: &[&str]) -> (bool, String) {
    let o = Command::new("openssl").args(args).output().unwrap();
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Lines of a PEM body (not its BEGIN/END lines).
fn body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(String::from)
        .collect()
}

/// What must never be seen of a private key: the lines of its PEM in both
/// encodings a tool writes (PKCS#8, and PKCS#1 or SEC1), and 40-character
/// windows of their base64 as one line (a PEM's lines joined or re-wrapped
/// still holds them).
fn pem_lines(pem: &str) -> Vec<String> {
    let dir = support::TempDir::new("credhook-key-forms");
    let path = dir.join("key.pem");
    std::fs::write(&path, pem).unwrap();
    let p = path.to_str().unwrap();
    let mut forms = vec![pem.to_string()];
    for args in [vec!["pkey", "-in", p], vec!["pkey", "-in", p, "-traditional"]] {
        let (ok, out) = openssl(&args);
        assert!(ok, "{out}");
        forms.push(out);
    }
    let mut lines = Vec::new();
    for f in &forms {
        let body = body_lines(f);
        let joined: String = body.concat();
        lines.extend(body);
        let chars: Vec<char> = joined.chars().collect();
        lines.extend(
            chars
                .chunks(40)
                .filter(|c| c.len() == 40)
                .map(|c| c.iter().collect::<String>()),
        );
    }
    lines.sort();
    lines.dedup();
    lines
}

impl Cert {
    fn new() -> Cert {
        let w = World::new();
        let hook = repo().join("examples/certificate/hook.sh");
        let place = Place::new(&w, &hook, &["openssl"]);
        let sm_ca = place.file(w.emu.ca_file().unwrap(), "sm-ca.pem");
        let tmp = w.dir.join("hook-tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        Cert {
            w,
            place,
            hook,
            sm_ca,
            tmp,
            tasks: 0,
            ca_key_lines: Vec::new(),
        }
    }

    /// The hook's /tmp: the image root's, or the directory given as TMPDIR.
    fn hook_tmp(&self) -> PathBuf {
        match &self.place {
            Place::Image(root) => root.join("tmp"),
            Place::Host(_) => self.tmp.clone(),
        }
    }

    /// Runs `credhook run` under strace; returns the run and every argument
    /// list of every program started.
    fn run(&mut self, action: &str, creds_id: Option<&str>, inputs: &[(&str, &str)]) -> (Run, String) {
        self.tasks += 1;
        let mut env: Vec<(String, String)> = vec![
            ("SM_ACTION".into(), format!("{action}_credentials")),
            ("SM_TRIGGER".into(), "manual_secret_rotation".into()),
            ("SM_INSTANCE_URL".into(), self.w.emu.url()),
            ("CREDHOOK_IAM_URL".into(), self.w.emu.url()),
            ("SM_SECRET_ID".into(), SECRET_ID.into()),
            ("SM_SECRET_TASK_ID".into(), format!("task-{:04}", self.tasks)),
            ("SM_ACCESS_APIKEY".into(), API_KEY.into()),
            ("CREDHOOK_RETRY_BASE_MS".into(), "20".into()),
            ("CREDHOOK_CA_FILE".into(), self.sm_ca.clone()),
        ];
        if let Place::Host(_) = self.place {
            env.push(("TMPDIR".into(), self.tmp.display().to_string()));
        }
        if let Some(id) = creds_id {
            env.push(("SM_CREDENTIALS_ID".into(), id.into()));
        }
        env.extend(provider_case::schema_of(
            &repo().join("examples/certificate/job_config.json"),
        ));
        for (k, v) in inputs {
            env.push((format!("SM_{k}_VALUE"), v.to_string()));
        }
        let before: Vec<_> = entries(&self.hook_tmp());
        let cmd = self.place.command(&self.w, env, &self.hook);
        let trace = self.w.dir.join(format!("strace-{}", self.tasks));
        let out = traced(cmd, &trace).output().expect("run credhook under strace");
        for l in self.ca_key_lines.clone() {
            self.w.secret(&l);
        }
        let run = self.w.finish(out);
        let execs = std::fs::read_to_string(&trace).unwrap_or_default();
        assert!(execs.contains("execve("), "strace recorded nothing\n{run}");
        for l in &self.ca_key_lines {
            assert!(
                !execs.contains(l.as_str()),
                "a line of the CA key is in an argument list\n{run}"
            );
        }
        assert_eq!(
            entries(&self.hook_tmp()),
            before,
            "the hook left something in its temporary directory\n{run}"
        );
        (run, execs)
    }

    fn create(&mut self, inputs: &[(&str, &str)]) -> Made {
        let (run, execs) = self.run("create", None, inputs);
        run.assert_code(0);
        let (id, payload) = created(&run);
        let payload = Value::Object(payload);
        let key = b64(&field(&payload, "private_key_base64"));
        let cert = b64(&field(&payload, "certificate_base64"));
        let chain = Some(field(&payload, "chain_base64"))
            .filter(|c| !c.is_empty())
            .map(|c| b64(&c));
        // openssl really ran under the trace, and no argument list held the key.
        assert!(execs.contains("genpkey"), "no openssl genpkey in the trace\n{run}");
        let lines = pem_lines(&key);
        assert!(lines.len() >= 2, "{key}");
        for l in &lines {
            assert!(
                !execs.contains(l.as_str()),
                "a line of the new key is in an argument list\n{run}"
            );
        }
        run.assert_no_secret(&lines);
        let dir = support::TempDir::new("credhook-cert-check");
        std::fs::write(dir.join("key.pem"), &key).unwrap();
        std::fs::write(dir.join("cert.pem"), &cert).unwrap();
        if let Some(c) = &chain {
            std::fs::write(dir.join("chain.pem"), c).unwrap();
        }
        Made {
            run,
            id,
            key,
            cert,
            chain,
            dir,
        }
    }

    fn fails(&mut self, inputs: &[(&str, &str)], code: &str) -> String {
        let (run, execs) = self.run("create", None, inputs);
        run.assert_code(1);
        let (status, got, desc) = last(&run);
        assert_eq!((status.as_str(), got.as_str()), ("failed", code), "{inputs:?}\n{run}");
        assert!(!execs.contains("genpkey"), "a key was made for refused inputs\n{run}");
        desc
    }

    /// A CA made now with openssl (never committed): its certificate and key
    /// PEM. `extra` are `openssl req` arguments (extensions, days).
    fn make_ca(&mut self, name: &str, signer: Option<(&Path, &Path)>, extra: &[&str]) -> (String, String) {
        let d = self.w.dir.join(format!("ca-{name}"));
        std::fs::create_dir_all(&d).unwrap();
        let key = d.join("key.pem");
        let cert = d.join("cert.pem");
        let (ok, out) = openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            key.to_str().unwrap(),
        ]);
        assert!(ok, "{out}");
        let subj = format!("/CN=Test CA {name}/O=credhook tests");
        let mut args = vec!["req", "-new", "-key", key.to_str().unwrap(), "-subj", &subj];
        let csr = d.join("req.pem");
        match signer {
            None => args.extend(["-x509", "-out", cert.to_str().unwrap()]),
            Some(_) => args.extend(["-out", csr.to_str().unwrap()]),
        }
        let ext = d.join("ext.cnf");
        std::fs::write(
            &ext,
            "[ v3 ]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n",
        )
        .unwrap();
        if signer.is_none() {
            args.extend([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]);
        }
        let has_days = extra.contains(&"-days");
        let mut all: Vec<&str> = args.clone();
        all.extend_from_slice(extra);
        if signer.is_none() && !has_days {
            all.extend(["-days", "3650"]);
        }
        let (ok, out) = openssl(&all);
        assert!(ok, "{out}");
        if let Some((scert, skey)) = signer {
            let (ok, out) = openssl(&[
                "x509",
                "-req",
                "-in",
                csr.to_str().unwrap(),
                "-CA",
                scert.to_str().unwrap(),
                "-CAkey",
                skey.to_str().unwrap(),
                "-set_serial",
                "7",
                "-days",
                "3000",
                "-extfile",
                ext.to_str().unwrap(),
                "-extensions",
                "v3",
                "-out",
                cert.to_str().unwrap(),
            ]);
            assert!(ok, "{out}");
        }
        let key = std::fs::read_to_string(&key).unwrap();
        self.ca_key_lines.extend(pem_lines(&key));
        (std::fs::read_to_string(&cert).unwrap(), key)
    }

    fn store(&self, raw: String) {
        self.w.emu.add_secret(CA_SECRET, &raw);
    }

    fn store_cert_secret(&self, kind: &str, cert: &str, key: &str, intermediate: &str) {
        let q = |s: &str| miniserde::json::to_string(&s.to_string());
        self.store(format!(
            r#"{{"id":"{CA_SECRET}","secret_type":"{kind}","certificate":{},"private_key":{},"intermediate":{}}}"#,
            q(cert),
            q(key),
            q(intermediate)
        ));
    }
}

/// Every program started under `cmd`, with its arguments, goes to `log`.
fn traced(cmd: Command, log: &Path) -> Command {
    let mut t = Command::new("strace");
    t.args([
        "-f",
        "-qq",
        "-e",
        "trace=execve",
        "-e",
        "signal=none",
        "-s",
        "1000000",
        "-o",
    ])
    .arg(log)
    .arg("--")
    .arg(cmd.get_program())
    .args(cmd.get_args())
    .env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            t.env(k, v);
        }
    }
    if let Some(d) = cmd.get_current_dir() {
        t.current_dir(d);
    }
    t.stdin(std::process::Stdio::null());
    t
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl Made {
    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn text(&self) -> String {
        let (ok, out) = openssl(&["x509", "-in", &self.path("cert.pem"), "-noout", "-text"]);
        assert!(ok, "{out}");
        out
    }

    fn key_text(&self) -> String {
        let (ok, out) = openssl(&["pkey", "-in", &self.path("key.pem"), "-noout", "-text_pub"]);
        assert!(ok, "{out}");
        out
    }

    /// notAfter − notBefore, in days.
    fn days(&self) -> i64 {
        let (_, dates) = openssl(&[
            "x509",
            "-in",
            &self.path("cert.pem"),
            "-noout",
            "-startdate",
            "-enddate",
        ]);
        let epoch = |prefix: &str| {
            let line = dates.lines().find_map(|l| l.strip_prefix(prefix)).unwrap().to_string();
            let o = Command::new("date").args(["-u", "-d", &line, "+%s"]).output().unwrap();
            String::from_utf8_lossy(&o.stdout).trim().parse::<i64>().unwrap()
        };
        (epoch("notAfter=") - epoch("notBefore=")) / 86_400
    }

    fn verify(&self, args: &[&str]) -> String {
        let mut all = vec!["verify", "-x509_strict", "-purpose", "sslserver"];
        all.extend_from_slice(args);
        let cert = self.path("cert.pem");
        all.push(&cert);
        let (ok, out) = openssl(&all);
        assert!(ok, "openssl verify failed: {out}\n{}", self.run);
        out
    }

    /// The key is the certificate's.
    fn key_matches(&self) {
        let (_, from_cert) = openssl(&["x509", "-in", &self.path("cert.pem"), "-noout", "-pubkey"]);
        let (_, from_key) = openssl(&["pkey", "-in", &self.path("key.pem"), "-pubout"]);
        assert_eq!(from_cert, from_key);
    }
}

#[test]
fn a_self_signed_rsa_certificate_with_the_defaults() {
    let mut c = Cert::new();
    let m = c.create(&[
        ("COMMON_NAME", "api.example.com"),
        ("SAN", " www.example.com , 10.0.0.7 ,2001:db8::1,,*.apps.example.com"),
    ]);
    let t = m.text();
    assert!(t.contains("Subject: CN = api.example.com\n"), "{t}");
    assert!(t.contains("Issuer: CN = api.example.com\n"), "self-signed: {t}");
    assert!(
        t.contains(
            "DNS:api.example.com, DNS:www.example.com, IP Address:10.0.0.7, IP Address:2001:DB8:0:0:0:0:0:1, DNS:*.apps.example.com"
        ),
        "{t}"
    );
    assert!(
        t.contains("X509v3 Extended Key Usage: \n                TLS Web Server Authentication\n"),
        "{t}"
    );
    assert!(t.contains("CA:FALSE"), "{t}");
    assert!(t.contains("Digital Signature, Key Encipherment"), "{t}");
    assert!(
        t.contains("Public-Key: (2048 bit)") && t.contains("rsaEncryption"),
        "{t}"
    );
    assert!(t.contains("Signature Algorithm: sha256WithRSAEncryption"), "{t}");
    assert_eq!(m.days(), 90);
    assert!(
        m.key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "PKCS#1, as IBM's provider"
    );
    assert!(m.key_text().contains("(2048 bit"));
    m.key_matches();
    m.verify(&["-CAfile", &m.path("cert.pem")]);
    let (_, serial) = openssl(&["x509", "-in", &m.path("cert.pem"), "-noout", "-serial"]);
    assert_eq!(
        serial.trim(),
        format!("serial={}", m.id),
        "the credentials id is the serial"
    );
    assert!(m.chain.is_none());
    assert!(m.run.log_has(&format!("made certificate {}", m.id)), "{}", m.run);
    assert!(m.cert.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn an_ecdsa_p256_sha512_certificate_with_org_country_and_days() {
    let mut c = Cert::new();
    let m = c.create(&[
        ("COMMON_NAME", "Payments / internal"),
        ("ORG", "Example+Co/O=Evil"),
        ("COUNTRY", "de"),
        ("SAN", "PAY.example.com"),
        ("EXPIRATION_DAYS", "+030"),
        ("KEY_ALGO", "ECDSA"),
        ("SIGN_ALGO", "SHA512"),
    ]);
    let t = m.text();
    // The subject holds the inputs as text: no RDN was injected.
    assert!(
        t.contains(r#"Subject: CN = Payments / internal, O = "Example+Co/O=Evil", C = DE"#),
        "{t}"
    );
    assert!(t.contains("DNS:PAY.example.com") && !t.contains("DNS:Payments"), "{t}");
    assert!(t.contains("Signature Algorithm: ecdsa-with-SHA512"), "{t}");
    assert!(
        t.contains("Public-Key: (256 bit)") && t.contains("NIST CURVE: P-256"),
        "{t}"
    );
    assert!(
        t.contains("X509v3 Key Usage: critical\n                Digital Signature\n"),
        "{t}"
    );
    assert_eq!(m.days(), 30);
    assert!(
        m.key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"),
        "SEC1, as IBM's provider"
    );
    m.key_matches();
    m.verify(&["-CAfile", &m.path("cert.pem")]);
}

#[test]
fn a_ca_in_an_imported_cert_secret_signs_and_the_chain_is_output() {
    let mut c = Cert::new();
    let (root, root_key) = c.make_ca("root", None, &[]);
    let rdir = c.w.dir.join("root");
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::write(rdir.join("cert.pem"), &root).unwrap();
    std::fs::write(rdir.join("key.pem"), &root_key).unwrap();
    c.store_cert_secret("imported_cert", &root, &root_key, "");
    let m = c.create(&[("COMMON_NAME", "svc.internal"), ("CA_SECRET_ID", CA_SECRET)]);
    let t = m.text();
    assert!(t.contains("Issuer: CN = Test CA root, O = credhook tests"), "{t}");
    assert!(t.contains("X509v3 Authority Key Identifier"), "{t}");
    assert!(
        t.contains("TLS Web Server Authentication") && t.contains("CA:FALSE"),
        "{t}"
    );
    assert!(
        t.contains("Signature Algorithm: ecdsa-with-SHA256"),
        "the CA's key signs: {t}"
    );
    assert!(
        t.contains("Public-Key: (2048 bit)"),
        "the new key is the default RSA: {t}"
    );
    m.verify(&["-CAfile", &rdir.join("cert.pem").display().to_string()]);
    assert_eq!(
        m.chain.as_deref().map(str::trim),
        Some(root.trim()),
        "the chain is the CA"
    );
    // An intermediate CA in a private_cert secret, its issuer as the intermediate.
    let (inter, inter_key) = c.make_ca(
        "intermediate",
        Some((&rdir.join("cert.pem"), &rdir.join("key.pem"))),
        &[],
    );
    c.store_cert_secret("private_cert", &inter, &inter_key, &root);
    let m = c.create(&[("COMMON_NAME", "svc2.internal"), ("CA_SECRET_ID", CA_SECRET)]);
    let chain = m.chain.clone().unwrap();
    assert!(
        chain.starts_with(inter.trim_end()) && chain.contains(root.trim()),
        "{chain}"
    );
    m.verify(&[
        "-CAfile",
        &rdir.join("cert.pem").display().to_string(),
        "-untrusted",
        &m.path("chain.pem"),
    ]);
}

#[test]
fn a_ca_in_an_arbitrary_pem_secret_signs() {
    let mut c = Cert::new();
    let (root, key) = c.make_ca("pem", None, &[]);
    let rdir = c.w.dir.join("pem");
    std::fs::create_dir_all(&rdir).unwrap();
    std::fs::write(rdir.join("ca.pem"), &root).unwrap();
    // The key before the certificate: order does not matter.
    let payload = format!("{key}\n{root}");
    c.store(format!(
        r#"{{"id":"{CA_SECRET}","secret_type":"arbitrary","payload":{}}}"#,
        miniserde::json::to_string(&payload)
    ));
    let m = c.create(&[
        ("COMMON_NAME", "10.1.2.3"),
        ("CA_SECRET_ID", CA_SECRET),
        ("SIGN_ALGO", "SHA512"),
    ]);
    let t = m.text();
    assert!(t.contains("IP Address:10.1.2.3"), "an IP common name is a SAN too: {t}");
    assert!(t.contains("ecdsa-with-SHA512"), "{t}");
    m.verify(&["-CAfile", &rdir.join("ca.pem").display().to_string()]);
}

#[test]
fn a_ca_secret_that_cannot_sign_is_named() {
    let mut c = Cert::new();
    let (root, key) = c.make_ca("a", None, &[]);
    let (_, other_key) = c.make_ca("b", None, &[]);
    let (short, short_key) = c.make_ca("short", None, &["-days", "10"]);
    let (not_ca, not_ca_key) = {
        // A leaf: made by the provider itself.
        let m = c.create(&[("COMMON_NAME", "leaf.example.com")]);
        c.ca_key_lines.extend(pem_lines(&m.key));
        (m.cert.clone(), m.key.clone())
    };
    let cn = ("COMMON_NAME", "x.example.com");
    let ca = ("CA_SECRET_ID", CA_SECRET);
    c.store_cert_secret("imported_cert", &root, "", "");
    let d = c.fails(&[cn, ca], "CERT_CA_NO_KEY");
    assert!(d.contains("has no private key"), "{d}");
    c.store(format!(
        r#"{{"id":"{CA_SECRET}","secret_type":"arbitrary","payload":{}}}"#,
        miniserde::json::to_string(&root)
    ));
    c.fails(&[cn, ca], "CERT_CA_NO_KEY");
    c.store_cert_secret("imported_cert", &root, &other_key, "");
    c.fails(&[cn, ca], "CERT_CA_KEY_MISMATCH");
    c.store_cert_secret("imported_cert", &not_ca, &not_ca_key, "");
    c.fails(&[cn, ca], "CERT_CA_NOT_A_CA");
    c.store_cert_secret("imported_cert", &short, &short_key, "");
    let d = c.fails(&[cn, ca], "CERT_CA_EXPIRES_FIRST");
    assert!(d.contains("90 days"), "{d}");
    let encrypted = key.replace("BEGIN PRIVATE KEY", "BEGIN ENCRYPTED PRIVATE KEY");
    c.store_cert_secret("imported_cert", &root, &encrypted, "");
    c.fails(&[cn, ca], "CERT_CA_KEY_ENCRYPTED");
    c.store(format!(
        r#"{{"id":"{CA_SECRET}","secret_type":"kv","data":{{"a":"b"}}}}"#
    ));
    c.fails(&[cn, ca], "CERT_CA_BAD_SECRET");
    c.store(format!(
        r#"{{"id":"{CA_SECRET}","secret_type":"arbitrary","payload":"not pem at all"}}"#
    ));
    c.fails(&[cn, ca], "CERT_CA_NO_CERTIFICATE");
}

#[test]
fn hostile_inputs_are_refused_before_any_key_is_made() {
    let mut c = Cert::new();
    let cn = ("COMMON_NAME", "ok.example.com");
    for (input, value) in [
        ("SAN", "a.example.com,DNS:evil.example.net"),
        ("SAN", "a.example.com, evil.example.net @alt"),
        ("SAN", "a.example.com\nsubjectAltName=DNS:evil.example.net"),
        ("SAN", "$(reboot).example.com"),
        ("SAN", "a..example.com"),
        ("SAN", "-a.example.com"),
        ("SAN", "example.com."),
        ("SAN", "*.*.example.com"),
        ("SAN", "bücher.example"),
        ("SAN", "[::1]"),
        ("SAN", "10.0.0.256"),
        ("SAN", "010.0.0.1"),
        ("SAN", "2001:db8::zz"),
        ("SAN", "user@example.com"),
        ("EXPIRATION_DAYS", "0"),
        ("EXPIRATION_DAYS", "-5"),
        ("EXPIRATION_DAYS", "3651"),
        ("EXPIRATION_DAYS", "9223372036854775807"),
        ("COUNTRY", "USA"),
        ("COUNTRY", "U1"),
        ("ORG", "two\nlines"),
    ] {
        let d = c.fails(&[cn, (input, value)], "CERT_BAD_INPUT");
        assert!(!d.is_empty());
    }
    for (input, value) in [("COMMON_NAME", "line\nbreak"), ("COMMON_NAME", &"x".repeat(65))] {
        c.fails(&[(input, value)], "CERT_BAD_INPUT");
    }
    // Bigger than 64 bits, or not in the enum: credhook refuses the input.
    for (input, value) in [
        ("EXPIRATION_DAYS", "99999999999999999999"),
        ("KEY_ALGO", "DSA"),
        ("SIGN_ALGO", "MD5"),
    ] {
        c.fails(&[cn, (input, value)], "ERR10001");
    }
    // 3650 days is the most.
    let m = c.create(&[cn, ("EXPIRATION_DAYS", "3650"), ("KEY_ALGO", "ECDSA")]);
    assert_eq!(m.days(), 3650);
}

#[test]
fn a_san_list_of_thousands_is_refused_at_its_101st_name_in_few_processes() {
    // Each SAN costs the hook a few processes: a creator's list of
    // thousands (or of thousands of blank items) must not hold the job for
    // minutes. Counted in programs started, from the trace.
    let mut c = Cert::new();
    let cn = ("COMMON_NAME", "ok.example.com");
    let many: Vec<String> = (0..3000).map(|i| format!("a{i}.example.com")).collect();
    let many = many.join(",");
    let blanks = format!("{}a.example.com", ", ,\t,".repeat(3000));
    for (san, refused) in [(many.as_str(), true), (blanks.as_str(), false)] {
        let (run, execs) = c.run("create", None, &[cn, ("SAN", san)]);
        let started = execs.matches("execve(").count();
        assert!(
            started < 300,
            "{started} programs started for {} bytes of san\n{run}",
            san.len()
        );
        if refused {
            run.assert_code(1);
            let (_, code, desc) = last(&run);
            assert_eq!(code, "CERT_BAD_INPUT", "\n{run}");
            assert!(desc.contains("more than 100 names"), "{desc}");
        } else {
            run.assert_code(0);
        }
    }
    // 100 names and the CN are fine.
    let hundred: Vec<String> = (0..100).map(|i| format!("b{i}.example.com")).collect();
    let m = c.create(&[cn, ("SAN", &hundred.join(","))]);
    assert!(m.text().contains("DNS:b99.example.com"));
}

#[test]
fn delete_reports_success_with_nothing_to_delete() {
    let mut c = Cert::new();
    let (run, execs) = c.run("delete", Some("1A2B3C"), &[("COMMON_NAME", "x.example.com")]);
    run.assert_code(0);
    assert_eq!(last(&run).0, "credentials_deleted", "\n{run}");
    assert!(!execs.contains("openssl"), "a delete runs no openssl\n{run}");
}

#[test]
fn the_certificate_job_config_passes_check() {
    let out = Command::new(credhook_bin())
        .arg("check")
        .arg(repo().join("examples/certificate/job_config.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
