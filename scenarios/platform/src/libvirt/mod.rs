//! The `libvirt` driver: live migration of an existing domain between two libvirt
//! hosts through libvirt's C API (the `virt` crate), timed from libvirt's own events.
//!
//! `prepare` connects to both hosts and finds the host the domain runs on (it never
//! starts or defines a domain: the operator's domain is the service); `migrate` moves
//! it to the other host ([`run`]: `virDomainMigrate3`, lifecycle and iteration events,
//! job statistics, post-copy switch, abort at the time limit); after a completed
//! migration the next one goes back. `cancel` aborts the running migration job (the
//! domain keeps running on the source); `teardown` closes the connections and
//! leaves the domain where it is.
//!
//! [`testbed`] builds two real libvirt daemons on this machine for the tests and for
//! trying the driver without a cloud.

pub(crate) mod config;
pub(crate) mod conn;
pub mod events;
mod jobstats;
mod run;
pub mod testbed;

pub use config::{BlockCopy, DomainRef, LibvirtConfig, bandwidth_mib_s, flags, parameters};
pub use run::LibvirtStats;

use crate::driver::{
    BoxFuture, DriverConfig, DriverContext, DriverError, EventSink, MigrationDriver,
    MigrationReport,
};
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use conn::Conn;
use record::clock::Clock;
use std::sync::{Arc, Mutex};
use virt::domain::Domain;

/// The two hosts, once connected.
struct Hosts {
    /// `[configured source, configured destination]`.
    conns: [Arc<Conn>; 2],
    /// Which of them runs the domain now.
    active: usize,
    domain: Arc<Domain>,
    uuid: String,
}

/// The libvirt migration driver.
pub struct LibvirtDriver {
    config: LibvirtConfig,
    clock: Arc<dyn Clock>,
    hosts: Option<Hosts>,
    /// The domain being migrated (for `cancel` while `migrate` runs).
    migrating: Arc<Mutex<Option<Arc<Domain>>>>,
    last: Option<LibvirtStats>,
}

impl std::fmt::Debug for LibvirtDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibvirtDriver")
            .field("config", &self.config)
            .field("last", &self.last)
            .finish()
    }
}

impl LibvirtDriver {
    /// A driver with `config`; event times are offsets on `clock` (the run's clock).
    pub fn new(config: LibvirtConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            hosts: None,
            migrating: Arc::new(Mutex::new(None)),
            last: None,
        }
    }

    /// The driver of one run: [`DriverConfig::Libvirt`] from the context, event times
    /// on the run's clock.
    pub fn for_run(ctx: DriverContext) -> Result<Self, String> {
        let DriverConfig::Libvirt(c) = ctx.driver else {
            return Err("driver \"libvirt\" needs [migration.libvirt]".into());
        };
        Ok(Self::new(c, Arc::new(ctx.clock)))
    }

    /// Counters and timings of the last migration.
    pub fn last_stats(&self) -> Option<&LibvirtStats> {
        self.last.as_ref()
    }

    /// The URI of the host the domain runs on (after `prepare`).
    pub fn active_uri(&self) -> Option<&str> {
        self.hosts.as_ref().map(|h| h.conns[h.active].uri())
    }

    fn err(what: impl std::fmt::Display) -> DriverError {
        DriverError {
            driver: "libvirt".into(),
            what: what.to_string(),
        }
    }
}

/// Aborts the domain's running job (`virDomainAbortJob`).
pub(crate) fn abort_job(dom: &Domain) -> Result<(), String> {
    // SAFETY: a valid domain handle; libvirt's last error is read on this thread.
    if unsafe { virt_sys::virDomainAbortJob(dom.as_ptr()) } < 0 {
        return Err(format!(
            "cannot abort the migration job: {}",
            virt::error::Error::last_error().message().trim()
        ));
    }
    Ok(())
}

