//! The `emulated` driver: rootless, no VM. The service runs as a child process
//! ([`service`]); probes reach it through an in-process TCP and UDP impairment proxy
//! ([`proxy`], [`shaper`]) that also applies the client link's rate, delay and loss.
//! A pre-copy model ([`model`]) decides the timeline, which is then applied for
//! real: the migration takes its share of the host's uplink during preoperation,
//! the service is SIGSTOPped and traffic held during the downtime, SIGCONT at resume,
//! traffic released at reattach. A `live` relay's external encoder runs as a second
//! child that is never paused. Deterministic for a given seed. docs/emulated-driver.md
//! states the model and its equations.

pub(crate) mod config;
pub mod model;
mod proxy;
mod service;
mod shaper;

pub use config::EmulatedConfig;
pub use service::{FIXTURES_ENV, ServiceProcess, fixtures_program, start_upstream_encoder};

use crate::driver::{
    BoxFuture, DriverConfig, DriverContext, DriverError, EventSink, LiveSource, MigrationDriver,
    MigrationReport,
};
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use model::{ModelInput, Plan, PlannedEnd};
use record::clock::Clock;
use record::seed as rng;
use record::*;
use shaper::{LinkParams, Shaper};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// A rate in Mbit/s as whole bit/s.
fn bps(rate_mbit: f64) -> f64 {
    (rate_mbit * 1e6) as u64 as f64
}

/// The emulated driver of one run.
pub struct EmulatedDriver {
    ctx: DriverContext,
    cfg: EmulatedConfig,
    service: Option<service::ServiceProcess>,
    /// A relay's external encoder: outside the migrated service, never paused.
    upstream: Option<service::ServiceProcess>,
    proxy: Option<proxy::Proxy>,
    shaper: Option<Arc<Shaper>>,
    in_progress: bool,
}

fn err(what: impl Into<String>) -> DriverError {
    DriverError {
        driver: "emulated".into(),
        what: what.into(),
    }
}

impl EmulatedDriver {
    /// A driver for the run described by `ctx`, whose driver must be `emulated`.
    pub fn new(ctx: DriverContext) -> Result<Self, String> {
        let DriverConfig::Emulated(cfg) = ctx.driver.clone() else {
            return Err(format!(
                "the emulated driver got the settings of the {} driver",
                ctx.driver.kind().name()
            ));
        };
        Ok(Self {
            ctx,
            cfg,
            service: None,
            upstream: None,
            proxy: None,
            shaper: None,
            in_progress: false,
        })
    }

    fn emit(&self, source: &str, kind: EventKind) {
        (self.ctx.sink)(Event::new(self.ctx.clock.now(), source, kind));
    }

    /// Records the client link's condition as applied (proxy up) or removed.
    fn emit_client_condition(&self, applied: bool) {
        self.emit(
            "net",
            EventKind::NetCondition(NetCondition::new("client", &self.ctx.client, applied)),
        );
    }

    /// The model's inputs for this run: the emulated settings, the migration link,
    /// the flavor and the request.
    pub fn model_input(&self, request: &MigrationRequest) -> ModelInput {
        let e = &self.cfg;
        let link = &self.ctx.migration;
        let mut rate = e.host_link_bps;
        if let Some(r) = link.rate_mbit {
            rate = rate.min(bps(r));
        }
        if let Some(b) = request.bandwidth_bps {
            rate = rate.min(b as f64);
        }
        let delay_s = link.delay_ms.map_or(0.0, |d| d / 1000.0);
        ModelInput {
            memory_bytes: e
                .memory_bytes
                .unwrap_or(self.ctx.flavor.memory_mib() * 1_048_576.0),
            working_set_bytes: e.working_set_bytes,
            dirty_rate: e.dirty_rate,
            dirty_jitter: e.dirty_jitter,
            bandwidth: rate / 8.0,
            loss: link.loss_pct.map_or(0.0, |l| l / 100.0),
            rtt_s: e.base_rtt_s + 2.0 * delay_s,
            downtime_limit_s: request.downtime_limit.map_or(0.3, |d| d.as_secs_f64()),
            switchover_s: e.switchover_s,
            reattach_s: e.reattach_s,
            reattach_jitter_s: e.reattach_jitter_s,
            mode: request.mode,
            disk_bytes: e.disk_bytes,
            disk_dirty_rate: e.disk_dirty_rate,
            copy: request.copy,
            postcopy_after_passes: request.postcopy_after_passes.unwrap_or(1),
            auto_converge: request.auto_converge,
            time_limit_s: request.time_limit.as_secs_f64(),
        }
    }

