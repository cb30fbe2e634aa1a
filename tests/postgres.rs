//! The PostgreSQL provider (examples/postgres/) end to end, in its image: the
//! root scripts/rootfs.sh assembles `--with psql`, entered as the image's user
//! 10001 with nothing else, against a real PostgreSQL server that only accepts
//! TLS (a throwaway CA made by the test with openssl). Both kinds of login
//! secret: an IBM Cloud Databases service credentials secret (verify-full
//! against its `certificate_base64`) and an arbitrary secret holding an admin
//! URI. Create, log in with the returned password over verify-full, confirm
//! read-only, delete, delete again; a wrong CA fails the task with the
//! provider's code. These tests are ignored unless asked for: they need root,
//! mount namespaces and PostgreSQL's server binaries (.ci/run installs them and
//! runs them as root with --include-ignored); asked for on a machine without
//! them, they fail, naming what is missing.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use support::postgres::*;
use support::root::{require_chroot, rootfs};
use support::*;

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

/// The test world with the provider's schema, a TLS-only PostgreSQL with a
/// `reporting` schema, and the provider's image root. The tests that call it
/// are ignored unless asked for; asked for on a machine that cannot run
/// them, they fail, naming what is missing.
fn setup() -> (World, Postgres, PathBuf) {
    require_chroot();
    let mut w = World::new();
    let Some(pg) = Postgres::start(&w.dir) else {
        panic!(
            "this test needs PostgreSQL's server binaries (initdb, postgres) under /usr/lib/postgresql/*/bin: \
             install Debian's postgresql package (as .ci/run does), or leave the test ignored"
        );
    };
    let setup = psql(
        &pg.verified(&pg.admin_uri()),
        "CREATE SCHEMA reporting; CREATE TABLE reporting.sales (amount int); INSERT INTO reporting.sales VALUES (5), (7);",
    );
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    // The provider's image root: only what rootfs.sh puts there.
    let root = w.dir.join("rootfs");
    let hook = repo().join("examples/postgres/hook.sh");
    let out = rootfs(&[
        OsStr::new("--with"),
        OsStr::new("psql"),
        root.as_os_str(),
        hook.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "rootfs.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(repo().join("examples/postgres/job_config.json")).unwrap();
    for (name, value) in credhook::parse_job_config(config.as_bytes()).unwrap() {
        w.set(&name, &value);
    }
    w.set("SM_LOGIN_SECRET_ID_VALUE", LOGIN_SECRET)
        .set("SM_SCHEMA_NAME_VALUE", "reporting")
        .secret(ADMIN_PASSWORD);
    (w, pg, root)
}

/// create (twice: a rotation makes a second, distinct role), log in,
/// read, cannot write, delete, delete again. Returns the first create's payload.
fn lifecycle(w: &mut World, pg: &Postgres, root: &Path) -> (String, String) {
    let r = w.run_in_root(root);
    r.assert_code(0);
    let created = r.updates.last().expect("an update");
    let user = payload_field(created, "username");
    let password = payload_field(created, "password");
    let composed = payload_field(created, "composed");
    assert!(user.starts_with("sm_") && password.len() == 64, "{r}");
    w.secret(&password);
    let r2 = w.run_in_root(root);
    r2.assert_code(0);
    assert_ne!(payload_field(r2.update(), "username"), user);

    // the new login works over verify-full, reads, and cannot write
    assert!(composed.ends_with("?sslmode=verify-full"), "{composed}");
    let login = pg.verified(&composed);
    let read = psql(&login, "SELECT sum(amount) FROM reporting.sales");
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), "12");
    let ssl = psql(&login, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert_eq!(String::from_utf8_lossy(&ssl.stdout).trim(), "t");
    let write = psql(&login, "INSERT INTO reporting.sales VALUES (1)");
    assert!(!write.status.success(), "the role can write");
    assert!(String::from_utf8_lossy(&write.stderr).contains("permission denied"));

    // delete: the login fails afterwards; deleting again still succeeds
    w.set("SM_ACTION", "delete_credentials").set("SM_CREDENTIALS_ID", &user);
    let r = w.run_in_root(root);
    r.assert_code(0);
    assert_eq!(r.updates.last().unwrap().status(), "credentials_deleted", "{r}");
    let after = psql(&login, "SELECT 1");
    assert!(!after.status.success(), "the dropped role can still log in");
    let again = w.run_in_root(root);
    again.assert_code(0);
    assert!(again.log_has("already gone"), "{again}");
    let roles = psql(
        &pg.verified(&pg.admin_uri()),
        &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{user}'"),
    );
    assert_eq!(String::from_utf8_lossy(&roles.stdout).trim(), "0");
    (composed, payload_field(created, "certificate_base64"))
}

#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn icd_service_credentials_in_the_image_root() {
    let (mut w, pg, root) = setup();
    w.emu
        .add_secret(LOGIN_SECRET, &service_credentials(&pg.admin_uri(), &pg.ca));
    let (composed, cert) = lifecycle(&mut w, &pg, &root);
    assert!(
        composed.starts_with("postgres://sm_") && composed.contains(&format!("@127.0.0.1:{}/postgres?", pg.port)),
        "{composed}"
    );
    assert_eq!(
        cert,
        base64(&std::fs::read(&pg.ca).unwrap()),
        "certificate_base64 is the CA"
    );
    // The CA file the hook wrote is gone.
    let left = left_in_tmp(&root);
    assert!(left.is_empty(), "left in /tmp: {left:?}");
}

