//! Migration drivers: one module per platform behind one trait.
//!
//! A driver prepares the service (VM, process), migrates it while emitting
//! timestamped phase events (requested, paused, resumed, per-pass counters, end) to
//! the run's [`EventSink`], can cancel, and tears everything down. "Network
//! reattached" comes from the runner's reachability prober unless the platform has
//! its own event.

pub mod lab;
pub mod libvirt;
pub mod openstack;

pub mod emulated;
pub mod exec;

use probes::record::{Event, MigrationOutcome};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

/// Where events go: the run's timeline (appended and flushed as they happen).
pub type EventSink = std::sync::Arc<dyn Fn(Event) + Send + Sync>;

/// A boxed future, so drivers can be used as `dyn MigrationDriver`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `live` (shared storage) or `block` (disk copied too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Pre-copy of memory only; the disk is shared.
    Live,
    /// The disk is copied too.
    Block,
}

/// Pre-copy or post-copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Copy {
    /// Iterative pre-copy, then stop-and-copy.
    Precopy,
    /// Switch to post-copy after some pre-copy.
    Postcopy,
}

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

/// The service as the probes reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEndpoint {
    /// TCP address of the HTTP services (DASH, file, live).
    pub http: Option<SocketAddr>,
    /// UDP address of the game service.
    pub game: Option<SocketAddr>,
    /// Address the runner's reachability prober checks (TCP connect).
    pub probe_target: SocketAddr,
    /// Network namespace the probes must run in, if any.
    pub netns: Option<String>,
}

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
}
