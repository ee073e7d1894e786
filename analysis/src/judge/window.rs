//! The migration window of one run: requested -> network reattached, plus the
//! profile's cool-down. Everything before `requested` is the run's baseline.

use record::{Event, EventKind, MigrationOutcome, RunSummary};

/// Phase timestamps of one run (`t_ns`) and the window judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Migration requested (start of the window, end of the baseline).
    pub requested_ns: u64,
    /// Paused on the source.
    pub paused_ns: Option<u64>,
    /// Resumed on the destination.
    pub resumed_ns: Option<u64>,
    /// Network reattached.
    pub reattached_ns: Option<u64>,
    /// End of the window: reattached (or resumed, or the last event for a migration
    /// that did not complete) plus the cool-down.
    pub end_ns: u64,
}

impl Window {
    /// The phases of `summary`, completed from the timeline's migration events where
    /// the summary lacks them. `None` when no migration was requested.
    pub fn of(summary: &RunSummary, events: &[Event], cooldown_ms: f64) -> Option<Self> {
        let m = &summary.migration;
        let first = |is: fn(&EventKind) -> bool| {
            events
                .iter()
                .find(|e| e.source == "migration" && is(&e.kind))
                .map(|e| e.t_ns)
        };
        let requested_ns = m
            .requested_ns
            .or_else(|| first(|k| matches!(k, EventKind::MigrationRequested(_))))?;
        let paused_ns = m
            .paused_ns
            .or_else(|| first(|k| matches!(k, EventKind::MigrationPaused(_))));
        let resumed_ns = m
            .resumed_ns
            .or_else(|| first(|k| matches!(k, EventKind::MigrationResumed(_))));
        let reattached_ns = m
            .reattached_ns
            .or_else(|| first(|k| matches!(k, EventKind::NetworkReattached(_))));
        let last = events.iter().map(|e| e.t_ns).max().unwrap_or(requested_ns);
        let base = match m.outcome {
            MigrationOutcome::Completed => reattached_ns.or(resumed_ns).unwrap_or(last),
            _ => last,
        };
        let cooldown_ns = (cooldown_ms * 1e6) as u64;
        Some(Window {
            requested_ns,
            paused_ns,
            resumed_ns,
            reattached_ns,
            end_ns: base.max(requested_ns).saturating_add(cooldown_ns),
        })
    }

    /// Whether `t_ns` lies in the window.
    pub fn contains(&self, t_ns: u64) -> bool {
        t_ns >= self.requested_ns && t_ns <= self.end_ns
    }

    /// Whether `t_ns` lies in the baseline (before the request).
    pub fn in_baseline(&self, t_ns: u64) -> bool {
        t_ns < self.requested_ns
    }

    /// Window length in seconds.
    pub fn len_s(&self) -> f64 {
        (self.end_ns - self.requested_ns) as f64 / 1e9
    }
}
