//! `qoeprobe dirtyrate (--pid PID | -- CMD ARGS...)`: measures how fast a process (and
//! its descendants) dirties memory and page cache, over which working set, and
//! whether a pre-copy migration of a guest running it would converge
//! (platform::dirtyrate; docs/dirtyrate.md).

use super::output::{Output, Progress, print_human, write_json};
use anyhow::Context;
use platform::dirtyrate::{
    self, Interval, Link, MethodChoice, Report, RunOptions, SamplerOptions, Target,
};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `qoeprobe dirtyrate`.
#[derive(Debug, clap::Args)]
#[command(arg_required_else_help = true)]
pub struct Args {
    /// The process to measure (with its descendants unless --no-children).
    #[arg(long, value_name = "PID", conflicts_with_all = ["command", "from"])]
    pub pid: Option<u32>,
    /// Measure nothing: read a record written by --json and redo its pre-copy
    /// predictions (with --link-mbit, --speed, ...).
    #[arg(long, value_name = "FILE", conflicts_with = "command")]
    pub from: Option<PathBuf>,
    /// The speed the process ran at relative to real time (an encoder's `speed=`):
    /// the prediction takes its work per window as at full speed.
    #[arg(long, value_name = "X", default_value_t = 1.0)]
    pub speed: f64,
    /// Or the command to start and measure (after `--`); it is stopped at the end.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
    /// Sampling interval, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub interval: f64,
    /// Stop after this many seconds (default: when the process exits, or Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
    /// Wait this many seconds before the baseline sample (skips a start-up).
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    pub warmup: f64,
    /// How written pages are found.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Measure the process only, not its descendants.
    #[arg(long)]
    pub no_children: bool,
    /// Written files larger than this many MiB are followed by their growth only.
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub file_hash_limit_mib: u64,
    /// Predict pre-copy convergence on these links, Mbit/s (comma-separated).
    #[arg(long, value_name = "MBIT,...", value_delimiter = ',', default_values_t = [1000.0, 100.0])]
    pub link_mbit: Vec<f64>,
    /// QEMU's downtime limit for the prediction, ms.
    #[arg(long, value_name = "MS", default_value_t = 300.0)]
    pub downtime_limit_ms: f64,
    /// Guest RAM for the prediction, MiB (default: the study's m1.large, 8 GiB).
    #[arg(long, value_name = "MIB", default_value_t = 8192.0)]
    pub guest_mib: f64,
    /// Write the whole record (every interval, the summary) as JSON to this file
    /// (`-`: standard output; the human summary then goes to standard error).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// Append one CSV line per interval to this file as it is measured.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `--method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Soft-dirty bits where the kernel has them, else page hashing.
    Auto,
    /// Soft-dirty bits: clear_refs + pagemap bit 55 (needs CONFIG_MEM_SOFT_DIRTY).
    SoftDirty,
    /// Hash every page at every sample (QEMU's page-sampling method, on every page).
    Hash,
}

const MIB: f64 = (1u64 << 20) as f64;
const CSV_HEADER: &str = "t_s,dt_s,processes,memory_mib_s,file_mib_s,total_mib_s,rss_mib,write_syscall_mib_s,sampler_cpu_ms";

fn csv_line(iv: &Interval) -> String {
    let rate = |pages: u64| pages as f64 * 4096.0 / MIB / iv.dt_s.max(1e-9);
    format!(
        "{:.3},{:.3},{},{:.3},{:.3},{:.3},{:.1},{:.3},{:.1}",
        iv.t_s,
        iv.dt_s,
        iv.processes,
        rate(iv.memory_pages),
        rate(iv.file_pages),
        rate(iv.distinct_pages.first().copied().unwrap_or(0)),
        iv.rss_bytes as f64 / MIB,
        iv.write_syscall_bytes as f64 / MIB / iv.dt_s.max(1e-9),
        iv.sampler_cpu_s * 1000.0
    )
}

fn secs(name: &str, v: f64) -> anyhow::Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        anyhow::bail!("--{name} {v}: expected seconds above 0 and at most 86400");
    }
    Ok(Duration::from_secs_f64(v))
}

/// The command's process group, stopped when dropped (SIGTERM, then SIGKILL).
struct Launched(std::process::Child);

