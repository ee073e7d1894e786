//! Probe attachment: the runner starts each probe an application names against the
//! service endpoint, with the run's clock and timeline sink, and stops it at the end
//! of the cool-down. One module per probe kind (player, download, game, stream); a
//! new kind adds a module implementing [`Attachment`] and one line in [`attachments`].
//!
//! A probe's result is its summary as a JSON object with the same fields as its
//! standalone `--json` (without the events, which are in `timeline.jsonl`).

pub mod download;
pub mod game;
pub mod player;
pub mod stream;

use crate::migrate::{EventSink, ServiceEndpoint};
use crate::scenario::Application;
use probes::clock::MonotonicClock;
use probes::record::ProbeOutput;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a running probe gets.
#[derive(Clone)]
pub struct ProbeContext {
    /// The run's clock.
    pub clock: MonotonicClock,
    /// The run's timeline.
    pub sink: EventSink,
    /// Where the service is.
    pub endpoint: ServiceEndpoint,
    /// Turns true when the probe must stop.
    pub stop: watch::Receiver<bool>,
}

/// What a probe reports at its end.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    /// Probe name (the key under `probes` in summary.json).
    pub name: String,
    /// The summary object (with `probe` = its kind).
    pub summary: serde_json::Value,
}

/// One probe kind, configured, ready to start.
pub trait Attachment: Send {
    /// Probe name in the results.
    fn name(&self) -> &str;
    /// Probe kind (`player`, `download`, `game`, `stream`).
    fn kind(&self) -> &'static str;
    /// How long the runner waits, after the cool-down, for the probe to end by itself
    /// before stopping it (zero for probes that run until stopped).
    fn grace(&self) -> Duration {
        Duration::ZERO
    }
    /// Starts the probe as a task.
    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult>;
}

/// The probes of an application, in a fixed order.
pub fn attachments(app: &Application) -> Vec<Box<dyn Attachment>> {
    let mut out: Vec<Box<dyn Attachment>> = Vec::new();
    if let Some(p) = &app.player {
        out.push(Box::new(player::PlayerAttachment(p.clone())));
    }
    if let Some(p) = &app.download {
        out.push(Box::new(download::DownloadAttachment(p.clone())));
    }
    if let Some(p) = &app.game {
        out.push(Box::new(game::GameAttachment(p.clone())));
    }
    if let Some(p) = &app.stream {
        out.push(Box::new(stream::StreamAttachment(p.clone())));
    }
    out
}

/// A summary in the shape of the probe's standalone `--json`, without its events.
pub fn summary_value<S: serde::Serialize>(
    kind: &str,
    wall_anchor_unix_ns: u64,
    summary: S,
) -> serde_json::Value {
    let out = ProbeOutput::new(kind, wall_anchor_unix_ns, summary, Vec::new());
    let mut v =
        serde_json::to_value(out).unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }));
    if let Some(o) = v.as_object_mut() {
        o.remove("events");
    }
    v
}

/// The summary of a probe that could not run.
pub fn failed_value(kind: &str, error: impl std::fmt::Display) -> serde_json::Value {
    serde_json::json!({ "probe": kind, "error": error.to_string() })
}

/// A future that completes when `stop` turns true (or its sender is gone).
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}
