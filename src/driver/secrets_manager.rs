//! Secrets Manager over HTTPS, as `run` reaches it: the IAM token, secret
//! reads and the task update ([`Platform`] for [`super::job::Job`]).

use super::DriverError;
use super::http::{Call, Http, Request};
use super::job::Platform;
use super::log::Log;
use super::token::Tokens;
use crate::core::job::flow::{Event, Update};
use crate::core::job::settings::Settings;
use crate::core::net::api;
use crate::core::net::method::Method;
use crate::core::secrets::secret::Secret;
use std::string::ToString;
use std::time::Instant;
use std::vec::Vec;
use zeroize::Zeroizing;

pub(crate) struct SecretsManager<'a> {
    pub(crate) settings: &'a Settings,
    pub(crate) http: Http,
    pub(crate) tokens: Tokens<'a>,
}

impl Platform for SecretsManager<'_> {
    fn get_token(&mut self, log: &Log) -> Result<(), DriverError> {
        self.tokens.fresh(&mut self.http, log, None).map(|_| ())
    }

    fn hook_token(&self) -> Option<&Secret> {
        self.tokens.current()
    }

    fn read_secret(&mut self, log: &Log, id: &str) -> Result<Zeroizing<Vec<u8>>, DriverError> {
        let token = self
            .tokens
            .fresh(&mut self.http, log, None)
            .map_err(|e| DriverError::SecretRead {
                status: None,
                what: e.to_string(),
            })?
            .clone();
        let url = api::secret_url(&self.settings.instance_url, id);
        let req = Request {
            call: Call::SecretRead,
            report: None,
            method: Method::Get,
            url: &url,
            bearer: Some(&token),
            content_type: None,
            body: None,
        };
        match self.http.send(log, &req) {
            Ok(reply) => Ok(reply.body),
            Err(e) => Err(DriverError::SecretRead {
                status: e.status(),
                what: e.to_string(),
            }),
        }
    }

    /// `PUT …/secrets/{id}/tasks/{task}`.
    fn send_update(&mut self, log: &Log, _update: &Update, body: &Secret, _description: Option<&str>) -> Event {
        // The report's stop budget covers the token refresh it may need.
        let report = Instant::now();
        let token = match self.tokens.fresh(&mut self.http, log, Some(report)) {
            Ok(t) => t.clone(),
            Err(why) => return Event::NotDelivered(why.to_string()),
        };
        let url = api::task_url(
            &self.settings.instance_url,
            &self.settings.secret_id,
            &self.settings.task_id,
        );
        let req = Request {
            call: Call::TaskUpdate,
            report: Some(report),
            method: Method::Put,
            url: &url,
            bearer: Some(&token),
            content_type: Some("application/json"),
            body: Some(body.expose().as_bytes()),
        };
        match self.http.send(log, &req) {
            Ok(_) => Event::Delivered,
            // What the engine classified: the flow rolls back only what
            // provably did not arrive.
            Err(e) => Event::update_ended(e.delivery(), &e),
        }
    }
}
