//! Tolerance profiles resolved into concrete [`Limits`]: the defaults per kind of
//! application (docs/verdicts.md has the literature behind each) with a scenario
//! file's overrides ([`record::Profile`]).

use record::{AppKind, Profile};
use serde::Serialize;

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
    /// Unplayable time allowed in the window before a game run fails, ms.
    pub max_unplayable_ms: f64,
    /// How far over the RTT limit a game is unplayable, ms.
    pub unplayable_rtt_margin_ms: f64,
    /// Longest download stall allowed, ms (`None`: not judged).
    pub max_download_stall_ms: Option<f64>,
}

impl Limits {
    /// The defaults for `kind` (docs/verdicts.md).
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
            max_unplayable_ms: 1000.0,
            unplayable_rtt_margin_ms: 100.0,
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

/// Resolves `profile` for a probe of kind `detected` (the profile's own `kind` wins
/// when set).
pub fn limits(profile: &Profile, detected: AppKind) -> Limits {
    let p = profile;
    let d = Limits::default_for(p.kind.unwrap_or(detected));
    Limits {
        kind: d.kind,
        cooldown_ms: p.cooldown_ms.unwrap_or(d.cooldown_ms).max(0.0),
        max_stalls: p.max_stalls.unwrap_or(d.max_stalls),
        min_stall_ms: p.min_stall_ms.unwrap_or(d.min_stall_ms),
        max_dropped_frames_pct: p.max_dropped_frames_pct.or(d.max_dropped_frames_pct),
        max_freeze_ms: p.max_freeze_ms.unwrap_or(d.max_freeze_ms),
        max_rtt_p95_ms: p.max_rtt_p95_ms.unwrap_or(d.max_rtt_p95_ms),
        max_rtt_p95_over_baseline_ms: p
            .max_rtt_p95_over_baseline_ms
            .unwrap_or(d.max_rtt_p95_over_baseline_ms),
        max_unplayable_ms: p.max_unplayable_ms.unwrap_or(d.max_unplayable_ms),
        unplayable_rtt_margin_ms: p
            .unplayable_rtt_margin_ms
            .unwrap_or(d.unplayable_rtt_margin_ms),
        max_download_stall_ms: p.max_download_stall_ms.or(d.max_download_stall_ms),
    }
}

/// The profiles a resolved scenario file (`campaign.json`) gives its applications:
/// `applications` as an array of `{name, profile}` or a map name -> `{profile}`.
/// Applications without a valid `profile` are left out (their defaults apply); an
/// invalid one is returned as an error message.
pub fn profiles_from_campaign(
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
