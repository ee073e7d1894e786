//! Event payloads of the migration (`source: "migration"`), the network conditions
//! (`source: "net"`) and the runner (`source: "runner"`). The probes never emit these;
//! they are in this schema so that one timeline holds everything.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// `live` (shared storage) or `block` (disk copied too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Pre-copy of memory only; the disk is shared.
    Live,
    /// The disk is copied too.
    Block,
}

/// Pre-copy or post-copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Copy {
    /// Iterative pre-copy, then stop-and-copy.
    Precopy,
    /// Switch to post-copy after some pre-copy.
    Postcopy,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 2] = [Mode::Live, Mode::Block];

    /// Its name in files and results (`live`, `block`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Live => "live",
            Mode::Block => "block",
        }
    }
}

impl Copy {
    /// Every copy strategy.
    pub const ALL: [Copy; 2] = [Copy::Precopy, Copy::Postcopy];

    /// Its name in files and results (`precopy`, `postcopy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Copy::Precopy => "precopy",
            Copy::Postcopy => "postcopy",
        }
    }
}

/// A name that is not one of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was being parsed (`mode`, `copy`).
    pub what: &'static str,
    /// The text given.
    pub given: String,
    /// The valid names.
    pub valid: Vec<&'static str>,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} `{}`: expected {}",
            self.what,
            self.given,
            self.valid.join(" or ")
        )
    }
}

impl std::error::Error for ParseError {}

macro_rules! named {
    ($ty:ident, $what:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                $ty::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| ParseError {
                        what: $what,
                        given: s.to_string(),
                        valid: $ty::ALL.iter().map(|v| v.as_str()).collect(),
                    })
            }
        }
    };
}
named!(Mode, "mode");
named!(Copy, "copy");

/// `migration_requested`: the driver asked the platform to migrate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MigrationRequested {
    // A name, not an enum: results of drivers this version does not have still load.
    /// Driver name (`lab`, `emulated`, `exec`, ...).
    pub driver: String,
    /// `live` or `block`.
    pub mode: Mode,
    /// `precopy` or `postcopy`.
    pub copy: Copy,
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

/// `memory_check`: after a completed migration, the guest's memory verified against
/// the self-checking pattern its writer (the lab's `serve dirty`) keeps writing,
/// and its boot id compared with the one before the migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryCheck {
    /// Pages (4 KiB) of the writer's working set verified after the migration.
    pub pages: u64,
    /// Of those, pages that did not hold what the writer last wrote into them.
    pub mismatches: u64,
    /// Pages the writer checked before rewriting them, since it started.
    pub rewrite_checks: u64,
    /// Of those, pages it found damaged (caught even if rewritten before the check).
    pub rewrite_mismatches: u64,
    /// The writer's average write rate since it started, MiB/s, if it said.
    pub write_rate_mib_s: Option<f64>,
    /// Whether the guest's boot id is the one it had before the migration (`false`:
    /// the guest rebooted, e.g. after a kernel panic).
    pub boot_id_unchanged: bool,
    /// Whether the writer wrote again after the migration: `false` when its page
    /// count did not move while the lab watched (a guest whose kernel lost a timer
    /// answers HTTP but its paced writer sleeps for ever); `None` when not watched
    /// (a record from before this check, or the writer never answered).
    #[serde(default)]
    pub writer_advanced: Option<bool>,
    /// Why the guest could not be checked (it did not answer), if so.
    pub error: Option<String>,
}

impl MemoryCheck {
    /// The guest kept running (same boot, the writer still writing) and every page
    /// holds what was written: the migration carried memory over intact.
    pub fn intact(&self) -> bool {
        self.error.is_none()
            && self.boot_id_unchanged
            && self.writer_advanced != Some(false)
            && self.pages > 0
            && self.mismatches == 0
            && self.rewrite_mismatches == 0
    }
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
    /// For `up`, and for a gap still open when the run ended: how long it did not
    /// answer, ms.
    pub gap_ms: Option<f64>,
    /// `true` on the event that closes the accounting of a gap still open when the
    /// run ended (then `up` is `false` and `gap_ms` is the gap's length so far).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unfinished: bool,
}

/// The conditions of one link, the same in both directions: rate, one-way delay,
/// loss. A missing value means "not limited". Written per link in `run.json`
/// (`conditions`, its fields in the order that file has always listed them); the
/// platform applies it, the scenario file states it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkCondition {
    /// Added one-way delay in milliseconds, per direction (RTT grows by twice this).
    #[serde(default)]
    pub delay_ms: Option<f64>,
    /// Random loss in percent of packets, per direction.
    #[serde(default)]
    pub loss_pct: Option<f64>,
    /// Rate limit in Mbit/s (10^6 bit/s), per direction.
    #[serde(default)]
    pub rate_mbit: Option<f64>,
}

impl LinkCondition {
    /// No limit at all.
    pub const NONE: LinkCondition = LinkCondition {
        rate_mbit: None,
        delay_ms: None,
        loss_pct: None,
    };

    /// Whether nothing is shaped (no rate limit, no delay, no loss).
    pub fn is_unshaped(&self) -> bool {
        self.rate_mbit.is_none()
            && self.delay_ms.is_none_or(|d| d == 0.0)
            && self.loss_pct.is_none_or(|l| l == 0.0)
    }
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

impl NetCondition {
    /// `condition` of link `link` (`client`, `migration`), applied or removed.
    pub fn new(link: &str, condition: &LinkCondition, applied: bool) -> Self {
        NetCondition {
            link: link.to_string(),
            rate_mbit: condition.rate_mbit,
            delay_ms: condition.delay_ms,
            loss_pct: condition.loss_pct,
            applied,
        }
    }
}

/// `phase`: the runner entered a phase of the run (`warmup`, `migration`, `cooldown`,
/// `stop`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunnerPhase {
    /// Phase name.
    pub phase: String,
}

#[cfg(test)]
mod tests {
    use super::MemoryCheck;

    fn check() -> MemoryCheck {
        MemoryCheck {
            pages: 4096,
            mismatches: 0,
            rewrite_checks: 100,
            rewrite_mismatches: 0,
            write_rate_mib_s: Some(4.0),
            boot_id_unchanged: true,
            writer_advanced: Some(true),
            error: None,
        }
    }

    #[test]
    fn a_stalled_writer_is_not_intact_and_an_unwatched_one_from_an_old_record_is() {
        assert!(check().intact());
        let stalled = MemoryCheck {
            writer_advanced: Some(false),
            ..check()
        };
        assert!(!stalled.intact());
        let rebooted = MemoryCheck {
            boot_id_unchanged: false,
            ..check()
        };
        assert!(!rebooted.intact());
        // A record written before the watch existed has no `writer_advanced`.
        let old = r#"{"pages":4096,"mismatches":0,"rewrite_checks":100,"rewrite_mismatches":0,"write_rate_mib_s":4.0,"boot_id_unchanged":true,"error":null}"#;
        let old: MemoryCheck = serde_json::from_str(old).expect("an old record parses");
        assert_eq!(old.writer_advanced, None);
        assert!(old.intact());
    }
}
