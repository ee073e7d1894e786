//! `qoeprobe download URL`: downloads a file like a careful client (resume with
//! `Range` + `If-Range`, retries with backoff), with live progress on a terminal,
//! and reports throughput, stalls, resumes and integrity.

use super::http_opts::HttpOpts;
use super::metrics_opts::ProbeFeed;
use super::output::{Output, Progress, print_human, stdout_taken, write_json};
use probes::download::{self, DownloadOptions};
use record::clock::{Clock, MonotonicClock};
use record::{DownloadOutcome, DownloadSummary, EventKind, ProbeOutput};
use std::process::ExitCode;

/// `qoeprobe download`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// URL to download (http:// or https://).
    pub url: String,
    /// How to download and what to check.
    #[command(flatten)]
    pub options: DownloadOptions,
    /// Write the summary and every event as JSON to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
    /// HTTP client settings.
    #[command(flatten)]
    pub http: HttpOpts,
    /// Start at this wall-clock time (RFC 3339 or unix seconds), so that probes on
    /// several hosts line up with one migration (docs/scale-out.md).
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<super::start_at::StartAt>,
    /// Live Prometheus metrics.
    #[command(flatten)]
    pub metrics: super::metrics_opts::MetricsOpts,
}

/// Runs `qoeprobe download` (with `--metrics`, serving the live metrics until its
/// linger is over).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let live = args.metrics.start().await?;
    let feed = ProbeFeed::new(live.as_ref(), &args.url);
    let code = download(args, feed).await;
    super::metrics_opts::finish(live).await;
    code
}

/// Downloads, feeding the events to `feed`.
async fn download(args: Args, feed: ProbeFeed) -> anyhow::Result<ExitCode> {
    let taken = stdout_taken(&[("--json", args.json.as_ref())])?;
    let cfg = args.options.config(args.url.clone());
    super::start_at::wait(args.start_at).await?;
    let clock = MonotonicClock::start();
    let mut progress = Progress::new(args.quiet);
    let (mut bytes, mut total, mut kbps, mut stalls) = (0u64, None, 0.0, 0u64);
    let stop = async {
        let _ = fixtures::signal::shutdown().await;
    };
    let events = download::run_with(
        cfg,
        &args.http.options(),
        &clock,
        |e| {
            feed.observe(e);
            match &e.kind {
                EventKind::DownloadResponse(r) => total = r.total_size.or(total),
                EventKind::DownloadProgress(p) => {
                    bytes = p.total_bytes;
                    kbps = p.throughput_kbps;
                }
                EventKind::DownloadStallStart(_) => stalls += 1,
                _ => {}
            }
            let pct = total.filter(|&t| t > 0).map_or(String::new(), |t| {
                format!(" ({:.1} %)", 100.0 * bytes as f64 / t as f64)
            });
            progress.update(&format!(
                "{:.1} s  {bytes} B{pct}  {:.1} Mbit/s  stalls {stalls}",
                e.t().as_secs_f64(),
                kbps / 1000.0
            ));
        },
        stop,
    )
    .await?;
    progress.finish();
    let summary = download::summarize(&events);
    print_human(&human(&summary), taken);
    if let Some(p) = &args.json {
        let out = ProbeOutput::new(
            "download",
            clock.wall_anchor_unix_ns(),
            summary.clone(),
            events,
        );
        write_json(p, &out)?;
    }
    match summary.outcome {
        DownloadOutcome::Completed => Ok(ExitCode::SUCCESS),
        DownloadOutcome::Corrupt => {
            eprintln!(
                "Error: {} is corrupt: the checksum or the size does not match",
                args.url
            );
            Ok(ExitCode::from(super::exit::CORRUPT))
        }
        DownloadOutcome::Failed => Err(anyhow::anyhow!(
            "download of {} failed: {}",
            args.url,
            summary.reason.as_deref().unwrap_or("unknown reason")
        )),
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

/// The summary as a few human lines.
pub fn human(s: &DownloadSummary) -> String {
    format!(
        "outcome      {:?}\nbytes        {}\nduration     {:.0} ms\nthroughput   {:.1} Mbit/s (100 ms intervals: min {:.1}, max {:.1})\nattempts     {} (resumes {}, restarted from zero: {}, errors {})\nstalls       {} (total {:.0} ms, longest {:.0} ms)\nsha256       {} (ok: {}, size ok: {})\n",
        s.outcome,
        s.bytes,
        s.duration_ms,
        s.throughput_kbps / 1000.0,
        s.throughput_min_interval_kbps / 1000.0,
        s.throughput_max_interval_kbps / 1000.0,
        s.attempts,
        s.resumes,
        s.restarted_from_zero,
        s.errors,
        s.stall_count,
        s.stall_total_ms,
        s.stall_longest_ms,
        opt(s.sha256.as_deref()),
        opt(s.sha256_ok),
        opt(s.size_ok),
    )
    .replace("Completed", "completed")
    .replace("Corrupt", "corrupt")
    .replace("Failed", "failed")
}
