//! The factors the study varies (its Figures 3-5), read from each run's `run.json`:
//! flavor, bandwidth and drop rate of the migration link, and mode.
//!
//! The migration link's rate and loss come from `conditions.migration`.

use record::{Copy, RunInfo};

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
            Factor::Mode => match i.copy {
                Copy::Precopy => i.mode.to_string(),
                Copy::Postcopy => format!("{} {}", i.mode, i.copy),
            },
            Factor::Bandwidth => i
                .conditions
                .migration
                .rate_mbit
                .map(|v| format!("{v} Mbit/s"))
                .unwrap_or_else(|| "unlimited".into()),
            Factor::DropRate => i
                .conditions
                .migration
                .loss_pct
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
