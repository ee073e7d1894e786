//! Live Prometheus metrics (docs/metrics.md).
//!
//! An [`Exporter`] holds every metric family (prefixed `qoeprobe_`): it is fed each
//! record event as it happens ([`Exporter::observe`], from the runner's observer or a
//! standalone probe's event callback) and each run's start and end
//! ([`Exporter::run_started`], [`Exporter::run_finished`]: the end reads the run's
//! `RunSummary`, it never recomputes one). A [`Server`] answers `GET /metrics` with
//! its exposition. Labels: [`Scope`] (a run's [`RunLabels`], or a standalone probe's
//! url and client); the probe is the event's source.

mod campaign;
mod download;
mod error;
mod exporter;
mod families;
mod game;
mod labels;
mod player;
mod runner;
mod server;
mod stream;

pub use error::MetricsError;
pub use exporter::{Exporter, run_labels};
pub use labels::{RunLabels, Scope};
pub use server::{CONTENT_TYPE_OPENMETRICS, Server};
