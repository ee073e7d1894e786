//! HTTP client flags shared by `play`, `simulate` and `download`: TLS trust, extra
//! headers, user agent, cookies, HTTP/1.1 only. Proxies come from the environment
//! (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`).

use probes::client::HttpOptions;
use std::path::PathBuf;

/// HTTP client settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HttpOpts {
    /// HTTPS: accept any server certificate (test servers; the traffic is still
    /// encrypted but the server is not authenticated).
    #[arg(long)]
    pub insecure: bool,
    /// HTTPS: also trust the certificates in this PEM file (repeatable), e.g. the one
    /// `serve dash --tls` prints.
    #[arg(long, value_name = "FILE", env = "QOEPROBE_CA")]
    pub ca: Vec<PathBuf>,
    /// Extra request header, `Name: value` (repeatable).
    #[arg(long, value_name = "NAME: VALUE")]
    pub header: Vec<String>,
    /// User-Agent header (default qoeprobe/<version>).
    #[arg(long, value_name = "STRING", env = "QOEPROBE_USER_AGENT")]
    pub user_agent: Option<String>,
    /// Cookie sent with every request, `name=value` (repeatable).
    #[arg(long, value_name = "NAME=VALUE")]
    pub cookie: Vec<String>,
    /// Speak HTTP/1.1 only (default: HTTP/2 when the server offers it by ALPN).
    #[arg(long)]
    pub http1: bool,
}

impl HttpOpts {
    /// The client options these flags describe.
    pub fn options(&self) -> HttpOptions {
        HttpOptions {
            insecure: self.insecure,
            ca_files: self.ca.clone(),
            headers: self.header.clone(),
            user_agent: self.user_agent.clone(),
            cookies: self.cookie.clone(),
            http1_only: self.http1,
            connect_timeout: None,
            max_text_body: None,
        }
    }
}
