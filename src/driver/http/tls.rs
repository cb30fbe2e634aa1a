//! What the engine trusts and how it connects: the bundled Mozilla roots, or
//! exactly the certificates of a PEM file (`CREDHOOK_CA_FILE`, `--cacert`,
//! `SSL_CERT_FILE`); and the one agent configuration every call shares.

use super::super::DriverError;
use crate::core::net::policy::Limits;

use std::vec::Vec;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// Largest PEM file read; a bundle of every public root is ~220 KiB.
pub(crate) const MAX_CA_FILE: u64 = 1 << 20;

/// The agent: statuses are replies, not errors; no proxy from the
/// environment; redirects returned as replies (the policy decides);
/// certificates verified against `roots`; `limits`' timeouts for each phase,
/// so an error says which phase it was in (before or after the request
/// went out).
pub(crate) fn agent(roots: RootCerts, limits: &Limits) -> ureq::Agent {
    let (connect, phase) = (Some(limits.connect), Some(limits.phase));
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // Proxies are not read from the environment: nothing reroutes
        // bearer tokens without the operator saying so.
        .proxy(None)
        .max_redirects(0)
        .user_agent(std::format!("credhook/{}", crate::VERSION))
        // The default 128 KiB buffers cost ~0.5 MiB of RSS for replies of
        // a few KiB.
        .input_buffer_size(20 * 1024)
        .output_buffer_size(20 * 1024)
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .timeout_resolve(connect)
        .timeout_connect(connect)
        .timeout_send_request(phase)
        .timeout_send_body(phase)
        .timeout_recv_response(phase)
        .timeout_recv_body(phase)
        .build()
        .new_agent()
}

/// The certificates of a PEM file (a regular file of at most
/// [`MAX_CA_FILE`] bytes); `what` names the setting or flag that named it.
pub(crate) fn load_pem_as(path: &str, what: &str) -> Result<Vec<Certificate<'static>>, DriverError> {
    let pem = super::super::files::read_regular(path, MAX_CA_FILE)
        .map_err(|e| DriverError::Setup(std::format!("{what} `{path}` {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => {
                // rustls would skip it silently, and every server then fails
                // as "unknown issuer": say so now.
                if let Err(e) = webpki::anchor_from_trusted_cert(&pki_types::CertificateDer::from(c.der())) {
                    return Err(DriverError::Setup(std::format!(
                        "{what} `{path}`: certificate {} is not a valid X.509 certificate ({e:?}); check the file's contents",
                        certs.len() + 1
                    )));
                }
                certs.push(c)
            }
            Ok(_) => {}
            Err(e) => {
                return Err(DriverError::Setup(std::format!(
                    "{what} `{path}` is not valid PEM: {e}"
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(DriverError::Setup(std::format!(
            "{what} `{path}` holds no `-----BEGIN CERTIFICATE-----` block; point it at a PEM CA bundle"
        )));
    }
    Ok(certs)
}
