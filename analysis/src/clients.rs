//! Player sessions of several client hosts merged into one run: what viewers saw
//! during one migration when the sessions ran on many hosts (`qoeprobe play
//! --start-at`, docs/scale-out.md). Counts add up; distributions (startup delay,
//! stall time, rebuffer ratio, bitrate) are taken over all sessions of all hosts, not
//! averaged per host.

use crate::timeline::percentile;
use record::PlayerSummary;

/// Nearest-rank percentiles of one quantity over all sessions.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Spread {
    /// Sessions with a value.
    pub n: usize,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// `None` when there are no values.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n.max(1) as f64;
        Some(Self {
            n,
            mean,
            p50: percentile(&mut v, 50.0)?,
            p95: percentile(&mut v, 95.0)?,
            max: percentile(&mut v, 100.0)?,
        })
    }
}

/// One host's sessions: its start time (the wall anchor) and its summaries.
#[derive(Debug, Clone)]
pub struct HostSessions {
    /// Where they came from (a file name), for messages.
    pub name: String,
    /// `wall_anchor_unix_ns` of the host's sessions, when known.
    pub wall_anchor_unix_ns: Option<u64>,
    /// The sessions.
    pub sessions: Vec<PlayerSummary>,
}

/// Every host's sessions as one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClientsSummary {
    /// Hosts merged.
    pub hosts: usize,
    /// Sessions over all hosts.
    pub sessions: usize,
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
    /// Latest minus earliest host start (ms), when every host has a wall anchor.
    pub start_spread_ms: Option<f64>,
    /// Startup delay over the sessions that started.
    pub startup_delay_ms: Option<Spread>,
    /// Total stall time per session.
    pub stall_total_ms: Option<Spread>,
    /// Rebuffer ratio per session.
    pub rebuffer_ratio: Option<Spread>,
    /// Average bitrate per session.
    pub avg_bitrate_kbps: Option<Spread>,
}

/// Merges the hosts' sessions.
pub fn merge_clients(hosts: &[HostSessions]) -> ClientsSummary {
    let all: Vec<&PlayerSummary> = hosts.iter().flat_map(|h| &h.sessions).collect();
    let anchors: Option<Vec<u64>> = hosts.iter().map(|h| h.wall_anchor_unix_ns).collect();
    ClientsSummary {
        hosts: hosts.len(),
        sessions: all.len(),
        sessions_with_stalls: all.iter().filter(|s| s.stall_count > 0).count(),
        stall_count: all.iter().map(|s| s.stall_count).sum(),
        segments: all.iter().map(|s| s.segments).sum(),
        request_errors: all.iter().map(|s| s.request_errors).sum(),
        gave_up: all.iter().filter(|s| s.gave_up).count(),
        start_spread_ms: anchors.filter(|a| !a.is_empty()).map(|a| {
            (a.iter().max().copied().unwrap_or(0) - a.iter().min().copied().unwrap_or(0)) as f64
                / 1e6
        }),
        startup_delay_ms: Spread::of(all.iter().filter_map(|s| s.startup_delay_ms)),
        stall_total_ms: Spread::of(all.iter().map(|s| s.stall_total_ms)),
        rebuffer_ratio: Spread::of(all.iter().map(|s| s.rebuffer_ratio)),
        avg_bitrate_kbps: Spread::of(all.iter().map(|s| s.avg_bitrate_kbps)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(stall_ms: f64, stalls: u64) -> PlayerSummary {
        PlayerSummary {
            stall_count: stalls,
            stall_total_ms: stall_ms,
            startup_delay_ms: Some(100.0),
            segments: 10,
            ..Default::default()
        }
    }

    #[test]
    fn percentiles_are_over_all_sessions_not_per_host() {
        // Host a: 19 sessions without stalls; host b: one session with 2 s of stalls.
        // Averaging per host would give a p95 of 1000 ms; over sessions it is 0.
        let a = HostSessions {
            name: "a".into(),
            wall_anchor_unix_ns: Some(1_000_000_000),
            sessions: (0..19).map(|_| session(0.0, 0)).collect(),
        };
        let b = HostSessions {
            name: "b".into(),
            wall_anchor_unix_ns: Some(1_030_000_000),
            sessions: vec![session(2000.0, 2)],
        };
        let m = merge_clients(&[a, b]);
        assert_eq!((m.hosts, m.sessions, m.sessions_with_stalls), (2, 20, 1));
        assert_eq!((m.stall_count, m.segments), (2, 200));
        let st = m.stall_total_ms.unwrap();
        assert_eq!((st.p50, st.p95, st.max, st.mean), (0.0, 0.0, 2000.0, 100.0));
        assert_eq!(m.start_spread_ms, Some(30.0));
    }
}
