//! The DASH/HLS player probe (`[application.player]`).

use super::{Attachment, ProbeContext, spawn};
use probes::player::PlayerOptions;
use probes::player::{http::run_session, session::Player, summary::summarize};
use record::clock::Clock;
use record::{ProbeKind, ProbeResult, probe_source};
use tokio::task::JoinHandle;

/// A configured player probe.
pub struct PlayerAttachment(pub PlayerOptions);

impl Attachment for PlayerAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> ProbeKind {
        ProbeKind::Player
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        spawn(self.kind(), run(self.0, ctx))
    }
}

async fn run(opts: PlayerOptions, ctx: ProbeContext) -> Result<ProbeResult, String> {
    let addr = ctx.endpoint.http.ok_or("the service has no HTTP address")?;
    let scheme = if opts.tls { "https" } else { "http" };
    let url = url::Url::parse(&format!("{scheme}://{addr}{}", opts.path))
        .map_err(|e| format!("bad manifest path {}: {e}", opts.path))?;
    let anchor = ctx.clock.wall_anchor_unix_ns();
    let mut cfg = opts.config(url, anchor);
    cfg.source = probe_source(&opts.name);
    // The campaign's own services use a self-signed certificate.
    let http = opts.http_options(probes::client::HttpOptions {
        insecure: opts.tls,
        ..Default::default()
    });
    let client = http.client().map_err(|e| e.to_string())?;
    let mut player = Player::new(cfg.clone(), opts.abr.build(), ctx.clock.now());
    let mut events = Vec::new();
    let sink = ctx.sink.clone();
    run_session(&mut player, &ctx.clock, &client, ctx.stop.clone(), |e| {
        sink(e.clone());
        events.push(e);
    })
    .await;
    let error = player.fatal_error().map(|e| e.to_string());
    Ok(ProbeResult::measured(
        anchor,
        summarize(&events, &cfg.source),
        error,
    ))
}
