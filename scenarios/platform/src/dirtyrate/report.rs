//! What `qoeprobe dirtyrate` records: one [`Interval`] per sample and the
//! [`Summary`] of a run (rates, the working set of writes by window, resident
//! memory), computed here from the intervals (pure).

use super::precopy::{Prediction, WorkingSet};
use serde::{Deserialize, Serialize};

const MIB: f64 = (1u64 << 20) as f64;

/// How written pages were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// The kernel's soft-dirty bits (clear_refs + pagemap bit 55).
    SoftDirty,
    /// Page contents hashed at every sample (QEMU's `page-sampling` method, on
    /// every page).
    Hash,
}

/// One sampling interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// End of the interval, seconds since the baseline sample.
    pub t_s: f64,
    /// Its length, seconds.
    pub dt_s: f64,
    /// Processes sampled.
    pub processes: usize,
    /// Pages of process memory written.
    pub memory_pages: u64,
    /// Page-cache pages of written files dirtied.
    pub file_pages: u64,
    /// Distinct pages (memory and files) written within the last k intervals, for
    /// k in [`WINDOWS`] (index j holds k = `WINDOWS[j]`) as far as the run has gone.
    pub distinct_pages: Vec<u64>,
    /// Resident memory of the processes at the end, bytes.
    pub rss_bytes: u64,
    /// Bytes the processes passed to write(2) and friends during the interval
    /// (`wchar`: files, pipes and sockets alike).
    pub write_syscall_bytes: u64,
    /// CPU time the tool spent sampling, seconds.
    pub sampler_cpu_s: f64,
}

/// Mean, median, 95th percentile, minimum and maximum.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (nearest rank).
    pub median: f64,
    /// 95th percentile (nearest rank).
    pub p95: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Spread {
    /// Of the finite values; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Spread> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let rank = |q: f64| v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Some(Spread {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            median: rank(0.5),
            p95: rank(0.95),
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}

/// The working set of writes over one window length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowStat {
    /// Window length, seconds (k intervals).
    pub window_s: f64,
    /// Distinct MiB written within such a window, mean over the run.
    pub mean_mib: f64,
    /// The same, largest.
    pub max_mib: f64,
}

/// A run's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Intervals measured.
    pub intervals: usize,
    /// Seconds measured.
    pub duration_s: f64,
    /// Process memory written over the run, MiB/s (pages written / time).
    pub memory_rate_mib_s: f64,
    /// Page cache dirtied over the run, MiB/s.
    pub file_rate_mib_s: f64,
    /// Both, MiB/s (distinct pages of each interval summed / time).
    pub total_rate_mib_s: f64,
    /// Process memory written, MiB/s per interval.
    pub memory_mib_s: Option<Spread>,
    /// Page cache dirtied through written files, MiB/s per interval.
    pub file_mib_s: Option<Spread>,
    /// Both, MiB/s per interval (distinct pages in the interval / its length).
    pub total_mib_s: Option<Spread>,
    /// Distinct MiB written within windows of 1, 2, 3, 5, 10, 20, 30, 60, 120 and
    /// 300 intervals (those the run was long enough for).
    pub working_set: Vec<WindowStat>,
    /// Distinct MiB written over the whole run.
    pub distinct_total_mib: f64,
    /// Resident memory of the processes, MiB.
    pub rss_mib: Option<Spread>,
    /// write(2) bytes, MiB/s (mean).
    pub write_syscall_mib_s: f64,
    /// CPU the tool spent per interval, ms (mean).
    pub sampler_cpu_ms: f64,
}

/// The window lengths reported, in intervals.
pub const WINDOWS: [usize; 10] = [1, 2, 3, 5, 10, 20, 30, 60, 120, 300];