#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn an_admin_uri_in_an_arbitrary_secret_in_the_image_root() {
    let (mut w, pg, root) = setup();
    // The URI names the CA inside the image root.
    std::fs::copy(&pg.ca, root.join("tmp/db-ca.pem")).unwrap();
    let uri = format!("{}&sslrootcert=/tmp/db-ca.pem", pg.admin_uri());
    w.emu.add_secret(
        LOGIN_SECRET,
        &format!(r#"{{"id":"{LOGIN_SECRET}","secret_type":"arbitrary","payload":"{uri}"}}"#),
    );
    let (composed, cert) = lifecycle(&mut w, &pg, &root);
    assert!(composed.ends_with("/postgres?sslmode=verify-full"), "{composed}");
    assert!(cert.is_empty(), "no certificate_base64 without one in the login secret");
}

#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn a_wrong_ca_fails_the_task_with_the_providers_code_and_creates_nothing() {
    let (w, pg, root) = setup();
    let other = make_ca(&w.dir, "other");
    w.emu
        .add_secret(LOGIN_SECRET, &service_credentials(&pg.admin_uri(), &other));
    let r = w.run_in_root(&root);
    r.assert_code(1);
    let d = r.failed_with("PG_CONNECT_FAILED");
    assert!(d.contains("certificate verify failed"), "{d}");
    let roles = psql(
        &pg.verified(&pg.admin_uri()),
        "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'sm\\_%'",
    );
    assert_eq!(String::from_utf8_lossy(&roles.stdout).trim(), "0");
    let left = left_in_tmp(&root);
    assert!(left.is_empty(), "left in /tmp after a failed create: {left:?}");
    // A URI that asks for no TLS verification is refused before connecting.
    for mode in ["disable", "require"] {
        let plain = format!(
            "postgres://admin:{ADMIN_PASSWORD}@127.0.0.1:{}/postgres?sslmode={mode}",
            pg.port
        );
        w.emu.add_secret(
            LOGIN_SECRET,
            &format!(r#"{{"id":"{LOGIN_SECRET}","secret_type":"arbitrary","payload":"{plain}"}}"#),
        );
        let d = w.run_in_root(&root).failed_with("PG_BAD_ADMIN_URI");
        assert!(
            d.contains(&format!("sslmode={mode}")) && d.contains("verify-full"),
            "{d}"
        );
    }
}

