//! One migration's context, shared by the migration loop (`run`) and the phase
//! sources (`phases`), and the run clock's reading of a wall-clock time.

use super::config::OpenStackConfig;
use super::nova::{Nova, ServerState};
use crate::driver::EventSink;
use crate::request::MigrationRequest;
use record::clock::Clock;
use std::time::Duration;

/// The migration in progress: (server id, Nova's migration id once known).
pub(super) type Running = std::sync::Arc<std::sync::Mutex<Option<(String, Option<u64>)>>>;

/// What one migration needs.
pub(super) struct Round<'a> {
    pub request: &'a MigrationRequest,
    pub config: &'a OpenStackConfig,
    pub clock: &'a dyn Clock,
    pub sink: &'a EventSink,
    pub nova: &'a Nova,
    pub server: &'a ServerState,
    /// (server id, Nova's migration id once known), for the driver's `cancel`.
    pub running: Running,
}

/// The run clock's time of a wall-clock instant (ns since the Unix epoch).
pub(super) fn to_t(clock: &dyn Clock, wall_ns: u64) -> Duration {
    Duration::from_nanos(wall_ns.saturating_sub(clock.wall_anchor_unix_ns()))
}
