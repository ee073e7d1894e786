//! `qoeprobe stream URL`: plays an RTSP or HTTP progressive live stream in real time
//! with real decoding (GStreamer) and MPlayer's cache semantics, and reports stalls,
//! cache level, frames rendered/dropped, disconnects and reconnects.

use super::metrics_opts::ProbeFeed;
use super::output::{Output, Progress, print_human, stdout_taken, write_json};
use super::player_report::EventLog;
use probes::stream::{self, StreamOptions};
use probes::values::Secs;
use record::clock::{Clock, MonotonicClock};
use record::{Event, EventKind, ProbeOutput, StreamSummary, probe_source};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `qoeprobe stream`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stream URL: http(s):// (progressive MPEG-TS and the like) or rtsp://.
    pub url: String,
    /// How to play it.
    #[command(flatten)]
    pub options: StreamOptions,
    /// Stop after this many seconds (default: until the stream ends or Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<Secs>,
    /// Write the summary and every event as JSON to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// Append every event to this JSONL file as it happens (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub events: Option<Output>,
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

/// Runs `qoeprobe stream` (a build without GStreamer says so and fails; with
/// `--metrics`, serving the live metrics until its linger is over).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let live = args.metrics.start().await?;
    let feed = ProbeFeed::new(live.as_ref(), &args.url);
    let code = stream(args, feed).await;
    super::metrics_opts::finish(live).await;
    code
}

/// Plays the stream, feeding the events to `feed`.
async fn stream(args: Args, feed: ProbeFeed) -> anyhow::Result<ExitCode> {
    let source = probe_source("stream");
    let config = args.options.config(&args.url, source.clone());
    let start_timeout = args.options.start_timeout();
    let duration = args.duration.map(Secs::duration);
    let taken = stdout_taken(&[
        ("--json", args.json.as_ref()),
        ("--events", args.events.as_ref()),
    ])?;
    let mut log = args.events.as_ref().map(EventLog::create).transpose()?;
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    tokio::spawn(async move {
        if fixtures::signal::shutdown().await.is_ok() {
            stop2.store(true, Ordering::Relaxed);
        }
    });
    super::start_at::wait(args.start_at).await?;
    let clock = MonotonicClock::start();
    let anchor = clock.wall_anchor_unix_ns();
    let quiet = args.quiet;
    let (result, events, log_error) = tokio::task::spawn_blocking(move || {
        let mut events: Vec<Event> = Vec::new();
        let mut progress = Progress::new(quiet);
        let mut log_error = None;
        let mut stalls = 0u64;
        let result = stream::play(config, duration, start_timeout, &clock, &stop, |e| {
            feed.observe(&e);
            if let Some(l) = log.as_mut()
                && let Err(err) = l.append(&e)
            {
                log_error.get_or_insert(err);
            }
            if let EventKind::StreamStallStart(_) = e.kind {
                stalls += 1;
            }
            if let EventKind::StreamSample(s) = &e.kind {
                progress.update(&format!(
                    "{:>6.1} s  {:<8} cache {:>5.2} s  {} frames ({} dropped)  {:.0} kbit/s  {stalls} stalls",
                    e.t_ns as f64 / 1e9,
                    s.state,
                    s.level_ms / 1000.0,
                    s.frames_rendered,
                    s.frames_dropped,
                    s.bitrate_kbps
                ));
            }
            events.push(e);
        });
        progress.finish();
        (result, events, log_error)
    })
    .await?;
    result?;
    if let Some(err) = log_error {
        eprintln!("warning: the event log could not be written completely: {err}");
    }
    let summary = stream::summarize(&events, &source);
    print_human(&human(&summary), taken);
    if let Some(p) = &args.json {
        write_json(p, &ProbeOutput::new("stream", anchor, &summary, events))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The human-readable summary.
pub fn human(s: &StreamSummary) -> String {
    let mut o = String::new();
    let reason = s
        .end_reason
        .map(|r| format!("{r:?}").to_lowercase())
        .unwrap_or_else(|| "running".into());
    let _ = writeln!(o, "{} (cache {:.1} s)", s.url, s.cache_ms / 1000.0);
    let _ = writeln!(
        o,
        "  session    {:.3} s (ended: {reason}), played {:.3} s",
        s.session_ms / 1000.0,
        s.played_ms / 1000.0
    );
    match s.startup_ms {
        Some(d) => {
            let _ = writeln!(o, "  startup    {:.3} s", d / 1000.0);
        }
        None => {
            let _ = writeln!(o, "  startup    never started");
        }
    }
    let _ = writeln!(
        o,
        "  stalls     {} ({:.3} s total, longest {:.3} s), {} short underruns, min cache {:.3} s",
        s.stall_count,
        s.stall_total_ms / 1000.0,
        s.stall_longest_ms / 1000.0,
        s.short_underruns,
        s.min_cache_ms / 1000.0
    );
    let _ = writeln!(
        o,
        "  frames     {} rendered, {} dropped ({:.2} %)",
        s.frames_rendered,
        s.frames_dropped,
        100.0 * s.drop_ratio
    );
    let _ = writeln!(
        o,
        "  network    {:.0} kbit/s average, {:.1} MB, {} disconnects, {} reconnects",
        s.avg_bitrate_kbps,
        s.bytes as f64 / 1e6,
        s.disconnects,
        s.reconnects
    );
    o
}
