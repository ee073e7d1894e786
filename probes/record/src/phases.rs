//! The migration phases, defined once (docs/architecture.md, "Phases"), and the
//! migration part of `summary.json` as a pure function of the run's events:
//!
//! - preoperation = `migration_requested` -> `migration_paused` (the VM stops on the
//!   source);
//! - downtime = `migration_paused` -> `migration_resumed` (the VM runs on the
//!   destination);
//! - postoperation = `migration_resumed` -> `network_reattached` (the service answers
//!   again);
//! - total = requested -> reattached, or -> the migration's end when it did not
//!   complete.

use crate::{Event, EventKind, MemoryCheck, MigrationOutcome};
use serde::{Deserialize, Serialize};

/// The migration part of `summary.json`: the phase timestamps and lengths (see the
/// module's definitions) and the migration's counters.
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

fn ms(a: u64, b: u64) -> f64 {
    b.saturating_sub(a) as f64 / 1e6
}

impl MigrationSummary {
    /// Summarizes the `migration` and `runner` events of one run. `fallback` is the
    /// outcome when no `migration_end` was seen (e.g. the run was interrupted).
    pub fn of_events(
        driver: &str,
        events: &[Event],
        fallback: (MigrationOutcome, Option<String>),
    ) -> MigrationSummary {
        let mut s = MigrationSummary {
            driver: driver.to_string(),
            outcome: fallback.0,
            detail: fallback.1,
            requested_ns: None,
            paused_ns: None,
            resumed_ns: None,
            reattached_ns: None,
            preoperation_ms: None,
            downtime_ms: None,
            postoperation_ms: None,
            total_ms: None,
            passes: 0,
            transferred_bytes: None,
            remaining_bytes: None,
            platform_downtime_ms: None,
            memory_check: None,
        };
        let mut end_ns = None;
        for e in events {
            match &e.kind {
                EventKind::MigrationRequested(_) => {
                    s.requested_ns.get_or_insert(e.t_ns);
                }
                EventKind::MigrationPaused(_) => {
                    s.paused_ns.get_or_insert(e.t_ns);
                }
                EventKind::MigrationResumed(_) => {
                    s.resumed_ns.get_or_insert(e.t_ns);
                }
                EventKind::NetworkReattached(_) => {
                    s.reattached_ns.get_or_insert(e.t_ns);
                }
                EventKind::MigrationPass(p) => {
                    s.passes = s.passes.max(p.pass);
                    s.transferred_bytes = Some(p.transferred_bytes);
                    s.remaining_bytes = Some(p.remaining_bytes);
                }
                EventKind::MemoryCheck(c) => s.memory_check = Some(c.clone()),
                EventKind::MigrationEnd(m) if end_ns.is_none() => {
                    end_ns = Some(e.t_ns);
                    s.outcome = m.outcome;
                    s.detail = m.detail.clone();
                    s.transferred_bytes = m.transferred_bytes.or(s.transferred_bytes);
                    s.remaining_bytes = m.remaining_bytes.or(s.remaining_bytes);
                    s.platform_downtime_ms = m.platform_downtime_ms;
                }
                _ => {}
            }
        }
        if let (Some(r), Some(p)) = (s.requested_ns, s.paused_ns) {
            s.preoperation_ms = Some(ms(r, p));
        }
        if let (Some(p), Some(r)) = (s.paused_ns, s.resumed_ns) {
            s.downtime_ms = Some(ms(p, r));
        }
        if let (Some(r), Some(a)) = (s.resumed_ns, s.reattached_ns) {
            s.postoperation_ms = Some(ms(r, a));
        }
        let last = match s.outcome {
            MigrationOutcome::Completed => s.reattached_ns.or(end_ns),
            _ => end_ns,
        };
        if let (Some(r), Some(l)) = (s.requested_ns, last) {
            s.total_ms = Some(ms(r, l));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use std::time::Duration;

    fn ev(ms: u64, kind: EventKind) -> Event {
        Event::new(Duration::from_millis(ms), "migration", kind)
    }

    #[test]
    fn phases_from_events() {
        let events = vec![
            ev(
                1000,
                EventKind::MigrationRequested(MigrationRequested {
                    driver: "x".into(),
                    mode: Mode::Live,
                    copy: Copy::Precopy,
                }),
            ),
            ev(
                3000,
                EventKind::MigrationPass(MigrationPass {
                    pass: 1,
                    transferred_bytes: 10,
                    remaining_bytes: 5,
                    dirty_pages_rate: None,
                    mbps: None,
                }),
            ),
            ev(
                3000,
                EventKind::MigrationPaused(MigrationPaused {
                    origin: "model".into(),
                }),
            ),
            ev(
                5000,
                EventKind::MigrationResumed(MigrationResumed {
                    origin: "model".into(),
                }),
            ),
            ev(
                5000,
                EventKind::MigrationEnd(MigrationEnd {
                    outcome: MigrationOutcome::Completed,
                    detail: None,
                    transferred_bytes: Some(15),
                    remaining_bytes: Some(0),
                    platform_downtime_ms: None,
                }),
            ),
            ev(
                5060,
                EventKind::NetworkReattached(NetworkReattached {
                    origin: "reachability".into(),
                }),
            ),
        ];
        let s = MigrationSummary::of_events("x", &events, (MigrationOutcome::Failed, None));
        assert_eq!(s.outcome, MigrationOutcome::Completed);
        assert_eq!(s.preoperation_ms, Some(2000.0));
        assert_eq!(s.downtime_ms, Some(2000.0));
        assert_eq!(s.postoperation_ms, Some(60.0));
        assert_eq!(s.total_ms, Some(4060.0));
        assert_eq!(s.passes, 1);
        assert_eq!(s.transferred_bytes, Some(15));
        let none = MigrationSummary::of_events(
            "x",
            &[],
            (MigrationOutcome::Failed, Some("interrupted".into())),
        );
        assert_eq!(none.total_ms, None);
        assert_eq!(none.detail.as_deref(), Some("interrupted"));
    }
}
