//! The driver trait and everything a driver gets for one run.
//!
//! A driver prepares the service (VM, process), migrates it while emitting
//! timestamped phase events (requested, paused, resumed, per-pass counters, end) to
//! the run's [`EventSink`], can cancel, and tears everything down. "Network
//! reattached" comes from the campaign runner's reachability prober unless the
//! platform has its own event. A [`DriverContext`] holds platform-level facts only
//! (the service to start, the flavor, the link conditions, the driver's own
//! settings): the campaign crate maps its scenario files onto it.

use crate::emulated::config::EmulatedConfig;
use crate::endpoint::ServiceEndpoint;
use crate::exec::config::ExecConfig;
use crate::libvirt::config::LibvirtConfig;
use crate::openstack::config::OpenStackConfig;
use crate::request::MigrationRequest;
use record::clock::MonotonicClock;
use record::{Event, LinkCondition, MigrationOutcome};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

/// Where events go: the run's timeline (appended and flushed as they happen).
pub type EventSink = std::sync::Arc<dyn Fn(Event) + Send + Sync>;

/// A boxed future, so drivers can be used as `dyn MigrationDriver`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a finished migration reports (the events carry the timestamps).
#[derive(Debug, Clone, PartialEq)]
pub struct MigrationReport {
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Detail for failed or cancelled.
    pub detail: Option<String>,
}

/// A driver error: what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{driver} driver: {what}")]
pub struct DriverError {
    /// Driver name.
    pub driver: String,
    /// What failed and what to do.
    pub what: String,
}

/// Which driver migrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The name used in files and results (`emulated`, `exec`, `lab`, `libvirt`,
    /// `openstack`).
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

/// A driver's own settings.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverConfig {
    /// The emulated driver's pre-copy model inputs.
    Emulated(EmulatedConfig),
    /// The exec driver's commands and addresses.
    Exec(ExecConfig),
    /// The local QEMU lab (its settings come from the context).
    Lab,
    /// The libvirt driver's hosts, domain and migration flags.
    Libvirt(LibvirtConfig),
    /// The OpenStack driver's cloud, server and options.
    Openstack(Box<OpenStackConfig>),
}

impl DriverConfig {
    /// Which driver these settings are for.
    pub fn kind(&self) -> DriverKind {
        match self {
            DriverConfig::Emulated(_) => DriverKind::Emulated,
            DriverConfig::Exec(_) => DriverKind::Exec,
            DriverConfig::Lab => DriverKind::Lab,
            DriverConfig::Libvirt(_) => DriverKind::Libvirt,
            DriverConfig::Openstack(_) => DriverKind::Openstack,
        }
    }
}

/// OpenStack m1.* flavor names: the size of the migrated VM (the lab scales them to
/// this machine, the emulated driver's model takes their memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Which service is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Where the `live` service takes its stream from.
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

/// The service a run puts under test.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// Which one.
    pub kind: ServiceKind,
    /// A `live` service's stream source (`None` for the other services).
    pub source: Option<LiveSource>,
    /// Extra flags for `serve <kind>`.
    pub args: Vec<String>,
}

/// Everything a driver gets for one run.
#[derive(Clone)]
pub struct DriverContext {
    /// The run's clock (convert platform timestamps with `offset_of_wall_ns`).
    pub clock: MonotonicClock,
    /// The run's timeline.
    pub sink: EventSink,
    /// The run's seed.
    pub seed: u64,
    /// The run's folder (drivers may put logs there).
    pub run_dir: PathBuf,
    /// The driver and its own settings.
    pub driver: DriverConfig,
    /// The service under test.
    pub service: Service,
    /// The VM size.
    pub flavor: Flavor,
    /// Conditions of the clients' link to the service.
    pub client: LinkCondition,
    /// Conditions of the link between the source and destination hosts.
    pub migration: LinkCondition,
}

/// A migration platform.
pub trait MigrationDriver: Send {
    /// The driver's name.
    fn name(&self) -> &'static str;
    /// Starts the service (and whatever runs it) and says where it is reachable.
    fn prepare(&mut self) -> BoxFuture<'_, Result<ServiceEndpoint, DriverError>>;
    /// Migrates, emitting phase events to `sink`, until completion, failure, or the
    /// request's time limit (then it cancels and reports `Cancelled`).
    fn migrate<'a>(
        &'a mut self,
        request: &'a MigrationRequest,
        sink: EventSink,
    ) -> BoxFuture<'a, Result<MigrationReport, DriverError>>;
    /// Cancels a running migration (the service keeps running on the source).
    fn cancel(&mut self) -> BoxFuture<'_, Result<(), DriverError>>;
    /// Stops everything `prepare` started. Must be safe to call more than once.
    fn teardown(&mut self) -> BoxFuture<'_, Result<(), DriverError>>;

    /// Whether the service this driver runs can serve another run as it is (the
    /// lab: its VM is up and its last migration completed). The runner then ends
    /// this run with [`MigrationDriver::end_run`] instead of `teardown` and offers
    /// the next run to [`MigrationDriver::continue_with`]. Default: never.
    fn reusable(&self) -> bool {
        false
    }

    /// Ends this run's part (the run's own records, e.g. the lab's packet capture,
    /// go to this run's timeline) and leaves the service running for the next run.
    /// Only called when [`MigrationDriver::reusable`] said so.
    fn end_run(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        self.teardown()
    }

    /// Offers the next run (`ctx`) to a driver kept from the previous run: `true`
    /// when the running service is what that run needs (then its events go to the
    /// new run's timeline and clock, and the next `prepare` checks the running
    /// service instead of starting one), `false` when it is not (the runner then
    /// tears this driver down and builds a new one). Default: `false`.
    fn continue_with(&mut self, ctx: DriverContext) -> Result<bool, DriverError> {
        let _ = ctx;
        Ok(false)
    }
}
