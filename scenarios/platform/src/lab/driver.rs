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
//!
//! A lab whose last migration completed stays up for the next run of the same setup
//! ([`LabConfig::same_lab`]): the runner ends the run with `end_run` (the run's
//! packet capture closes into its folder), hands the next run to `continue_with`,
//! and that run's `prepare` checks the running VM (same boot id, services answering)
//! instead of booting one, then migrates it back to the other host. Each run's
//! timeline says which it got: a `platform_event` `vm_booted` or `vm_reused`.

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
use record::{Event, EventKind, MigrationOutcome, PlatformEvent};
use std::sync::Arc;

/// The lab migration driver.
pub struct LabDriver {
    config: LabConfig,
    clock: Arc<dyn Clock>,
    session: Option<LabSession>,
    last: Option<LabStats>,
    sink: Option<EventSink>,
    /// Runs this VM has served (1 after a boot).
    runs_served: u32,
    /// The next `prepare` checks the running VM instead of booting one.
    continued: bool,
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
            runs_served: 0,
            continued: false,
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

    /// Sends a `platform_event` from the lab to the run's timeline.
    fn note(&self, name: &str, detail: String) {
        if let Some(sink) = &self.sink {
            let host = self
                .session
                .as_ref()
                .and_then(|s| s.active_host())
                .map(|h| h.name().to_string());
            sink(Event::new(
                self.clock.now(),
                "migration",
                EventKind::PlatformEvent(PlatformEvent {
                    origin: "lab".into(),
                    name: name.into(),
                    host,
                    detail: Some(detail),
                }),
            ));
        }
    }

    /// The kept VM, checked for the next run: its capture restarted into the new
    /// run's file, the same boot id as at boot (it did not reboot), its services
    /// answering. An error says why it cannot serve.
    async fn check_kept(&mut self) -> Result<ServiceEndpoint, String> {
        let capture = self.config.capture.clone();
        let session = self.session.as_mut().ok_or("no lab is running")?;
        if session.active_host().is_none() {
            return Err("no VM is running".into());
        }
        let now = session
            .boot_id()
            .await
            .map_err(|e| format!("the guest does not answer: {e}"))?;
        if now != session.boot_id_at_boot() {
            return Err(format!(
                "the guest rebooted (boot id {now}, was {})",
                session.boot_id_at_boot()
            ));
        }
        if let Some(file) = capture {
            session
                .restart_capture(file)
                .await
                .map_err(|e| format!("cannot capture the client link: {e}"))?;
        }
        Ok(session.endpoint())
    }

    /// Stops the run's capture and sends what it saw to the run's timeline.
    fn close_capture(&mut self) {
        let clock = self.clock.clone();
        let Some(s) = self.session.as_mut() else {
            return;
        };
        if let Some(c) = s.finish_capture(self.last.as_ref(), clock.as_ref())
            && let Some(sink) = &self.sink
        {
            sink(Event::new(
                clock.now(),
                "migration",
                EventKind::PacketCapture(c),
            ));
        }
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
            if std::mem::take(&mut self.continued) {
                match self.check_kept().await {
                    Ok(endpoint) => {
                        self.runs_served += 1;
                        let detail = format!(
                            "the VM of the previous run (boot id {}), run {} on it",
                            self.session
                                .as_ref()
                                .map(|s| s.boot_id_at_boot())
                                .unwrap_or_default(),
                            self.runs_served
                        );
                        self.note("vm_reused", detail);
                        return Ok(endpoint);
                    }
                    Err(why) => self.note("vm_replaced", why),
                }
            }
            if let Some(mut old) = self.session.take() {
                old.teardown();
            }
            lab_available().map_err(Self::err)?;
            let session = LabSession::start(&self.config).await.map_err(Self::err)?;
            let endpoint = session.endpoint();
            let detail = format!(
                "boot id {}, ready after {} ms",
                session.boot_id_at_boot(),
                session.boot_time().as_millis()
            );
            self.session = Some(session);
            self.runs_served = 1;
            self.note("vm_booted", detail);
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
            self.close_capture();
            if let Some(mut s) = self.session.take() {
                s.teardown();
            }
            Ok(())
        })
    }

    fn reusable(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.active_host().is_some())
            && self
                .last
                .as_ref()
                .is_some_and(|l| l.outcome == MigrationOutcome::Completed)
    }

    fn end_run(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            self.close_capture();
            Ok(())
        })
    }

    fn continue_with(&mut self, ctx: DriverContext) -> Result<bool, DriverError> {
        let next = LabConfig::for_run(&ctx).map_err(Self::err)?;
        if self.session.is_none() || !self.config.same_lab(&next) {
            return Ok(false);
        }
        self.config.capture = next.capture;
        self.clock = Arc::new(ctx.clock);
        self.sink = Some(ctx.sink);
        self.last = None;
        self.continued = true;
        Ok(true)
    }
}
