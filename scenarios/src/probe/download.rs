//! The download probe (`[application.download]`).

use super::{Attachment, ProbeContext, ProbeResult, failed_value, stopped, summary_value};
use crate::scenario::DownloadProbe;
use probes::clock::Clock;
use probes::download::{self, DownloadConfig};
use probes::record::probe_source;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A configured download probe.
pub struct DownloadAttachment(pub DownloadProbe);

impl Attachment for DownloadAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> &'static str {
        "download"
    }

    fn grace(&self) -> Duration {
        self.0.finish_within_s.duration()
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        let spec = self.0;
        tokio::spawn(async move {
            let summary = match run(&spec, ctx).await {
                Ok(v) => v,
                Err(e) => failed_value("download", e),
            };
            ProbeResult {
                name: spec.name,
                summary,
            }
        })
    }
}

async fn run(spec: &DownloadProbe, ctx: ProbeContext) -> Result<serde_json::Value, String> {
    let addr = ctx.endpoint.http.ok_or("the service has no HTTP address")?;
    let scheme = if spec.tls { "https" } else { "http" };
    let mut cfg = DownloadConfig::new(format!("{scheme}://{addr}{}", spec.path));
    cfg.resume = spec.resume;
    cfg.max_attempts = spec.attempts.max(1);
    cfg.backoff_base = spec.backoff_ms.duration();
    cfg.stall_threshold = spec.stall_threshold_s.duration();
    cfg.timeout = spec.timeout_s.duration();
    cfg.source = probe_source(&spec.name);
    let sink = ctx.sink.clone();
    // The campaign's own services use a self-signed certificate.
    let http = probes::client::HttpOptions {
        insecure: spec.tls,
        ..Default::default()
    };
    let events = download::run_with(
        cfg,
        &http,
        &ctx.clock,
        |e| sink(e.clone()),
        stopped(ctx.stop.clone()),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(summary_value(
        "download",
        ctx.clock.wall_anchor_unix_ns(),
        download::summarize(&events),
    ))
}
