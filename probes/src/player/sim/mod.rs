//! `qoeprobe simulate`: the same [`Player`] core on a virtual clock against a
//! [`Link`] (throughput trace, outages, round-trip time), far faster than real time.
//!
//! Manifests, playlists and indexes are real bytes from a [`Loader`] (files or HTTP);
//! media segments are not fetched: their size is the byte range's length or the
//! announced bandwidth x duration / 8, delivered by the link model.

pub mod trace;

pub use trace::{Link, Trace, TraceError, parse_outage};

use super::session::{Action, FailureKind, Player};
use crate::record::{Event, RequestType};
use std::time::Duration;
use url::Url;

/// Where the simulator gets manifests, playlists and indexes from.
pub trait Loader {
    /// The bytes of `url` (restricted to `range`, inclusive, if given), or an error
    /// message.
    fn load(
        &mut self,
        url: &Url,
        range: Option<(u64, u64)>,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, String>>;
}

/// Loads `file://` URLs from disk and `http(s)://` URLs with a real request (with
/// the client given to [`DefaultLoader::with_client`], else one with default
/// options). A body is read up to the client's `max_text_body`, a file up to
/// [`userfile::limit::MANIFEST`].
#[derive(Debug, Default, Clone)]
pub struct DefaultLoader {
    client: Option<crate::client::HttpClient>,
}

impl DefaultLoader {
    /// Loads HTTP(S) URLs with `client` (TLS options, headers, body limit, ...).
    pub fn with_client(client: crate::client::HttpClient) -> Self {
        Self {
            client: Some(client),
        }
    }
}

impl Loader for DefaultLoader {
    async fn load(&mut self, url: &Url, range: Option<(u64, u64)>) -> Result<Vec<u8>, String> {
        let bytes = match url.scheme() {
            "file" => {
                let path = url
                    .to_file_path()
                    .map_err(|()| format!("{url}: not a local path"))?;
                // A regular file only, bounded: a FIFO would block the simulation.
                userfile::read(&path, userfile::limit::MANIFEST)
                    .map_err(|e| format!("{}: {e}", path.display()))?
            }
            "http" | "https" => {
                let client = match &mut self.client {
                    Some(c) => c,
                    None => {
                        let c = crate::client::default_client().map_err(|e| e.to_string())?;
                        self.client.insert(c)
                    }
                };
                let mut rb = client.inner.get(url.clone());
                if let Some((a, b)) = range {
                    rb = rb.header("Range", format!("bytes={a}-{b}"));
                }
                let resp = rb.send().await.map_err(|e| format!("{url}: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("{url}: HTTP {}", resp.status()));
                }
                // Read by chunks up to the limit: an endless body is an error, not
                // an allocation failure.
                let mut body = Vec::new();
                let mut resp = resp;
                while let Some(chunk) = resp.chunk().await.map_err(|e| format!("{url}: {e}"))? {
                    if body.len() as u64 + chunk.len() as u64 > client.max_text_body {
                        return Err(format!("{url}: {}", client.body_too_large()));
                    }
                    body.extend_from_slice(&chunk);
                }
                return Ok(body);
            }
            other => return Err(format!("{url}: unsupported scheme {other}")),
        };
        Ok(match range {
            Some((a, b)) => {
                let a = (a as usize).min(bytes.len());
                let b = (b as usize + 1).min(bytes.len());
                bytes[a..b.max(a)].to_vec()
            }
            None => bytes,
        })
    }
}

/// A request in flight on the simulated link.
struct SimRequest {
    id: u64,
    head_at: u64,
    done_at: u64,
    head_sent: bool,
    size: u64,
    body: Option<Vec<u8>>,
    error: Option<String>,
}

/// Limits that stop a simulation that would otherwise never end (a live manifest
/// without a session duration, a trace that starves a request forever).
#[derive(Debug, Clone, Copy)]
pub struct SimLimits {
    /// Longest virtual time simulated.
    pub max_virtual: Duration,
}

impl Default for SimLimits {
    fn default() -> Self {
        Self {
            max_virtual: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Runs `player` to its end on `link`. Returns every event in order.
pub async fn run<L: Loader>(
    player: &mut Player,
    link: &Link,
    loader: &mut L,
    limits: SimLimits,
) -> Vec<Event> {
    let mut inflight: Vec<SimRequest> = Vec::new();
    let mut now: u64 = 0;
    let max_ns = limits.max_virtual.as_nanos() as u64;
    loop {
        let t = Duration::from_nanos(now);
        while let Some(action) = player.poll_action(t) {
            match action {
                Action::Abort(id) => inflight.retain(|r| r.id != id),
                Action::Send(req) => {
                    let text = !matches!(req.request_type, RequestType::Media | RequestType::Init);
                    let (body, error, size) = if text {
                        let range = req.range.map(|r| (r.first, r.last));
                        let loaded = match req.parse_url() {
                            Ok(url) => loader.load(&url, range).await,
                            Err(e) => Err(format!("{}: {e}", req.url)),
                        };
                        match loaded {
                            Ok(b) => {
                                let n = b.len() as u64;
                                (Some(b), None, n)
                            }
                            Err(e) => (None, Some(e), 0),
                        }
                    } else {
                        let size = req.expected_bytes.or(req.nominal_bytes).unwrap_or(0);
                        (None, None, size)
                    };
                    let head_at = link.head_at(now);
                    let done_at = link.finish_at(head_at, size);
                    inflight.push(SimRequest {
                        id: req.id,
                        head_at,
                        done_at,
                        head_sent: false,
                        size,
                        body,
                        error,
                    });
                }
            }
        }
        if player.is_ended() {
            break;
        }
        let net = inflight
            .iter()
            .enumerate()
            .map(|(i, r)| (if r.head_sent { r.done_at } else { r.head_at }, i))
            .min();
        let timer = player.poll_timeout().map(|d| d.as_nanos() as u64);
        let next = match (net, timer) {
            (Some((a, _)), Some(b)) => a.min(b),
            (Some((a, _)), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        if next > max_ns {
            player.stop(
                Duration::from_nanos(max_ns.max(now)),
                crate::record::EndReason::Interrupted,
            );
            break;
        }
        now = now.max(next);
        let t = Duration::from_nanos(now);
        match net {
            Some((at, i)) if at <= now => {
                let r = &mut inflight[i];
                if let Some(e) = r.error.take() {
                    let id = r.id;
                    inflight.swap_remove(i);
                    let kind = if e.contains("HTTP 4") || e.contains("HTTP 5") {
                        FailureKind::Status(http_status(&e))
                    } else {
                        FailureKind::Connect
                    };
                    player.on_failure(t, id, kind, &e);
                } else if !r.head_sent {
                    r.head_sent = true;
                    let (id, size) = (r.id, r.size);
                    player.on_response(t, id, 200, Some(size));
                } else {
                    let r = inflight.swap_remove(i);
                    match r.body {
                        Some(b) => player.on_data(t, r.id, &b),
                        None => player.on_bytes(t, r.id, r.size),
                    }
                    player.on_complete(t, r.id);
                }
            }
            _ => player.handle_timeout(t),
        }
    }
    // Collected once: the player queues every event of the session until now.
    player.take_events()
}

fn http_status(e: &str) -> u16 {
    e.split("HTTP ")
        .nth(1)
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
}
