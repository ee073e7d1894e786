//! Probe attachment: the runner starts each probe an application names against the
//! service endpoint, with the run's clock and timeline sink, and stops it at the end
//! of the cool-down. One module per probe kind (player, download, game, stream); a
//! new kind adds a module implementing [`Attachment`] and one line in [`attachments`].
//! Each probe is configured by its options type from the `probes` crate (the same
//! type its subcommand reads), so the scenario file and the command line agree.
//!
//! A probe's result is a [`ProbeResult`]: its typed summary (the same fields as its
//! standalone `--json`, without the events, which are in `timeline.jsonl`), or why it
//! could not run.

mod download;
mod game;
mod player;
mod stream;

use crate::scenario::Application;
use platform::{EventSink, ServiceEndpoint};
use probes::download::DownloadOptions;
use probes::game::GameOptions;
use probes::player::PlayerOptions;
use probes::stream::StreamOptions;
use record::clock::MonotonicClock;
use record::{ProbeKind, ProbeResult};
use std::future::Future;
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

/// One probe kind, configured, ready to start.
pub trait Attachment: Send {
    /// Probe name in the results.
    fn name(&self) -> &str;
    /// Probe kind.
    fn kind(&self) -> ProbeKind;
    /// How long the runner waits, after the cool-down, for the probe to end by itself
    /// before stopping it (zero for probes that run until stopped).
    fn grace(&self) -> Duration {
        Duration::ZERO
    }
    /// Starts the probe as a task.
    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult>;
}

/// The name of client `j` (0-based) of probe `name` in an application of `clients`
/// clients: the probe's own name for one client, else `name#1` to `name#N`.
pub fn session_name(name: &str, j: u32, clients: u32) -> String {
    if clients == 1 {
        name.to_string()
    } else {
        format!("{name}#{}", j + 1)
    }
}

/// The probes of an application, in a fixed order: every probe once per client
/// (`clients` in the file), for the clients `keep` accepts (a client host runs its
/// share, docs/scale-out.md).
pub fn attachments(app: &Application, keep: impl Fn(u32) -> bool) -> Vec<Box<dyn Attachment>> {
    let mut out: Vec<Box<dyn Attachment>> = Vec::new();
    let n = app.clients;
    for j in (0..n).filter(|j| keep(*j)) {
        if let Some(p) = &app.player {
            let name = session_name(&p.name, j, n);
            out.push(Box::new(player::PlayerAttachment(PlayerOptions {
                name,
                ..p.clone()
            })));
        }
        if let Some(p) = &app.download {
            let name = session_name(&p.name, j, n);
            out.push(Box::new(download::DownloadAttachment(DownloadOptions {
                name,
                ..p.clone()
            })));
        }
        if let Some(p) = &app.game {
            let name = session_name(&p.name, j, n);
            out.push(Box::new(game::GameAttachment(GameOptions {
                name,
                ..p.clone()
            })));
        }
        if let Some(p) = &app.stream {
            let name = session_name(&p.name, j, n);
            out.push(Box::new(stream::StreamAttachment(StreamOptions {
                name,
                ..p.clone()
            })));
        }
    }
    out
}

/// The names of every session of `app` (all clients), in [`attachments`]' order.
pub fn session_names(app: &Application) -> Vec<String> {
    attachments(app, |_| true)
        .iter()
        .map(|a| a.name().to_string())
        .collect()
}

/// Runs one probe as a task: its result, or why it could not run.
fn spawn<F>(kind: ProbeKind, run: F) -> JoinHandle<ProbeResult>
where
    F: Future<Output = Result<ProbeResult, String>> + Send + 'static,
{
    tokio::spawn(async move { run.await.unwrap_or_else(|e| ProbeResult::failed(kind, e)) })
}

/// A future that completes when `stop` turns true (or its sender is gone).
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}
