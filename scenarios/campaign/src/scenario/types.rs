//! The structure of a scenario file (docs/scenario-file.md documents every key and
//! its default). Every table refuses unknown keys.

use super::axes::Matrix;
use super::drivers::{EmulatedOverrides, EmulatedSettings, ExecSettings};
use platform::{
    DriverConfig, DriverKind, Flavor, LiveSource, MigrationRequest, Service, ServiceKind,
};
use probes::download::DownloadOptions;
use probes::game::GameOptions;
use probes::player::PlayerOptions;
use probes::stream::StreamOptions;
use probes::values::*;
use record::{Copy, LinkCondition, Mode, Profile};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// A whole campaign file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// Campaign name: the results folder's default name.
    pub name: Spanned<String>,
    /// Repetitions per application x scenario (1 to [`super::MAX_RUNS`]).
    #[serde(default = "default_runs", deserialize_with = "runs_in_range")]
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
    /// The network scenarios (after [`Campaign::matrix`] multiplied them).
    #[serde(default, rename(deserialize = "scenario", serialize = "scenarios"))]
    pub scenarios: Vec<NetScenario>,
    /// Lists of values that multiply the scenarios into cells (`[matrix]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix: Option<Spanned<Matrix>>,
}

fn default_runs() -> u32 {
    5
}

/// `runs` from 1 to [`super::MAX_RUNS`]: `runs = 0` plays nothing, and a huge count is
/// refused at its own line instead of being planned.
fn runs_in_range<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if n >= 1 && u64::from(n) <= super::MAX_RUNS {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "{n} is out of range: expected 1 to {} repetitions",
            super::MAX_RUNS
        )))
    }
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

/// `[migration]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationSettings {
    /// Driver.
    #[serde(default = "default_driver")]
    pub driver: DriverKind,
    /// `live` or `block`.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// `precopy` or `postcopy`.
    #[serde(default = "default_copy")]
    pub copy: Copy,
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
    /// Keep the VM up between consecutive runs of the same setup and migrate it
    /// back and forth (drivers that can, the lab); `false`: a new VM every run.
    #[serde(default = "default_reuse_vm", skip_serializing_if = "is_default_reuse")]
    pub reuse_vm: bool,
    /// With a kept VM: wait this long before the next run's checks and warm-up.
    #[serde(default = "default_settle", skip_serializing_if = "is_default_settle")]
    pub settle_s: Secs,
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
            reuse_vm: default_reuse_vm(),
            settle_s: default_settle(),
            emulated: EmulatedSettings::default(),
            exec: None,
            libvirt: None,
            openstack: None,
        }
    }
}

impl MigrationSettings {
    /// The migration request these settings describe.
    pub fn request(&self) -> MigrationRequest {
        MigrationRequest {
            mode: self.mode,
            copy: self.copy,
            bandwidth_bps: self.bandwidth_mbit.map(|b| b.bps()),
            downtime_limit: Some(self.downtime_limit_ms.duration()),
            time_limit: self.time_limit_s.duration(),
            postcopy_after_passes: Some(self.postcopy_after_passes),
            auto_converge: self.auto_converge,
        }
    }

    /// The driver's own settings for a run of `app`.
    pub fn driver_config(&self, app: &Application) -> Result<DriverConfig, String> {
        Ok(match self.driver {
            DriverKind::Emulated => {
                DriverConfig::Emulated(self.emulated.config(app.emulated.as_ref()))
            }
            DriverKind::Exec => DriverConfig::Exec(
                self.exec
                    .as_ref()
                    .ok_or("driver \"exec\" needs [migration.exec]")?
                    .config(),
            ),
            DriverKind::Lab => DriverConfig::Lab,
            DriverKind::Libvirt => DriverConfig::Libvirt(
                self.libvirt
                    .as_ref()
                    .ok_or("driver \"libvirt\" needs [migration.libvirt]")?
                    .config()?,
            ),
            DriverKind::Openstack => DriverConfig::Openstack(Box::new(
                self.openstack
                    .as_ref()
                    .ok_or("driver \"openstack\" needs [migration.openstack]")?
                    .config()?,
            )),
        })
    }
}

