//! The game probe's metrics: commands, snapshots, RTT, freezes, freeze time and lost
//! sessions.

use crate::families::{Amount, Count, Hist, hist, interruption_seconds, rtt_seconds, touch};
use crate::labels::ProbeLabels;
use prometheus_client::registry::{Registry, Unit};
use record::EventKind;

/// The game probe's metric families.
pub(crate) struct GameMetrics {
    commands: Count<ProbeLabels>,
    snapshots: Count<ProbeLabels>,
    rtt: Hist<ProbeLabels>,
    freezes: Count<ProbeLabels>,
    freeze: Amount<ProbeLabels>,
    freeze_duration: Hist<ProbeLabels>,
    sessions_lost: Count<ProbeLabels>,
}

impl GameMetrics {
    /// Registers the families.
    pub(crate) fn register(r: &mut Registry) -> Self {
        let m = Self {
            commands: Count::default(),
            snapshots: Count::default(),
            rtt: hist(rtt_seconds),
            freezes: Count::default(),
            freeze: Amount::default(),
            freeze_duration: hist(interruption_seconds),
            sessions_lost: Count::default(),
        };
        r.register(
            "game_commands",
            "Commands (or STAMP test packets) sent",
            m.commands.clone(),
        );
        r.register(
            "game_snapshots",
            "Snapshots (or reflected STAMP packets) received",
            m.snapshots.clone(),
        );
        r.register_with_unit(
            "game_rtt",
            "Round-trip time of each command a snapshot acknowledges",
            Unit::Seconds,
            m.rtt.clone(),
        );
        r.register(
            "game_freezes",
            "Freezes (no snapshot for longer than the freeze threshold), counted when they end",
            m.freezes.clone(),
        );
        r.register_with_unit(
            "game_freeze",
            "Time spent frozen, counted when a freeze ends",
            Unit::Seconds,
            m.freeze.clone(),
        );
        r.register_with_unit(
            "game_freeze_duration",
            "Duration of each freeze",
            Unit::Seconds,
            m.freeze_duration.clone(),
        );
        r.register(
            "game_sessions_lost",
            "Sessions the server no longer continued",
            m.sessions_lost.clone(),
        );
        m
    }

    /// Updates the families from one event; false when it is not the game's.
    pub(crate) fn observe(&self, labels: &ProbeLabels, kind: &EventKind) -> bool {
        match kind {
            EventKind::GameSession(_) => {
                // Counters and histograms at zero from the start (absent reads as no
                // data).
                touch(&self.commands, labels);
                touch(&self.snapshots, labels);
                touch(&self.rtt, labels);
                touch(&self.freezes, labels);
                touch(&self.freeze, labels);
                touch(&self.freeze_duration, labels);
                touch(&self.sessions_lost, labels);
            }
            EventKind::GameCommand(_) => {
                self.commands.get_or_create(labels).inc();
            }
            EventKind::GameSnapshot(s) => {
                self.snapshots.get_or_create(labels).inc();
                if !s.rtt_ns.is_empty() {
                    let rtt = self.rtt.get_or_create(labels);
                    for ns in &s.rtt_ns {
                        rtt.observe(*ns as f64 / 1e9);
                    }
                }
            }
            EventKind::GameFreeze(f) => {
                let secs = f.duration_ms / 1000.0;
                self.freezes.get_or_create(labels).inc();
                self.freeze.get_or_create(labels).inc_by(secs);
                self.freeze_duration.get_or_create(labels).observe(secs);
            }
            EventKind::GameSessionLost(_) => {
                self.sessions_lost.get_or_create(labels).inc();
            }
            _ => return false,
        }
        true
    }
}
