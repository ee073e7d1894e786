//! The download probe (`[application.download]`).

use super::{Attachment, ProbeContext, spawn, stopped};
use probes::download::{self, DownloadOptions};
use record::clock::Clock;
use record::{ProbeKind, ProbeResult, probe_source};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A configured download probe.
pub struct DownloadAttachment(pub DownloadOptions);

impl Attachment for DownloadAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> ProbeKind {
        ProbeKind::Download
    }

    fn grace(&self) -> Duration {
        self.0.finish_within_s.duration()
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        spawn(self.kind(), run(self.0, ctx))
    }
}

async fn run(opts: DownloadOptions, ctx: ProbeContext) -> Result<ProbeResult, String> {
    let addr = ctx.endpoint.http.ok_or("the service has no HTTP address")?;
    let scheme = if opts.tls { "https" } else { "http" };
    let mut cfg = opts.config(format!("{scheme}://{addr}{}", opts.path));
    cfg.source = probe_source(&opts.name);
    let sink = ctx.sink.clone();
    // The campaign's own services use a self-signed certificate.
    let http = probes::client::HttpOptions {
        insecure: opts.tls,
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
    Ok(ProbeResult::measured(
        ctx.clock.wall_anchor_unix_ns(),
        download::summarize(&events),
        None,
    ))
}
