//! One attempt of a call: the request as the engine sends it, the reply
//! read within the body cap, and why an attempt failed, with the crate's one
//! rule for whether its request may have reached the server ([`ended_by`]).
//! It runs on a worker thread, so the engine can stop waiting for it.

use super::super::DriverError;
use super::super::files::read_capped;
use crate::core::net::delivery;
use crate::core::net::method::Method;
use crate::core::net::policy::Limits;
use crate::core::net::retry::{self, Ended};
use crate::core::secrets::secret::Secret;
use std::fmt;
use std::string::String;
use std::time::Duration;
use std::vec::Vec;
use zeroize::Zeroizing;

/// What one call sends, owned (the worker of an abandoned attempt may
/// outlive the call), secrets in zeroizing buffers.
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    /// The URL as the caller gave it (it may hold an expanded secret).
    pub(crate) url: Secret,
    pub(crate) headers: Vec<(String, Secret)>,
    pub(crate) body: Option<Zeroizing<Vec<u8>>>,
}

/// One attempt's reply, whatever its status.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Zeroizing<Vec<u8>>,
    /// `Retry-After`, in seconds.
    pub(crate) retry_after: Option<u64>,
    pub(crate) location: Option<String>,
}

/// Why an attempt got no usable reply.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// No reply: `what` happened, and `ended` says whether the request may
    /// have reached the server ([`Ended::Unsent`] or [`Ended::NoReply`]).
    Failed { ended: Ended, what: String },
    /// The reply body was larger than `cap` bytes (`setting` sets the cap;
    /// empty when it is fixed): a malformed reply, not retried.
    TooLarge { cap: usize, setting: &'static str },
    /// Abandoned after a stop signal; it may have reached the server.
    Stopped,
}

impl AttemptError {
    pub(crate) fn ended(&self) -> Ended {
        match self {
            AttemptError::Failed { ended, .. } => *ended,
            AttemptError::TooLarge { .. } => Ended::TooLarge,
            AttemptError::Stopped => Ended::NoReply,
        }
    }

    /// No reply in time: the limit that ran out, named.
    pub(crate) fn timeout(limit: Duration, name: &str) -> AttemptError {
        AttemptError::Failed {
            ended: Ended::NoReply,
            what: std::format!("no complete reply within {} s ({name})", limit.as_secs_f64()),
        }
    }
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptError::Failed { what, .. } => f.write_str(what),
            AttemptError::TooLarge { cap, setting: "" } => write!(f, "the reply body is larger than {cap} bytes"),
            AttemptError::TooLarge { cap, setting } => {
                write!(f, "the reply body is larger than {cap} bytes ({setting})")
            }
            AttemptError::Stopped => f.write_str("stopped by a signal before a reply came"),
        }
    }
}

/// Whether the request of a failed attempt may have reached the server: the
/// crate's one rule, for the job and `credhook http` alike.
///
/// Only what provably fails before a byte of the request is written is
/// unsent: resolving, connecting (refused included), building the request,
/// and a TLS handshake that credhook refused. Anything later — a reset, a
/// timeout while sending or waiting, a TLS record that cannot be read —
/// may come after the server got the request.
///
/// rustls reports a refused certificate as an I/O error of kind
/// `InvalidData`, the same kind it gives a record it cannot decrypt after
/// the request went out, so the kind cannot tell them apart: the rustls
/// error inside it does. A certificate, or a protocol the two sides do not
/// share, can only be refused in the handshake, and credhook sends nothing
/// before the handshake ends (no early data): unsent. Every other rustls
/// error (a bad record, an alert from the server, a peer misbehaving) may
/// come later: it may have arrived.
pub(crate) fn ended_by(e: &ureq::Error) -> Ended {
    use std::io::ErrorKind;
    use ureq::Timeout as T;
    match e {
        ureq::Error::Timeout(T::Resolve | T::Connect)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::RequireHttpsOnly(_)
        | ureq::Error::TlsRequired
        | ureq::Error::Rustls(_)
        | ureq::Error::Tls(_) => Ended::Unsent,
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => Ended::Unsent,
        ureq::Error::Io(io) if io.kind() == ErrorKind::InvalidData && refused_in_handshake(io) => Ended::Unsent,
        _ => Ended::NoReply,
    }
}

