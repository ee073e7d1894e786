//! The driver tables of a scenario file: `[migration.emulated]` (the pre-copy
//! model's inputs) and `[migration.exec]` (the user's commands).

use platform::emulated::EmulatedConfig;
use platform::exec::{CommandLine, ExecConfig};
use probes::values::*;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// `[migration.emulated]`: the pre-copy model's inputs (docs/emulated-driver.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatedSettings {
    /// Guest memory (default: the flavor's RAM).
    #[serde(default)]
    pub memory_mb: Option<Mib>,
    /// Memory the guest keeps writing (the writable working set).
    #[serde(default = "default_working_set")]
    pub working_set_mb: MibOrZero,
    /// Rate at which the guest dirties memory.
    #[serde(default = "default_dirty_rate")]
    pub dirty_rate_mb_s: MibPerSec,
    /// Each pass's dirty rate is scaled by a seeded factor in [1 - j, 1 + j].
    #[serde(default = "default_jitter")]
    pub dirty_jitter: Fraction,
    /// Fixed cost of the switch-over (device state, last sync).
    #[serde(default = "default_switchover")]
    pub switchover_ms: Millis,
    /// Resume -> the network delivers to the destination (announce, switch learning).
    #[serde(default = "default_reattach")]
    pub reattach_ms: Millis,
    /// Seeded jitter added to `reattach_ms`, uniform in [0, this].
    #[serde(default = "default_reattach_jitter")]
    pub reattach_jitter_ms: Millis,
    /// Capacity of the source host's uplink shared by clients and the migration.
    #[serde(default = "default_host_link")]
    pub host_link_mbit: Mbit,
    /// TCP retransmission timeout for data held during an outage (0: release at once).
    #[serde(default = "default_rto")]
    pub tcp_rto_ms: Millis,
    /// Block mode: disk size copied before memory (default: 1024).
    #[serde(default = "default_disk")]
    pub disk_mb: MibOrZero,
    /// Block mode: rate at which the guest writes its disk.
    #[serde(default = "default_disk_dirty")]
    pub disk_dirty_mb_s: MibPerSec,
    /// Round-trip time of the migration path used by the loss model.
    #[serde(default = "default_base_rtt")]
    pub base_rtt_ms: Millis,
}

impl Default for EmulatedSettings {
    fn default() -> Self {
        Self {
            memory_mb: None,
            working_set_mb: default_working_set(),
            dirty_rate_mb_s: default_dirty_rate(),
            dirty_jitter: default_jitter(),
            switchover_ms: default_switchover(),
            reattach_ms: default_reattach(),
            reattach_jitter_ms: default_reattach_jitter(),
            host_link_mbit: default_host_link(),
            tcp_rto_ms: default_rto(),
            disk_mb: default_disk(),
            disk_dirty_mb_s: default_disk_dirty(),
            base_rtt_ms: default_base_rtt(),
        }
    }
}

fn default_working_set() -> MibOrZero {
    MibOrZero(64.0)
}
fn default_dirty_rate() -> MibPerSec {
    MibPerSec(16.0)
}
fn default_jitter() -> Fraction {
    Fraction(0.1)
}
fn default_switchover() -> Millis {
    Millis(20.0)
}
fn default_reattach() -> Millis {
    Millis(50.0)
}
fn default_reattach_jitter() -> Millis {
    Millis(20.0)
}
fn default_host_link() -> Mbit {
    Mbit(1000.0)
}
fn default_rto() -> Millis {
    Millis(200.0)
}
fn default_disk() -> MibOrZero {
    MibOrZero(1024.0)
}
fn default_disk_dirty() -> MibPerSec {
    MibPerSec(1.0)
}
fn default_base_rtt() -> Millis {
    Millis(1.0)
}

