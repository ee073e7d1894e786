//! The files of one run folder (`<application>/<scenario>/run-<k>/`), as the runner
//! writes them and the analysis reads them: `run.json` ([`RunInfo`]) and
//! `summary.json` ([`RunSummary`]). `timeline.jsonl` holds `probes::record::Event`s.
//!
//! These types are the contract between the `scenarios` crate (writer) and this
//! crate (reader); docs/results.md documents every field.

use probes::record::{MemoryCheck, MigrationOutcome};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `run.json`: the inputs of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Record schema version.
    pub schema_version: u32,
    /// Campaign name.
    pub campaign: String,
    /// Application name.
    pub application: String,
    /// Network scenario name.
    pub scenario: String,
    /// Repetition number (1-based).
    pub run: u32,
    /// Seed of this run.
    pub seed: u64,
    /// Migration driver.
    pub driver: String,
    /// `live` or `block`.
    pub mode: String,
    /// `precopy` or `postcopy`.
    pub copy: String,
    /// Flavor name.
    pub flavor: String,
    /// The resolved network conditions, per link, as free-form JSON.
    pub conditions: serde_json::Value,
    /// Wall clock (ns since the Unix epoch) at the run's `t_ns` = 0.
    pub wall_anchor_unix_ns: u64,
}

/// `summary.json`: what happened in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Record schema version.
    pub schema_version: u32,
    /// False when the run was interrupted (Ctrl-C, SIGTERM, error) before its end.
    pub complete: bool,
    /// Why it is incomplete.
    #[serde(default)]
    pub incomplete_reason: Option<String>,
    /// Application name.
    pub application: String,
    /// Network scenario name.
    pub scenario: String,
    /// Repetition number (1-based).
    pub run: u32,
    /// Migration phases and counters.
    pub migration: MigrationSummary,
    /// Each probe's summary keyed by probe name, with the same fields as that probe's
    /// standalone `--json` (without the event list), including `probe` (its kind:
    /// `player`, `download`, `game`, `stream`).
    pub probes: BTreeMap<String, serde_json::Value>,
    /// What the runner's reachability prober saw.
    #[serde(default)]
    pub reachability: Option<ReachabilitySummary>,
}

/// The migration part of `summary.json`. Phase lengths follow DESIGN.md section 5:
/// preoperation = requested -> paused; downtime = paused -> resumed; postoperation =
/// resumed -> network reattached; total = requested -> reattached (or to the end of
/// a migration that did not complete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationSummary {
    /// Driver name.
    pub driver: String,
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Detail for a failed or cancelled migration.
    #[serde(default)]
    pub detail: Option<String>,
    /// Requested, `t_ns`.
    pub requested_ns: Option<u64>,
    /// Paused on the source, `t_ns`.
    pub paused_ns: Option<u64>,
    /// Resumed on the destination, `t_ns`.
    pub resumed_ns: Option<u64>,
    /// Network reattached, `t_ns`.
    pub reattached_ns: Option<u64>,
    /// Requested -> paused, ms.
    pub preoperation_ms: Option<f64>,
    /// Paused -> resumed, ms.
    pub downtime_ms: Option<f64>,
    /// Resumed -> reattached, ms.
    pub postoperation_ms: Option<f64>,
    /// Requested -> reattached (or -> end), ms.
    pub total_ms: Option<f64>,
    /// Pre-copy passes.
    pub passes: u64,
    /// Bytes sent.
    pub transferred_bytes: Option<u64>,
    /// Bytes left at the end (cancelled migrations).
    pub remaining_bytes: Option<u64>,
    /// Downtime as the platform reports it, ms.
    pub platform_downtime_ms: Option<f64>,
    /// The last memory verification after the migration (lab guests that run the
    /// pattern writer), if one was made.
    #[serde(default)]
    pub memory_check: Option<MemoryCheck>,
}

/// The runner's reachability prober over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachabilitySummary {
    /// Probe interval, ms.
    pub interval_ms: f64,
    /// Longest time without an answer, ms.
    pub longest_gap_ms: f64,
    /// Number of gaps (answer lost then regained).
    pub gaps: u64,
}
