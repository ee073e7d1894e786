//! Tolerance profiles: how much impairment an application tolerates in the migration
//! window before a run counts as impaired (docs/verdicts.md).
//!
//! A [`Profile`] is what a scenario file writes in an application's `profile` table
//! and `campaign.json` carries to the analysis: every key is optional and overrides
//! the default of the application's kind ([`AppKind`]). The analysis resolves it into
//! concrete limits; the literature behind each default is in docs/verdicts.md.

use serde::{Deserialize, Serialize};

/// The kind of application a probe measures; it chooses the default limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppKind {
    /// Buffered video: DASH/HLS, or a live stream played with a cache.
    BufferedVideo,
    /// A live stream played without a cache.
    LiveStream,
    /// A file download.
    Download,
    /// A game server.
    Game,
}

impl AppKind {
    /// Human-readable name (`buffered video`, ...).
    pub fn label(self) -> &'static str {
        match self {
            AppKind::BufferedVideo => "buffered video",
            AppKind::LiveStream => "live stream without cache",
            AppKind::Download => "download",
            AppKind::Game => "game",
        }
    }
}

/// An application's tolerance profile as written in a scenario file (the
/// application's `profile` table). Every key is optional: an absent key takes the
/// default of the application's kind (the analysis's defaults).
#[derive(Deserialize, Serialize, Default, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Profile {
    /// `buffered-video`, `live-stream`, `download` or `game`: forces the kind
    /// (default: from the probe: player -> buffered video; stream -> buffered video
    /// when played with a cache, live stream otherwise; download; game).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<AppKind>,
    /// Cool-down added to the migration window after the network is reattached, ms
    /// (default 10000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cooldown_ms: Option<f64>,
    /// Video and streams: rebuffering events allowed in the migration window
    /// (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_stalls: Option<u64>,
    /// Video and streams: stalls shorter than this are not counted, ms (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_stall_ms: Option<f64>,
    /// Live stream: dropped frames allowed, % of the frames of the migration window
    /// (default 1; no limit for buffered video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_dropped_frames_pct: Option<f64>,
    /// Game: longest freeze (snapshot gap) allowed, ms (default 250).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_freeze_ms: Option<f64>,
    /// Game: RTT p95 in the migration window must stay under this, ms (default 150).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rtt_p95_ms: Option<f64>,
    /// Game: where the baseline p95 is already above `max_rtt_p95_ms`, the window's
    /// p95 may exceed the baseline's by at most this, ms (default 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rtt_p95_over_baseline_ms: Option<f64>,
    /// Game: a run is failed (unplayable) when its migration window holds more than
    /// this much unplayable time, ms (default 1000): time frozen past
    /// `max_freeze_ms`, or with an RTT more than `unplayable_rtt_margin_ms` over the
    /// RTT limit (`max_rtt_p95_ms`, or the baseline's p95 plus
    /// `max_rtt_p95_over_baseline_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_unplayable_ms: Option<f64>,
    /// Game: how far over the RTT limit a shooter is unplayable, ms (default 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unplayable_rtt_margin_ms: Option<f64>,
    /// Download: longest stall (no byte) allowed in the window, ms (default: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_download_stall_ms: Option<f64>,
}