    /// The client rate while the migration stream shares the host's uplink.
    fn rate_while_migrating(&self, plan: &Plan) -> Option<f64> {
        let host = self.cfg.host_link_bps;
        let available = (host - plan.throughput * 8.0).max(0.1 * host);
        let client = self.ctx.client.rate_mbit.map_or(f64::INFINITY, bps);
        Some(client.min(available))
    }

    fn normal_rate(&self) -> Option<f64> {
        self.ctx.client.rate_mbit.map(bps)
    }

    fn end_event(
        &self,
        outcome: MigrationOutcome,
        detail: Option<String>,
        transferred: u64,
        remaining: u64,
    ) {
        self.emit(
            "migration",
            EventKind::MigrationEnd(MigrationEnd {
                outcome,
                detail,
                transferred_bytes: Some(transferred),
                remaining_bytes: Some(remaining),
                platform_downtime_ms: None,
            }),
        );
    }

    async fn run_plan(&mut self, plan: Plan) -> MigrationReport {
        let Some(shaper) = self.shaper.clone() else {
            return MigrationReport {
                outcome: MigrationOutcome::Failed,
                detail: Some("not prepared".into()),
            };
        };
        let t0 = Instant::now();
        shaper.set_rate(self.rate_while_migrating(&plan));
        for p in &plan.passes {
            tokio::time::sleep_until(t0 + p.at).await;
            self.emit(
                "migration",
                EventKind::MigrationPass(MigrationPass {
                    pass: p.pass,
                    transferred_bytes: p.transferred,
                    remaining_bytes: p.remaining,
                    dirty_pages_rate: Some(p.dirty_pages_rate),
                    mbps: Some(p.mbps),
                }),
            );
        }
        match plan.end {
            PlannedEnd::Cancelled { at, remaining } => {
                tokio::time::sleep_until(t0 + at).await;
                shaper.set_rate(self.normal_rate());
                let detail = format!(
                    "did not converge within the time limit of {:.1} s: {:.1} MiB still dirty; cancelled, the service keeps running on the source",
                    at.as_secs_f64(),
                    remaining as f64 / 1_048_576.0
                );
                self.end_event(
                    MigrationOutcome::Cancelled,
                    Some(detail.clone()),
                    plan.transferred,
                    remaining,
                );
                self.in_progress = false;
                MigrationReport {
                    outcome: MigrationOutcome::Cancelled,
                    detail: Some(detail),
                }
            }
            PlannedEnd::Completed {
                paused,
                resumed,
                end,
                reattach,
            } => {
                tokio::time::sleep_until(t0 + paused).await;
                if let Some(s) = &self.service {
                    s.pause();
                }
                shaper.set_open(false);
                self.emit(
                    "migration",
                    EventKind::MigrationPaused(MigrationPaused {
                        origin: "model".into(),
                    }),
                );
                tokio::time::sleep_until(t0 + resumed).await;
                if let Some(s) = &self.service {
                    s.resume();
                }
                self.emit(
                    "migration",
                    EventKind::MigrationResumed(MigrationResumed {
                        origin: "model".into(),
                    }),
                );
                let mut steps = [(end, 0u8), (reattach, 1u8)];
                steps.sort();
                for (at, what) in steps {
                    tokio::time::sleep_until(t0 + at).await;
                    if what == 0 {
                        shaper.set_rate(self.normal_rate());
                        self.end_event(MigrationOutcome::Completed, None, plan.transferred, 0);
                        self.in_progress = false;
                    } else {
                        shaper.set_open(true);
                    }
                }
                MigrationReport {
                    outcome: MigrationOutcome::Completed,
                    detail: None,
                }
            }
        }
    }
}