/// `[application.emulated]`: an application's own pre-copy inputs for the emulated
/// driver (how its service dirties the guest's memory). Unset keys keep the values
/// of `[migration.emulated]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmulatedOverrides {
    /// Rate at which the guest dirties memory while this application runs.
    #[serde(default)]
    pub dirty_rate_mb_s: Option<MibPerSec>,
    /// Memory the guest keeps writing.
    #[serde(default)]
    pub working_set_mb: Option<MibOrZero>,
    /// Per-pass dirty-rate jitter.
    #[serde(default)]
    pub dirty_jitter: Option<Fraction>,
}

impl EmulatedSettings {
    /// The emulated driver's settings: these with an application's overrides
    /// applied, in the units the model computes in.
    pub fn config(&self, o: Option<&EmulatedOverrides>) -> EmulatedConfig {
        let e = self.with(o);
        EmulatedConfig {
            memory_bytes: e.memory_mb.map(|m| m.bytes() as f64),
            working_set_bytes: e.working_set_mb.bytes() as f64,
            dirty_rate: e.dirty_rate_mb_s.bytes_per_sec(),
            dirty_jitter: e.dirty_jitter.get(),
            switchover_s: e.switchover_ms.get() / 1000.0,
            reattach_s: e.reattach_ms.get() / 1000.0,
            reattach_jitter_s: e.reattach_jitter_ms.get() / 1000.0,
            host_link_bps: e.host_link_mbit.bps() as f64,
            tcp_rto: e.tcp_rto_ms.duration(),
            disk_bytes: e.disk_mb.bytes() as f64,
            disk_dirty_rate: e.disk_dirty_mb_s.bytes_per_sec(),
            base_rtt_s: e.base_rtt_ms.get() / 1000.0,
        }
    }

    /// These settings with an application's overrides applied.
    pub fn with(&self, o: Option<&EmulatedOverrides>) -> EmulatedSettings {
        let mut s = self.clone();
        if let Some(o) = o {
            if let Some(v) = o.dirty_rate_mb_s {
                s.dirty_rate_mb_s = v;
            }
            if let Some(v) = o.working_set_mb {
                s.working_set_mb = v;
            }
            if let Some(v) = o.dirty_jitter {
                s.dirty_jitter = v;
            }
        }
        s
    }
}

/// `[migration.exec]` (docs/exec-driver.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecSettings {
    /// Starts the service once per run (optional); runs until it exits.
    #[serde(default)]
    pub prepare: Option<CommandLine>,
    /// Starts the migration; its output lines carry the phase markers.
    pub start: Spanned<CommandLine>,
    /// Run every `poll_interval_ms` while the migration runs; its lines carry markers.
    #[serde(default)]
    pub poll: Option<CommandLine>,
    /// Poll interval.
    #[serde(default = "default_poll_interval")]
    pub poll_interval_ms: Millis,
    /// Cancels the migration.
    #[serde(default)]
    pub cancel: Option<CommandLine>,
    /// Run once at the end of each run (optional).
    #[serde(default)]
    pub teardown: Option<CommandLine>,
    /// HTTP service address as HOST:PORT, for player and download probes.
    #[serde(default)]
    pub http: Option<Spanned<String>>,
    /// UDP game service address as HOST:PORT.
    #[serde(default)]
    pub game: Option<Spanned<String>>,
    /// TCP address the reachability prober connects to (default: `http`).
    #[serde(default)]
    pub probe_target: Option<Spanned<String>>,
}

fn default_poll_interval() -> Millis {
    Millis(500.0)
}

impl ExecSettings {
    /// The exec driver's settings (addresses were checked when the file was read).
    pub fn config(&self) -> ExecConfig {
        ExecConfig {
            prepare: self.prepare.clone(),
            start: self.start.get_ref().clone(),
            poll: self.poll.clone(),
            poll_interval: self.poll_interval_ms.duration(),
            cancel: self.cancel.clone(),
            teardown: self.teardown.clone(),
            http: address(&self.http),
            game: address(&self.game),
            probe_target: address(&self.probe_target),
        }
    }
}

/// A driver table's address value (`IP:PORT`), once validation has checked it.
pub(super) fn address(v: &Option<Spanned<String>>) -> Option<std::net::SocketAddr> {
    v.as_ref().and_then(|s| s.get_ref().parse().ok())
}
