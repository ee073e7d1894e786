//! What `play` and `simulate` print and write: the human summary, `--json` (the
//! summary fields, schema version, anchor and events), `--csv` (one row per media
//! segment), `--events` (JSONL as it happens).

use super::output::{Output, write_bytes, write_json};
use probes::record::{Event, EventKind, PlayerSummary, ProbeOutput, RequestType};
use std::fmt::Write as _;
use std::io::Write;

/// The human-readable summary.
pub fn human(s: &PlayerSummary) -> String {
    let mut o = String::new();
    let kind = if s.live { "live" } else { "VoD" };
    let _ = writeln!(
        o,
        "{} ({} {kind}, abr {}, retry {})",
        s.url, s.format, s.abr, s.retry
    );
    let reason = s
        .end_reason
        .and_then(|r| serde_json::to_value(r).ok())
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "running".into());
    let _ = writeln!(
        o,
        "  session    {:.3} s (ended: {reason})",
        s.session_ms / 1000.0
    );
    match s.startup_delay_ms {
        Some(d) => {
            let _ = writeln!(o, "  startup    {:.3} s", d / 1000.0);
        }
        None => {
            let _ = writeln!(o, "  startup    never started");
        }
    }
    let _ = writeln!(
        o,
        "  stalls     {} ({:.3} s total, longest {:.3} s, rebuffer ratio {:.4})",
        s.stall_count,
        s.stall_total_ms / 1000.0,
        s.stall_longest_ms / 1000.0,
        s.rebuffer_ratio
    );
    let _ = writeln!(
        o,
        "  bitrate    {:.0} kbit/s average, {} switches",
        s.avg_bitrate_kbps, s.switch_count
    );
    let _ = writeln!(
        o,
        "  segments   {} ({:.1} MB), played {:.3} s",
        s.segments,
        s.bytes as f64 / 1e6,
        s.play_time_ms / 1000.0
    );
    let _ = writeln!(
        o,
        "  errors     {} request errors, {} retries, {} reconnects{}",
        s.request_errors,
        s.retries,
        s.reconnects,
        if s.gave_up { ", GAVE UP" } else { "" }
    );
    o
}

/// Writes the `--json` file.
pub fn write_output(
    out: &Output,
    wall_anchor_unix_ns: u64,
    summary: &PlayerSummary,
    events: &[Event],
) -> anyhow::Result<()> {
    let value = ProbeOutput::new("player", wall_anchor_unix_ns, summary, events.to_vec());
    write_json(out, &value)
}

/// Writes the `--csv` file: one row per media segment.
pub fn write_csv(out: &Output, events: &[Event]) -> anyhow::Result<()> {
    let mut o = String::from(
        "t_ms,number,quality,bitrate_kbps,bytes,trequest_ms,tresponse_ms,tfinish_ms,throughput_kbps,buffer_ms,attempt,media_start_ms,url\n",
    );
    for e in events {
        if let EventKind::Request(r) = &e.kind
            && r.request_type == RequestType::Media
        {
            let _ = writeln!(
                o,
                "{:.3},{},{},{:.1},{},{:.3},{:.3},{:.3},{:.1},{:.3},{},{:.3},{}",
                e.t_ns as f64 / 1e6,
                r.number.unwrap_or(0),
                r.quality.unwrap_or(0),
                r.bitrate_kbps.unwrap_or(0.0),
                r.bytes,
                r.trequest_ns as f64 / 1e6,
                r.tresponse_ns as f64 / 1e6,
                r.tfinish_ns as f64 / 1e6,
                r.throughput_kbps,
                r.buffer_ms,
                r.attempt,
                r.media_start_ms.unwrap_or(0.0),
                r.url
            );
        }
    }
    write_bytes(out, o.as_bytes())
}

/// An append-only JSONL event log, flushed after every line.
pub struct EventLog {
    file: std::io::BufWriter<Box<dyn Write + Send>>,
}

impl EventLog {
    /// Creates (truncates) the file, or writes to standard output for `-`. A file is
    /// opened where it is (a symlink or a device is written through, not replaced).
    pub fn create(out: &Output) -> anyhow::Result<Self> {
        let w: Box<dyn Write + Send> = match out.path() {
            None => Box::new(crate::console::Stdout),
            Some(path) => Box::new(std::fs::File::create(path).map_err(|e| {
                anyhow::anyhow!(
                    "cannot create {}: {e}; check the folder exists",
                    path.display()
                )
            })?),
        };
        Ok(Self {
            file: std::io::BufWriter::new(w),
        })
    }

    /// Appends one event and flushes it.
    pub fn append(&mut self, e: &Event) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.file, e)?;
        self.file.write_all(b"\n")?;
        self.file.flush()
    }
}

/// One progress line for the terminal, from the latest event.
pub fn progress_line(e: &Event, segments: u64, stalls: u64) -> String {
    let what = match &e.kind {
        EventKind::Request(r) => match (r.request_type, r.quality) {
            (RequestType::Media, Some(q)) => {
                format!(
                    "seg {} q{} {:.0} kbit/s, buffer {:.1} s",
                    r.number.unwrap_or(0),
                    q,
                    r.throughput_kbps,
                    r.buffer_ms / 1000.0
                )
            }
            _ => format!("{:?} loaded", r.request_type).to_lowercase(),
        },
        EventKind::StallStart(_) => "STALLED".into(),
        EventKind::StallEnd(s) => format!("resumed after {:.3} s", s.duration_ms / 1000.0),
        EventKind::RequestError(r) => format!("error {} (attempt {})", r.error, r.attempt),
        EventKind::Startup(s) => format!("playing after {:.3} s", s.delay_ms / 1000.0),
        _ => return String::new(),
    };
    format!(
        "[{:7.1} s] {what} | {segments} segments, {stalls} stalls",
        e.t_ns as f64 / 1e9
    )
}
