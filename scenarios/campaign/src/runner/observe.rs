//! The runner's observers: who else wants to know, as it happens, what the runner
//! writes (live metrics with `qoeprobe run --metrics`, the database with `--postgres`).
//! They see the plan, each run's `run.json` when it is written, every event the run's
//! timeline gets, and each run's `summary.json`; they cannot change any of them.
//! The runner tells every observer of its options, in their order ([`Fanout`]).

use record::{Event, RunInfo, RunSummary};
use std::sync::Arc;

/// Sees a campaign as the runner writes it. Calls come from the runner's tasks and
/// the probes' (`event` from several at once): keep them short and never block (an
/// observer with slow work, e.g. a database, hands it to a task of its own). Each
/// call does nothing unless the observer implements it.
pub trait RunObserver: Send + Sync {
    /// The campaign starts: `planned` runs in this invocation (the shard's, with
    /// `--shard`), `skipped` of them already finished (`--resume`).
    fn planned(&self, _campaign: &str, _planned: usize, _skipped: usize) {}
    /// A run starts: its `run.json` is written.
    fn run_started(&self, _info: &RunInfo) {}
    /// An event of the run, as it is appended to its timeline.
    fn event(&self, _info: &RunInfo, _event: &Event) {}
    /// A run ended, complete or not: its `summary.json` is written (its folder is
    /// final). Runs that `--resume` skipped are not told.
    fn run_finished(&self, _info: &RunInfo, _summary: &RunSummary) {}
}

/// Every observer of a campaign, told each call in turn.
pub(crate) struct Fanout(pub(crate) Vec<Arc<dyn RunObserver>>);

impl RunObserver for Fanout {
    fn planned(&self, campaign: &str, planned: usize, skipped: usize) {
        self.0
            .iter()
            .for_each(|o| o.planned(campaign, planned, skipped));
    }

    fn run_started(&self, info: &RunInfo) {
        self.0.iter().for_each(|o| o.run_started(info));
    }

    fn event(&self, info: &RunInfo, event: &Event) {
        self.0.iter().for_each(|o| o.event(info, event));
    }

    fn run_finished(&self, info: &RunInfo, summary: &RunSummary) {
        self.0.iter().for_each(|o| o.run_finished(info, summary));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::{Copy, MigrationOutcome, MigrationSummary, Mode, RunConditions};
    use std::sync::Mutex;

    /// Writes down what it is told, under its name.
    struct Notes(&'static str, Arc<Mutex<Vec<String>>>);

    impl RunObserver for Notes {
        fn planned(&self, campaign: &str, planned: usize, skipped: usize) {
            let line = format!("{} planned {campaign} {planned} {skipped}", self.0);
            self.1.lock().unwrap().push(line);
        }

        fn run_finished(&self, info: &RunInfo, summary: &RunSummary) {
            let line = format!("{} finished run-{} {}", self.0, info.run, summary.complete);
            self.1.lock().unwrap().push(line);
        }
    }

    /// Implements nothing: every call is a no-op.
    struct Deaf;
    impl RunObserver for Deaf {}

    #[test]
    fn every_observer_is_told_every_call_in_order() {
        let notes = Arc::new(Mutex::new(Vec::new()));
        let fanout = Fanout(vec![
            Arc::new(Notes("a", notes.clone())),
            Arc::new(Deaf),
            Arc::new(Notes("b", notes.clone())),
        ]);
        let info = RunInfo {
            schema_version: record::SCHEMA_VERSION,
            campaign: "c".into(),
            application: "app".into(),
            scenario: "s".into(),
            run: 2,
            seed: 0,
            driver: "emulated".into(),
            mode: Mode::Live,
            copy: Copy::Precopy,
            flavor: "small".into(),
            conditions: RunConditions::default(),
            wall_anchor_unix_ns: 0,
        };
        let summary = RunSummary {
            schema_version: record::SCHEMA_VERSION,
            complete: true,
            incomplete_reason: None,
            application: "app".into(),
            scenario: "s".into(),
            run: 2,
            migration: MigrationSummary::of_events(
                "emulated",
                &[],
                (MigrationOutcome::Failed, None),
            ),
            probes: Default::default(),
            reachability: None,
        };
        fanout.planned("c", 3, 1);
        fanout.run_started(&info);
        fanout.run_finished(&info, &summary);
        assert_eq!(
            *notes.lock().unwrap(),
            [
                "a planned c 3 1",
                "b planned c 3 1",
                "a finished run-2 true",
                "b finished run-2 true",
            ]
        );
    }
}
