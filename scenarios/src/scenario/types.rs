//! The structure of a scenario file (docs/scenario-file.md documents every key and
//! its default). Every table refuses unknown keys.

use super::drivers::{EmulatedOverrides, EmulatedSettings, ExecSettings};
use super::values::*;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A whole campaign file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Campaign name: the results folder's default name.
    pub name: Spanned<String>,
    /// Repetitions per application x scenario.
    #[serde(default = "default_runs")]
    pub runs: u32,
    /// Base seed; each run's seed derives from it, the application, scenario and run.
    #[serde(default)]
    pub seed: u64,
    /// Probes run this long before the migration is requested.
    #[serde(default = "default_warmup")]
    pub warmup_s: Secs,
    /// Probes keep running this long after the network reattached (or the end).
    #[serde(default = "default_cooldown")]
    pub cooldown_s: Secs,
    /// After resume, wait at most this long for the network to reattach.
    #[serde(default = "default_reattach_timeout")]
    pub reattach_timeout_s: PositiveSecs,
    /// Interval of the runner's reachability prober.
    #[serde(default = "default_reach_interval")]
    pub reachability_interval_ms: Millis,
    /// How to migrate.
    #[serde(default)]
    pub migration: MigrationSettings,
    /// The applications (services with their probes).
    #[serde(
        default,
        rename(deserialize = "application", serialize = "applications")
    )]
    pub applications: Vec<Application>,
    /// The network scenarios.
    #[serde(default, rename(deserialize = "scenario", serialize = "scenarios"))]
    pub scenarios: Vec<NetScenario>,
}

fn default_runs() -> u32 {
    5
}
fn default_warmup() -> Secs {
    Secs(10.0)
}
fn default_cooldown() -> Secs {
    Secs(10.0)
}
fn default_reattach_timeout() -> PositiveSecs {
    PositiveSecs(30.0)
}
fn default_reach_interval() -> Millis {
    Millis(15.0)
}

/// Which driver migrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DriverKind {
    /// Rootless: the service is a child process behind an impairment proxy.
    Emulated,
    /// User commands start, poll and cancel the migration.
    Exec,
    /// The local QEMU lab.
    Lab,
    /// Two libvirt hosts (libvirt's C API).
    Libvirt,
    /// An OpenStack cloud (Nova's API).
    Openstack,
}

impl DriverKind {
    /// The name used in files and results.
    pub fn name(self) -> &'static str {
        match self {
            DriverKind::Emulated => "emulated",
            DriverKind::Exec => "exec",
            DriverKind::Lab => "lab",
            DriverKind::Libvirt => "libvirt",
            DriverKind::Openstack => "openstack",
        }
    }
}

/// OpenStack m1.* flavor names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavor {
    /// 1 vCPU, 512 MB RAM, 1 GB disk.
    Tiny,
    /// 1 vCPU, 2048 MB, 20 GB.
    Small,
    /// 2 vCPU, 4096 MB, 40 GB.
    Medium,
    /// 4 vCPU, 8192 MB, 80 GB.
    Large,
}

impl Flavor {
    /// The name used in files and results.
    pub fn name(self) -> &'static str {
        match self {
            Flavor::Tiny => "tiny",
            Flavor::Small => "small",
            Flavor::Medium => "medium",
            Flavor::Large => "large",
        }
    }

    /// RAM in MiB.
    pub fn memory_mib(self) -> f64 {
        match self {
            Flavor::Tiny => 512.0,
            Flavor::Small => 2048.0,
            Flavor::Medium => 4096.0,
            Flavor::Large => 8192.0,
        }
    }
}

/// `[migration]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationSettings {
    /// Driver.
    #[serde(default = "default_driver")]
    pub driver: DriverKind,
    /// `live` or `block`.
    #[serde(default = "default_mode")]
    pub mode: crate::migrate::Mode,
    /// `precopy` or `postcopy`.
    #[serde(default = "default_copy")]
    pub copy: crate::migrate::Copy,
    /// Bandwidth limit of the migration stream (none: the link's rate).
    #[serde(default)]
    pub bandwidth_mbit: Option<Mbit>,
    /// Downtime limit the hypervisor aims for.
    #[serde(default = "default_downtime_limit")]
    pub downtime_limit_ms: Millis,
    /// Cancel after this long: a never-ending migration.
    #[serde(default = "default_time_limit")]
    pub time_limit_s: PositiveSecs,
    /// Post-copy: switch after this many pre-copy passes.
    #[serde(default = "default_postcopy_after")]
    pub postcopy_after_passes: u64,
    /// Throttle the vCPUs when pre-copy does not converge.
    #[serde(default)]
    pub auto_converge: bool,
    /// VM size.
    #[serde(default = "default_flavor")]
    pub flavor: Flavor,
    /// Settings of the emulated driver.
    #[serde(default)]
    pub emulated: EmulatedSettings,
    /// Settings of the exec driver (required when `driver = "exec"`).
    #[serde(default)]
    pub exec: Option<ExecSettings>,
    /// Settings of the libvirt driver (required when `driver = "libvirt"`).
    #[serde(default)]
    pub libvirt: Option<super::platforms::LibvirtSettings>,
    /// Settings of the OpenStack driver (required when `driver = "openstack"`).
    #[serde(default)]
    pub openstack: Option<super::platforms::OpenStackSettings>,
}

