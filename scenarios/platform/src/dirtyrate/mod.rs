//! The dirty-rate calibration tool (`qoeprobe dirtyrate`): how fast a real process
//! dirties memory, over which working set, and how much page cache its files take —
//! the numbers a lab workload (`serve dirty`) must reproduce for a migration to
//! behave as with the real application — and whether pre-copy converges with them.
//!
//! - [`maps`], [`pagemap`]: parsing `/proc/PID/maps` and decoding `pagemap` (pure).
//! - [`pagehash`]: the content-hash method for kernels without soft-dirty bits and
//!   for file pages (pure).
//! - [`window`]: distinct pages written within windows of k intervals (pure).
//! - [`precopy`]: QEMU's pre-copy loop against the measured working set (pure).
//! - [`report`]: the record of a run and its summary (pure).
//! - [`procfs`]: the Linux I/O (thin); [`files`]: the page cache of written files;
//!   [`sampler`]: one sample per interval of a process tree.
//!
//! Method and limits: docs/dirtyrate.md.

pub mod files;
pub mod maps;
pub mod pagehash;
pub mod pagemap;
pub mod precopy;
pub mod procfs;
pub mod report;
pub mod sampler;
pub mod window;

pub use precopy::{Link, Prediction};
pub use report::{Interval, Method, Report, Summary, Target};
pub use sampler::{Sampler, SamplerOptions};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What went wrong: what, where, what to do.
#[derive(Debug, thiserror::Error)]
pub enum DirtyRateError {
    /// The process to measure does not exist.
    #[error("process {pid} does not exist (or has already exited): check the pid")]
    NoProcess {
        /// The pid asked for.
        pid: u32,
    },
    /// A process went away while it was sampled (handled by the sampler).
    #[error("process {pid} exited")]
    Gone {
        /// The pid.
        pid: u32,
    },
    /// A `/proc` file could not be read or written.
    #[error("cannot access {path}: {source}; {hint}")]
    Proc {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
        /// What to do.
        hint: &'static str,
    },
    /// The kernel cannot do what was asked.
    #[error("{0}")]
    Unsupported(String),
    /// Bad input or an unexpected `/proc` content.
    #[error("{0}")]
    Invalid(String),
}

/// Which method to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodChoice {
    /// Soft-dirty bits where the kernel has them, else hashing.
    Auto,
    /// Soft-dirty bits (an error where the kernel lacks them).
    SoftDirty,
    /// Page hashing.
    Hash,
}

/// Resolves the method on this kernel, with the reason.
pub fn choose_method(choice: MethodChoice) -> Result<(Method, String), DirtyRateError> {
    const NO_SOFT_DIRTY: &str =
        "this kernel does not track soft-dirty bits (built without CONFIG_MEM_SOFT_DIRTY)";
    match choice {
        MethodChoice::Hash => Ok((Method::Hash, "asked for (--method hash)".into())),
        MethodChoice::SoftDirty | MethodChoice::Auto => {
            let works = procfs::soft_dirty_works()?;
            match (choice, works) {
                (_, true) => Ok((
                    Method::SoftDirty,
                    "the kernel tracks soft-dirty bits (clear_refs + pagemap bit 55)".into(),
                )),
                (MethodChoice::SoftDirty, false) => Err(DirtyRateError::Unsupported(format!(
                    "--method soft-dirty: {NO_SOFT_DIRTY}; use --method hash"
                ))),
                _ => Ok((
                    Method::Hash,
                    format!("{NO_SOFT_DIRTY}: page contents are hashed instead"),
                )),
            }
        }
    }
}

/// How long and how to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Sampling interval.
    pub interval: Duration,
    /// Stop after this long (else when the process exits or `stop` is set).
    pub duration: Option<Duration>,
    /// Sampling options.
    pub sampler: SamplerOptions,
    /// Links to predict pre-copy convergence for.
    pub links: Vec<Link>,
    /// The speed the process runs at relative to real time (1: real time), for the
    /// prediction ([`report::working_set_curve`]).
    pub speed: f64,
}

/// The pre-copy predictions for `links` from a summary's working set (none when the
/// run had no complete interval), for a process that ran at `speed` x real time.
pub fn predict_all(
    summary: &Summary,
    links: &[Link],
    speed: f64,
) -> Result<Vec<Prediction>, DirtyRateError> {
    if summary.working_set.is_empty() {
        return Ok(Vec::new());
    }
    let ws = report::working_set_curve(summary, speed).map_err(DirtyRateError::Invalid)?;
    links
        .iter()
        .map(|l| precopy::predict(&ws, *l).map_err(DirtyRateError::Invalid))
        .collect()
}

/// Measures `target.pid` interval after interval until the duration is over, the
/// process exits, or `stop` is set; calls `on_interval` after each sample. An error
/// before the first sample is returned; a later one ends the run and is recorded
/// in [`Report::error`], so nothing measured is lost.
pub fn run(
    target: Target,
    method_reason: String,
    opts: &RunOptions,
    stop: &AtomicBool,
    mut on_interval: impl FnMut(&Interval),
) -> Result<Report, DirtyRateError> {
    if !(opts.interval >= Duration::from_millis(10) && opts.interval <= Duration::from_secs(3600)) {
        return Err(DirtyRateError::Invalid(format!(
            "interval {:?}: expected 0.01 to 3600 s",
            opts.interval
        )));
    }
    for l in &opts.links {
        l.check().map_err(DirtyRateError::Invalid)?;
    }
    if !(opts.speed.is_finite() && opts.speed > 0.0) {
        return Err(DirtyRateError::Invalid(format!(
            "speed {}: expected above 0 (1 = real time)",
            opts.speed
        )));
    }
    let load_start = procfs::loadavg();
    let mut sampler = Sampler::start(target.pid, opts.sampler)?;
    let start = Instant::now();
    let mut next = start + opts.interval;
    let mut intervals = Vec::new();
    let (ended, error) = loop {
        while Instant::now() < next {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            std::thread::sleep((next - Instant::now()).min(Duration::from_millis(50)));
        }
        if stop.load(Ordering::Relaxed) {
            break ("interrupted".to_string(), None);
        }
        match sampler.sample() {
            Ok(iv) => {
                on_interval(&iv);
                intervals.push(iv);
            }
            Err(e) => break ("stopped by an error".to_string(), Some(e.to_string())),
        }
        if !sampler.root_alive() {
            break ("the process exited".to_string(), None);
        }
        if opts
            .duration
            .is_some_and(|d| start.elapsed() + opts.interval / 2 >= d)
        {
            break ("duration reached".to_string(), None);
        }
        next += opts.interval;
        let now = Instant::now();
        if next < now {
            next = now + opts.interval; // sampling took longer than an interval
        }
    };
    let (distinct, processes, files) = sampler.finish();
    let summary = report::summarize(&intervals, maps::PAGE, distinct);
    let precopy = predict_all(&summary, &opts.links, opts.speed)?;
    Ok(Report {
        target,
        method: opts.sampler.method,
        method_reason,
        interval_s: opts.interval.as_secs_f64(),
        page_size: maps::PAGE,
        loadavg: [load_start, procfs::loadavg()],
        ended,
        error,
        intervals,
        summary,
        processes,
        files,
        speed: opts.speed,
        precopy,
    })
}
