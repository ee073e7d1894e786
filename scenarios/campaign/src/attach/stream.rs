//! The live stream probe (`[application.stream]`): the reader of `qoeprobe stream`
//! (MPlayer's cache semantics, docs/stream.md) against the application's `live`
//! service. The reader blocks, so it runs on a blocking thread; the runner's stop
//! signal is bridged to the reader's stop flag. A build without GStreamer records
//! the probe with the reader's error saying so.

use super::{Attachment, ProbeContext, spawn, stopped};
use probes::stream::{self, StreamOptions, summarize};
use record::clock::Clock;
use record::{ProbeKind, ProbeResult, probe_source};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinHandle;

/// A configured stream probe.
pub struct StreamAttachment(pub StreamOptions);

impl Attachment for StreamAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> ProbeKind {
        ProbeKind::Stream
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        spawn(self.kind(), run(self.0, ctx))
    }
}

async fn run(opts: StreamOptions, ctx: ProbeContext) -> Result<ProbeResult, String> {
    let addr = ctx
        .endpoint
        .http
        .ok_or("the service has no HTTP address (the stream probe needs service \"live\")")?;
    if !opts.path.starts_with('/') {
        return Err(format!(
            "bad stream path `{}`: it must start with `/`",
            opts.path
        ));
    }
    let source = probe_source(&opts.name);
    let config = opts.config(&format!("http://{addr}{}", opts.path), source.clone());
    let start_timeout = opts.start_timeout();
    let stop = Arc::new(AtomicBool::new(false));
    let bridge = {
        let stop = stop.clone();
        let rx = ctx.stop.clone();
        tokio::spawn(async move {
            stopped(rx).await;
            stop.store(true, Ordering::Relaxed);
        })
    };
    let clock = ctx.clock.clone();
    let sink = ctx.sink.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let mut events = Vec::new();
        let result = stream::play(config, None, start_timeout, &clock, &stop, |e| {
            sink(e.clone());
            events.push(e);
        });
        (result, events)
    })
    .await;
    bridge.abort();
    let (result, events) = joined.map_err(|e| format!("the stream reader thread failed: {e}"))?;
    Ok(ProbeResult::measured(
        ctx.clock.wall_anchor_unix_ns(),
        summarize(&events, &source),
        result.err().map(|e| e.to_string()),
    ))
}