impl Default for MigrationSettings {
    fn default() -> Self {
        Self {
            driver: default_driver(),
            mode: default_mode(),
            copy: default_copy(),
            bandwidth_mbit: None,
            downtime_limit_ms: default_downtime_limit(),
            time_limit_s: default_time_limit(),
            postcopy_after_passes: default_postcopy_after(),
            auto_converge: false,
            flavor: default_flavor(),
            emulated: EmulatedSettings::default(),
            exec: None,
            libvirt: None,
            openstack: None,
        }
    }
}

fn default_driver() -> DriverKind {
    DriverKind::Lab
}
fn default_mode() -> crate::migrate::Mode {
    crate::migrate::Mode::Live
}
fn default_copy() -> crate::migrate::Copy {
    crate::migrate::Copy::Precopy
}
fn default_downtime_limit() -> Millis {
    Millis(300.0)
}
fn default_time_limit() -> PositiveSecs {
    PositiveSecs(300.0)
}
fn default_postcopy_after() -> u64 {
    1
}
fn default_flavor() -> Flavor {
    Flavor::Tiny
}

/// Which service an application is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// DASH/HLS origin (HTTP).
    Dash,
    /// File server (HTTP).
    File,
    /// UDP game server.
    Game,
    /// Live MPEG-TS stream server (HTTP): an encoder inside, or a relay.
    Live,
}

impl ServiceKind {
    /// The `serve` subcommand name.
    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Dash => "dash",
            ServiceKind::File => "file",
            ServiceKind::Game => "game",
            ServiceKind::Live => "live",
        }
    }
}

/// Where the `live` service takes its stream from (`source` of an application).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LiveSource {
    /// The encoder runs inside the migrated service (the study's "encoder inside").
    #[default]
    Encoder,
    /// The service relays an external encoder that is not migrated (the study's
    /// "without content"); the driver starts that encoder outside the service.
    Relay,
}

impl LiveSource {
    /// The `serve live --source` value.
    pub fn name(self) -> &'static str {
        match self {
            LiveSource::Encoder => "encoder",
            LiveSource::Relay => "relay",
        }
    }
}

/// `[[application]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Name (a folder name: letters, digits, `.`, `_`, `-`).
    pub name: Spanned<String>,
    /// The service under test.
    pub service: Spanned<ServiceKind>,
    /// Extra flags for `serve <service>`.
    #[serde(default)]
    pub service_args: Vec<String>,
    /// `live` service only: the encoder inside (default) or a relay of an external one.
    #[serde(default)]
    pub source: Option<Spanned<LiveSource>>,
    /// A DASH/HLS player probe.
    #[serde(default)]
    pub player: Option<super::probes::PlayerProbe>,
    /// A download probe.
    #[serde(default)]
    pub download: Option<super::probes::DownloadProbe>,
    /// A game probe.
    #[serde(default)]
    pub game: Option<super::probes::GameProbe>,
    /// A live stream probe.
    #[serde(default)]
    pub stream: Option<super::probes::StreamProbe>,
    /// Emulated driver: this application's own pre-copy inputs (how the service
    /// dirties memory), overriding `[migration.emulated]`.
    #[serde(default)]
    pub emulated: Option<EmulatedOverrides>,
    /// Tolerance profile overrides (keys of `analysis::Profile`, docs/verdicts.md).
    #[serde(default)]
    pub profile: analysis::Profile,
}

impl Application {
    /// Where a `live` service takes its stream from (`None` for other services).
    pub fn live_source(&self) -> Option<LiveSource> {
        (*self.service.get_ref() == ServiceKind::Live).then(|| {
            self.source
                .as_ref()
                .map(|s| *s.get_ref())
                .unwrap_or_default()
        })
    }
}

/// `[[scenario]]`: a named network scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetScenario {
    /// Name (a folder name).
    pub name: Spanned<String>,
    /// Clients to the service.
    #[serde(default)]
    pub client: Link,
    /// Source to destination host.
    #[serde(default)]
    pub migration: Link,
}

/// Conditions of one link; every key is optional (none: unshaped).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Rate limit.
    #[serde(default)]
    pub rate_mbit: Option<Mbit>,
    /// One-way delay.
    #[serde(default)]
    pub delay_ms: Option<Millis>,
    /// Packet loss.
    #[serde(default)]
    pub loss_pct: Option<Percent>,
}

impl Link {
    /// Whether nothing is shaped.
    pub fn is_unshaped(&self) -> bool {
        self.rate_mbit.is_none()
            && self.delay_ms.is_none_or(|d| d.get() == 0.0)
            && self.loss_pct.is_none_or(|l| l.get() == 0.0)
    }
}