/// Summarizes the intervals of a run (`page` bytes per page).
pub fn summarize(intervals: &[Interval], page: u64, distinct_total_pages: u64) -> Summary {
    let page = page as f64;
    let rate = |f: fn(&Interval) -> f64| {
        Spread::of(
            intervals
                .iter()
                .filter(|i| i.dt_s > 0.0)
                .map(|i| f(i) * page / MIB / i.dt_s),
        )
    };
    let duration_s: f64 = intervals.iter().map(|i| i.dt_s).sum();
    let dt = if intervals.is_empty() {
        0.0
    } else {
        duration_s / intervals.len() as f64
    };
    let working_set = WINDOWS
        .iter()
        .enumerate()
        .filter_map(|(j, &k)| {
            let v: Vec<f64> = intervals
                .iter()
                .filter_map(|i| i.distinct_pages.get(j))
                .map(|&p| p as f64 * page / MIB)
                .collect();
            let s = Spread::of(v)?;
            Some(WindowStat {
                window_s: k as f64 * dt,
                mean_mib: s.mean,
                max_mib: s.max,
            })
        })
        .collect();
    let n = intervals.len().max(1) as f64;
    let overall = |f: fn(&Interval) -> u64| {
        let pages: u64 = intervals.iter().map(f).sum();
        if duration_s > 0.0 {
            pages as f64 * page / MIB / duration_s
        } else {
            0.0
        }
    };
    Summary {
        intervals: intervals.len(),
        duration_s,
        memory_rate_mib_s: overall(|i| i.memory_pages),
        file_rate_mib_s: overall(|i| i.file_pages),
        total_rate_mib_s: overall(|i| i.distinct_pages.first().copied().unwrap_or(0)),
        memory_mib_s: rate(|i| i.memory_pages as f64),
        file_mib_s: rate(|i| i.file_pages as f64),
        total_mib_s: rate(|i| i.distinct_pages.first().copied().unwrap_or(0) as f64),
        working_set,
        distinct_total_mib: distinct_total_pages as f64 * page / MIB,
        rss_mib: Spread::of(intervals.iter().map(|i| i.rss_bytes as f64 / MIB)),
        write_syscall_mib_s: if duration_s > 0.0 {
            intervals
                .iter()
                .map(|i| i.write_syscall_bytes as f64)
                .sum::<f64>()
                / MIB
                / duration_s
        } else {
            0.0
        },
        sampler_cpu_ms: intervals.iter().map(|i| i.sampler_cpu_s).sum::<f64>() * 1000.0 / n,
    }
}

/// The working set of a summary as `W(t)` for the pre-copy model (mean over the
/// run), for a process that ran at `speed` x its real-time speed (1: as measured).
///
/// A process that could not keep up (an encoder at 0.4x) did in a window of t
/// seconds the work of t x speed seconds at full speed; when its work, not the
/// clock, drives its writes (an encoder writes per frame), it writes at full speed
/// in t x speed seconds what it wrote in t: the windows are scaled by `speed`.
pub fn working_set_curve(s: &Summary, speed: f64) -> Result<WorkingSet, String> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(format!("speed {speed}: expected above 0 (1 = real time)"));
    }
    let points: Vec<(f64, f64)> = s
        .working_set
        .iter()
        .map(|w| (w.window_s * speed, w.mean_mib * MIB))
        .collect();
    WorkingSet::new(&points)
}

/// One process that was sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessSummary {
    /// Its pid.
    pub pid: u32,
    /// Its name.
    pub comm: String,
    /// Seconds (since the baseline) when it was first and last sampled.
    pub seen_s: (f64, f64),
    /// Memory written, MiB/s while it was sampled.
    pub memory_mib_s: f64,
    /// Distinct MiB of its memory written over the run.
    pub distinct_mib: f64,
    /// Largest resident memory, MiB.
    pub max_rss_mib: f64,
}

/// One file written by the processes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Its path.
    pub path: String,
    /// Largest size seen, MiB.
    pub max_size_mib: f64,
    /// Page cache dirtied, MiB/s over the run.
    pub dirtied_mib_s: f64,
    /// Distinct MiB dirtied over the run.
    pub distinct_mib: f64,
    /// Too large to hash: only its growth was counted.
    pub growth_only: bool,
}

/// What the processes were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// The process measured (with its descendants unless `children` is false).
    pub pid: u32,
    /// The command line the tool started, if it started it.
    pub command: Option<Vec<String>>,
    /// Whether descendants were measured too.
    pub children: bool,
}