impl MigrationDriver for EmulatedDriver {
    fn name(&self) -> &'static str {
        "emulated"
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<ServiceEndpoint, DriverError>> {
        Box::pin(async move {
            let program = service::fixtures_program().map_err(err)?;
            let kind = self.ctx.service.kind.name();
            let log = self.ctx.run_dir.join("service.log");
            let mut args = Vec::new();
            if let Some(source) = self.ctx.service.source {
                args.extend(["--source".to_string(), source.name().to_string()]);
                if source == LiveSource::Relay {
                    let log = self.ctx.run_dir.join("upstream.log");
                    let (enc, url) =
                        service::start_upstream_encoder(&program, "127.0.0.1:0", &log, None, None)
                            .await
                            .map_err(err)?;
                    self.upstream = Some(enc);
                    args.extend(["--upstream".to_string(), url]);
                }
            }
            args.extend(self.ctx.service.args.iter().cloned());
            let svc = service::ServiceProcess::start(&program, kind, &args, &log)
                .await
                .map_err(err)?;
            let link = &self.ctx.client;
            let params = LinkParams {
                rate_bps: self.normal_rate(),
                delay: link
                    .delay_ms
                    .map_or(Duration::ZERO, |d| Duration::from_secs_f64(d / 1000.0)),
                loss: link.loss_pct.map_or(0.0, |l| l / 100.0),
                tcp_rto: self.cfg.tcp_rto,
            };
            let shaper = Arc::new(Shaper::new(params, rng::splitmix(self.ctx.seed ^ 0x5eed)));
            let is_udp = kind == "game";
            let (tcp, udp) = if is_udp {
                (None, Some(svc.addr))
            } else {
                (Some(svc.addr), None)
            };
            let proxy = proxy::Proxy::start(shaper.clone(), tcp, udp)
                .await
                .map_err(|e| err(format!("cannot start the impairment proxy: {e}")))?;
            self.emit_client_condition(true);
            let endpoint = ServiceEndpoint {
                http: proxy.tcp,
                game: proxy.udp,
                probe_target: proxy.host_port,
                netns: None,
            };
            self.service = Some(svc);
            self.shaper = Some(shaper);
            self.proxy = Some(proxy);
            Ok(endpoint)
        })
    }

    fn migrate<'a>(
        &'a mut self,
        request: &'a MigrationRequest,
        sink: EventSink,
    ) -> BoxFuture<'a, Result<MigrationReport, DriverError>> {
        Box::pin(async move {
            if self.service.is_none() {
                return Err(err("migrate called before prepare"));
            }
            self.ctx.sink = sink;
            let plan = model::plan(&self.model_input(request), self.ctx.seed);
            self.in_progress = true;
            self.emit(
                "migration",
                EventKind::MigrationRequested(MigrationRequested {
                    driver: "emulated".into(),
                    mode: request.mode,
                    copy: request.copy,
                }),
            );
            Ok(self.run_plan(plan).await)
        })
    }

    fn cancel(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            if let Some(s) = &self.service {
                s.resume();
            }
            if let Some(sh) = &self.shaper {
                sh.set_open(true);
                sh.set_rate(self.normal_rate());
            }
            if self.in_progress {
                self.in_progress = false;
                self.end_event(
                    MigrationOutcome::Cancelled,
                    Some("cancelled by the runner".into()),
                    0,
                    0,
                );
            }
            Ok(())
        })
    }

    fn teardown(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            self.proxy = None;
            if let Some(mut s) = self.service.take() {
                s.resume();
                s.stop().await;
                self.emit_client_condition(false);
            }
            if let Some(mut u) = self.upstream.take() {
                u.stop().await;
            }
            self.shaper = None;
            Ok(())
        })
    }
}
