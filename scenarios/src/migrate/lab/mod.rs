//! The `lab` driver: a real QEMU live migration (TCG) between two network
//! namespaces on this machine, timed from QEMU's own events.
//!
//! `prepare` builds (or reuses) the guest image, creates the topology of
//! [`crate::lab::topology`], boots the source VM on compute01 and waits for the
//! guest's ready marker. `migrate` starts the destination with `-incoming defer` on
//! the other host, then runs the QMP sequence of [`run`]: `migration_requested` at the
//! command, `migration_paused` from the source's STOP, `migration_resumed` from the
//! destination's RESUME, one `migration_pass` per MIGRATION_PASS, `migration_end`
//! (completed, failed, or cancelled at the time limit). After a completed migration
//! the destination becomes the source of the next one. `teardown` (and `Drop`) kills
//! every QEMU and deletes the namespaces.

pub mod factory;
pub mod qmp;
mod run;
mod session;

pub use run::LabStats;
pub use session::{LabSession, write_disk};

use super::{
    BoxFuture, DriverError, EventSink, MigrationDriver, MigrationReport, MigrationRequest,
    ServiceEndpoint,
};
use crate::lab::init::Service;
use crate::lab::{Flavor, ImageOptions};
use crate::net::LinkCondition;
use probes::clock::{Clock, MonotonicClock};
use std::sync::Arc;
use std::time::Duration;

pub use crate::lab::lab_available;

/// How the lab driver sets up its VM and network.
#[derive(Debug, Clone)]
pub struct LabConfig {
    /// VM size.
    pub flavor: Flavor,
    /// Services the guest starts.
    pub services: Vec<Service>,
    /// `serve dirty` in the guest: MiB and MiB/s (used when `services` has `dirty`).
    pub dirty: (u64, f64),
    /// Where the guest image comes from.
    pub image: ImageOptions,
    /// Lab id (namespaces `qp-lab<id>-...`); `None`: one derived from the pid.
    pub id: Option<String>,
    /// Boot (QEMU start to ready marker) must take less than this.
    pub boot_timeout: Duration,
    /// The migration link's rate, one-way delay and loss (the network module's
    /// shaping; a delay runs through its relay). Default: unshaped.
    pub migration_link: LinkCondition,
    /// The client link's rate, one-way delay and loss. Default: unshaped.
    pub client_link: LinkCondition,
    /// Post-copy: also switch after this long in pre-copy.
    pub postcopy_after: Option<Duration>,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            flavor: Flavor::default(),
            services: vec![Service::Dash, Service::Game],
            dirty: (64, 32.0),
            image: ImageOptions::default(),
            id: None,
            boot_timeout: Duration::from_secs(60),
            migration_link: LinkCondition::NONE,
            client_link: LinkCondition::NONE,
            postcopy_after: None,
        }
    }
}

/// The lab migration driver.
pub struct LabDriver {
    config: LabConfig,
    clock: Arc<dyn Clock>,
    session: Option<LabSession>,
    last: Option<LabStats>,
}

impl std::fmt::Debug for LabDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabDriver")
            .field("config", &self.config)
            .field("last", &self.last)
            .finish()
    }
}

impl LabDriver {
    /// A driver with `config`; event times are offsets on `clock` (the run's clock).
    pub fn new(config: LabConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            session: None,
            last: None,
        }
    }

    /// A driver with the default configuration and a clock started now.
    pub fn with_defaults() -> Self {
        Self::new(LabConfig::default(), Arc::new(MonotonicClock::start()))
    }

    /// Uses `clock` for the next migrations' event times (a new run's clock).
    pub fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    /// The running lab, after `prepare`.
    pub fn session(&self) -> Option<&LabSession> {
        self.session.as_ref()
    }

    /// Counters and timings of the last migration.
    pub fn last_stats(&self) -> Option<&LabStats> {
        self.last.as_ref()
    }

    fn err(what: impl std::fmt::Display) -> DriverError {
        DriverError {
            driver: "lab".into(),
            what: what.to_string(),
        }
    }
}

impl MigrationDriver for LabDriver {
    fn name(&self) -> &'static str {
        "lab"
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<ServiceEndpoint, DriverError>> {
        Box::pin(async move {
            if let Some(mut old) = self.session.take() {
                old.teardown();
            }
            lab_available().map_err(Self::err)?;
            let session = LabSession::start(&self.config).await.map_err(Self::err)?;
            let endpoint = session.endpoint();
            self.session = Some(session);
            Ok(endpoint)
        })
    }

    fn migrate<'a>(
        &'a mut self,
        request: &'a MigrationRequest,
        sink: EventSink,
    ) -> BoxFuture<'a, Result<MigrationReport, DriverError>> {
        Box::pin(async move {
            let clock = self.clock.clone();
            let postcopy_after = self.config.postcopy_after;
            let session = self
                .session
                .as_mut()
                .ok_or_else(|| Self::err("migrate before prepare: call prepare first"))?;
            let stats = session
                .migrate(request, postcopy_after, clock.as_ref(), &sink)
                .await
                .map_err(Self::err)?;
            let report = MigrationReport {
                outcome: stats.outcome,
                detail: stats.detail.clone(),
            };
            self.last = Some(stats);
            Ok(report)
        })
    }

    fn cancel(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            match self.session.as_mut() {
                Some(s) => s.cancel().await.map_err(Self::err),
                None => Ok(()),
            }
        })
    }

    fn teardown(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            if let Some(mut s) = self.session.take() {
                s.teardown();
            }
            Ok(())
        })
    }
}
