//! JSON over HTTP(S) to Keystone and Nova: TLS from the system's trust store plus the
//! cloud's `cacert` (or no verification with `verify: false`), a timeout per request,
//! and errors that carry the status and the service's own message with every secret
//! scrubbed ([`Redactor`]).

use super::cloud::Cloud;
use super::secret::{Redactor, Secret};
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;

/// Time one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A failed request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// No answer (connection refused, DNS, TLS, timeout).
    #[error("{method} {url}: {detail}")]
    Transport {
        /// Method.
        method: String,
        /// URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// An answer with an error status.
    #[error("{method} {url}: HTTP {status}: {message}")]
    Status {
        /// Method.
        method: String,
        /// URL.
        url: String,
        /// Status code.
        status: u16,
        /// The service's message (its `message` field when it sent JSON).
        message: String,
    },
}

/// A successful answer.
#[derive(Debug)]
pub struct Response {
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    what: String,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The body as JSON (`null` when empty).
    pub fn json(&self) -> Result<Value, String> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| format!("{}: the answer is not JSON: {e}", self.what))
    }
}

/// The client of one cloud.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    redactor: Redactor,
}

impl Http {
    /// A client with `cloud`'s TLS settings.
    pub fn new(cloud: &Cloud, redactor: Redactor) -> Result<Self, String> {
        // reqwest takes rustls's process-wide provider: *ring* (a later call, or one
        // by another client of this process, keeps the one installed first).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("qoeprobe/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &cloud.cacert {
            let pem = userfile::read(ca, userfile::limit::CLOUD_CONFIG).map_err(|e| {
                format!(
                    "cannot read the CA bundle {} (cacert / OS_CACERT): {e}",
                    ca.display()
                )
            })?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                format!(
                    "{} is not a PEM CA bundle (cacert / OS_CACERT): {e}",
                    ca.display()
                )
            })? {
                b = b.add_root_certificate(cert);
            }
        }
        if !cloud.verify {
            b = b.danger_accept_invalid_certs(true);
        }
        let client = b
            .build()
            .map_err(|e| format!("cannot set up the HTTPS client: {e}"))?;
        Ok(Self { client, redactor })
    }

    /// The redactor every error goes through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// `POST url` with a JSON body.
    pub async fn post_json(
        &self,
        url: &str,
        token: Option<&Secret>,
        headers: &[(&str, String)],
        body: &Value,
    ) -> Result<Response, HttpError> {
        self.send(Method::POST, url, token, headers, Some(body))
            .await
    }

    /// Sends a request; error statuses become [`HttpError::Status`].
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&Secret>,
        headers: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Response, HttpError> {
        let scrub = |s: &str| self.redactor.scrub(s);
        let mut req = self
            .client
            .request(method.clone(), url)
            .header("Accept", "application/json");
        if let Some(t) = token {
            req = req.header("X-Auth-Token", t.expose());
        }
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(b).unwrap_or_default());
        }
        let transport = |detail: String| HttpError::Transport {
            method: method.to_string(),
            url: scrub(url),
            detail: scrub(&detail),
        };
        let resp = req.send().await.map_err(|e| transport(error_chain(&e)))?;
        let status = resp.status();
        // Method, URL and status only: the token and bodies never reach a log.
        tracing::debug!(%method, url = %scrub(url), status = status.as_u16(), "OpenStack API");
        let headers = resp.headers().clone();
        let body = resp
            .bytes()
            .await
            .map_err(|e| transport(error_chain(&e)))?
            .to_vec();
        if !status.is_success() {
            return Err(HttpError::Status {
                method: method.to_string(),
                url: scrub(url),
                status: status.as_u16(),
                message: scrub(&service_message(&body)),
            });
        }
        Ok(Response {
            headers,
            body,
            what: format!("{method} {}", scrub(url)),
        })
    }
}

/// An error with its causes ("error sending request: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// OpenStack services wrap errors as `{"<kind>": {"message": ..., "code": ...}}`
/// (Nova) or `{"error": {"message": ...}}` (Keystone); else the text itself.
pub fn service_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(obj) = v.as_object()
    {
        for inner in obj.values() {
            if let Some(m) = inner.get("message").and_then(Value::as_str) {
                return m.to_string();
            }
        }
        if let Some(m) = v.get("message").and_then(Value::as_str) {
            return m.to_string();
        }
    }
    let text = String::from_utf8_lossy(body);
    text.chars()
        .take(300)
        .collect::<String>()
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_of_nova_and_keystone_errors() {
        assert_eq!(
            service_message(br#"{"conflictingRequest": {"message": "Cannot 'os-migrateLive' instance while it is in task_state migrating", "code": 409}}"#),
            "Cannot 'os-migrateLive' instance while it is in task_state migrating"
        );
        assert_eq!(
            service_message(br#"{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}"#),
            "The request you have made requires authentication."
        );
        assert_eq!(service_message(b"plain text"), "plain text");
    }
}
