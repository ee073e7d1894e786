//! Reading `timeline.jsonl` for the analysis: every line is a [`record::Event`]. A
//! kind this version does not know (a newer writer's) is read as
//! [`EventKind::Unknown`] and left out, so a newer timeline never fails to load; a
//! line that is not an event is listed as a bad line.

use record::{Event, EventKind};
use std::path::Path;

/// A timeline read from disk, with the lines that could not be parsed.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// The events, in file order (kinds this version does not know left out).
    pub events: Vec<Event>,
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
            match serde_json::from_str::<Event>(line) {
                Ok(e) if matches!(e.kind, EventKind::Unknown) => {}
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
