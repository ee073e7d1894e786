//! `qoeprobe run --metrics`: the runner's observer that feeds the live metrics
//! (the plan, each run's start and end, every event of its timeline).

use campaign::runner::RunObserver;
use livemetrics::{Exporter, Scope, run_labels};
use record::{Event, RunInfo, RunSummary};
use std::sync::Arc;

/// Feeds the runner's news into the exporter.
pub struct CampaignFeed(pub Arc<Exporter>);

impl RunObserver for CampaignFeed {
    fn planned(&self, campaign: &str, planned: usize, skipped: usize) {
        self.0
            .campaign_planned(campaign, planned as u64, skipped as u64);
    }

    fn run_started(&self, info: &RunInfo) {
        self.0.run_started(info);
    }

    fn event(&self, info: &RunInfo, event: &Event) {
        let scope = Scope {
            run: run_labels(info),
            ..Scope::default()
        };
        self.0.observe(&scope, event);
    }

    fn run_finished(&self, info: &RunInfo, summary: &RunSummary) {
        self.0.run_finished(info, summary);
    }
}
