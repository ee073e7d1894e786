//! A probe's result as a run records it: one typed summary per probe kind behind
//! [`ProbeSummary`] (tagged by `probe`), and the entry `probes.<name>` of
//! `summary.json` ([`ProbeResult`]), which also records a probe that could not run.

use crate::{DownloadSummary, GameSummary, PlayerSummary, SCHEMA_VERSION, StreamSummary};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// The DASH/HLS player emulator.
    Player,
    /// The download checker.
    Download,
    /// The UDP game-tick prober.
    Game,
    /// The live stream reader.
    Stream,
}

impl ProbeKind {
    /// Its name in files and results (`player`, `download`, `game`, `stream`).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Player => "player",
            ProbeKind::Download => "download",
            ProbeKind::Game => "game",
            ProbeKind::Stream => "stream",
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One probe's summary, tagged by `probe` (its kind): the fields of that probe's
/// standalone `--json` without the events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "probe", rename_all = "snake_case")]
pub enum ProbeSummary {
    /// The player's summary.
    Player(PlayerSummary),
    /// The download checker's summary.
    Download(DownloadSummary),
    /// The game prober's summary.
    Game(GameSummary),
    /// The stream reader's summary.
    Stream(StreamSummary),
}

impl ProbeSummary {
    /// Which probe wrote it.
    pub fn kind(&self) -> ProbeKind {
        match self {
            ProbeSummary::Player(_) => ProbeKind::Player,
            ProbeSummary::Download(_) => ProbeKind::Download,
            ProbeSummary::Game(_) => ProbeKind::Game,
            ProbeSummary::Stream(_) => ProbeKind::Stream,
        }
    }
}

impl From<PlayerSummary> for ProbeSummary {
    fn from(s: PlayerSummary) -> Self {
        ProbeSummary::Player(s)
    }
}

impl From<DownloadSummary> for ProbeSummary {
    fn from(s: DownloadSummary) -> Self {
        ProbeSummary::Download(s)
    }
}

impl From<GameSummary> for ProbeSummary {
    fn from(s: GameSummary) -> Self {
        ProbeSummary::Game(s)
    }
}

impl From<StreamSummary> for ProbeSummary {
    fn from(s: StreamSummary) -> Self {
        ProbeSummary::Stream(s)
    }
}

/// `probes.<name>` of `summary.json`: what one probe of a run reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ProbeResult {
    /// The probe ran and summarized its events.
    Measured(Box<MeasuredProbe>),
    /// The probe could not run (no summary).
    Failed(FailedProbe),
    /// A probe of a kind this version does not know, or whose summary it cannot
    /// read (written by another version): kept by kind name, not judged.
    Unknown(UnknownProbe),
}

/// A probe that ran: `{schema_version, wall_anchor_unix_ns, probe, <summary
/// fields>, error?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredProbe {
    /// Record schema version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Wall-clock time (ns since the Unix epoch) at `t_ns` = 0.
    pub wall_anchor_unix_ns: u64,
    /// Its summary (with `probe` = its kind).
    #[serde(flatten)]
    pub summary: ProbeSummary,
    /// The error the probe ended on, if it did (e.g. a manifest that never loaded, a
    /// stream that could not be played); its summary still covers what it saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A probe that could not run: `{probe, error}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedProbe {
    /// Its kind.
    pub probe: ProbeKind,
    /// Why it could not run.
    pub error: String,
}

/// An entry this version cannot read: only its kind name is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnknownProbe {
    /// The kind name it gives.
    pub probe: String,
}

impl ProbeResult {
    /// A probe that ran, with the run's wall anchor and the error it ended on.
    pub fn measured(
        wall_anchor_unix_ns: u64,
        summary: impl Into<ProbeSummary>,
        error: Option<String>,
    ) -> Self {
        ProbeResult::Measured(Box::new(MeasuredProbe {
            schema_version: SCHEMA_VERSION,
            wall_anchor_unix_ns,
            summary: summary.into(),
            error,
        }))
    }

    /// A probe of kind `probe` that could not run.
    pub fn failed(probe: ProbeKind, error: impl fmt::Display) -> Self {
        ProbeResult::Failed(FailedProbe {
            probe,
            error: error.to_string(),
        })
    }

    /// Its kind, when this version knows it.
    pub fn kind(&self) -> Option<ProbeKind> {
        match self {
            ProbeResult::Measured(m) => Some(m.summary.kind()),
            ProbeResult::Failed(f) => Some(f.probe),
            ProbeResult::Unknown(_) => None,
        }
    }

    /// The kind name as written (`player`, ..., or an unknown one).
    pub fn kind_name(&self) -> &str {
        match self {
            ProbeResult::Unknown(u) => &u.probe,
            other => other.kind().map_or("", ProbeKind::as_str),
        }
    }

    /// The summary, for a probe that ran.
    pub fn summary(&self) -> Option<&ProbeSummary> {
        match self {
            ProbeResult::Measured(m) => Some(&m.summary),
            _ => None,
        }
    }

    /// The error the probe ended on, or why it could not run.
    pub fn error(&self) -> Option<&str> {
        match self {
            ProbeResult::Measured(m) => m.error.as_deref(),
            ProbeResult::Failed(f) => Some(&f.error),
            ProbeResult::Unknown(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_back_as_written() {
        let ran = ProbeResult::measured(7, StreamSummary::default(), Some("lost".into()));
        let text = serde_json::to_string(&ran).unwrap();
        assert!(
            text.starts_with(r#"{"schema_version":1,"wall_anchor_unix_ns":7,"probe":"stream","#)
        );
        assert_eq!(serde_json::from_str::<ProbeResult>(&text).unwrap(), ran);
        let failed = ProbeResult::failed(ProbeKind::Game, "no address");
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(text, r#"{"probe":"game","error":"no address"}"#);
        assert_eq!(serde_json::from_str::<ProbeResult>(&text).unwrap(), failed);
        let newer: ProbeResult = serde_json::from_str(r#"{"probe":"telepathy","x":1}"#).unwrap();
        assert_eq!(newer.kind(), None);
        assert_eq!(newer.kind_name(), "telepathy");
    }
}
