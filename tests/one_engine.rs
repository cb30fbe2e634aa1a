//! One HTTP engine: the job's task update (`credhook run`) and the hook's
//! `credhook http PUT` meet the same faults from the same kind of HTTPS
//! test server, and classify each the same way: sent (a 2xx came back),
//! may have arrived (the server may have acted on it), or unsent (it does
//! not hold it). For the job the class decides the rollback: unsent rolls
//! the new credentials back, may-have-arrived keeps them and says what to
//! check. `credhook http` says "the request may have reached the server".
//!
//! Both callers get one retry (`CREDHOOK_RETRIES=1`, `--retry 1`: a PUT may
//! be repeated) and a 1 s timeout. Their policies differ elsewhere, and
//! the last test shows where.

#[path = "support/https.rs"]
mod https;
mod support;

use https::{Action, Server, closing_listener, reply};
use std::process::Command;
use std::time::Duration;
use support::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Sent,
    MayHaveArrived,
    Unsent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Accepted, then closed before the TLS handshake.
    ClosedBeforeHandshake,
    /// The request is read, then the connection closes without a reply.
    ClosedAfterRequest,
    /// A certificate from a CA the caller does not trust.
    RefusedCertificate,
    /// The request is read, then nothing for longer than the timeout.
    Stall,
    ConnectionRefused,
    /// A 500 whose body is over the 1 MiB cap.
    OversizedError,
    /// A 503, then a 200.
    UnavailableThenOk,
    /// A gateway's 502, every time.
    BadGateway,
    NotFound,
    /// A 200 whose body is over the cap.
    OversizedSuccess,
}

/// What each fault is, whoever meets it.
const AGREED: [(Fault, Class); 9] = [
    // A TLS client cannot tell a connection closed during its handshake
    // from one closed after it sent: the one rule counts every broken
    // connection as possibly arrived, except a refused connection or
    // certificate.
    (Fault::ClosedBeforeHandshake, Class::MayHaveArrived),
    (Fault::ClosedAfterRequest, Class::MayHaveArrived),
    (Fault::RefusedCertificate, Class::Unsent),
    (Fault::Stall, Class::MayHaveArrived),
    (Fault::ConnectionRefused, Class::Unsent),
    (Fault::OversizedError, Class::MayHaveArrived),
    (Fault::UnavailableThenOk, Class::Sent),
    (Fault::BadGateway, Class::MayHaveArrived),
    (Fault::NotFound, Class::Unsent),
];

/// A server (or an address) that injects `fault`, and the CA PEM a caller
/// must trust to reach it (`None`: trust another CA).
struct Target {
    url: String,
    ca_pem: Option<String>,
    _server: Option<Server>,
}

fn target(fault: Fault) -> Target {
    let big = |status| Action::Reply {
        status,
        headers: vec![],
        body: vec![b'x'; (1 << 20) + 10],
    };
    let handler = move |_: &https::Request, n: usize| match fault {
        Fault::ClosedAfterRequest => Action::Stall(Duration::ZERO),
        Fault::Stall => Action::Stall(Duration::from_secs(5)),
        Fault::OversizedError => big(500),
        Fault::OversizedSuccess => big(200),
        Fault::UnavailableThenOk if n == 1 => reply(503, "{}"),
        Fault::BadGateway => reply(502, "bad gateway"),
        Fault::NotFound => reply(404, "{}"),
        _ => reply(200, "{}"),
    };
    match fault {
        Fault::ClosedBeforeHandshake => Target {
            url: format!("https://{}", closing_listener()),
            ca_pem: None,
            _server: None,
        },
        Fault::ConnectionRefused => {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            Target {
                url: format!("https://127.0.0.1:{port}"),
                ca_pem: None,
                _server: None,
            }
        }
        _ => {
            let server = Server::https(handler);
            let trusted = fault != Fault::RefusedCertificate;
            Target {
                url: server.url(),
                ca_pem: trusted.then(|| server.pki.as_ref().unwrap().ca_pem.clone()),
                _server: Some(server),
            }
        }
    }
}

const TASK_PATH: &str = "/api/v2/secrets/0f9a2b1c-1111-4222-8333-944455556666/tasks/task-7d3c";

/// A caller's class for a fault, and what it printed (for a failure).
type Classified = (Class, String);

