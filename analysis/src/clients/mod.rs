//! Sessions of one probe kind on several client hosts merged into one run: what the
//! clients saw during one migration when they ran on many hosts (`qoeprobe play`,
//! `download`, `game` or `stream` with `--start-at`, docs/scale-out.md). Counts add
//! up; distributions (startup delay, stall time, throughput, freeze time, ...) are
//! taken over all sessions of all hosts, not averaged per host. One module per kind
//! says what its sessions add up to.

mod kinds;

use crate::timeline::percentile;
use record::{ProbeKind, ProbeSummary};

pub use kinds::{DownloadClients, GameClients, PlayerClients, StreamClients};

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
    pub sessions: Vec<ProbeSummary>,
}

/// What the sessions of one kind add up to.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "probe", rename_all = "snake_case")]
pub enum KindClients {
    /// Player sessions.
    Player(PlayerClients),
    /// Downloads.
    Download(DownloadClients),
    /// Game sessions.
    Game(GameClients),
    /// Live stream sessions.
    Stream(StreamClients),
}

/// Every host's sessions as one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClientsSummary {
    /// Hosts merged.
    pub hosts: usize,
    /// Sessions over all hosts.
    pub sessions: usize,
    /// Latest minus earliest host start (ms), when every host has a wall anchor.
    pub start_spread_ms: Option<f64>,
    /// The kind's counts and distributions.
    #[serde(flatten)]
    pub kind: KindClients,
}

/// Merges the hosts' sessions; `Err` when they are not all of one probe kind (or
/// there are none).
pub fn merge_clients(hosts: &[HostSessions]) -> Result<ClientsSummary, String> {
    let all: Vec<&ProbeSummary> = hosts.iter().flat_map(|h| &h.sessions).collect();
    let kind = all
        .first()
        .map(|s| s.kind())
        .ok_or("no sessions to merge")?;
    if let Some(h) = hosts
        .iter()
        .find(|h| h.sessions.iter().any(|s| s.kind() != kind))
    {
        return Err(format!(
            "{} holds sessions of another probe than the first file's ({}): merge the sessions of one probe kind",
            h.name,
            kind.as_str()
        ));
    }
    macro_rules! of {
        ($variant:ident) => {
            all.iter()
                .filter_map(|s| match s {
                    ProbeSummary::$variant(x) => Some(x),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
    }
    let kind = match kind {
        ProbeKind::Player => KindClients::Player(PlayerClients::of(&of!(Player))),
        ProbeKind::Download => KindClients::Download(DownloadClients::of(&of!(Download))),
        ProbeKind::Game => KindClients::Game(GameClients::of(&of!(Game))),
        ProbeKind::Stream => KindClients::Stream(StreamClients::of(&of!(Stream))),
    };
    let anchors: Option<Vec<u64>> = hosts.iter().map(|h| h.wall_anchor_unix_ns).collect();
    Ok(ClientsSummary {
        hosts: hosts.len(),
        sessions: all.len(),
        start_spread_ms: anchors.filter(|a| !a.is_empty()).map(|a| {
            (a.iter().max().copied().unwrap_or(0) - a.iter().min().copied().unwrap_or(0)) as f64
                / 1e6
        }),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::{PlayerSummary, StreamSummary};

    fn session(stall_ms: f64, stalls: u64) -> ProbeSummary {
        ProbeSummary::Player(PlayerSummary {
            stall_count: stalls,
            stall_total_ms: stall_ms,
            startup_delay_ms: Some(100.0),
            segments: 10,
            ..Default::default()
        })
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
        let m = merge_clients(&[a, b]).unwrap();
        assert_eq!((m.hosts, m.sessions), (2, 20));
        assert_eq!(m.start_spread_ms, Some(30.0));
        let KindClients::Player(p) = m.kind else {
            panic!("player sessions")
        };
        assert_eq!(
            (p.sessions_with_stalls, p.stall_count, p.segments),
            (1, 2, 200)
        );
        let st = p.stall_total_ms.unwrap();
        assert_eq!((st.p50, st.p95, st.max, st.mean), (0.0, 0.0, 2000.0, 100.0));
    }

    #[test]
    fn kinds_do_not_mix() {
        let host = |name: &str, s: ProbeSummary| HostSessions {
            name: name.into(),
            wall_anchor_unix_ns: None,
            sessions: vec![s],
        };
        let game = ProbeSummary::Stream(StreamSummary::default());
        let err = merge_clients(&[host("a", session(0.0, 0)), host("b", game)]).unwrap_err();
        assert!(err.contains("b holds sessions of another probe"), "{err}");
        assert!(merge_clients(&[]).is_err());
    }
}
