//! The `[matrix]` table as the file writes it: one list per axis. Expanding it into
//! network scenarios (cells) is `matrix`'s job.

use platform::Flavor;
use probes::values::{Mbit, Millis, Percent};
use record::{Copy, Mode};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// At most this many cells (network scenarios after expansion): past it a file is a
/// typing slip more likely than a plan (the full section 5 sweep is 72).
pub const MAX_CELLS: u64 = 1000;

/// One axis: a non-empty list of distinct values.
pub(super) type Axis<T> = Option<Spanned<Vec<Spanned<T>>>>;

/// `[matrix]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrix {
    /// VM sizes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Axis<Flavor>,
    /// Migration modes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Axis<Mode>,
    /// Copy strategies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Axis<Copy>,
    /// Conditions of the migration link.
    #[serde(default)]
    pub migration: LinkAxes,
    /// Conditions of the client link.
    #[serde(default)]
    pub client: LinkAxes,
}

/// `[matrix.migration]` and `[matrix.client]`: a list per link key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkAxes {
    /// Rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_mbit: Axis<Mbit>,
    /// One-way delays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Axis<Millis>,
    /// Packet losses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_pct: Axis<Percent>,
}
