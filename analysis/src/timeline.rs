//! Reading `timeline.jsonl` for the analysis.
//!
//! Lines are read into a lean [`TimelineEvent`] that keeps `t_ns`, `source`, `kind`
//! and only the payload fields the outcome rules and the plots use; every other
//! field is skipped, and kinds this crate does not know (a probe added later) are
//! kept with their name, so a newer timeline never fails to load.

use serde::Deserialize;
use std::path::Path;

/// One line of `timeline.jsonl`, reduced to what the analysis uses.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct TimelineEvent {
    /// Nanoseconds since the run's start.
    pub t_ns: u64,
    /// `probe:<name>`, `migration`, `net` or `runner`.
    #[serde(default)]
    pub source: String,
    /// Event kind (snake_case).
    #[serde(default)]
    pub kind: String,
    /// `request`: buffer level after the request, ms.
    #[serde(default)]
    pub buffer_ms: Option<f64>,
    /// `request` (media): bitrate of the segment, kbit/s.
    #[serde(default)]
    pub bitrate_kbps: Option<f64>,
    /// `request`: what was fetched (`media`, `manifest`, ...).
    #[serde(default, rename = "type")]
    pub request_type: Option<String>,
    /// Stall / freeze / gap length, ms.
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// `game_freeze`: arrival of the last snapshot before the gap; `download_stall_end`.
    #[serde(default)]
    pub start_ns: Option<u64>,
    /// `game_snapshot`: RTT samples, ns.
    #[serde(default)]
    pub rtt_ns: Option<Vec<u64>>,
    /// `download_progress` / `request`: throughput, kbit/s.
    #[serde(default)]
    pub throughput_kbps: Option<f64>,
    /// Stall or freeze closed by the end of the run, not by data.
    #[serde(default)]
    pub unresolved: Option<bool>,
    /// Stream probes (`stream_sample`): cache fill, ms (`level_ms`).
    #[serde(default, alias = "level_ms")]
    pub cache_ms: Option<f64>,
    /// Stream probes: cache fill, percent of the cache (`level_percent`).
    #[serde(default, alias = "level_percent")]
    pub cache_pct: Option<f64>,
    /// Stream probes: frames dropped since playback started (cumulative).
    #[serde(default)]
    pub frames_dropped: Option<u64>,
    /// Stream probes: frames rendered since playback started (cumulative).
    #[serde(default)]
    pub frames_rendered: Option<u64>,
}

impl TimelineEvent {
    /// The probe name of a `probe:<name>` source.
    pub fn probe(&self) -> Option<&str> {
        self.source.strip_prefix("probe:")
    }

    /// Seconds since the run's start.
    pub fn t_s(&self) -> f64 {
        self.t_ns as f64 / 1e9
    }
}

/// A timeline read from disk, with the lines that could not be parsed.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The events, in file order.
    pub events: Vec<TimelineEvent>,
    /// `line N: reason` for every line that is not a valid event.
    pub bad_lines: Vec<String>,
}

impl Timeline {
    /// Parses JSONL text; blank lines are skipped, bad lines recorded (at most 10 are
    /// listed, then a count).
    pub fn parse(text: &str) -> Self {
        let mut t = Timeline::default();
        let mut bad = 0usize;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<TimelineEvent>(line) {
                Ok(e) => t.events.push(e),
                Err(e) => {
                    bad += 1;
                    if bad <= 10 {
                        t.bad_lines.push(format!("line {}: {e}", i + 1));
                    }
                }
            }
        }
        if bad > 10 {
            t.bad_lines.push(format!("{} more bad lines", bad - 10));
        }
        t
    }

    /// Reads and parses a file (a regular file of at most
    /// [`userfile::limit::TIMELINE`] bytes; a FIFO or a device is refused).
    pub fn read(path: &Path) -> std::io::Result<Self> {
        Ok(Self::parse(&userfile::read_to_string(
            path,
            userfile::limit::TIMELINE,
        )?))
    }
}

/// The p-th percentile (0-100) of `values` by nearest rank; `None` when empty.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    Some(values[rank.clamp(1, values.len()) - 1])
}