/// The job: a create whose task update meets `fault` (IAM is the emulator).
fn job(fault: Fault) -> Classified {
    let t = target(fault);
    let mut w = World::new();
    declare_outputs(&mut w);
    let mut bundle = std::fs::read_to_string(w.emu.ca_file().unwrap()).unwrap();
    bundle.push_str(t.ca_pem.as_deref().unwrap_or(""));
    let ca = w.dir.join("bundle.pem");
    std::fs::write(&ca, bundle).unwrap();
    w.set("SM_INSTANCE_URL", &t.url)
        .set("CREDHOOK_CA_FILE", ca.to_str().unwrap())
        .set("CREDHOOK_RETRIES", "1")
        .set("CREDHOOK_HTTP_TIMEOUT", "1")
        .hook(RECORDING_CREATE);
    let r = w.run();
    let rolled_back = w.hook_calls().iter().any(|c| c.starts_with("delete"));
    let class = match (r.code, rolled_back) {
        (0, false) => Class::Sent,
        (2, true) => Class::Unsent,
        (2, false) if r.log_has("may have been delivered") => Class::MayHaveArrived,
        _ => panic!("{fault:?}: the job ended unclassified\n{r}"),
    };
    (class, r.to_string())
}

/// `credhook http PUT` to the same kind of server.
fn tool(fault: Fault) -> Classified {
    let t = target(fault);
    let d = TempDir::new("credhook-one-engine");
    let ca = d.join("ca.pem");
    // A CA that is not the server's when it is not to be trusted.
    let other = https::pki();
    std::fs::write(&ca, t.ca_pem.as_deref().unwrap_or(&other.ca_pem)).unwrap();
    let (code, stdout, stderr) = out(Command::new(credhook_bin())
        .env_clear()
        .args(["http", "--retry", "1", "--connect-timeout", "1", "--max-time", "3"])
        .args([
            "--cacert",
            ca.to_str().unwrap(),
            "--json",
            r#"{"status":"credentials_deleted"}"#,
        ])
        .args(["PUT", &format!("{}{TASK_PATH}", t.url)]));
    let shown = format!("exit {code}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let class = match code {
        0 => Class::Sent,
        1 | 3 if stderr.contains("(the request may have reached the server)") => Class::MayHaveArrived,
        1 | 3 => Class::Unsent,
        _ => panic!("{fault:?}: credhook http ended unclassified\n{shown}"),
    };
    (class, shown)
}

#[test]
fn the_job_and_credhook_http_classify_each_fault_alike() {
    // Every fault at once, each caller on its own server.
    let seen: Vec<(Fault, Class, Classified, Classified)> = std::thread::scope(|s| {
        let runs: Vec<_> = AGREED
            .iter()
            .map(|&(f, want)| (f, want, s.spawn(move || job(f)), s.spawn(move || tool(f))))
            .collect();
        runs.into_iter()
            .map(|(f, want, j, t)| (f, want, j.join().unwrap(), t.join().unwrap()))
            .collect()
    });
    for (fault, want, (job_class, job_out), (tool_class, tool_out)) in seen {
        assert_eq!(job_class, want, "{fault:?}: the job\n{job_out}");
        assert_eq!(tool_class, want, "{fault:?}: credhook http\n{tool_out}");
    }
}

/// Where the policies differ, so do the outcomes, as each caller's policy
/// says: a 2xx is all the task update needs (its body is not read past
/// the cap: Secrets Manager recorded it), while `credhook http` needs the
/// body it hands on; and the job retries any 5xx where `credhook http`
/// retries only 503 and 429.
#[test]
fn where_the_policies_differ() {
    let (job_class, out) = job(Fault::OversizedSuccess);
    assert_eq!(job_class, Class::Sent, "{out}");
    let (tool_class, out) = tool(Fault::OversizedSuccess);
    assert_eq!(tool_class, Class::MayHaveArrived, "{out}");
    assert!(out.contains("larger than 1048576 bytes"), "{out}");
    // The job retried the 502 (two attempts); the tool took it as the reply.
    let (_, out) = job(Fault::BadGateway);
    assert_eq!(out.matches("\"status\":502").count(), 2, "{out}");
    let (_, out) = tool(Fault::BadGateway);
    assert!(out.contains("exit 1") && out.contains("HTTP 502"), "{out}");
}
