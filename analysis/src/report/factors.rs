//! The factors the study varies (its Figures 3-5), read from each run's `run.json`:
//! flavor, bandwidth and drop rate of the migration link, and mode.
//!
//! `conditions` is free-form JSON; the migration link is looked up as
//! `conditions.migration` (an object), or an element with `link: "migration"` of an
//! array, with `rate_mbit` / `loss_pct` keys (the `net_condition` event's names).

use crate::run::RunInfo;

/// A factor the phase bars are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Factor {
    /// VM flavor.
    Flavor,
    /// Rate of the migration link.
    Bandwidth,
    /// Loss on the migration link.
    DropRate,
    /// live / block, pre-copy / post-copy.
    Mode,
}

impl Factor {
    /// All factors, in the report's order.
    pub const ALL: [Factor; 4] = [
        Factor::Flavor,
        Factor::Bandwidth,
        Factor::DropRate,
        Factor::Mode,
    ];

    /// Heading.
    pub fn title(self) -> &'static str {
        match self {
            Factor::Flavor => "flavor",
            Factor::Bandwidth => "migration bandwidth",
            Factor::DropRate => "packet drop rate",
            Factor::Mode => "mode",
        }
    }

    /// The value of this factor in a run (`unknown` without run.json).
    pub fn value(self, info: Option<&RunInfo>) -> String {
        let Some(i) = info else {
            return "unknown".into();
        };
        match self {
            Factor::Flavor => i.flavor.clone(),
            Factor::Mode => {
                if i.copy.is_empty() || i.copy == "precopy" {
                    i.mode.clone()
                } else {
                    format!("{} {}", i.mode, i.copy)
                }
            }
            Factor::Bandwidth => link_value(&i.conditions, &["rate_mbit", "rate"])
                .map(|v| format!("{v} Mbit/s"))
                .unwrap_or_else(|| "unlimited".into()),
            Factor::DropRate => link_value(&i.conditions, &["loss_pct", "loss"])
                .map(|v| format!("{v} %"))
                .unwrap_or_else(|| "0 %".into()),
        }
    }

    /// Sort key of a value: numeric values by number, others by text.
    pub fn sort_key(value: &str) -> (u8, f64, String) {
        match value
            .split_whitespace()
            .next()
            .and_then(|n| n.parse::<f64>().ok())
        {
            Some(n) => (0, n, value.to_string()),
            None => (1, 0.0, value.to_string()),
        }
    }
}

fn link_value(conditions: &serde_json::Value, keys: &[&str]) -> Option<f64> {
    let link = match conditions {
        serde_json::Value::Object(m) => m.get("migration")?.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .find(|l| l.get("link").and_then(|n| n.as_str()) == Some("migration"))?
            .clone(),
        _ => return None,
    };
    keys.iter()
        .find_map(|k| link.get(*k).and_then(|v| v.as_f64()))
}
