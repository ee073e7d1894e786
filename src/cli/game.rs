//! `qoeprobe game HOST:PORT`: plays a UDP game session like a client (commands at
//! `--cmdrate`, snapshots at the server's tick), or sends RFC 8762 STAMP test packets
//! to a session reflector, and reports RTT, freezes, loss, jitter, session continuity
//! and playability.

use super::output::{Output, Progress, print_human, stdout_taken, write_json};
use probes::clock::{Clock, MonotonicClock};
use probes::game::{self, GameConfig, Protocol};
use probes::record::{EventKind, GameSummary, ProbeOutput};
use std::process::ExitCode;
use std::time::Duration;

/// Which protocol to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProtocolArg {
    /// qoeprobe's game protocol (`qoeprobe serve game`).
    Qgt,
    /// RFC 8762 STAMP, unauthenticated mode, to any session reflector.
    Stamp,
}

/// `qoeprobe game`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Server as HOST:PORT (UDP).
    pub server: String,
    /// How long to play, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Commands (test packets) per second.
    #[arg(long, default_value_t = 66.0)]
    pub cmdrate: f64,
    /// Protocol.
    #[arg(long, value_enum, default_value_t = ProtocolArg::Qgt)]
    pub protocol: ProtocolArg,
    /// A snapshot gap above this is a freeze, in ms (default: max(3 ticks, 100 ms)).
    #[arg(long, value_name = "MS")]
    pub freeze_threshold: Option<f64>,
    /// Write the summary and every event as JSON to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `qoeprobe game`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let taken = stdout_taken(&[("--json", args.json.as_ref())])?;
    if !(args.duration.is_finite() && args.duration > 0.0 && args.duration <= 86_400.0) {
        anyhow::bail!(
            "--duration {}: expected 0 < seconds <= 86400",
            args.duration
        );
    }
    if !(args.cmdrate.is_finite() && (1.0..=100_000.0).contains(&args.cmdrate)) {
        anyhow::bail!(
            "--cmdrate {}: expected 1 to 100000 per second",
            args.cmdrate
        );
    }
    let addr = game::resolve(&args.server).await?;
    let clock = MonotonicClock::start();
    let protocol = match args.protocol {
        ProtocolArg::Qgt => Protocol::Qgt,
        ProtocolArg::Stamp => Protocol::Stamp,
    };
    let mut cfg = GameConfig::new(protocol, addr.to_string());
    cfg.duration = Duration::from_secs_f64(args.duration);
    cfg.cmd_interval = Duration::from_secs_f64(1.0 / args.cmdrate);
    cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
    cfg.nonce_seed = clock.wall_anchor_unix_ns() ^ u64::from(std::process::id());
    if let Some(ms) = args.freeze_threshold {
        if !(ms.is_finite() && ms > 0.0) {
            anyhow::bail!("--freeze-threshold {ms}: expected milliseconds above 0");
        }
        cfg.freeze_threshold = Some(Duration::from_secs_f64(ms / 1000.0));
    }
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
        "protocol     {}\nduration     {:.0} ms ({} commands, {} snapshots)\nrtt ms       p50 {}  p95 {}  p99 {}  max {}\njitter       {:.3} ms (RFC 3550), ipdv mean {:.3} ms\nfreezes      {} (longest {:.0} ms, total {:.0} ms; largest gap {:.1} ms)\nloss         up {}  down {}  round trip {}\nlate/dup     {} / {}   ignored {}   tick jumps {} ({} ticks missed)\nsession      continuous: {} (sessions {}, lost {})\nsend error   p50 {} us  p99 {} us\nplayable     {}\n",
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
        ms(s.send_error_p50_us),
        ms(s.send_error_p99_us),
        s.playable,
    )
}
