//! `qoeprobe download URL`: downloads a file like a careful client (resume with
//! `Range` + `If-Range`, retries with backoff), with live progress on a terminal,
//! and reports throughput, stalls, resumes and integrity.

use super::output::{Output, Progress, print_human, stdout_taken, write_json};
use probes::clock::{Clock, MonotonicClock};
use probes::download::{self, DownloadConfig, head::parse_sha256_hex};
use probes::record::{DownloadOutcome, DownloadSummary, EventKind, ProbeOutput};
use std::process::ExitCode;
use std::time::Duration;

/// `qoeprobe download`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// URL to download (http://).
    pub url: String,
    /// Expected SHA-256 (64 hex digits); otherwise the one the server publishes, if any.
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Expected size in bytes.
    #[arg(long, value_name = "N")]
    pub size: Option<u64>,
    /// Start over from byte 0 after a failure (a naive client), instead of resuming.
    #[arg(long)]
    pub no_resume: bool,
    /// Attempts in all.
    #[arg(long, default_value_t = 5)]
    pub attempts: u32,
    /// Wait before the second attempt, in ms; doubled for each further one (max 8 s).
    #[arg(long, default_value_t = 500)]
    pub backoff_ms: u64,
    /// No byte for this long is a stall, in seconds.
    #[arg(long, default_value_t = 1.0)]
    pub stall_threshold: f64,
    /// No byte for this long aborts the attempt (and resumes), in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// Write the summary and every event as JSON to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

fn secs(name: &str, v: f64) -> anyhow::Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v < 86_400.0) {
        anyhow::bail!("--{name} {v}: expected a number of seconds above 0");
    }
    Ok(Duration::from_secs_f64(v))
}

/// Runs `qoeprobe download`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let taken = stdout_taken(&[("--json", args.json.as_ref())])?;
    let mut cfg = DownloadConfig::new(args.url.clone());
    cfg.resume = !args.no_resume;
    if args.attempts == 0 {
        anyhow::bail!("--attempts 0: at least one attempt is needed");
    }
    cfg.max_attempts = args.attempts;
    cfg.backoff_base = Duration::from_millis(args.backoff_ms);
    cfg.stall_threshold = secs("stall-threshold", args.stall_threshold)?;
    cfg.timeout = secs("timeout", args.timeout)?;
    cfg.expected_size = args.size;
    if let Some(h) = &args.sha256 {
        let parsed = parse_sha256_hex(h);
        cfg.expected_sha256 = Some(
            parsed
                .ok_or_else(|| anyhow::anyhow!("--sha256 {h}: expected 64 hexadecimal digits"))?,
        );
    }
    let clock = MonotonicClock::start();
    let mut progress = Progress::new(args.quiet);
    let (mut bytes, mut total, mut kbps, mut stalls) = (0u64, None, 0.0, 0u64);
    let stop = async {
        let _ = fixtures::signal::shutdown().await;
    };
    let events = download::run(
        cfg,
        &clock,
        |e| {
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
            Ok(ExitCode::from(2))
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
