//! The HTTP client every HTTP probe uses (player, download): reqwest on rustls with
//! the *ring* provider, HTTP/2 by ALPN (`h2`, then `http/1.1`), the system's root
//! certificates plus any `--ca` file (or no verification with `--insecure`), extra
//! request headers, a user agent and cookies, proxies from the environment
//! (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), and a count of the
//! connections it opens ([`Connections`]): under HTTP/2 one connection carries many
//! requests, so connections, not requests, tell whether the client reconnected.

mod connections;
mod tls;

pub use connections::{ConnectionLayer, Connections};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

/// The user agent sent when none is given: `qoeprobe/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("qoeprobe/", env!("CARGO_PKG_VERSION"));

/// Largest `--ca` file read: a CA bundle is a few hundred KB.
pub const MAX_CA_FILE_BYTES: u64 = 16 << 20;

/// How the client connects and what it adds to every request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpOptions {
    /// Accept any server certificate (test servers with self-signed certificates).
    pub insecure: bool,
    /// PEM files of extra trusted certificates (added to the system's roots).
    pub ca_files: Vec<PathBuf>,
    /// Extra request headers, as given: `Name: value`.
    pub headers: Vec<String>,
    /// User agent; `None` = [`DEFAULT_USER_AGENT`].
    pub user_agent: Option<String>,
    /// Cookies, as given: `name=value` (sent together in one `Cookie` header).
    pub cookies: Vec<String>,
    /// Speak HTTP/1.1 only (no `h2` in ALPN).
    pub http1_only: bool,
    /// Connection timeout (TCP and TLS handshake); `None` = none.
    pub connect_timeout: Option<Duration>,
    /// Largest manifest, playlist or index body kept whole, bytes; `None` =
    /// [`DEFAULT_MAX_TEXT_BODY`].
    pub max_text_body: Option<u64>,
}

/// Largest manifest, playlist or index body the player keeps by default (a 10-hour
/// SegmentTimeline MPD is a few MB): a longer body fails as `invalid`, naming the
/// limit and `--max-body`.
pub const DEFAULT_MAX_TEXT_BODY: u64 = 64 << 20;

/// Why the client could not be built. Every message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A `--header` value is not `Name: value` or not valid in HTTP.
    #[error("--header {0:?}: expected `Name: value` with a valid header name and value")]
    Header(String),
    /// A `--cookie` value is not `name=value`.
    #[error("--cookie {0:?}: expected `name=value` (no `;`, no control characters)")]
    Cookie(String),
    /// The `--user-agent` value cannot be sent.
    #[error("--user-agent {0:?}: not a valid header value (control characters?)")]
    UserAgent(String),
    /// A `--ca` file could not be read or holds no certificate.
    #[error("--ca {path}: {detail}")]
    Ca {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// rustls refused the configuration.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(#[from] reqwest::Error),
}

impl HttpOptions {
    /// The default headers: every `--header`, then one `Cookie` header.
    pub fn header_map(&self) -> Result<HeaderMap, ClientError> {
        let mut map = HeaderMap::new();
        for h in &self.headers {
            let bad = || ClientError::Header(h.clone());
            let (name, value) = h.split_once(':').ok_or_else(bad)?;
            let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad())?;
            let value = HeaderValue::from_str(value.trim()).map_err(|_| bad())?;
            map.append(name, value);
        }
        if !self.cookies.is_empty() {
            for c in &self.cookies {
                let ok = c.split_once('=').is_some_and(|(n, _)| !n.trim().is_empty())
                    && !c.contains(';');
                if !ok {
                    return Err(ClientError::Cookie(c.clone()));
                }
            }
            let joined = self
                .cookies
                .iter()
                .map(|c| c.trim())
                .collect::<Vec<_>>()
                .join("; ");
            let value =
                HeaderValue::from_str(&joined).map_err(|_| ClientError::Cookie(joined.clone()))?;
            map.append(reqwest::header::COOKIE, value);
        }
        Ok(map)
    }

    /// Builds the client with its own connection count.
    pub fn client(&self) -> Result<HttpClient, ClientError> {
        let connections = Connections::default();
        let inner = self.build(&connections)?;
        Ok(HttpClient {
            inner,
            connections,
            max_text_body: self.max_text_body.unwrap_or(DEFAULT_MAX_TEXT_BODY),
        })
    }

    /// Builds the client; connections it opens are counted in `connections`.
    pub fn build(&self, connections: &Connections) -> Result<reqwest::Client, ClientError> {
        install_ring_provider();
        let ua = self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let ua = HeaderValue::from_str(ua).map_err(|_| ClientError::UserAgent(ua.to_string()))?;
        let tls = tls::client_config(self)?;
        let mut b = reqwest::Client::builder()
            .user_agent(ua)
            .default_headers(self.header_map()?)
            .tls_backend_preconfigured(tls)
            .pool_max_idle_per_host(usize::MAX)
            .connector_layer(ConnectionLayer::new(connections.clone()));
        if self.http1_only {
            b = b.http1_only();
        }
        if let Some(t) = self.connect_timeout {
            b = b.connect_timeout(t);
        }
        Ok(b.build()?)
    }
}

