//! A campaign's progress (runs planned, skipped, done, incomplete, the run going on)
//! and each finished run's migration phases as its `summary.json` has them.

use crate::families::{Count, Level, touch};
use crate::labels::{CampaignLabels, PhaseLabels, RunLabels};
use prometheus_client::registry::{Registry, Unit};
use record::RunSummary;

/// The campaign metric families.
pub(crate) struct CampaignMetrics {
    planned: Level<CampaignLabels>,
    skipped: Level<CampaignLabels>,
    done: Count<CampaignLabels>,
    incomplete: Count<CampaignLabels>,
    active: Level<RunLabels>,
    phase_seconds: Level<PhaseLabels>,
}

impl CampaignMetrics {
    /// Registers the families.
    pub(crate) fn register(r: &mut Registry) -> Self {
        let m = Self {
            planned: Level::default(),
            skipped: Level::default(),
            done: Count::default(),
            incomplete: Count::default(),
            active: Level::default(),
            phase_seconds: Level::default(),
        };
        r.register(
            "campaign_runs_planned",
            "Runs this invocation plans (with --resume, the skipped ones included; with --shard, the shard's)",
            m.planned.clone(),
        );
        r.register(
            "campaign_runs_skipped",
            "Runs skipped because they were already finished (--resume)",
            m.skipped.clone(),
        );
        r.register(
            "campaign_runs_done",
            "Runs finished complete (summary.json complete: true)",
            m.done.clone(),
        );
        r.register(
            "campaign_runs_incomplete",
            "Runs that ended incomplete (summary.json complete: false: interrupted, or the run could not be made)",
            m.incomplete.clone(),
        );
        r.register(
            "run_active",
            "1 while the run is going on, 0 once it is written",
            m.active.clone(),
        );
        r.register_with_unit(
            "run_migration_phase",
            "A finished run's migration phases as its summary.json has them (preoperation, downtime, postoperation, total)",
            Unit::Seconds,
            m.phase_seconds.clone(),
        );
        m
    }

    /// A campaign starts: `planned` runs, `skipped` of them already finished.
    pub(crate) fn planned(&self, campaign: &CampaignLabels, planned: u64, skipped: u64) {
        self.planned.get_or_create(campaign).set(planned as f64);
        self.skipped.get_or_create(campaign).set(skipped as f64);
        // Both counters appear at 0, so that rates and sums start from the beginning.
        touch(&self.done, campaign);
        touch(&self.incomplete, campaign);
    }

    /// A run starts.
    pub(crate) fn started(&self, run: &RunLabels) {
        self.active.get_or_create(run).set(1.0);
    }

    /// A run is written.
    pub(crate) fn finished(&self, run: &RunLabels, summary: &RunSummary) {
        self.active.get_or_create(run).set(0.0);
        let campaign = run.campaign();
        if summary.complete {
            self.done.get_or_create(&campaign).inc();
        } else {
            self.incomplete.get_or_create(&campaign).inc();
        }
        let m = &summary.migration;
        for (phase, ms) in [
            ("preoperation", m.preoperation_ms),
            ("downtime", m.downtime_ms),
            ("postoperation", m.postoperation_ms),
            ("total", m.total_ms),
        ] {
            if let Some(ms) = ms {
                let labels = PhaseLabels {
                    run: run.clone(),
                    phase: phase.to_string(),
                };
                self.phase_seconds.get_or_create(&labels).set(ms / 1000.0);
            }
        }
    }
}
