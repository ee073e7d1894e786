//! What a driver is asked to do: one migration's mode, copy and limits.

use record::{Copy, Mode};
use std::time::Duration;

/// What to migrate and how.
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationRequest {
    /// Live or block.
    pub mode: Mode,
    /// Pre-copy or post-copy.
    pub copy: Copy,
    /// Bandwidth limit of the migration stream in bit/s (`None` = unlimited).
    pub bandwidth_bps: Option<u64>,
    /// Downtime limit the hypervisor aims for.
    pub downtime_limit: Option<Duration>,
    /// Cancel after this long: a never-ending migration.
    pub time_limit: Duration,
    /// Post-copy: switch after this many pre-copy passes.
    pub postcopy_after_passes: Option<u64>,
    /// Auto-converge (throttle the vCPUs when pre-copy does not converge).
    pub auto_converge: bool,
}