/// The whole record of a run (`--json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// What was measured.
    pub target: Target,
    /// How written pages were found.
    pub method: Method,
    /// Why this method (what the kernel supports).
    pub method_reason: String,
    /// Sampling interval asked for, seconds.
    pub interval_s: f64,
    /// Bytes per page.
    pub page_size: u64,
    /// `/proc/loadavg` at the start and at the end.
    pub loadavg: [Option<[f64; 3]>; 2],
    /// Why the run ended.
    pub ended: String,
    /// The error that ended it, if one did.
    pub error: Option<String>,
    /// Every interval.
    pub intervals: Vec<Interval>,
    /// The summary.
    pub summary: Summary,
    /// Each process sampled.
    pub processes: Vec<ProcessSummary>,
    /// Each file written.
    pub files: Vec<FileSummary>,
    /// The speed the process ran at relative to real time, as given by the user
    /// (`--speed`; 1 unless given): the pre-copy prediction scales the windows by it.
    #[serde(default = "real_time")]
    pub speed: f64,
    /// The pre-copy prediction for each link asked for.
    pub precopy: Vec<Prediction>,
}

fn real_time() -> f64 {
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(mem: u64, file: u64, distinct: &[u64]) -> Interval {
        Interval {
            t_s: 0.0,
            dt_s: 0.5,
            processes: 1,
            memory_pages: mem,
            file_pages: file,
            distinct_pages: distinct.to_vec(),
            rss_bytes: 64 << 20,
            write_syscall_bytes: 1 << 20,
            sampler_cpu_s: 0.002,
        }
    }

    #[test]
    fn spreads_use_nearest_ranks() {
        let s = Spread::of((1..=20).map(f64::from).chain([f64::NAN])).unwrap();
        assert_eq!(
            (s.mean, s.median, s.p95, s.min, s.max),
            (10.5, 10.0, 19.0, 1.0, 20.0)
        );
        assert_eq!(Spread::of([]), None);
    }

    #[test]
    fn summarizes_rates_windows_and_overheads() {
        // 256 pages = 1 MiB per 0.5 s interval: 2 MiB/s; windows saturate at 3 MiB.
        let iv = [
            interval(256, 0, &[256]),
            interval(192, 64, &[256, 512]),
            interval(256, 0, &[256, 512, 768]),
            interval(256, 0, &[256, 512, 768]),
        ];
        let s = summarize(&iv, 4096, 768);
        assert_eq!(s.intervals, 4);
        assert_eq!(s.duration_s, 2.0);
        assert_eq!(s.total_mib_s.unwrap().mean, 2.0);
        assert_eq!(s.total_rate_mib_s, 2.0);
        assert_eq!((s.memory_rate_mib_s, s.file_rate_mib_s), (1.875, 0.125));
        assert_eq!(s.memory_mib_s.unwrap().min, 1.5);
        assert_eq!(s.file_mib_s.unwrap().max, 0.5);
        let w: Vec<(f64, f64, f64)> = s
            .working_set
            .iter()
            .map(|w| (w.window_s, w.mean_mib, w.max_mib))
            .collect();
        assert_eq!(w, [(0.5, 1.0, 1.0), (1.0, 2.0, 2.0), (1.5, 3.0, 3.0)]);
        assert_eq!(s.distinct_total_mib, 3.0);
        assert_eq!(s.rss_mib.unwrap().max, 64.0);
        assert_eq!(s.write_syscall_mib_s, 2.0);
        assert!((s.sampler_cpu_ms - 2.0).abs() < 1e-12);
        let ws = working_set_curve(&s, 1.0).unwrap();
        assert_eq!(ws.at(1.25), 2.5 * MIB);
        // At half speed, what took 1 s would take 0.5 s at full speed.
        let fast = working_set_curve(&s, 0.5).unwrap();
        assert_eq!(fast.at(0.5), 2.0 * MIB);
        assert!(working_set_curve(&s, 0.0).is_err());
    }

    #[test]
    fn an_empty_run_has_no_working_set() {
        let s = summarize(&[], 4096, 0);
        assert_eq!(s.total_mib_s, None);
        assert!(s.working_set.is_empty());
        assert!(working_set_curve(&s, 1.0).is_err());
    }
}