/// An arbitrary secret holding `uri`.
fn arbitrary(uri: &str) -> String {
    format!(r#"{{"id":"{LOGIN_SECRET}","secret_type":"arbitrary","payload":"{uri}"}}"#)
}

/// `s` percent-encoded for a URI path (every byte but [A-Za-z0-9-_.]).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Replaces the root's /bin/psql with a script that appends its arguments
/// to /tmp/argv and runs the real psql: what the process list would show.
fn record_psql_argv(root: &Path) -> PathBuf {
    std::fs::rename(root.join("bin/psql"), root.join("bin/psql.real")).unwrap();
    std::fs::write(
        root.join("bin/psql"),
        "#!/bin/sh\necho \"$*\" >> /tmp/argv\nexec /bin/psql.real \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        root.join("bin/psql"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    root.join("tmp/argv")
}

/// IBM Cloud Databases' `admin` has CREATEROLE but is not superuser; DROP
/// OWNED BY needs the privileges of the role, which such an admin has only
/// after granting itself membership.
#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn a_createrole_admin_that_is_not_superuser_creates_and_deletes() {
    let (mut w, pg, root) = setup();
    let pw = "cradmin-pw-41d9e0";
    let made = psql(
        &pg.verified(&pg.admin_uri()),
        &format!(
            "CREATE ROLE cradmin LOGIN CREATEROLE CREATEDB PASSWORD '{pw}'; \
             ALTER SCHEMA reporting OWNER TO cradmin; ALTER TABLE reporting.sales OWNER TO cradmin;"
        ),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    w.secret(pw);
    let uri = format!(
        "postgres://cradmin:{pw}@127.0.0.1:{}/postgres?sslmode=verify-full&sslrootcert=/tmp/db-ca.pem",
        pg.port
    );
    std::fs::copy(&pg.ca, root.join("tmp/db-ca.pem")).unwrap();
    w.emu.add_secret(LOGIN_SECRET, &arbitrary(&uri));
    lifecycle(&mut w, &pg, &root);
    // cradmin is a member of no sm_ role afterwards.
    let members = psql(
        &pg.verified(&pg.admin_uri()),
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname LIKE 'sm\\_%'",
    );
    assert_eq!(String::from_utf8_lossy(&members.stdout).trim(), "0");
}

/// A role named like the hook's but not made by it (no mark) is not
/// dropped, nor is what it owns.
#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn delete_refuses_an_sm_role_it_did_not_make() {
    let (mut w, pg, root) = setup();
    let admin = pg.verified(&pg.admin_uri());
    let made = psql(
        &admin,
        "CREATE ROLE sm_a1b2c3d4e5f6 LOGIN; CREATE TABLE public.important (x int); \
         ALTER TABLE public.important OWNER TO sm_a1b2c3d4e5f6;",
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    w.emu
        .add_secret(LOGIN_SECRET, &service_credentials(&pg.admin_uri(), &pg.ca));
    w.set("SM_ACTION", "delete_credentials")
        .set("SM_CREDENTIALS_ID", "sm_a1b2c3d4e5f6");
    let d = w.run_in_root(&root).failed_with("PG_NOT_OURS");
    assert!(d.contains("not made by this hook"), "{d}");
    let left = psql(
        &admin,
        "SELECT count(*) FROM pg_roles WHERE rolname = 'sm_a1b2c3d4e5f6' AND to_regclass('public.important') IS NOT NULL",
    );
    assert_eq!(String::from_utf8_lossy(&left.stdout).trim(), "1");
}

/// The database name comes from the server and may hold quotes and psql
/// meta-commands: it must reach neither the SQL unquoted nor psql.
#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn a_hostile_database_name_is_only_a_name() {
    let (w, pg, root) = setup();
    let name = "postgres\" TO PUBLIC;\\! env>/tmp/p #";
    let quoted = name.replace('"', "\"\"");
    let admin = pg.verified(&pg.admin_uri());
    let made = psql(&admin, &format!("CREATE DATABASE \"{quoted}\""));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let made = psql(&admin, &format!("REVOKE CONNECT ON DATABASE \"{quoted}\" FROM PUBLIC"));
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let in_db = format!(
        "postgres://admin:{ADMIN_PASSWORD}@127.0.0.1:{}/{}?sslmode=verify-full",
        pg.port,
        pct(name)
    );
    let made = psql(
        &pg.verified(&in_db),
        "CREATE SCHEMA reporting; CREATE TABLE reporting.sales (amount int); INSERT INTO reporting.sales VALUES (3);",
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    w.emu.add_secret(LOGIN_SECRET, &service_credentials(&in_db, &pg.ca));
    let r = w.run_in_root(&root);
    r.assert_code(0);
    assert!(
        !root.join("tmp/p").exists(),
        "psql ran a meta-command from the database name"
    );
    let composed = payload_field(r.update(), "composed");
    let user = payload_field(r.update(), "username");
    let read = psql(&pg.verified(&composed), "SELECT sum(amount) FROM reporting.sales");
    assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
    assert_eq!(String::from_utf8_lossy(&read.stdout).trim(), "3");
    let acl = psql(
        &admin,
        &format!(
            "SELECT datacl::text FROM pg_database WHERE datname = '{}'",
            name.replace('\'', "''")
        ),
    );
    let acl = String::from_utf8_lossy(&acl.stdout).into_owned();
    assert!(
        !acl.contains("\"=c") && !acl.contains(",=c") && !acl.contains("{=c"),
        "CONNECT granted to PUBLIC: {acl}"
    );
    assert!(
        acl.contains(&format!("{user}=c/")),
        "no CONNECT for the new role: {acl}"
    );
}

/// An admin URI that verifies TLS against a public CA (the image's bundle,
/// no sslrootcert), or says no sslmode at all, connects with verify-full;
/// a password= parameter goes to psql as PGPASSWORD, not on its command line.
#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn verify_full_admin_uris_use_the_image_ca_bundle_and_keep_the_password_off_argv() {
    let (mut w, pg, root) = setup();
    // The server's CA as if publicly trusted: in the image's CA bundle.
    let bundle = root.join("etc/ssl/certs/ca-certificates.crt");
    let mut pem = std::fs::read(&bundle).unwrap_or_default();
    pem.extend(std::fs::read(&pg.ca).unwrap());
    std::fs::write(&bundle, pem).unwrap();
    let argv = record_psql_argv(&root);
    w.emu.add_secret(LOGIN_SECRET, &arbitrary(&pg.admin_uri()));
    let (composed, _) = lifecycle(&mut w, &pg, &root);
    assert!(composed.ends_with("/postgres?sslmode=verify-full"), "{composed}");

    for uri in [
        format!(
            "postgres://admin@127.0.0.1:{}/postgres?password={ADMIN_PASSWORD}",
            pg.port
        ),
        format!(
            "postgresql://admin@127.0.0.1:{}/postgres?sslmode=verify-ca&pass%77ord={}",
            pg.port,
            pct(ADMIN_PASSWORD)
        ),
    ] {
        w.set("SM_ACTION", "create_credentials");
        w.emu.add_secret(LOGIN_SECRET, &arbitrary(&uri));
        let r = w.run_in_root(&root);
        r.assert_code(0);
        let user = payload_field(r.update(), "username");
        let composed = payload_field(r.update(), "composed");
        assert!(
            composed.ends_with("?sslmode=verify-full") || composed.ends_with("?sslmode=verify-ca"),
            "{composed}"
        );
        let read = psql(
            &pg.verified(&format!("{composed}&sslmode=verify-full")),
            "SELECT sum(amount) FROM reporting.sales",
        );
        assert_eq!(
            String::from_utf8_lossy(&read.stdout).trim(),
            "12",
            "{}",
            String::from_utf8_lossy(&read.stderr)
        );
        w.set("SM_ACTION", "delete_credentials").set("SM_CREDENTIALS_ID", &user);
        w.run_in_root(&root).assert_code(0);
    }
    let argv = std::fs::read_to_string(argv).unwrap();
    assert!(argv.contains("sslmode=verify-"), "{argv}");
    assert!(
        !argv.contains(ADMIN_PASSWORD) && !argv.contains("password"),
        "a password on psql's command line: {argv}"
    );
}

/// A table held by someone else's unfinished DDL fails the create after
/// lock_timeout (10 s) instead of hanging it until the hook timeout, and
/// leaves no role behind.
#[test]
#[ignore = "needs root, mount namespaces and PostgreSQL server binaries"]
fn a_locked_table_fails_the_create_after_the_lock_timeout() {
    let (w, pg, root) = setup();
    let admin = pg.verified(&pg.admin_uri());
    let mut holder = Command::new("psql")
        .args([admin.as_str(), "--no-psqlrc", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // psql's stdin stays open (the session in its transaction) until the end.
    let mut stdin = holder.stdin.take().unwrap();
    std::io::Write::write_all(
        &mut stdin,
        b"BEGIN; ALTER TABLE reporting.sales ADD COLUMN note text; SELECT pg_sleep(120);\n",
    )
    .unwrap();
    // Wait until the ALTER is done and the session sleeps in its transaction.
    let mut held = false;
    for _ in 0..100 {
        let n = psql(
            &admin,
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND state = 'active' AND pid <> pg_backend_pid()",
        );
        if String::from_utf8_lossy(&n.stdout).trim() == "1" {
            held = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(held, "the lock holder did not start");
    w.emu
        .add_secret(LOGIN_SECRET, &service_credentials(&pg.admin_uri(), &pg.ca));
    let r = w.run_in_root(&root);
    drop(stdin);
    let _ = holder.kill();
    let _ = holder.wait();
    let d = r.failed_with("PG_CREATE_FAILED");
    assert!(d.contains("lock timeout"), "{d}");
    let roles = psql(&admin, "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'sm\\_%'");
    assert_eq!(String::from_utf8_lossy(&roles.stdout).trim(), "0");
}

/// The hook's own checks, run on the build machine: each case fails the
/// task with the hook's code before any connection is tried.
#[test]
fn postgres_hook_refuses_bad_input() {
    let uri = r#"{"secret_type":"arbitrary","payload":"postgresql://a:b@127.0.0.1:1/x"}"#;
    for (secret, schema, delete_id, code, says) in [
        (
            uri,
            "x\"; DROP TABLE users; --",
            None,
            "PG_BAD_SCHEMA",
            "lower-case identifier",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"mysql://a:b@h/x"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "must start with postgresql://",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://127.0.0.1/x"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "has no user",
        ),
        (
            r#"{"secret_type":"username_password","username":"u","password":"p"}"#,
            "public",
            None,
            "PG_NO_ADMIN_URI",
            "service credentials secret",
        ),
        (
            r#"{"secret_type":"service_credentials","credentials":{"connection":{"mysql":{}}}}"#,
            "public",
            None,
            "PG_BAD_LOGIN_SECRET",
            "connection.postgres.composed[0]",
        ),
        (
            uri,
            "public",
            Some("postgres"),
            "PG_NOT_OURS",
            "only drops the roles it made",
        ),
        (
            uri,
            "public",
            Some("sm_x\";DROP"),
            "PG_NOT_OURS",
            "sm_ and 12 hex digits",
        ),
        (
            uri,
            "public",
            Some("sm_reports"),
            "PG_NOT_OURS",
            "sm_ and 12 hex digits",
        ),
        (uri, "public", Some("sm_"), "PG_NOT_OURS", "sm_ and 12 hex digits"),
        (
            uri,
            "public",
            Some("sm_a1b2c3d4e5f6a"),
            "PG_NOT_OURS",
            "sm_ and 12 hex digits",
        ),
        (
            uri,
            "public",
            Some("sm_A1B2C3D4E5F6"),
            "PG_NOT_OURS",
            "sm_ and 12 hex digits",
        ),
        // The system schemas: pg_catalog.pg_authid holds every password hash.
        (uri, "pg_catalog", None, "PG_BAD_SCHEMA", "system schema"),
        (uri, "pg_toast", None, "PG_BAD_SCHEMA", "system schema"),
        (uri, "information_schema", None, "PG_BAD_SCHEMA", "system schema"),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://a:b@127.0.0.1:1/x?sslmode=prefer"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "sslmode=prefer, which does not verify the server",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://a:b@127.0.0.1:1/x?ssl%6dode=disable"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "sslmode=disable",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://a:b@127.0.0.1:1/x?sslmode=verify-full&sslmode=disable"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "sslmode twice",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://a@127.0.0.1:1/x?sslmode=verify-full&hunter2"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "has no value: each must be key=value",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://127.0.0.1:1/x?sslrootcert=/a@b"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "has no user",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://a@127.0.0.1:1/x?sslpassword=k"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "sslpassword",
        ),
        (
            r#"{"secret_type":"arbitrary","payload":"postgresql://a:b@127.0.0.1:1/x\nid=sm_x"}"#,
            "public",
            None,
            "PG_BAD_ADMIN_URI",
            "spaces or control characters",
        ),
        (
            r#"{"secret_type":"service_credentials","credentials":{"connection":{"postgres":{"composed":["postgres://a:b@h:1/d"],"certificate":{"certificate_base64":"QUJD\nid=sm_x"}}}}}"#,
            "public",
            None,
            "PG_BAD_LOGIN_SECRET",
            "is not base64",
        ),
    ] {
        let mut w = World::new();
        w.set("SMIN_LOGIN_SECRET_ID", "type:secret_id, required:true")
            .set("SMIN_SCHEMA_NAME", "type:string")
            .set("SMOUT_USERNAME", "type:string, required:true")
            .set("SM_LOGIN_SECRET_ID_VALUE", LOGIN_SECRET)
            .set("SM_SCHEMA_NAME_VALUE", schema)
            .set(
                "CREDHOOK_HOOK",
                repo().join("examples/postgres/hook.sh").to_str().unwrap(),
            );
        // `credhook json` on PATH, as in the image.
        let bin_dir = credhook_bin().parent().unwrap().display().to_string();
        w.set("PATH", &format!("{bin_dir}:/usr/bin:/bin"));
        if let Some(id) = delete_id {
            w.set("SM_ACTION", "delete_credentials").set("SM_CREDENTIALS_ID", id);
        }
        w.emu.add_secret(LOGIN_SECRET, secret);
        let d = w.run().failed_with(code);
        assert!(d.contains(says), "{code}: {d}");
    }
}

/// What is in the root's /tmp besides the Secrets Manager CA the test put there.
fn left_in_tmp(root: &Path) -> Vec<String> {
    std::fs::read_dir(root.join("tmp"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "ca.pem")
        .collect()
}
