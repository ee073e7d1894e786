//! What the sessions of each probe kind add up to over all client hosts: counts are
//! sums, quantities are [`Spread`]s over every session (a session's own value, e.g. a
//! game session's RTT p95, is one sample: the summaries do not keep every packet).

use super::Spread;
use record::{DownloadOutcome, DownloadSummary, GameSummary, PlayerSummary, StreamSummary};

/// Player sessions (`qoeprobe play`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlayerClients {
    /// Sessions that stalled at least once.
    pub sessions_with_stalls: usize,
    /// Stalls over all sessions.
    pub stall_count: u64,
    /// Media segments over all sessions.
    pub segments: u64,
    /// Request errors over all sessions.
    pub request_errors: u64,
    /// Sessions that gave up.
    pub gave_up: usize,
    /// Startup delay over the sessions that started.
    pub startup_delay_ms: Option<Spread>,
    /// Total stall time per session.
    pub stall_total_ms: Option<Spread>,
    /// Rebuffer ratio per session.
    pub rebuffer_ratio: Option<Spread>,
    /// Average bitrate per session.
    pub avg_bitrate_kbps: Option<Spread>,
}

impl PlayerClients {
    /// Of these sessions.
    pub fn of(all: &[&PlayerSummary]) -> Self {
        Self {
            sessions_with_stalls: all.iter().filter(|s| s.stall_count > 0).count(),
            stall_count: all.iter().map(|s| s.stall_count).sum(),
            segments: all.iter().map(|s| s.segments).sum(),
            request_errors: all.iter().map(|s| s.request_errors).sum(),
            gave_up: all.iter().filter(|s| s.gave_up).count(),
            startup_delay_ms: Spread::of(all.iter().filter_map(|s| s.startup_delay_ms)),
            stall_total_ms: Spread::of(all.iter().map(|s| s.stall_total_ms)),
            rebuffer_ratio: Spread::of(all.iter().map(|s| s.rebuffer_ratio)),
            avg_bitrate_kbps: Spread::of(all.iter().map(|s| s.avg_bitrate_kbps)),
        }
    }
}

/// Downloads (`qoeprobe download`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DownloadClients {
    /// Downloads that completed with every check passed.
    pub completed: usize,
    /// Downloads whose bytes arrived wrong (checksum or size).
    pub corrupt: usize,
    /// Downloads that did not finish.
    pub failed: usize,
    /// Downloads that restarted from byte 0.
    pub restarted_from_zero: usize,
    /// Downloads that stalled at least once.
    pub sessions_with_stalls: usize,
    /// Stalls over all downloads.
    pub stall_count: u64,
    /// Resumed requests over all downloads.
    pub resumes: u64,
    /// Throughput per download.
    pub throughput_kbps: Option<Spread>,
    /// Duration per download.
    pub duration_ms: Option<Spread>,
    /// Total stall time per download.
    pub stall_total_ms: Option<Spread>,
}

impl DownloadClients {
    /// Of these downloads.
    pub fn of(all: &[&DownloadSummary]) -> Self {
        let outcome = |o: DownloadOutcome| all.iter().filter(|s| s.outcome == o).count();
        Self {
            completed: outcome(DownloadOutcome::Completed),
            corrupt: outcome(DownloadOutcome::Corrupt),
            failed: outcome(DownloadOutcome::Failed),
            restarted_from_zero: all.iter().filter(|s| s.restarted_from_zero).count(),
            sessions_with_stalls: all.iter().filter(|s| s.stall_count > 0).count(),
            stall_count: all.iter().map(|s| s.stall_count).sum(),
            resumes: all.iter().map(|s| u64::from(s.resumes)).sum(),
            throughput_kbps: Spread::of(all.iter().map(|s| s.throughput_kbps)),
            duration_ms: Spread::of(all.iter().map(|s| s.duration_ms)),
            stall_total_ms: Spread::of(all.iter().map(|s| s.stall_total_ms)),
        }
    }
}

/// Game sessions (`qoeprobe game`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GameClients {
    /// Sessions that froze at least once.
    pub sessions_with_freezes: usize,
    /// Freezes over all sessions.
    pub freeze_count: u64,
    /// Server sessions lost over all sessions.
    pub sessions_lost: u64,
    /// Total freeze time per session.
    pub freeze_total_ms: Option<Spread>,
    /// Longest freeze per session.
    pub freeze_longest_ms: Option<Spread>,
    /// Each session's RTT p95.
    pub rtt_p95_ms: Option<Spread>,
    /// Round-trip loss per session (QGT).
    pub loss_round_trip_pct: Option<Spread>,
}

impl GameClients {
    /// Of these sessions.
    pub fn of(all: &[&GameSummary]) -> Self {
        Self {
            sessions_with_freezes: all.iter().filter(|s| s.freeze_count > 0).count(),
            freeze_count: all.iter().map(|s| s.freeze_count).sum(),
            sessions_lost: all.iter().map(|s| s.sessions_lost).sum(),
            freeze_total_ms: Spread::of(all.iter().map(|s| s.freeze_total_ms)),
            freeze_longest_ms: Spread::of(all.iter().map(|s| s.freeze_longest_ms)),
            rtt_p95_ms: Spread::of(all.iter().filter_map(|s| s.rtt_p95_ms)),
            loss_round_trip_pct: Spread::of(all.iter().filter_map(|s| s.loss_round_trip_pct)),
        }
    }
}

/// Live stream sessions (`qoeprobe stream`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StreamClients {
    /// Sessions that stalled at least once.
    pub sessions_with_stalls: usize,
    /// Stalls over all sessions.
    pub stall_count: u64,
    /// Disconnects over all sessions.
    pub disconnects: u64,
    /// Reconnects over all sessions.
    pub reconnects: u64,
    /// Startup per session that started.
    pub startup_ms: Option<Spread>,
    /// Total stall time per session.
    pub stall_total_ms: Option<Spread>,
    /// Dropped-frame ratio per session.
    pub drop_ratio: Option<Spread>,
    /// Average bitrate per session.
    pub avg_bitrate_kbps: Option<Spread>,
}

impl StreamClients {
    /// Of these sessions.
    pub fn of(all: &[&StreamSummary]) -> Self {
        Self {
            sessions_with_stalls: all.iter().filter(|s| s.stall_count > 0).count(),
            stall_count: all.iter().map(|s| s.stall_count).sum(),
            disconnects: all.iter().map(|s| s.disconnects).sum(),
            reconnects: all.iter().map(|s| s.reconnects).sum(),
            startup_ms: Spread::of(all.iter().filter_map(|s| s.startup_ms)),
            stall_total_ms: Spread::of(all.iter().map(|s| s.stall_total_ms)),
            drop_ratio: Spread::of(all.iter().map(|s| s.drop_ratio)),
            avg_bitrate_kbps: Spread::of(all.iter().map(|s| s.avg_bitrate_kbps)),
        }
    }
}
