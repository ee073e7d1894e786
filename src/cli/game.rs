//! `qoeprobe game HOST:PORT`: plays a UDP game session like a client (commands at
//! `--cmdrate`, snapshots at the server's tick), or sends RFC 8762 STAMP test packets
//! to a session reflector, and reports RTT, freezes, loss, jitter, session continuity
//! and playability.

use super::metrics_opts::ProbeFeed;
use super::output::{Output, Progress, print_human, stdout_taken, write_json};
use probes::game::{self, GameOptions};
use probes::values::PositiveSecs;
use record::clock::{Clock, MonotonicClock};
use record::{EventKind, GameSummary, ProbeOutput};
use std::process::ExitCode;

/// `qoeprobe game`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Server as HOST:PORT (UDP).
    pub server: String,
    /// How long to play, in seconds.
    #[arg(long, default_value = "10", value_name = "SECS")]
    pub duration: PositiveSecs,
    /// What to send and how to judge the answers.
    #[command(flatten)]
    pub options: GameOptions,
    /// Write the summary and every event as JSON to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Start at this wall-clock time (RFC 3339 or unix seconds), so that probes on
    /// several hosts line up with one migration (docs/scale-out.md).
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<super::start_at::StartAt>,
    /// Live Prometheus metrics.
    #[command(flatten)]
    pub metrics: super::metrics_opts::MetricsOpts,
}

/// Runs `qoeprobe game` (with `--metrics`, serving the live metrics until its
/// linger is over).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let live = args.metrics.start().await?;
    let feed = ProbeFeed::new(live.as_ref(), &args.server);
    let code = game(args, feed).await;
    super::metrics_opts::finish(live).await;
    code
}

/// Plays the game session, feeding the events to `feed`.
async fn game(args: Args, feed: ProbeFeed) -> anyhow::Result<ExitCode> {
    let taken = stdout_taken(&[("--json", args.json.as_ref())])?;
    let addr = game::resolve(&args.server).await?;
    super::start_at::wait(args.start_at).await?;
    let clock = MonotonicClock::start();
    let cfg = args.options.config(
        &addr.to_string(),
        args.duration.duration(),
        clock.wall_anchor_unix_ns(),
    );
    let mut progress = Progress::new(args.quiet);
    let (mut snaps, mut freezes, mut last_rtt) = (0u64, 0u64, None::<u64>);
    let stop = async {
        let _ = fixtures::signal::shutdown().await;
    };
    let events = game::run(
        addr,
        cfg,
        &clock,
        |e| {
            feed.observe(e);
            match &e.kind {
                EventKind::GameSnapshot(s) => {
                    snaps += 1;
                    last_rtt = s.rtt_ns.last().copied().or(last_rtt);
                }
                EventKind::GameFreeze(_) => freezes += 1,
                _ => {}
            }
            if snaps % 10 == 0
                || !matches!(
                    e.kind,
                    EventKind::GameSnapshot(_) | EventKind::GameCommand(_)
                )
            {
                let rtt = last_rtt.map_or("-".into(), |r| format!("{:.2} ms", r as f64 / 1e6));
                progress.update(&format!(
                    "{:.1} s  snapshots {snaps}  rtt {rtt}  freezes {freezes}",
                    e.t().as_secs_f64()
                ));
            }
        },
        stop,
    )
    .await?;
    progress.finish();
    let summary = game::summarize(&events);
    if summary.end_reason == "no_answer" {
        anyhow::bail!(
            "no answer from {} (UDP): is `qoeprobe serve game` running there? For a STAMP reflector use --protocol stamp",
            args.server
        );
    }
    print_human(&human(&summary), taken);
    if let Some(p) = &args.json {
        let out = ProbeOutput::new("game", clock.wall_anchor_unix_ns(), summary, events);
        write_json(p, &out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// The summary as a few human lines.
pub fn human(s: &GameSummary) -> String {
    let loss = |c: Option<u64>, p: Option<f64>| match (c, p) {
        (Some(c), Some(p)) => format!("{c} ({p:.2} %)"),
        (Some(c), None) => c.to_string(),
        _ => "-".into(),
    };
    format!(
        "protocol     {}\nduration     {:.0} ms ({} commands, {} snapshots)\nrtt ms       p50 {}  p95 {}  p99 {}  max {}\njitter       {:.3} ms (RFC 3550), ipdv mean {:.3} ms\nfreezes      {} (longest {:.0} ms, total {:.0} ms; largest gap {:.1} ms)\nloss         up {}  down {}  round trip {}\nlate/dup     {} / {}   ignored {}   tick jumps {} ({} ticks missed)\nsession      continuous: {} (sessions {}, lost {})\nsend error   mean {} us  p50 {} us  p99 {} us\nplayable     {}\n",
        s.protocol,
        s.duration_ms,
        s.commands_sent,
        s.snapshots_received,
        ms(s.rtt_p50_ms),
        ms(s.rtt_p95_ms),
        ms(s.rtt_p99_ms),
        ms(s.rtt_max_ms),
        s.jitter_ms,
        s.ipdv_mean_ms,
        s.freeze_count,
        s.freeze_longest_ms,
        s.freeze_total_ms,
        s.gap_max_ms,
        loss(s.loss_up_count, s.loss_up_pct),
        loss(s.loss_down_count, s.loss_down_pct),
        s.loss_round_trip_pct
            .map_or("-".into(), |p| format!("{p:.2} %")),
        s.late,
        s.duplicates,
        s.ignored,
        s.tick_jumps,
        s.ticks_missed,
        s.session_continuous,
        s.sessions,
        s.sessions_lost,
        ms(s.send_error_mean_us),
        ms(s.send_error_p50_us),
        ms(s.send_error_p99_us),
        s.playable,
    )
}
