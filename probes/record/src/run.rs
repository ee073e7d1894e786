//! The files of one run folder (`<application>/<scenario>/run-<k>/`), as the runner
//! writes them and the analysis reads them: `run.json` ([`RunInfo`]) and
//! `summary.json` ([`RunSummary`]); `timeline.jsonl` holds [`crate::Event`]s.
//! docs/results.md documents every field.

use crate::{Copy, LinkCondition, MigrationSummary, Mode, ProbeResult};
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
    /// Migration driver (a name: results of drivers this version does not have
    /// still load).
    pub driver: String,
    /// `live` or `block`.
    pub mode: Mode,
    /// `precopy` or `postcopy`.
    pub copy: Copy,
    /// Flavor name.
    pub flavor: String,
    /// The network conditions of the run's scenario, per link.
    pub conditions: RunConditions,
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
    /// Each probe's result keyed by probe name: its summary with the same fields as
    /// that probe's standalone `--json` (without the event list), including `probe`
    /// (its kind: `player`, `download`, `game`, `stream`).
    pub probes: BTreeMap<String, ProbeResult>,
    /// What the runner's reachability prober saw.
    #[serde(default)]
    pub reachability: Option<ReachabilitySummary>,
}

/// The network conditions of a run, per link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunConditions {
    /// Clients to the service.
    #[serde(default)]
    pub client: LinkCondition,
    /// Source to destination host.
    #[serde(default)]
    pub migration: LinkCondition,
}

/// The runner's reachability prober over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachabilitySummary {
    /// Probe interval, ms.
    pub interval_ms: f64,
    /// Longest time without an answer, ms (a gap still open at the end included).
    pub longest_gap_ms: f64,
    /// Number of gaps: answers lost then regained, plus one still open at the end.
    pub gaps: u64,
    /// Length of the gap still open when the run ended (the service had not answered
    /// again), ms; counted in `gaps` and `longest_gap_ms`.
    #[serde(default)]
    pub unfinished_gap_ms: Option<f64>,
    /// How the prober probed and dated its answers (absent in records written before
    /// the runner reported it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<ReachMethod>,
}

/// How the runner's reachability prober worked in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReachMethod {
    /// What one probe is.
    pub probe: ReachProbe,
    /// How the prober's thread was scheduled.
    pub scheduling: ProberScheduling,
    /// Why the prober runs without real-time priority (when it does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_note: Option<String>,
    /// How the answer that made `network_reattached` was dated (none: no reattach).
    #[serde(default)]
    pub reattach_dated_by: Option<AnswerClock>,
    /// How long after that answer arrived the prober's task woke up to it, ms: what
    /// dating it by the wake-up would have added.
    #[serde(default)]
    pub reattach_wakeup_lag_ms: Option<f64>,
    /// The longest such wake-up lag over all answers of the run, ms.
    #[serde(default)]
    pub wakeup_lag_max_ms: f64,
    /// Answers dated by the kernel's handshake round trip.
    pub answers_kernel_rtt: u64,
    /// Answers dated by the kernel's time of the last ACK received (the SYN was
    /// retransmitted, so its round trip does not date the first SYN).
    pub answers_kernel_last_ack: u64,
    /// Answers dated when the prober woke up (the kernel could not say).
    pub answers_wakeup: u64,
}

/// What one reachability probe is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReachProbe {
    /// A fresh TCP connect to the probed address; answered by its SYN-ACK.
    TcpConnect,
}

/// How the prober's thread was scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProberScheduling {
    /// `SCHED_FIFO`: it runs as soon as it is woken, ahead of every ordinary thread.
    RealtimeFifo,
    /// The ordinary time-sharing scheduler (real-time priority was not permitted).
    Normal,
}

/// How an answer's time was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerClock {
    /// The attempt's send time plus the kernel's SYN -> SYN-ACK round trip
    /// (`TCP_INFO` `tcpi_rtt`, microseconds).
    KernelRtt,
    /// The kernel's time since the last ACK arrived (`TCP_INFO`
    /// `tcpi_last_ack_recv`, a jiffy: 4 ms at 250 Hz).
    KernelLastAck,
    /// When the prober's task woke up to the completed connect.
    Wakeup,
}
