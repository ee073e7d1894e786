//! The `lab` driver: a real QEMU live migration (TCG) between two network
//! namespaces on this machine, timed from QEMU's own events.
//!
//! `prepare` builds (or reuses) the guest image, creates the topology of
//! [`crate::lab::network`], boots the source VM on compute01 and waits for the
//! guest's ready marker. `migrate` starts the destination with `-incoming defer` on
//! the other host, then runs the QMP sequence of [`run`]: `migration_requested` at the
//! command, `migration_paused` from the source's STOP, `migration_resumed` from the
//! destination's RESUME, one `migration_pass` per MIGRATION_PASS, `migration_end`
//! (completed, failed, or cancelled at the time limit). After a completed migration
//! the destination becomes the source of the next one. `teardown` (and `Drop`) kills
//! every QEMU and deletes the namespaces.

use super::config::LabConfig;
use super::lab_available;
use super::run::LabStats;
use super::session::LabSession;
use crate::driver::{
    BoxFuture, DriverContext, DriverError, EventSink, MigrationDriver, MigrationReport,
};
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use record::clock::{Clock, MonotonicClock};
use record::{Event, EventKind};
use std::sync::Arc;

/// The lab migration driver.
pub struct LabDriver {
    config: LabConfig,
    clock: Arc<dyn Clock>,
    session: Option<LabSession>,
    last: Option<LabStats>,
    sink: Option<EventSink>,
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
            sink: None,
        }
    }

    /// The lab driver of one campaign run: the run's service in the guest, its links
    /// shaped, its flavor's lab size, events on the run's clock.
    pub fn for_run(ctx: DriverContext) -> Result<Self, String> {
        let config = LabConfig::for_run(&ctx)?;
        let mut d = Self::new(config, Arc::new(ctx.clock));
        d.sink = Some(ctx.sink);
        Ok(d)
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
                let clock = self.clock.clone();
                if let Some(c) = s.finish_capture(self.last.as_ref(), clock.as_ref())
                    && let Some(sink) = &self.sink
                {
                    sink(Event::new(
                        clock.now(),
                        "migration",
                        EventKind::PacketCapture(c),
                    ));
                }
                s.teardown();
            }
            Ok(())
        })
    }
}
