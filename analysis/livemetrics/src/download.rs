//! The download probe's metrics: bytes, the last interval's throughput, attempts,
//! stalls, stall time and errors.

use crate::families::{Amount, Count, Level, touch};
use crate::labels::ProbeLabels;
use prometheus_client::registry::{Registry, Unit};
use record::EventKind;

/// The download probe's metric families.
pub(crate) struct DownloadMetrics {
    bytes: Count<ProbeLabels>,
    throughput: Level<ProbeLabels>,
    attempts: Count<ProbeLabels>,
    stalls: Count<ProbeLabels>,
    stall: Amount<ProbeLabels>,
    errors: Count<ProbeLabels>,
}

impl DownloadMetrics {
    /// Registers the families.
    pub(crate) fn register(r: &mut Registry) -> Self {
        let m = Self {
            bytes: Count::default(),
            throughput: Level::default(),
            attempts: Count::default(),
            stalls: Count::default(),
            stall: Amount::default(),
            errors: Count::default(),
        };
        r.register_with_unit(
            "download",
            "Bytes received (all attempts)",
            Unit::Bytes,
            m.bytes.clone(),
        );
        r.register(
            "download_throughput_bits_per_second",
            "Throughput of the last 100 ms interval",
            m.throughput.clone(),
        );
        r.register(
            "download_attempts",
            "HTTP requests started (the first and every resume or retry)",
            m.attempts.clone(),
        );
        r.register(
            "download_stalls",
            "Stalls (no byte for the stall threshold)",
            m.stalls.clone(),
        );
        r.register_with_unit(
            "download_stall",
            "Time spent stalled, counted when a stall ends",
            Unit::Seconds,
            m.stall.clone(),
        );
        r.register("download_errors", "Failed attempts", m.errors.clone());
        m
    }

    /// Updates the families from one event; false when it is not the download's.
    pub(crate) fn observe(&self, labels: &ProbeLabels, kind: &EventKind) -> bool {
        match kind {
            EventKind::DownloadProgress(p) => {
                self.bytes.get_or_create(labels).inc_by(p.bytes);
                self.throughput
                    .get_or_create(labels)
                    .set(p.throughput_kbps * 1000.0);
            }
            EventKind::DownloadAttempt(_) => {
                // Counters at zero from the first attempt on (absent reads as no data).
                touch(&self.bytes, labels);
                touch(&self.stalls, labels);
                touch(&self.stall, labels);
                touch(&self.errors, labels);
                self.attempts.get_or_create(labels).inc();
            }
            EventKind::DownloadStallStart(_) => {
                self.stalls.get_or_create(labels).inc();
            }
            EventKind::DownloadStallEnd(s) => {
                self.stall
                    .get_or_create(labels)
                    .inc_by(s.duration_ms / 1000.0);
            }
            EventKind::DownloadError(_) => {
                self.errors.get_or_create(labels).inc();
            }
            _ => return false,
        }
        true
    }
}