/// Whether an I/O error carries a rustls error only a handshake can give.
fn refused_in_handshake(io: &std::io::Error) -> bool {
    use rustls::Error as R;
    matches!(
        io.get_ref().and_then(|e| e.downcast_ref::<R>()),
        Some(
            R::InvalidCertificate(_)
                | R::NoCertificatesPresented
                | R::UnsupportedNameType
                | R::InvalidCertRevocationList(_)
                | R::PeerIncompatible(_)
        )
    )
}

/// What a failed attempt says, naming the limit or setting to change.
fn describe(e: &ureq::Error, limits: &Limits) -> String {
    use ureq::Error as E;
    use ureq::Timeout as T;
    let names = &limits.names;
    match e {
        E::Timeout(T::Connect | T::Resolve) => std::format!(
            "no connection within {} s ({})",
            limits.connect.as_secs_f64(),
            names.connect
        ),
        E::Timeout(T::Global) => std::format!("no complete reply within the time left ({})", names.attempt),
        E::Timeout(_) => std::format!(
            "no complete reply within {} s ({})",
            limits.phase.as_secs_f64(),
            names.reply
        ),
        E::HostNotFound => String::from("host not found (DNS)"),
        E::ConnectionFailed => String::from("could not connect"),
        // rustls reports a refused certificate as invalid data on the stream.
        E::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => std::format!(
            "TLS failed: {io}; the server's certificate must be valid for its host name and issued by a CA in {}",
            names.trust
        ),
        E::Io(io) => std::format!("connection failed: {io}"),
        E::Rustls(tls) => std::format!("TLS failed: {tls}"),
        E::Tls(msg) => std::format!("TLS failed: {msg}"),
        E::Protocol(p) => std::format!("the reply is not valid HTTP: {p}"),
        E::LargeResponseHeader(..) => String::from("the reply's headers are too large"),
        E::BodyStalled => String::from("the reply body stalled"),
        other => std::format!("the request failed: {other}"),
    }
}

fn failed(e: &ureq::Error, limits: &Limits) -> AttemptError {
    match e {
        ureq::Error::BodyExceedsLimit(_) => too_large(limits),
        _ => AttemptError::Failed {
            ended: ended_by(e),
            what: describe(e, limits),
        },
    }
}

fn too_large(limits: &Limits) -> AttemptError {
    AttemptError::TooLarge {
        cap: limits.max_body,
        setting: limits.names.max_body,
    }
}

