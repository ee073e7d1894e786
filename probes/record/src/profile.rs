//! Tolerance profiles (DESIGN.md section 6): how much impairment an application
//! tolerates in the migration window before a run counts as impaired.
//!
//! A [`Profile`] is what a scenario file writes in an application's `profile` table:
//! every key is optional and overrides the default of the application's kind
//! ([`AppKind`]); [`Profile::limits`] resolves it into concrete [`Limits`]. The
//! literature behind each default is in docs/verdicts.md.

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
/// default of the application's kind (see [`Limits::default_for`]).
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
    /// Download: longest stall (no byte) allowed in the window, ms (default: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_download_stall_ms: Option<f64>,
}

/// Concrete limits for one kind of application: a [`Profile`] resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    /// The kind these limits are for.
    pub kind: AppKind,
    /// Cool-down after reattach, ms.
    pub cooldown_ms: f64,
    /// Stalls allowed in the window.
    pub max_stalls: u64,
    /// Shorter stalls are ignored, ms.
    pub min_stall_ms: f64,
    /// Dropped frames allowed in the window, % (`None`: not judged).
    pub max_dropped_frames_pct: Option<f64>,
    /// Longest freeze allowed, ms.
    pub max_freeze_ms: f64,
    /// Absolute RTT p95 limit, ms.
    pub max_rtt_p95_ms: f64,
    /// Relative RTT p95 limit over a baseline already above the absolute one, ms.
    pub max_rtt_p95_over_baseline_ms: f64,
    /// Longest download stall allowed, ms (`None`: not judged).
    pub max_download_stall_ms: Option<f64>,
}

impl Limits {
    /// The defaults of DESIGN.md section 6 for `kind`.
    pub fn default_for(kind: AppKind) -> Self {
        Limits {
            kind,
            cooldown_ms: 10_000.0,
            max_stalls: 0,
            min_stall_ms: 0.0,
            max_dropped_frames_pct: (kind == AppKind::LiveStream).then_some(1.0),
            max_freeze_ms: 250.0,
            max_rtt_p95_ms: 150.0,
            max_rtt_p95_over_baseline_ms: 50.0,
            max_download_stall_ms: None,
        }
    }

    /// The RTT p95 limit for the window given the baseline's p95: the absolute limit,
    /// or baseline + the relative limit where the baseline is already above it.
    pub fn rtt_p95_limit(&self, baseline_p95_ms: Option<f64>) -> f64 {
        match baseline_p95_ms {
            Some(b) if b > self.max_rtt_p95_ms => b + self.max_rtt_p95_over_baseline_ms,
            _ => self.max_rtt_p95_ms,
        }
    }
}

impl Profile {
    /// Resolves the profile for a probe of kind `detected` (the profile's own `kind`
    /// wins when set).
    pub fn limits(&self, detected: AppKind) -> Limits {
        let d = Limits::default_for(self.kind.unwrap_or(detected));
        Limits {
            kind: d.kind,
            cooldown_ms: self.cooldown_ms.unwrap_or(d.cooldown_ms).max(0.0),
            max_stalls: self.max_stalls.unwrap_or(d.max_stalls),
            min_stall_ms: self.min_stall_ms.unwrap_or(d.min_stall_ms),
            max_dropped_frames_pct: self.max_dropped_frames_pct.or(d.max_dropped_frames_pct),
            max_freeze_ms: self.max_freeze_ms.unwrap_or(d.max_freeze_ms),
            max_rtt_p95_ms: self.max_rtt_p95_ms.unwrap_or(d.max_rtt_p95_ms),
            max_rtt_p95_over_baseline_ms: self
                .max_rtt_p95_over_baseline_ms
                .unwrap_or(d.max_rtt_p95_over_baseline_ms),
            max_download_stall_ms: self.max_download_stall_ms.or(d.max_download_stall_ms),
        }
    }

    /// The profiles a resolved scenario file (`campaign.json`) gives its applications:
    /// `applications` as an array of `{name, profile}` or a map name ->
    /// `{profile}`. Applications without a valid `profile` are left out (their
    /// defaults apply); an invalid one is returned as an error message.
    pub fn from_campaign(
        campaign: &serde_json::Value,
    ) -> (std::collections::BTreeMap<String, Profile>, Vec<String>) {
        let mut out = std::collections::BTreeMap::new();
        let mut errors = Vec::new();
        let mut take = |name: &str, app: &serde_json::Value| {
            if let Some(p) = app.get("profile") {
                match serde_json::from_value::<Profile>(p.clone()) {
                    Ok(p) => {
                        out.insert(name.to_string(), p);
                    }
                    Err(e) => errors.push(format!("application `{name}`: profile: {e}")),
                }
            }
        };
        match campaign.get("applications") {
            Some(serde_json::Value::Array(apps)) => {
                for app in apps {
                    if let Some(name) = app.get("name").and_then(|n| n.as_str()) {
                        take(name, app);
                    }
                }
            }
            Some(serde_json::Value::Object(apps)) => {
                for (name, app) in apps {
                    take(name, app);
                }
            }
            _ => {}
        }
        (out, errors)
    }
}
