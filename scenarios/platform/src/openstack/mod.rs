//! The `openstack` driver: live migration of an existing server through Nova's API.
//!
//! `prepare` reads the cloud ([`cloud`]: clouds.yaml / `OS_CLOUD` / `OS_*`), gets a
//! Keystone v3 token and the compute endpoint ([`keystone`]), negotiates the compute
//! microversion and finds the server ([`nova`]); `migrate` runs [`run`]; `cancel`
//! aborts the running migration; `teardown` forgets the token (the server stays
//! where it is). Credentials and tokens never reach a log, an event, a results file
//! or an error ([`secret`]).

pub mod cloud;
pub(crate) mod config;
mod http;
pub mod keystone;
pub mod nova;
pub mod outage;
mod phases;
mod round;
mod run;
pub mod secret;

pub use config::{BlockMigration, OpenStackConfig};
pub use http::{HttpError, service_message};
pub use run::{OpenStackStats, parse_nova_time};

use crate::driver::{
    BoxFuture, DriverConfig, DriverContext, DriverError, EventSink, MigrationDriver,
    MigrationReport,
};
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use http::Http;
use nova::{Nova, ServerState};
use record::clock::Clock;
use secret::Redactor;
use std::sync::{Arc, Mutex};

/// The OpenStack migration driver.
pub struct OpenStackDriver {
    config: OpenStackConfig,
    clock: Arc<dyn Clock>,
    redactor: Redactor,
    nova: Option<Nova>,
    server: Option<ServerState>,
    /// The migration in progress (server id, Nova's migration id), for `cancel`.
    running: round::Running,
    last: Option<OpenStackStats>,
}

impl std::fmt::Debug for OpenStackDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenStackDriver")
            .field("config", &self.config)
            .field("server", &self.server)
            .finish()
    }
}

impl OpenStackDriver {
    /// A driver with `config`; event times are offsets on `clock` (the run's clock).
    pub fn new(config: OpenStackConfig, clock: Arc<dyn Clock>) -> Self {
        let redactor = Redactor::default();
        for s in config.cloud.secrets() {
            redactor.add(s);
        }
        Self {
            config,
            clock,
            redactor,
            nova: None,
            server: None,
            running: Arc::new(Mutex::new(None)),
            last: None,
        }
    }

    /// The driver of one run: [`DriverConfig::Openstack`] from the context, event times
    /// on the run's clock.
    pub fn for_run(ctx: DriverContext) -> Result<Self, String> {
        let DriverConfig::Openstack(c) = ctx.driver else {
            return Err("driver \"openstack\" needs [migration.openstack]".into());
        };
        Ok(Self::new(*c, Arc::new(ctx.clock)))
    }

    /// Counters of the last migration.
    pub fn last_stats(&self) -> Option<&OpenStackStats> {
        self.last.as_ref()
    }

    /// The microversion negotiated with Nova (after `prepare`).
    pub fn microversion(&self) -> Option<nova::Microversion> {
        self.nova.as_ref().map(Nova::version)
    }

    /// The server as found by `prepare` or after the last migration.
    pub fn server(&self) -> Option<&ServerState> {
        self.server.as_ref()
    }

    fn err(&self, what: impl std::fmt::Display) -> DriverError {
        DriverError {
            driver: "openstack".into(),
            what: self.redactor.scrub(&what.to_string()),
        }
    }

    async fn connect(&self) -> Result<(Nova, ServerState), String> {
        let http = Http::new(&self.config.cloud, self.redactor.clone())?;
        let session = keystone::authenticate(&http, &self.config.cloud).await?;
        let nova = Nova::connect(http, session).await?;
        let server = nova.find_server(&self.config.server).await?;
        Ok((nova, server))
    }
}

impl MigrationDriver for OpenStackDriver {
    fn name(&self) -> &'static str {
        "openstack"
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<ServiceEndpoint, DriverError>> {
        Box::pin(async move {
            let (nova, server) = self.connect().await.map_err(|e| self.err(e))?;
            if server.status != "ACTIVE" {
                return Err(self.err(format!(
                    "server `{}` ({}) is {}, not ACTIVE: only a running server can be live-migrated",
                    server.name, server.id, server.status
                )));
            }
            self.nova = Some(nova);
            self.server = Some(server);
            Ok(self.config.endpoint.clone())
        })
    }

    fn migrate<'a>(
        &'a mut self,
        request: &'a MigrationRequest,
        sink: EventSink,
    ) -> BoxFuture<'a, Result<MigrationReport, DriverError>> {
        Box::pin(async move {
            let (Some(nova), Some(server)) = (&self.nova, &self.server) else {
                return Err(self.err("migrate before prepare: call prepare first"));
            };
            // Refresh: the previous migration moved it.
            let server = nova
                .server(&server.id)
                .await
                .map_err(|e| self.err(format!("cannot read the server: {e:?}")))?;
            *self.running.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((server.id.clone(), None));
            // Scrub whatever a service echoes before it reaches the timeline.
            let redactor = self.redactor.clone();
            let scrubbed: EventSink = Arc::new(move |mut e: record::Event| {
                if let record::EventKind::MigrationEnd(m) = &mut e.kind {
                    m.detail = m.detail.as_deref().map(|d| redactor.scrub(d));
                }
                sink(e)
            });
            let round = round::Round {
                request,
                config: &self.config,
                clock: self.clock.as_ref(),
                sink: &scrubbed,
                nova,
                server: &server,
                running: self.running.clone(),
            };
            let stats = run::migrate(&round).await;
            *self.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
            if let Ok(s) = nova.server(&server.id).await {
                self.server = Some(s);
            }
            let report = MigrationReport {
                outcome: stats.outcome,
                detail: stats.detail.as_deref().map(|d| self.redactor.scrub(d)),
            };
            self.last = Some(stats);
            Ok(report)
        })
    }

    fn cancel(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            let running = self
                .running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            let (Some(nova), Some((server, migration))) = (&self.nova, running) else {
                return Ok(());
            };
            let migration = match migration {
                Some(m) => m,
                None => match nova.migrations(&server).await {
                    Ok(list) => match list.first() {
                        Some(p) => p.id,
                        None => return Ok(()),
                    },
                    Err(e) => return Err(self.err(e)),
                },
            };
            nova.abort(&server, migration)
                .await
                .map_err(|e| self.err(e))
        })
    }

    fn teardown(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            self.nova = None;
            Ok(())
        })
    }
}
