//! The tokio + reqwest adapter: drives a [`DownloadProbe`] with the real clock. Thin
//! on purpose: every decision (resume, retry, stall, timeout) is the core's. HTTP and
//! HTTPS (HTTP/1.1 or HTTP/2), with the client options of [`crate::client`].

use super::core::{Action, DownloadConfig, DownloadProbe, Failure};
use super::head::{ResponseHead, SHA256_HEADER, parse_content_range};
use crate::client::{ClientError, HttpOptions};
use crate::clock::{Clock, MonotonicClock};
use crate::record::Event;
use std::future::Future;
use std::pin::Pin;

/// Why a download could not even start.
#[derive(Debug, thiserror::Error)]
pub enum DownloadSetupError {
    /// The URL does not parse.
    #[error("invalid URL {url}: {source}")]
    Url {
        /// The URL as given.
        url: String,
        /// The parser's error.
        source: url::ParseError,
    },
    /// Not `http://` or `https://`.
    #[error("unsupported URL scheme `{scheme}` in {url}: give an http:// or https:// URL")]
    Scheme {
        /// The scheme.
        scheme: String,
        /// The URL.
        url: String,
    },
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] ClientError),
}

type HeadFuture = Pin<Box<dyn Future<Output = reqwest::Result<reqwest::Response>> + Send>>;

enum InFlight {
    Idle,
    Head(HeadFuture),
    Body(reqwest::Response),
}

enum Wake {
    Head(reqwest::Result<reqwest::Response>),
    Chunk(reqwest::Result<Option<bytes::Bytes>>),
    Timer,
    Stop,
}

/// Downloads `cfg.url` until it completes or fails, or `stop` completes; calls
/// `on_event` for every event as it happens and returns them all. Default client
/// options ([`run_with`] takes them).
pub async fn run(
    cfg: DownloadConfig,
    clock: &MonotonicClock,
    on_event: impl FnMut(&Event),
    stop: impl Future<Output = ()>,
) -> Result<Vec<Event>, DownloadSetupError> {
    run_with(cfg, &HttpOptions::default(), clock, on_event, stop).await
}

/// [`run`] with client options (TLS trust, headers, user agent, cookies).
pub async fn run_with(
    cfg: DownloadConfig,
    http: &HttpOptions,
    clock: &MonotonicClock,
    mut on_event: impl FnMut(&Event),
    stop: impl Future<Output = ()>,
) -> Result<Vec<Event>, DownloadSetupError> {
    let url = url::Url::parse(&cfg.url).map_err(|source| DownloadSetupError::Url {
        url: cfg.url.clone(),
        source,
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(DownloadSetupError::Scheme {
            scheme: url.scheme().into(),
            url: cfg.url,
        });
    }
    let mut http = http.clone();
    http.connect_timeout.get_or_insert(cfg.timeout);
    let client = http.client()?.inner;
    let mut probe = DownloadProbe::new(cfg, clock.now());
    let mut events = Vec::new();
    let mut inflight = InFlight::Idle;
    tokio::pin!(stop);
    loop {
        probe.handle_timeout(clock.now());
        while let Some(a) = probe.poll_action(clock.now()) {
            inflight = match a {
                Action::Abort => InFlight::Idle,
                Action::Request {
                    range_start,
                    if_range,
                    ..
                } => {
                    let mut req = client.get(url.clone());
                    if let Some(start) = range_start {
                        req = req.header("range", format!("bytes={start}-"));
                    }
                    if let Some(tag) = if_range {
                        req = req.header("if-range", tag);
                    }
                    InFlight::Head(Box::pin(req.send()))
                }
            };
        }
        while let Some(e) = probe.poll_event() {
            on_event(&e);
            events.push(e);
        }
        if probe.is_done() {
            return Ok(events);
        }
        let wake_at = probe.poll_timeout().map(|t| clock.instant_at(t));
        let wake = tokio::select! {
            w = async {
                match &mut inflight {
                    InFlight::Head(f) => Wake::Head(f.await),
                    InFlight::Body(r) => Wake::Chunk(r.chunk().await),
                    InFlight::Idle => std::future::pending().await,
                }
            } => w,
            _ = async {
                match wake_at {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            } => Wake::Timer,
            _ = &mut stop => Wake::Stop,
        };
        let now = clock.now();
        match wake {
            Wake::Head(Ok(resp)) => {
                probe.on_response(now, head_of(&resp));
                inflight = InFlight::Body(resp);
            }
            Wake::Head(Err(e)) | Wake::Chunk(Err(e)) => {
                inflight = InFlight::Idle;
                probe.on_error(now, classify(&e), describe(&e));
            }
            Wake::Chunk(Ok(Some(b))) => probe.on_body(now, &b),
            Wake::Chunk(Ok(None)) => {
                inflight = InFlight::Idle;
                probe.on_done(now);
            }
            Wake::Timer => {}
            Wake::Stop => probe.interrupt(now),
        }
    }
}

fn head_of(resp: &reqwest::Response) -> ResponseHead {
    let h = resp.headers();
    let text = |name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    ResponseHead {
        status: resp.status().as_u16(),
        content_length: text("content-length").and_then(|v| v.trim().parse().ok()),
        content_range: text("content-range")
            .as_deref()
            .and_then(parse_content_range),
        etag: text("etag"),
        last_modified: text("last-modified"),
        published_sha256: text(SHA256_HEADER),
    }
}

fn classify(e: &reqwest::Error) -> Failure {
    if e.is_connect() {
        Failure::Connect
    } else if e.is_body() || e.is_request() || e.is_decode() || e.is_timeout() {
        Failure::Reset
    } else {
        Failure::Invalid
    }
}

/// The error with its causes, e.g. `error sending request: connection refused`.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}
