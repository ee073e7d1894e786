//! The exporter: one registry holding every family, fed by events (live) and by the
//! runner's start and end of each run.

use crate::campaign::CampaignMetrics;
use crate::download::DownloadMetrics;
use crate::game::GameMetrics;
use crate::labels::{CampaignLabels, ProbeLabels, RunLabels, Scope};
use crate::player::PlayerMetrics;
use crate::runner::RunnerMetrics;
use crate::stream::StreamMetrics;
use prometheus_client::registry::Registry;
use record::{Event, RunInfo, RunSummary};

/// Every metric qoeprobe serves (docs/metrics.md), prefixed `qoeprobe_`.
pub struct Exporter {
    registry: Registry,
    campaign: CampaignMetrics,
    runner: RunnerMetrics,
    player: PlayerMetrics,
    download: DownloadMetrics,
    game: GameMetrics,
    stream: StreamMetrics,
}

impl Default for Exporter {
    fn default() -> Self {
        Self::new()
    }
}

impl Exporter {
    /// An exporter with every family registered and no sample yet.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("qoeprobe");
        Self {
            campaign: CampaignMetrics::register(&mut registry),
            runner: RunnerMetrics::register(&mut registry),
            player: PlayerMetrics::register(&mut registry),
            download: DownloadMetrics::register(&mut registry),
            game: GameMetrics::register(&mut registry),
            stream: StreamMetrics::register(&mut registry),
            registry,
        }
    }

    /// One event as it happens, from `scope` (a campaign's run, or a standalone
    /// probe); the probe label is the event's source.
    pub fn observe(&self, scope: &Scope, event: &Event) {
        if self.runner.observe(&scope.run, &event.kind) {
            return;
        }
        let labels = ProbeLabels {
            scope: scope.clone(),
            probe: probe_name(event.source.as_str()).to_string(),
        };
        let _ = self.player.observe(&labels, &event.kind)
            || self.download.observe(&labels, &event.kind)
            || self.game.observe(&labels, &event.kind)
            || self.stream.observe(&labels, &event.kind);
    }

    /// A campaign starts: `planned` runs, `skipped` of them already finished.
    pub fn campaign_planned(&self, campaign: &str, planned: u64, skipped: u64) {
        let labels = CampaignLabels {
            campaign: campaign.to_string(),
        };
        self.campaign.planned(&labels, planned, skipped);
    }

    /// A run starts (its `run.json` is written).
    pub fn run_started(&self, info: &RunInfo) {
        self.campaign.started(&run_labels(info));
    }

    /// A run is written (its `summary.json`).
    pub fn run_finished(&self, info: &RunInfo, summary: &RunSummary) {
        let run = run_labels(info);
        self.runner.finish(&run);
        self.campaign.finished(&run, summary);
    }

    /// The exposition (OpenMetrics text) as it is now.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The probe label of an event's source: a probe's name without `probe:`
/// (`player`, as in `summary.json`), any other source as it is (`migration`).
fn probe_name(source: &str) -> &str {
    source.strip_prefix("probe:").unwrap_or(source)
}

/// The labels of a run.
pub fn run_labels(info: &RunInfo) -> RunLabels {
    RunLabels {
        campaign: info.campaign.clone(),
        application: info.application.clone(),
        scenario: info.scenario.clone(),
        run: info.run.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::{EventKind, StallEnd, StallStart};
    use std::time::Duration;

    fn standalone() -> Scope {
        Scope {
            url: "http://127.0.0.1:1/m.mpd".into(),
            ..Scope::default()
        }
    }

    #[test]
    fn a_stall_counts_live_and_empty_labels_are_left_out() {
        let x = Exporter::new();
        let at = |s| Duration::from_secs(s);
        x.observe(
            &standalone(),
            &Event::new(
                at(1),
                "probe:player",
                EventKind::StallStart(StallStart {
                    media_ms: 0.0,
                    cause: record::MediaType::Video,
                }),
            ),
        );
        let text = x.encode();
        assert!(
            text.contains(
                "qoeprobe_player_stalls_total{probe=\"player\",url=\"http://127.0.0.1:1/m.mpd\"} 1\n"
            ),
            "{text}"
        );
        assert!(!text.contains("campaign=\"\""), "{text}");
        x.observe(
            &standalone(),
            &Event::new(
                at(3),
                "probe:player",
                EventKind::StallEnd(StallEnd {
                    duration_ms: 1500.0,
                    buffer_ms: 0.0,
                    unresolved: false,
                }),
            ),
        );
        let text = x.encode();
        assert!(text.contains("qoeprobe_player_stall_seconds_total{probe=\"player\",url=\"http://127.0.0.1:1/m.mpd\"} 1.5\n"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn the_migration_phase_follows_the_events() {
        let x = Exporter::new();
        let scope = Scope {
            run: RunLabels {
                campaign: "c".into(),
                application: "a".into(),
                scenario: "s".into(),
                run: "1".into(),
            },
            ..Scope::default()
        };
        // As a timeline.jsonl has them.
        let ev = |line: &str| -> Event { serde_json::from_str(line).unwrap() };
        x.observe(&scope, &ev(r#"{"t_ns":1,"source":"migration","kind":"migration_requested","driver":"emulated","mode":"live","copy":"precopy"}"#));
        x.observe(
            &scope,
            &ev(r#"{"t_ns":2,"source":"migration","kind":"migration_paused","origin":"model"}"#),
        );
        let text = x.encode();
        let line = |phase: &str, v: &str| {
            format!(
                "qoeprobe_migration_phase{{campaign=\"c\",application=\"a\",scenario=\"s\",run=\"1\",phase=\"{phase}\"}} {v}\n"
            )
        };
        assert!(text.contains(&line("downtime", "1.0")), "{text}");
        assert!(text.contains(&line("preoperation", "0.0")), "{text}");
        x.observe(
            &scope,
            &ev(r#"{"t_ns":3,"source":"migration","kind":"migration_resumed","origin":"model"}"#),
        );
        x.observe(&scope, &ev(r#"{"t_ns":4,"source":"runner","kind":"network_reattached","origin":"reachability"}"#));
        let text = x.encode();
        for p in ["preoperation", "downtime", "postoperation"] {
            assert!(text.contains(&line(p, "0.0")), "{text}");
        }
    }
}
