//! The game probe (`[application.game]`).

use super::{Attachment, ProbeContext, ProbeResult, failed_value, stopped, summary_value};
use crate::scenario::GameProbe;
use crate::scenario::probes::GameProtocol;
use probes::clock::Clock;
use probes::game::{self, GameConfig, Protocol};
use probes::record::probe_source;
use std::time::Duration;
use tokio::task::JoinHandle;

/// A configured game probe.
pub struct GameAttachment(pub GameProbe);

impl Attachment for GameAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> &'static str {
        "game"
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        let spec = self.0;
        tokio::spawn(async move {
            let summary = match run(&spec, ctx).await {
                Ok(v) => v,
                Err(e) => failed_value("game", e),
            };
            ProbeResult {
                name: spec.name,
                summary,
            }
        })
    }
}

async fn run(spec: &GameProbe, ctx: ProbeContext) -> Result<serde_json::Value, String> {
    let addr = ctx
        .endpoint
        .game
        .ok_or("the service has no UDP game address")?;
    let protocol = match spec.protocol {
        GameProtocol::Qgt => Protocol::Qgt,
        GameProtocol::Stamp => Protocol::Stamp,
    };
    let mut cfg = GameConfig::new(protocol, addr.to_string());
    // Runs until the runner stops it.
    cfg.duration = Duration::from_secs(86_400);
    cfg.cmd_interval = Duration::from_secs_f64(1.0 / spec.cmdrate.get());
    cfg.freeze_threshold = spec.freeze_threshold_ms.map(|m| m.duration());
    cfg.wall_anchor_unix_ns = ctx.clock.wall_anchor_unix_ns();
    cfg.nonce_seed = ctx.clock.wall_anchor_unix_ns() ^ u64::from(std::process::id());
    cfg.source = probe_source(&spec.name);
    let sink = ctx.sink.clone();
    let events = game::run(
        addr,
        cfg,
        &ctx.clock,
        |e| sink(e.clone()),
        stopped(ctx.stop.clone()),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(summary_value(
        "game",
        ctx.clock.wall_anchor_unix_ns(),
        game::summarize(&events),
    ))
}