fn default_reuse_vm() -> bool {
    true
}
// Not serialized at their defaults: the campaign hash of files written before
// these keys existed stays the same (`--resume` of an older folder).
fn is_default_reuse(v: &bool) -> bool {
    *v == default_reuse_vm()
}
fn default_settle() -> Secs {
    Secs(2.0)
}
fn is_default_settle(v: &Secs) -> bool {
    *v == default_settle()
}
fn default_driver() -> DriverKind {
    DriverKind::Lab
}
fn default_mode() -> Mode {
    Mode::Live
}
fn default_copy() -> Copy {
    Copy::Precopy
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
    /// This application's VM size, overriding `[migration] flavor` (the study sized
    /// each application's VM differently).
    #[serde(default)]
    pub flavor: Option<Flavor>,
    /// A DASH/HLS player probe.
    #[serde(default)]
    pub player: Option<PlayerOptions>,
    /// A download probe.
    #[serde(default)]
    pub download: Option<DownloadOptions>,
    /// A game probe.
    #[serde(default)]
    pub game: Option<GameOptions>,
    /// A live stream probe.
    #[serde(default)]
    pub stream: Option<StreamOptions>,
    /// Sessions of each probe per run (1 to [`MAX_CLIENTS`]): `name#1` to `name#N`
    /// when over 1. With `qoeprobe run --host K/N` they are spread over the client
    /// hosts (docs/scale-out.md).
    #[serde(
        default = "one_client",
        deserialize_with = "clients_in_range",
        skip_serializing_if = "is_one_client"
    )]
    pub clients: u32,
    /// Emulated driver: this application's own pre-copy inputs (how the service
    /// dirties memory), overriding `[migration.emulated]`.
    #[serde(default)]
    pub emulated: Option<EmulatedOverrides>,
    /// Tolerance profile overrides (docs/verdicts.md).
    #[serde(default)]
    pub profile: Profile,
}

/// Most sessions of one probe a run may hold.
pub const MAX_CLIENTS: u32 = 10_000;

fn one_client() -> u32 {
    1
}

fn is_one_client(n: &u32) -> bool {
    *n == 1
}

fn clients_in_range<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if (1..=MAX_CLIENTS).contains(&n) {
        Ok(n)
    } else {
        Err(serde::de::Error::custom(format!(
            "{n} is out of range: expected 1 to {MAX_CLIENTS} sessions per probe"
        )))
    }
}

impl Application {
    /// The service a run of this application puts under test.
    pub fn service(&self) -> Service {
        Service {
            kind: *self.service.get_ref(),
            source: self.live_source(),
            args: self.service_args.clone(),
        }
    }

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
    /// VM size of this scenario's runs (none: `[migration] flavor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<Flavor>,
    /// Migration mode of this scenario's runs (none: `[migration] mode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Copy strategy of this scenario's runs (none: `[migration] copy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<Copy>,
}

impl NetScenario {
    /// The campaign's migration settings with this scenario's flavor, mode and copy.
    pub fn migration_settings(&self, campaign: &MigrationSettings) -> MigrationSettings {
        let mut m = campaign.clone();
        if let Some(f) = self.flavor {
            m.flavor = f;
        }
        if let Some(v) = self.mode {
            m.mode = v;
        }
        if let Some(v) = self.copy {
            m.copy = v;
        }
        m
    }
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
    /// The link's conditions as the record and the platform take them.
    pub fn condition(&self) -> LinkCondition {
        LinkCondition {
            rate_mbit: self.rate_mbit.map(Mbit::get),
            delay_ms: self.delay_ms.map(Millis::get),
            loss_pct: self.loss_pct.map(Percent::get),
        }
    }

    /// Whether nothing is shaped.
    pub fn is_unshaped(&self) -> bool {
        self.condition().is_unshaped()
    }
}
