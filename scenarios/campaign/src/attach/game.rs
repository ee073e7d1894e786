//! The game probe (`[application.game]`).

use super::{Attachment, ProbeContext, spawn, stopped};
use probes::game::{self, GameOptions};
use record::clock::Clock;
use record::{ProbeKind, ProbeResult, probe_source};
use std::time::Duration;
use tokio::task::JoinHandle;

/// A configured game probe.
pub struct GameAttachment(pub GameOptions);

impl Attachment for GameAttachment {
    fn name(&self) -> &str {
        &self.0.name
    }

    fn kind(&self) -> ProbeKind {
        ProbeKind::Game
    }

    fn start(self: Box<Self>, ctx: ProbeContext) -> JoinHandle<ProbeResult> {
        spawn(self.kind(), run(self.0, ctx))
    }
}

async fn run(opts: GameOptions, ctx: ProbeContext) -> Result<ProbeResult, String> {
    let addr = ctx
        .endpoint
        .game
        .ok_or("the service has no UDP game address")?;
    // Runs until the runner stops it.
    let anchor = ctx.clock.wall_anchor_unix_ns();
    let mut cfg = opts.config(&addr.to_string(), Duration::from_secs(86_400), anchor);
    cfg.source = probe_source(&opts.name);
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
    Ok(ProbeResult::measured(
        anchor,
        game::summarize(&events),
        None,
    ))
}
