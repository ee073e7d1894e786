//! The runner's observer: who else wants to know, as it happens, what the runner
//! writes (live metrics, `qoeprobe run --metrics`). It sees the plan, each run's
//! `run.json` when it is written, every event the run's timeline gets, and each
//! run's `summary.json`; it cannot change any of them.

use record::{Event, RunInfo, RunSummary};

/// Sees a campaign as the runner writes it. Calls come from the runner's tasks and
/// the probes' (`event` from several at once): keep them short and never block.
pub trait RunObserver: Send + Sync {
    /// The campaign starts: `planned` runs in this invocation (the shard's, with
    /// `--shard`), `skipped` of them already finished (`--resume`).
    fn planned(&self, campaign: &str, planned: usize, skipped: usize);
    /// A run starts: its `run.json` is written.
    fn run_started(&self, info: &RunInfo);
    /// An event of the run, as it is appended to its timeline.
    fn event(&self, info: &RunInfo, event: &Event);
    /// A run ended: its `summary.json` is written.
    fn run_finished(&self, info: &RunInfo, summary: &RunSummary);
}
