//! Counters of one relay direction: packets, bytes, drops and how late each
//! packet left compared with its due time (arrival + delay).

use serde::Serialize;

/// Buckets of the lateness histogram (1 µs each; the last one is "10 ms or more").
const BUCKETS: usize = 10_001;

/// What one direction of a relay did.
#[derive(Debug, Clone, Serialize)]
pub struct RelayStats {
    /// Frames forwarded (a GSO frame counts once).
    pub packets: u64,
    /// Bytes forwarded (Ethernet frames, without the vnet header).
    pub bytes: u64,
    /// Frames dropped because the delay queue was full.
    pub dropped_queue_full: u64,
    /// Frames dropped because they did not fit the receive buffer.
    pub dropped_truncated: u64,
    /// Frames the kernel refused on send (e.g. the next hop's backlog was full).
    pub send_errors: u64,
    /// Sum of lateness in nanoseconds (for the mean).
    pub lateness_sum_ns: u128,
    /// Largest lateness seen, in nanoseconds.
    pub lateness_max_ns: u64,
    #[serde(skip)]
    histogram: Vec<u64>,
}

impl Default for RelayStats {
    fn default() -> Self {
        RelayStats {
            packets: 0,
            bytes: 0,
            dropped_queue_full: 0,
            dropped_truncated: 0,
            send_errors: 0,
            lateness_sum_ns: 0,
            lateness_max_ns: 0,
            histogram: vec![0; BUCKETS],
        }
    }
}

impl RelayStats {
    /// Records one forwarded frame that left `late_ns` after its due time.
    pub fn record(&mut self, bytes: usize, late_ns: u64) {
        self.packets += 1;
        self.bytes += bytes as u64;
        self.lateness_sum_ns += u128::from(late_ns);
        self.lateness_max_ns = self.lateness_max_ns.max(late_ns);
        let b = ((late_ns / 1000) as usize).min(BUCKETS - 1);
        self.histogram[b] += 1;
    }

    /// Mean lateness in milliseconds (0 when nothing was forwarded).
    pub fn lateness_mean_ms(&self) -> f64 {
        if self.packets == 0 {
            return 0.0;
        }
        self.lateness_sum_ns as f64 / self.packets as f64 / 1e6
    }

    /// The `q` quantile (0..=1) of lateness in milliseconds, at 1 µs resolution.
    pub fn lateness_quantile_ms(&self, q: f64) -> f64 {
        let total: u64 = self.histogram.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let want = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, n) in self.histogram.iter().enumerate() {
            seen += n;
            if seen >= want {
                return (i + 1) as f64 / 1000.0;
            }
        }
        BUCKETS as f64 / 1000.0
    }

    /// Adds another direction's counters to these.
    pub fn merge(&mut self, o: &RelayStats) {
        self.packets += o.packets;
        self.bytes += o.bytes;
        self.dropped_queue_full += o.dropped_queue_full;
        self.dropped_truncated += o.dropped_truncated;
        self.send_errors += o.send_errors;
        self.lateness_sum_ns += o.lateness_sum_ns;
        self.lateness_max_ns = self.lateness_max_ns.max(o.lateness_max_ns);
        for (a, b) in self.histogram.iter_mut().zip(&o.histogram) {
            *a += b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_mean() {
        let mut s = RelayStats::default();
        for i in 0..100 {
            s.record(100, i * 1000);
        }
        assert!((s.lateness_mean_ms() - 0.0495).abs() < 1e-9);
        assert!((s.lateness_quantile_ms(0.99) - 0.099).abs() < 1e-9);
        assert_eq!(RelayStats::default().lateness_quantile_ms(0.5), 0.0);
    }
}