/// One attempt, run to its end (on the worker thread). `time_left`: the
/// whole attempt's limit. `status_suffices`: a 2xx whose body breaks off
/// still counts ([`delivery::status_without_body`]).
pub(crate) fn run(
    agent: &ureq::Agent,
    out: &Outgoing,
    limits: &Limits,
    time_left: Duration,
    status_suffices: bool,
) -> Result<Answer, AttemptError> {
    // `http://localhost` goes to 127.0.0.1 itself.
    let url = Zeroizing::new(crate::core::net::url::connect_url(out.url.expose()).into_owned());
    let mut builder = ureq::http::Request::builder()
        .method(out.method.as_str())
        .uri(url.as_str());
    for (name, value) in &out.headers {
        builder = builder.header(name.as_str(), value.expose());
    }
    let sent = match &out.body {
        Some(b) => builder.body(b.as_slice()).map(|r| send(agent, r, time_left)),
        None if out.method.bodiless() => builder.body(()).map(|r| send(agent, r, time_left)),
        None => builder.body(&[][..]).map(|r| send(agent, r, time_left)),
    };
    let mut response = match sent {
        Ok(result) => result.map_err(|e| failed(&e, limits))?,
        Err(e) => {
            return Err(AttemptError::Failed {
                ended: Ended::Unsent,
                what: std::format!("the request could not be built: {e}"),
            });
        }
    };
    let status = response.status().as_u16();
    let header = |n: &str| {
        response
            .headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let retry_after = header("retry-after").and_then(|v| retry::parse_retry_after(&v));
    let location = header("location");
    let body = read_body(response.body_mut(), limits);
    let body = match body {
        Ok(b) => b,
        // The status was received; this call needs nothing more.
        Err(_) if delivery::status_without_body(status, status_suffices) => Zeroizing::new(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(Answer {
        status,
        body,
        retry_after,
        location,
    })
}

/// Sends the request, within `time_left` in all.
fn send<B: ureq::AsSendBody>(
    agent: &ureq::Agent,
    r: ureq::http::Request<B>,
    time_left: Duration,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    agent.run(agent.configure_request(r).timeout_global(Some(time_left)).build())
}

/// The body, at most the cap, into a zeroizing buffer.
fn read_body(body: &mut ureq::Body, limits: &Limits) -> Result<Zeroizing<Vec<u8>>, AttemptError> {
    let cap = limits.max_body;
    let hint = body.content_length().unwrap_or(0).min(cap as u64) as usize;
    let reader = body.with_config().limit((cap as u64).saturating_add(1)).reader();
    read_capped(reader, cap, hint).map_err(|e| match e {
        DriverError::TooLarge(_) => too_large(limits),
        // The reader gives no other error than these two.
        e => match e {
            DriverError::Io(io) => io.into_inner().and_then(|i| i.downcast::<ureq::Error>().ok()),
            _ => None,
        }
        .map_or_else(
            || AttemptError::Failed {
                ended: Ended::NoReply,
                what: String::from("the connection broke while reading the reply"),
            },
            |inner| failed(&inner, limits),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    fn io(kind: ErrorKind) -> ureq::Error {
        ureq::Error::Io(Error::from(kind))
    }

    fn tls(e: rustls::Error) -> ureq::Error {
        ureq::Error::Io(Error::new(ErrorKind::InvalidData, e))
    }

    #[test]
    fn only_errors_before_the_request_is_written_count_as_unsent() {
        use ureq::Timeout as T;
        for e in [
            ureq::Error::HostNotFound,
            ureq::Error::ConnectionFailed,
            ureq::Error::Timeout(T::Resolve),
            ureq::Error::Timeout(T::Connect),
            ureq::Error::Tls("Rustls invalid dns name error"),
            io(ErrorKind::ConnectionRefused),
        ] {
            assert_eq!(ended_by(&e), Ended::Unsent, "{e:?}");
        }
        for e in [
            io(ErrorKind::ConnectionReset),
            io(ErrorKind::UnexpectedEof),
            io(ErrorKind::Other),
            io(ErrorKind::InvalidData),
            ureq::Error::Timeout(T::SendRequest),
            ureq::Error::Timeout(T::RecvResponse),
            ureq::Error::Timeout(T::RecvBody),
            ureq::Error::Timeout(T::Global),
            ureq::Error::BodyStalled,
        ] {
            assert_eq!(ended_by(&e), Ended::NoReply, "{e:?}");
        }
    }

    #[test]
    fn a_certificate_refused_in_the_handshake_is_unsent_a_bad_record_later_may_have_arrived() {
        use rustls::{AlertDescription, CertificateError, PeerIncompatible, PeerMisbehaved};
        // What rustls gives for a certificate credhook refuses: only the
        // handshake verifies one, before anything is sent.
        for e in [
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            rustls::Error::InvalidCertificate(CertificateError::NotValidForName),
            rustls::Error::InvalidCertificate(CertificateError::Expired),
            rustls::Error::NoCertificatesPresented,
            rustls::Error::PeerIncompatible(PeerIncompatible::Tls12NotOffered),
        ] {
            assert_eq!(ended_by(&tls(e.clone())), Ended::Unsent, "{e:?}");
        }
        // What it gives for a record it cannot read, or an alert, which may
        // come after the request went out.
        for e in [
            rustls::Error::DecryptError,
            rustls::Error::AlertReceived(AlertDescription::InternalError),
            rustls::Error::PeerMisbehaved(PeerMisbehaved::IllegalMiddleboxChangeCipherSpec),
            rustls::Error::PeerSentOversizedRecord,
        ] {
            assert_eq!(ended_by(&tls(e.clone())), Ended::NoReply, "{e:?}");
        }
    }
}
