//! A run's phases as they happen: the runner's phase (setup, warm-up, migration,
//! cool-down, stop), the migration's phase (preoperation, downtime, postoperation,
//! the definitions of docs/architecture.md, "Phases"), how often each was entered,
//! and whether the runner's reachability prober reaches the service.

use crate::families::{Count, Level};
use crate::labels::{PhaseLabels, RunLabels};
use prometheus_client::registry::Registry;
use record::{EventKind, MigrationOutcome};

/// The runner's phases, in the order a run goes through them.
pub(crate) const RUNNER_PHASES: [&str; 5] = ["setup", "warmup", "migration", "cooldown", "stop"];

/// The migration's phases (`MigrationSummary`'s `preoperation_ms`, `downtime_ms`,
/// `postoperation_ms`).
pub(crate) const MIGRATION_PHASES: [&str; 3] = ["preoperation", "downtime", "postoperation"];

/// The run-phase metric families.
pub(crate) struct RunnerMetrics {
    runner_phase: Level<PhaseLabels>,
    migration_phase: Level<PhaseLabels>,
    entered: Count<PhaseLabels>,
    reachable: Level<RunLabels>,
}

/// Sets `family{phase}` to 1 for `current` and to 0 for every other of `phases`
/// (`None`: all 0).
fn select(family: &Level<PhaseLabels>, run: &RunLabels, phases: &[&str], current: Option<&str>) {
    let labels = |phase: &str| PhaseLabels {
        run: run.clone(),
        phase: phase.to_string(),
    };
    for p in phases.iter().filter(|p| Some(**p) != current) {
        family.get_or_create(&labels(p)).set(0.0);
    }
    if let Some(c) = current {
        family.get_or_create(&labels(c)).set(1.0);
    }
}

impl RunnerMetrics {
    /// Registers the families.
    pub(crate) fn register(r: &mut Registry) -> Self {
        let m = Self {
            runner_phase: Level::default(),
            migration_phase: Level::default(),
            entered: Count::default(),
            reachable: Level::default(),
        };
        r.register(
            "runner_phase",
            "1 for the runner's current phase of the run (setup, warmup, migration, cooldown, stop), 0 for the others",
            m.runner_phase.clone(),
        );
        r.register(
            "migration_phase",
            "1 for the migration's current phase (preoperation, downtime, postoperation), 0 for the others and after the network is reattached",
            m.migration_phase.clone(),
        );
        r.register(
            "migration_phase_entered",
            "Times the run entered each migration phase (a phase shorter than the scrape interval shows here)",
            m.entered.clone(),
        );
        r.register(
            "service_reachable",
            "1 while the runner's reachability prober reaches the service, 0 while it does not",
            m.reachable.clone(),
        );
        m
    }

    /// Enters a migration phase (`None`: none any more).
    fn migration(&self, run: &RunLabels, phase: Option<&str>) {
        select(&self.migration_phase, run, &MIGRATION_PHASES, phase);
        if let Some(p) = phase {
            self.entered
                .get_or_create(&PhaseLabels {
                    run: run.clone(),
                    phase: p.to_string(),
                })
                .inc();
        }
    }

    /// Updates the families from one event; false when it is not the runner's or the
    /// migration's.
    pub(crate) fn observe(&self, run: &RunLabels, kind: &EventKind) -> bool {
        match kind {
            EventKind::Phase(p) => {
                let mut phases: Vec<&str> = RUNNER_PHASES.to_vec();
                if !phases.contains(&p.phase.as_str()) {
                    phases.push(&p.phase);
                }
                select(&self.runner_phase, run, &phases, Some(&p.phase));
            }
            EventKind::MigrationRequested(_) => self.migration(run, Some("preoperation")),
            EventKind::MigrationPaused(_) => self.migration(run, Some("downtime")),
            EventKind::MigrationResumed(_) => self.migration(run, Some("postoperation")),
            EventKind::NetworkReattached(_) => self.migration(run, None),
            EventKind::MigrationEnd(e) => {
                // A completed migration stays in postoperation until the network is
                // reattached; any other end ends every phase.
                if e.outcome != MigrationOutcome::Completed {
                    self.migration(run, None);
                }
            }
            EventKind::Reachability(r) => {
                self.reachable
                    .get_or_create(run)
                    .set(if r.up { 1.0 } else { 0.0 });
            }
            _ => return false,
        }
        true
    }

    /// The run ended: no phase is current any more.
    pub(crate) fn finish(&self, run: &RunLabels) {
        select(&self.runner_phase, run, &RUNNER_PHASES, None);
        select(&self.migration_phase, run, &MIGRATION_PHASES, None);
    }
}
