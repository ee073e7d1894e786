//! The DASH/HLS player probe (`[application.player]`).

use super::{Attachment, ProbeContext, ProbeResult, failed_value, summary_value};
use crate::scenario::PlayerProbe;
use probes::clock::Clock;
use probes::player::{
    abr,
    http::run_session,
    retry::RetryPolicy,
    session::{Player, PlayerConfig},
    summary::summarize,
};
use probes::record::probe_source;
use tokio::task::JoinHandle;

/// A configured player probe.
pub struct PlayerAttachment(pub PlayerProbe);

impl Attachment for PlayerAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> &'static str {
        "player"
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        let spec = self.0;
        tokio::spawn(async move {
            let summary = match run(&spec, ctx).await {
                Ok(v) => v,
                Err(e) => failed_value("player", e),
            };
            ProbeResult {
                name: spec.name,
                summary,
            }
        })
    }
}

async fn run(spec: &PlayerProbe, ctx: ProbeContext) -> Result<serde_json::Value, String> {
    let addr = ctx.endpoint.http.ok_or("the service has no HTTP address")?;
    let scheme = if spec.tls { "https" } else { "http" };
    let url = url::Url::parse(&format!("{scheme}://{addr}{}", spec.path))
        .map_err(|e| format!("bad manifest path {}: {e}", spec.path))?;
    let mut cfg = PlayerConfig::new(url);
    cfg.retry = RetryPolicy::by_name(
        match spec.retry {
            crate::scenario::probes::RetryName::Dashjs => "dashjs",
            crate::scenario::probes::RetryName::Persistent => "persistent",
        },
        spec.give_up_after_s.duration(),
    )
    .ok_or("unknown retry policy")?;
    cfg.max_buffer = spec.max_buffer_s.duration();
    if let Some(s) = spec.startup_threshold_s {
        cfg.startup_threshold = s.duration();
    }
    if let Some(s) = spec.resume_threshold_s {
        cfg.resume_threshold = s.duration();
    }
    cfg.duration = None;
    cfg.wall_anchor_unix_ns = ctx.clock.wall_anchor_unix_ns();
    cfg.source = probe_source(&spec.name);
    let abr = abr::by_name(spec.abr.name()).map_err(|e| e.to_string())?;
    // The campaign's own services use a self-signed certificate.
    let http = probes::client::HttpOptions {
        insecure: spec.tls,
        ..Default::default()
    };
    let client = http.client().map_err(|e| e.to_string())?;
    let mut player = Player::new(cfg.clone(), abr, ctx.clock.now());
    let mut events = Vec::new();
    let sink = ctx.sink.clone();
    run_session(&mut player, &ctx.clock, &client, ctx.stop.clone(), |e| {
        sink(e.clone());
        events.push(e);
    })
    .await;
    let mut v = summary_value(
        "player",
        ctx.clock.wall_anchor_unix_ns(),
        summarize(&events, &cfg.source),
    );
    if let (Some(err), Some(o)) = (player.fatal_error(), v.as_object_mut()) {
        o.insert("error".into(), err.to_string().into());
    }
    Ok(v)
}
