//! Event payloads of the migration (`source: "migration"`), the network conditions
//! (`source: "net"`) and the runner (`source: "runner"`). The probes never emit these;
//! they are in this schema so that one timeline holds everything.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `migration_requested`: the driver asked the platform to migrate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationRequested {
    /// Driver name (`lab`, `emulated`, `exec`, ...).
    pub driver: String,
    /// `live` or `block`.
    pub mode: String,
    /// `precopy` or `postcopy`.
    pub copy: String,
}

/// `migration_paused`: the VM stopped on the source (end of preoperation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationPaused {
    /// Where the timestamp comes from (e.g. `qmp:STOP`, `model`, `exec`).
    pub origin: String,
}

/// `migration_resumed`: the VM runs on the destination (end of downtime).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationResumed {
    /// Where the timestamp comes from (e.g. `qmp:RESUME`).
    pub origin: String,
}

/// `network_reattached`: first successful round trip to the service after resume
/// (end of postoperation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetworkReattached {
    /// Where it was seen (`reachability` for the runner's prober, or a platform event).
    pub origin: String,
}

/// `migration_pass`: one pre-copy pass (or a progress sample).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationPass {
    /// Pass number (1-based; QEMU's dirty-sync count).
    pub pass: u64,
    /// Bytes sent so far.
    pub transferred_bytes: u64,
    /// Bytes left to send.
    pub remaining_bytes: u64,
    /// Dirty page rate in pages per second, if known.
    pub dirty_pages_rate: Option<f64>,
    /// Throughput of the migration stream in Mbit/s, if known.
    pub mbps: Option<f64>,
}

/// How a migration ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MigrationOutcome {
    /// The VM runs on the destination.
    Completed,
    /// The platform reported a failure.
    Failed,
    /// Cancelled at the time limit: a never-ending migration.
    Cancelled,
}

/// `migration_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationEnd {
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Human-readable detail (error message, why it was cancelled).
    pub detail: Option<String>,
    /// Total bytes sent.
    pub transferred_bytes: Option<u64>,
    /// Bytes left when it ended (for a cancelled migration).
    pub remaining_bytes: Option<u64>,
    /// Downtime as the platform itself reports it, if it does (QEMU's reads low).
    pub platform_downtime_ms: Option<f64>,
}

/// `platform_event`: something the platform reported that is not a phase boundary,
/// at the time the platform gives (libvirt: arrival; Nova: its own timestamps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlatformEvent {
    /// Who reported it (`libvirt`, `nova`).
    pub origin: String,
    /// Its name there (e.g. `STARTED_MIGRATED`, `compute_live_migration started`).
    pub name: String,
    /// The host it concerns, if known.
    pub host: Option<String>,
    /// More (a result, an error).
    pub detail: Option<String>,
}

/// `reachability`: the runner's prober lost or regained the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reachability {
    /// `true` when the service answers again, `false` when it stopped answering.
    pub up: bool,
    /// For `up`: how long it did not answer, ms.
    pub gap_ms: Option<f64>,
}

/// `net_condition`: a network condition was applied or removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NetCondition {
    /// Link name (`client` or `migration`).
    pub link: String,
    /// Rate limit in Mbit/s.
    pub rate_mbit: Option<f64>,
    /// One-way delay in ms.
    pub delay_ms: Option<f64>,
    /// Loss in percent.
    pub loss_pct: Option<f64>,
    /// Applied (`true`) or removed.
    pub applied: bool,
}

/// `phase`: the runner entered a phase of the run (`warmup`, `migration`, `cooldown`,
/// `stop`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunnerPhase {
    /// Phase name.
    pub phase: String,
}
