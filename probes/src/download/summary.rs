//! The download summary as a pure function of the events (docs/download.md).

use crate::record::{DownloadOutcome, DownloadSummary, Event, EventKind};

/// Summarizes a download from its events (only `download_*` events are read).
pub fn summarize(events: &[Event]) -> DownloadSummary {
    let mut s = DownloadSummary {
        outcome: DownloadOutcome::Failed,
        url: String::new(),
        bytes: 0,
        duration_ms: 0.0,
        throughput_kbps: 0.0,
        throughput_min_interval_kbps: 0.0,
        throughput_max_interval_kbps: 0.0,
        attempts: 0,
        resumes: 0,
        restarted_from_zero: false,
        errors: 0,
        stall_count: 0,
        stall_total_ms: 0.0,
        stall_longest_ms: 0.0,
        sha256: None,
        sha256_ok: None,
        size_ok: None,
        reason: Some("no end recorded (interrupted)".into()),
    };
    let (mut start, mut end) = (None, None);
    let (mut min_kbps, mut max_kbps) = (f64::INFINITY, 0.0f64);
    for e in events {
        match &e.kind {
            EventKind::DownloadAttempt(a) => {
                start.get_or_insert(e.t_ns);
                s.attempts += 1;
                if s.url.is_empty() {
                    s.url = a.url.clone();
                }
            }
            EventKind::DownloadResponse(r) => {
                s.resumes += u32::from(r.status == 206 && r.offset > 0);
                s.restarted_from_zero |= r.restarted_from_zero;
            }
            // Only full intervals: the last, partial one would skew the minimum.
            EventKind::DownloadProgress(p) if p.interval_ms >= 100.0 - 1e-6 => {
                min_kbps = min_kbps.min(p.throughput_kbps);
                max_kbps = max_kbps.max(p.throughput_kbps);
            }
            EventKind::DownloadStallStart(_) => s.stall_count += 1,
            EventKind::DownloadStallEnd(x) => {
                s.stall_total_ms += x.duration_ms;
                s.stall_longest_ms = s.stall_longest_ms.max(x.duration_ms);
            }
            EventKind::DownloadError(_) => s.errors += 1,
            EventKind::DownloadEnd(x) => {
                end = Some(e.t_ns);
                s.outcome = x.outcome;
                s.bytes = x.bytes;
                s.sha256 = Some(x.sha256.clone());
                s.sha256_ok = x.sha256_ok;
                s.size_ok = x.size_ok;
                s.reason = x.reason.clone();
            }
            _ => {}
        }
    }
    if let (Some(a), Some(b)) = (start, end) {
        s.duration_ms = b.saturating_sub(a) as f64 / 1e6;
        if b > a {
            s.throughput_kbps = s.bytes as f64 * 8.0 / ((b - a) as f64 / 1e9) / 1000.0;
        }
    }
    if min_kbps.is_finite() {
        s.throughput_min_interval_kbps = min_kbps;
        s.throughput_max_interval_kbps = max_kbps;
    }
    s
}