impl Drop for Launched {
    fn drop(&mut self) {
        let pgid = self.0.id() as i32;
        // SAFETY: signalling the process group this tool created for the command.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above; whatever is left of the group is killed.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

/// Runs `qoeprobe dirtyrate`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let interval = secs("interval", args.interval)?;
    let duration = args.duration.map(|d| secs("duration", d)).transpose()?;
    let warmup = if args.warmup == 0.0 {
        Duration::ZERO
    } else {
        secs("warmup", args.warmup)?
    };
    if !(args.speed.is_finite() && args.speed > 0.0) {
        anyhow::bail!("--speed {}: expected above 0 (1 = real time)", args.speed);
    }
    let links: Vec<Link> = args
        .link_mbit
        .iter()
        .map(|&mbit| Link {
            mbit,
            downtime_limit_ms: args.downtime_limit_ms,
            guest_mib: args.guest_mib,
        })
        .collect();
    for l in &links {
        l.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(from) = &args.from {
        return reanalyze(from, &links, args.speed, args.json.as_ref());
    }
    if args.pid.is_none() && args.command.is_empty() {
        anyhow::bail!("nothing to measure: give --pid PID or a command after `--`");
    }
    let choice = match args.method {
        MethodArg::Auto => MethodChoice::Auto,
        MethodArg::SoftDirty => MethodChoice::SoftDirty,
        MethodArg::Hash => MethodChoice::Hash,
    };
    let (method, reason) = dirtyrate::choose_method(choice)?;
    let opts = RunOptions {
        interval,
        duration,
        sampler: SamplerOptions {
            method,
            children: !args.no_children,
            file_hash_limit: args.file_hash_limit_mib.saturating_mul(1 << 20),
        },
        links,
        speed: args.speed,
    };
    let mut csv = match &args.csv {
        Some(p) => {
            let mut f = std::fs::File::create(p)
                .with_context(|| format!("cannot write {}: check the folder", p.display()))?;
            writeln!(f, "{CSV_HEADER}")?;
            Some(f)
        }
        None => None,
    };
    let launched = if args.command.is_empty() {
        None
    } else {
        let child = std::process::Command::new(&args.command[0])
            .args(&args.command[1..])
            .process_group(0)
            .spawn()
            .with_context(|| {
                format!(
                    "cannot start `{}`: is it installed and on PATH?",
                    args.command[0]
                )
            })?;
        Some(Launched(child))
    };
    let target = Target {
        pid: args
            .pid
            .or(launched.as_ref().map(|l| l.0.id()))
            .unwrap_or(0),
        command: (!args.command.is_empty()).then(|| args.command.clone()),
        children: !args.no_children,
    };
    eprintln!(
        "dirtyrate: pid {}{}, method {} ({reason}), interval {} s",
        target.pid,
        if target.children {
            " and descendants"
        } else {
            ""
        },
        match method {
            dirtyrate::Method::SoftDirty => "soft-dirty",
            dirtyrate::Method::Hash => "hash",
        },
        args.interval
    );
    let stop = Arc::new(AtomicBool::new(false));
    if !warmup.is_zero() {
        tokio::select! {
            () = tokio::time::sleep(warmup) => {}
            _ = fixtures::signal::shutdown() => anyhow::bail!("interrupted during the warm-up"),
        }
    }
    let quiet = args.quiet;
    let worker = {
        let stop = stop.clone();
        tokio::task::spawn_blocking(move || {
            let mut progress = Progress::new(quiet);
            let r = dirtyrate::run(target, reason, &opts, &stop, |iv| {
                let line = csv_line(iv);
                if let Some(f) = csv.as_mut() {
                    let _ = writeln!(f, "{line}").and_then(|()| f.flush());
                }
                progress.update(&format!("dirtyrate: {line}"));
            });
            progress.finish();
            r
        })
    };
    tokio::pin!(worker);
    let report = tokio::select! {
        r = &mut worker => r,
        _ = fixtures::signal::shutdown() => {
            stop.store(true, Ordering::Relaxed);
            worker.await
        }
    }??;
    drop(launched);
    if let Some(p) = &args.json {
        write_json(p, &report)?;
    }
    print_human(
        &render(&report),
        args.json.as_ref().is_some_and(Output::is_stdout),
    );
    if let Some(e) = &report.error {
        anyhow::bail!("{e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `--from FILE`: the predictions of a saved record again, for other links or speed.
fn reanalyze(
    from: &std::path::Path,
    links: &[Link],
    speed: f64,
    json: Option<&Output>,
) -> anyhow::Result<ExitCode> {
    let text = userfile::read_to_string(from, userfile::limit::RECORD)
        .with_context(|| format!("cannot read {}", from.display()))?;
    let mut report: Report = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a record of `qoeprobe dirtyrate --json`",
            from.display()
        )
    })?;
    report.speed = speed;
    report.precopy = dirtyrate::predict_all(&report.summary, links, speed)?;
    if let Some(p) = json {
        write_json(p, &report)?;
    }
    print_human(&render(&report), json.is_some_and(Output::is_stdout));
    Ok(ExitCode::SUCCESS)
}

/// The summary as text.
pub fn render(r: &Report) -> String {
    use std::fmt::Write as _;
    let s = &r.summary;
    let mut o = String::new();
    let spread = |rate: f64, x: &Option<dirtyrate::report::Spread>| {
        let per = x.map_or(String::new(), |v| {
            format!(
                " (per interval: median {:.2}, p95 {:.2}, min {:.2}, max {:.2})",
                v.median, v.p95, v.min, v.max
            )
        });
        format!("{rate:.2} MiB/s{per}")
    };
    let _ = writeln!(
        o,
        "measured   {} intervals, {:.1} s ({}), method {:?}",
        s.intervals, s.duration_s, r.ended, r.method
    );
    let _ = writeln!(
        o,
        "memory     {}",
        spread(s.memory_rate_mib_s, &s.memory_mib_s)
    );
    let _ = writeln!(o, "files      {}", spread(s.file_rate_mib_s, &s.file_mib_s));
    let _ = writeln!(
        o,
        "total      {}",
        spread(s.total_rate_mib_s, &s.total_mib_s)
    );
    let ws: Vec<String> = s
        .working_set
        .iter()
        .map(|w| format!("{:.1} s {:.1}", w.window_s, w.mean_mib))
        .collect();
    let _ = writeln!(
        o,
        "working    distinct MiB written within a window (mean): {}; whole run {:.1} MiB",
        ws.join(", "),
        s.distinct_total_mib
    );
    if let Some(rss) = s.rss_mib {
        let _ = writeln!(
            o,
            "resident   {:.1} MiB mean, {:.1} MiB max",
            rss.mean, rss.max
        );
    }
    let _ = writeln!(
        o,
        "write(2)   {:.3} MiB/s (files, pipes and sockets)",
        s.write_syscall_mib_s
    );
    for f in &r.files {
        let _ = writeln!(
            o,
            "file       {}: {:.2} MiB, dirtied {:.3} MiB/s, {:.2} MiB distinct{}",
            f.path,
            f.max_size_mib,
            f.dirtied_mib_s,
            f.distinct_mib,
            if f.growth_only { " (growth only)" } else { "" }
        );
    }
    for p in &r.processes {
        let _ = writeln!(
            o,
            "process    {} {}: {:.2} MiB/s, {:.1} MiB distinct, RSS max {:.1} MiB",
            p.pid, p.comm, p.memory_mib_s, p.distinct_mib, p.max_rss_mib
        );
    }
    if r.speed != 1.0 {
        let at = |t: f64| {
            dirtyrate::report::working_set_curve(s, r.speed).map_or(f64::NAN, |w| w.at(t) / MIB)
        };
        let _ = writeln!(
            o,
            "real time  the process ran at {}x; at full speed (windows x {}): 0.3 s {:.1}, 1 s {:.1}, 3 s {:.1}, 10 s {:.1} MiB written",
            r.speed,
            r.speed,
            at(0.3),
            at(1.0),
            at(3.0),
            at(10.0)
        );
    }
    for p in &r.precopy {
        let l = p.link;
        let what = if p.converges {
            format!(
                "converges after {} passes: stop-and-copy {:.1} MiB, downtime {:.0} ms, pre-copy {:.1} s",
                p.passes,
                p.remaining_mib,
                p.downtime_ms.unwrap_or(0.0),
                p.precopy_s.unwrap_or(0.0)
            )
        } else {
            format!(
                "never converges: {:.1} MiB ({:.2} % of RAM) left after every pass, threshold {:.1} MiB",
                p.remaining_mib, p.remaining_pct, p.threshold_mib
            )
        };
        let _ = writeln!(
            o,
            "pre-copy   {} Mbit/s, downtime limit {} ms, guest {} MiB: {what}",
            l.mbit, l.downtime_limit_ms, l.guest_mib
        );
    }
    let _ = writeln!(
        o,
        "sampler    {:.1} ms CPU per interval; load {}",
        s.sampler_cpu_ms,
        r.loadavg
            .iter()
            .map(|l| l.map_or("-".into(), |l| format!("{:.2}", l[0])))
            .collect::<Vec<_>>()
            .join(" -> ")
    );
    o
}
