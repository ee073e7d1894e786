//! `qoeprobe demo`: the main job. Until the campaign runner lands it plays a 30 s
//! session against the built-in DASH origin and prints the summary.

use probes::clock::{Clock, MonotonicClock};
use probes::player::abr;
use probes::player::http::run_session;
use probes::player::session::{Player, PlayerConfig};
use probes::player::summary::summarize;
use std::process::ExitCode;
use std::time::Duration;
use tokio::sync::watch;

/// `qoeprobe demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session length in seconds.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
}

/// Runs the demo.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let origin = fixtures::dash::start(fixtures::dash::DashConfig::default()).await?;
    println!("demo: built-in DASH origin at {}", origin.dash_url());
    println!("demo: playing {} s with the dash.js-style 'dynamic' ABR...", args.duration);
    let clock = MonotonicClock::start();
    let mut cfg = PlayerConfig::new(url::Url::parse(&origin.dash_url())?);
    cfg.duration = Some(Duration::from_secs(args.duration));
    cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
    let mut player = Player::new(cfg.clone(), abr::by_name("dynamic")?, clock.now());
    let (_stop_tx, stop_rx) = watch::channel(false);
    let client = reqwest::Client::new();
    let mut events = Vec::new();
    run_session(&mut player, &clock, &client, stop_rx, |e| events.push(e)).await;
    if let Some(e) = player.fatal_error() {
        anyhow::bail!("{e}");
    }
    print!("{}", super::player_report::human(&summarize(&events, &cfg.source)));
    Ok(ExitCode::SUCCESS)
}
