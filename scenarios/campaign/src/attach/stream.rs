//! The live stream probe (`[application.stream]`): the GStreamer reader of
//! `qoeprobe stream` (MPlayer's cache semantics, docs/stream.md) against the
//! application's `live` service. GStreamer blocks, so the reader runs on a blocking
//! thread; the runner's stop signal is bridged to the reader's stop flag.

use super::{Attachment, ProbeContext, ProbeResult, failed_value, stopped, summary_value};
use crate::scenario::StreamProbe;
use crate::scenario::probes::ReconnectName;
use probes::clock::Clock;
use probes::record::probe_source;
use probes::stream::ReconnectPolicy;
use probes::stream::gst::{StreamOptions, run as play};
use probes::stream::summary::summarize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::task::JoinHandle;

/// A configured stream probe.
pub struct StreamAttachment(pub StreamProbe);

impl Attachment for StreamAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> &'static str {
        "stream"
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        let spec = self.0;
        tokio::spawn(async move {
            let summary = match run(&spec, ctx).await {
                Ok(v) => v,
                Err(e) => failed_value("stream", e),
            };
            ProbeResult {
                name: spec.name,
                summary,
            }
        })
    }
}

/// The reader's options for `spec` against `url`.
pub fn options(spec: &StreamProbe, url: &str) -> StreamOptions {
    let policy = match spec.reconnect {
        ReconnectName::Never => ReconnectPolicy::Never,
        ReconnectName::Always => ReconnectPolicy::Always,
    };
    let mut opts = StreamOptions::new(url, spec.cache_s.duration(), policy, None);
    opts.config.source = probe_source(&spec.name);
    opts.config.stall_threshold = spec.stall_threshold_ms.duration();
    opts.start_timeout = spec.start_timeout_s.duration();
    opts
}

async fn run(spec: &StreamProbe, ctx: ProbeContext) -> Result<serde_json::Value, String> {
    let addr = ctx
        .endpoint
        .http
        .ok_or("the service has no HTTP address (the stream probe needs service \"live\")")?;
    if !spec.path.starts_with('/') {
        return Err(format!(
            "bad stream path `{}`: it must start with `/`",
            spec.path
        ));
    }
    let opts = options(spec, &format!("http://{addr}{}", spec.path));
    let source = opts.config.source.clone();
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
        let result = play(&opts, &clock, &stop, |e| {
            sink(e.clone());
            events.push(e);
        });
        (result, events)
    })
    .await;
    bridge.abort();
    let (result, events) = joined.map_err(|e| format!("the stream reader thread failed: {e}"))?;
    let mut v = summary_value(
        "stream",
        ctx.clock.wall_anchor_unix_ns(),
        summarize(&events, &source),
    );
    if let (Err(e), Some(o)) = (result, v.as_object_mut()) {
        o.insert("error".into(), e.to_string().into());
    }
    Ok(v)
}
