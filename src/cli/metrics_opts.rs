//! `--metrics ADDR` (env `QOEPROBE_METRICS`) and `--metrics-linger SECS`: live
//! Prometheus metrics for `run` and the standalone probes (docs/metrics.md). The
//! exporter and its HTTP endpoint are the `livemetrics` crate's; this module starts
//! them for a command, feeds a standalone probe's events, and keeps serving for the
//! linger after the command's work is done.

use livemetrics::{Exporter, Scope, Server};
use probes::values::Secs;
use record::Event;
use std::net::SocketAddr;
use std::sync::Arc;

/// The metrics options every measuring command flattens in.
#[derive(Debug, Clone, clap::Args)]
pub struct MetricsOpts {
    /// Serve live Prometheus metrics at http://ADDR/metrics while this runs (ADDR is
    /// IP:PORT, e.g. 127.0.0.1:9464; port 0 picks a free one; docs/metrics.md).
    #[arg(long, value_name = "ADDR", env = "QOEPROBE_METRICS")]
    pub metrics: Option<SocketAddr>,
    /// With --metrics: keep serving this many seconds after the work is done, so that
    /// Prometheus scrapes the final values (Ctrl-C ends it early).
    #[arg(long, value_name = "SECS", default_value = "0")]
    pub metrics_linger: Secs,
}

/// Live metrics being served.
pub struct Live {
    exporter: Arc<Exporter>,
    server: Server,
    linger: std::time::Duration,
}

impl MetricsOpts {
    /// Starts serving when `--metrics` is given (and says where on stderr).
    pub async fn start(&self) -> anyhow::Result<Option<Live>> {
        let Some(addr) = self.metrics else {
            return Ok(None);
        };
        let exporter = Arc::new(Exporter::new());
        let server = Server::start(addr, exporter.clone()).await?;
        eprintln!("serving metrics at http://{}/metrics", server.local_addr());
        Ok(Some(Live {
            exporter,
            server,
            linger: self.metrics_linger.duration(),
        }))
    }
}

impl Live {
    /// The exporter (to hand to the campaign runner).
    pub fn exporter(&self) -> Arc<Exporter> {
        self.exporter.clone()
    }
}

/// A standalone probe's event sink: its events, labelled with the probe's URL (and
/// client index with `play --clients N`).
#[derive(Clone)]
pub struct ProbeFeed {
    exporter: Option<Arc<Exporter>>,
    scope: Scope,
}

impl ProbeFeed {
    /// The feed of a probe measuring `url` (does nothing without `--metrics`).
    pub fn new(live: Option<&Live>, url: &str) -> Self {
        Self {
            exporter: live.map(Live::exporter),
            scope: Scope {
                url: url.to_string(),
                ..Scope::default()
            },
        }
    }

    /// The same feed for client `i` of `play --clients N`.
    pub fn client(&self, i: usize) -> Self {
        let mut f = self.clone();
        f.scope.client = i.to_string();
        f
    }

    /// One event as it happens.
    pub fn observe(&self, event: &Event) {
        if let Some(e) = &self.exporter {
            e.observe(&self.scope, event);
        }
    }
}

/// After the command's work: keeps serving for the linger (or until Ctrl-C), then
/// stops the endpoint.
pub async fn finish(live: Option<Live>) {
    let Some(live) = live else { return };
    if !live.linger.is_zero() {
        eprintln!(
            "serving metrics for {:.0} s more (--metrics-linger; Ctrl-C stops now)",
            live.linger.as_secs_f64()
        );
        tokio::select! {
            _ = tokio::time::sleep(live.linger) => {}
            _ = fixtures::signal::shutdown() => {}
        }
    }
    live.server.shutdown().await;
}
