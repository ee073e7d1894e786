//! The file a standalone probe writes with `--json`: its summary fields at the top
//! level, plus the schema version, the wall-clock anchor and its events.

use super::{Event, SCHEMA_VERSION};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A probe's `--json` output: `{schema_version, probe, wall_anchor_unix_ns, <summary
/// fields>, events}`. The runner writes the same summary fields under `probes.<name>`
/// in `summary.json`, with the events in `timeline.jsonl` instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeOutput<S> {
    /// Record schema version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Probe name (`player`, `download`, `game`, `stream`).
    pub probe: String,
    /// Wall-clock time (ns since the Unix epoch) at `t_ns` = 0.
    pub wall_anchor_unix_ns: u64,
    /// The probe's summary.
    #[serde(flatten)]
    pub summary: S,
    /// Every event of the session, in order.
    pub events: Vec<Event>,
}

impl<S> ProbeOutput<S> {
    /// Wraps a summary and its events.
    pub fn new(probe: &str, wall_anchor_unix_ns: u64, summary: S, events: Vec<Event>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            probe: probe.to_string(),
            wall_anchor_unix_ns,
            summary,
            events,
        }
    }
}
