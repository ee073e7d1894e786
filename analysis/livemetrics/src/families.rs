//! The metric types every file here uses, and the histograms' buckets.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use std::sync::atomic::AtomicU64;

/// A counter of things (stalls, snapshots) per label set.
pub(crate) type Count<L> = Family<L, Counter>;
/// A counter of an amount (seconds, bytes as f64) per label set.
pub(crate) type Amount<L> = Family<L, Counter<f64, AtomicU64>>;
/// A gauge per label set.
pub(crate) type Level<L> = Family<L, Gauge<f64, AtomicU64>>;
/// A histogram per label set (the buckets are the constructor's).
pub(crate) type Hist<L> = Family<L, Histogram, fn() -> Histogram>;

/// Stalls and freezes, in seconds: 0.05 s to 102 s, doubling (the profiles'
/// thresholds, docs/verdicts.md, lie between 0.3 s and 10 s).
pub(crate) fn interruption_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

/// Round-trip times, in seconds: 0.25 ms to 8.2 s, doubling.
pub(crate) fn rtt_seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// Throughput, in bits per second: 64 kbit/s to 4.2 Gbit/s, doubling.
pub(crate) fn bits_per_second() -> Histogram {
    Histogram::new(exponential_buckets(64_000.0, 2.0, 17))
}

/// Creates `labels`' metric in `family` (at zero) if it is not there yet.
pub(crate) fn touch<L, M, C>(family: &Family<L, M, C>, labels: &L)
where
    L: Clone + std::hash::Hash + Eq,
    C: prometheus_client::metrics::family::MetricConstructor<M>,
{
    drop(family.get_or_create(labels));
}

/// A histogram family with the given buckets.
pub(crate) fn hist<L: Clone + std::hash::Hash + Eq>(buckets: fn() -> Histogram) -> Hist<L> {
    Family::new_with_constructor(buckets)
}