/// A client and the count of the connections it opened.
#[derive(Debug, Clone)]
pub struct HttpClient {
    /// The reqwest client.
    pub inner: reqwest::Client,
    /// Connections it opened.
    pub connections: Connections,
    /// Largest manifest, playlist or index body kept whole, bytes.
    pub max_text_body: u64,
}

impl HttpClient {
    /// The same client (its pool and settings) with a connection count of its own
    /// that nothing increments: for sessions that share one pool, whose connections
    /// belong to no session in particular. A session given the shared client itself
    /// would count every other session's connections as its own (and wake for each
    /// of them: with N sessions, N x N `connection` events; `play --clients 10000`
    /// grew by about 1 GB a second that way).
    pub fn shared_view(&self) -> HttpClient {
        HttpClient {
            inner: self.inner.clone(),
            connections: Connections::default(),
            max_text_body: self.max_text_body,
        }
    }

    /// Why a text body of more than `max_text_body` bytes is refused: the limit and
    /// the flag that raises it.
    pub fn body_too_large(&self) -> String {
        format!(
            "body larger than {} ({} bytes): not a manifest, playlist or index, or a larger one than allowed; raise the limit with --max-body MIB",
            userfile::limit::describe(self.max_text_body),
            self.max_text_body
        )
    }
}

/// Makes *ring* the process's default rustls provider (once; later calls do
/// nothing). reqwest is built without a provider of its own, so a client built
/// directly with `reqwest::Client::new()` needs this first; [`HttpOptions::build`]
/// calls it.
pub fn install_ring_provider() {
    // An error means a provider is installed already: fine either way.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client with the default options, for callers that need nothing else.
pub fn default_client() -> Result<HttpClient, ClientError> {
    HttpOptions::default().client()
}

/// `HTTP/1.1`, `HTTP/2`, ... as written in records.
pub fn version_name(v: reqwest::Version) -> &'static str {
    match v {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_11 => "HTTP/1.1",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_cookies_are_parsed_or_refused_clearly() {
        let o = HttpOptions {
            headers: vec![
                "X-Token: abc".into(),
                "Referer:  https://a.example/ ".into(),
            ],
            cookies: vec!["session=1".into(), "theme=dark".into()],
            ..HttpOptions::default()
        };
        let m = o.header_map().unwrap();
        assert_eq!(m["x-token"], "abc");
        assert_eq!(m["referer"], "https://a.example/");
        assert_eq!(m["cookie"], "session=1; theme=dark");
        for bad in ["no colon", "Bad Name: x", ": empty"] {
            let o = HttpOptions {
                headers: vec![bad.into()],
                ..HttpOptions::default()
            };
            let e = o.header_map().unwrap_err().to_string();
            assert!(e.contains("Name: value"), "{bad}: {e}");
        }
        for bad in ["novalue", "=x", "a=1; b=2"] {
            let o = HttpOptions {
                cookies: vec![bad.into()],
                ..HttpOptions::default()
            };
            assert!(o.header_map().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_ca_file_is_a_clear_error() {
        let o = HttpOptions {
            ca_files: vec!["/nonexistent/ca.pem".into()],
            ..HttpOptions::default()
        };
        let e = o.build(&Connections::default()).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
    }
}