/// Connects to both hosts and finds where the domain runs.
fn connect(config: &LibvirtConfig) -> Result<Hosts, String> {
    let src = Conn::open(&config.source_uri)?;
    let dst = Conn::open(&config.destination_uri)?;
    let here = [
        src.find_running(&config.domain)?,
        dst.find_running(&config.domain)?,
    ];
    let (active, domain) = match here {
        [Some(d), None] => (0, d),
        [None, Some(d)] => (1, d),
        [Some(_), Some(_)] => {
            return Err(format!(
                "domain {} runs on both {} and {}: one of them is a leftover of an interrupted migration; destroy the paused copy (`virsh -c URI list` shows it paused)",
                config.domain, config.source_uri, config.destination_uri
            ));
        }
        [None, None] => {
            let defined =
                src.find(&config.domain)?.is_some() || dst.find(&config.domain)?.is_some();
            return Err(if defined {
                format!(
                    "domain {} is defined but not running on {} nor {}: start it (`virsh -c {} start NAME`)",
                    config.domain, config.source_uri, config.destination_uri, config.source_uri
                )
            } else {
                format!(
                    "no domain {} on {} nor {}: check the name or UUID (`virsh -c {} list --all`)",
                    config.domain, config.source_uri, config.destination_uri, config.source_uri
                )
            });
        }
    };
    let uuid = conn::uuid_of(&domain)?;
    Ok(Hosts {
        conns: [Arc::new(src), Arc::new(dst)],
        active,
        domain: Arc::new(domain),
        uuid,
    })
}

impl MigrationDriver for LibvirtDriver {
    fn name(&self) -> &'static str {
        "libvirt"
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<ServiceEndpoint, DriverError>> {
        Box::pin(async move {
            let config = self.config.clone();
            let hosts = tokio::task::spawn_blocking(move || connect(&config))
                .await
                .map_err(|e| Self::err(format!("the connect thread failed: {e}")))?
                .map_err(Self::err)?;
            self.hosts = Some(hosts);
            Ok(self.config.endpoint.clone())
        })
    }

    fn migrate<'a>(
        &'a mut self,
        request: &'a MigrationRequest,
        sink: EventSink,
    ) -> BoxFuture<'a, Result<MigrationReport, DriverError>> {
        Box::pin(async move {
            let hosts = self
                .hosts
                .as_mut()
                .ok_or_else(|| Self::err("migrate before prepare: call prepare first"))?;
            let (src, dst) = (hosts.active, 1 - hosts.active);
            *self.migrating.lock().unwrap_or_else(|e| e.into_inner()) = Some(hosts.domain.clone());
            let round = run::Round {
                request,
                config: &self.config,
                clock: self.clock.as_ref(),
                sink: &sink,
                src: hosts.conns[src].clone(),
                dst: hosts.conns[dst].clone(),
                domain: hosts.domain.clone(),
                uuid: hosts.uuid.clone(),
                dst_index: src,
            };
            let stats = run::migrate(&round).await;
            *self.migrating.lock().unwrap_or_else(|e| e.into_inner()) = None;
            if stats.outcome == record::MigrationOutcome::Completed {
                let (conn, uuid) = (hosts.conns[dst].clone(), hosts.uuid.clone());
                let found = tokio::task::spawn_blocking(move || conn.find(&DomainRef::Uuid(uuid)))
                    .await
                    .map_err(|e| Self::err(format!("the lookup thread failed: {e}")))?
                    .map_err(Self::err)?;
                let domain = found.ok_or_else(|| {
                    Self::err(format!(
                        "the migration completed but the domain is not on {}",
                        hosts.conns[dst].uri()
                    ))
                })?;
                hosts.domain = Arc::new(domain);
                hosts.active = dst;
            }
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
            let dom = self
                .migrating
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let Some(dom) = dom else {
                return Ok(());
            };
            tokio::task::spawn_blocking(move || abort_job(&dom))
                .await
                .map_err(|e| Self::err(format!("the abort thread failed: {e}")))?
                .map_err(Self::err)
        })
    }

    fn teardown(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            if let Some(h) = self.hosts.take() {
                // Closing talks to the daemons: off the async threads.
                let _ = tokio::task::spawn_blocking(move || drop(h)).await;
            }
            Ok(())
        })
    }
}
