//! The emulated driver's own settings.

use std::time::Duration;

/// The emulated driver's own settings: the pre-copy model's inputs that do not come
/// from the run's links, flavor or migration request (docs/emulated-driver.md), in
/// the units the model computes in.
#[derive(Debug, Clone, PartialEq)]
pub struct EmulatedConfig {
    /// Guest memory M, bytes (`None`: the flavor's RAM).
    pub memory_bytes: Option<f64>,
    /// Writable working set W, bytes.
    pub working_set_bytes: f64,
    /// Dirty rate r, bytes/s.
    pub dirty_rate: f64,
    /// Per-pass dirty-rate jitter j (factor in [1 - j, 1 + j]).
    pub dirty_jitter: f64,
    /// Switch-over cost S, s.
    pub switchover_s: f64,
    /// Resume -> the network delivers to the destination, s.
    pub reattach_s: f64,
    /// Uniform jitter added to the reattach delay, s.
    pub reattach_jitter_s: f64,
    /// Capacity of the source host's uplink shared by clients and the migration, bit/s.
    pub host_link_bps: f64,
    /// TCP retransmission timeout for data held during an outage (zero: release at
    /// once).
    pub tcp_rto: Duration,
    /// Block mode: disk bytes copied before memory.
    pub disk_bytes: f64,
    /// Block mode: disk write rate, bytes/s.
    pub disk_dirty_rate: f64,
    /// Round-trip time of the migration path used by the loss model, s.
    pub base_rtt_s: f64,
}
