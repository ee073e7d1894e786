//! What `play` and `simulate` print and write: the human summary, `--json` (the
//! summary fields, schema version, anchor and events), `--csv` (one row per media
//! segment), `--events` (JSONL as it happens).

use super::output::{Output, write_bytes, write_json};
use record::{Event, EventKind, MediaType, PlayerSummary, ProbeOutput, RequestType};
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
    if s.audio {
        let _ = writeln!(
            o,
            "  audio      {} segments, {:.0} kbit/s average; stalls by video {}, by audio {}",
            s.audio_segments, s.audio_avg_bitrate_kbps, s.video_stalls, s.audio_stalls
        );
    }
    if let Some(v) = &s.http_version {
        let _ = writeln!(o, "  http       {v}, {} connections", s.connections);
    }
    let gave_up = match (s.gave_up, s.retry.as_str()) {
        (false, _) => "",
        (true, "dashjs") => ", GAVE UP (server blocklisted as dash.js does: stalled until the end)",
        (true, _) => ", GAVE UP",
    };
    let _ = writeln!(
        o,
        "  errors     {} request errors, {} retries, {} reconnects{gave_up}",
        s.request_errors, s.retries, s.reconnects,
    );
    o
}

/// Why a session measured nothing, when it downloaded no media segment at all (a
/// manifest whose durations leave nothing to play, a server that never answered, a
/// stop before the first segment): the command then exits 1 with this message
/// instead of 0, after writing its outputs.
pub fn nothing_played(s: &PlayerSummary) -> Option<String> {
    (s.segments == 0 && s.audio_segments == 0).then(|| {
        let why = match s.end_reason {
            Some(record::EndReason::ContentEnd) => {
                "the content ended before its first segment: check the manifest's durations"
            }
            Some(record::EndReason::Duration) => "--duration ended before the first segment",
            Some(record::EndReason::GaveUp) => "the player gave up on its requests",
            Some(record::EndReason::Interrupted) => "the session was stopped first",
            None => "the session never ended",
        };
        format!(
            "nothing was played: no media segment was downloaded in {:.1} s ({why}; {} request errors)",
            s.session_ms / 1000.0,
            s.request_errors
        )
    })
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

/// Writes the `--csv` file: one row per media segment (RFC 4180: a field with a
/// comma, a quote or a line break, such as some URLs, is quoted).
pub fn write_csv(out: &Output, events: &[Event]) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "t_ms",
        "number",
        "quality",
        "bitrate_kbps",
        "bytes",
        "trequest_ms",
        "tresponse_ms",
        "tfinish_ms",
        "throughput_kbps",
        "buffer_ms",
        "attempt",
        "media_start_ms",
        "url",
        "media",
    ])?;
    let ms = |ns: u64| format!("{:.3}", ns as f64 / 1e6);
    for e in events {
        if let EventKind::Request(r) = &e.kind
            && r.request_type == RequestType::Media
        {
            let media = match r.media_type {
                Some(MediaType::Audio) => "audio",
                _ => "video",
            };
            w.write_record([
                ms(e.t_ns),
                r.number.unwrap_or(0).to_string(),
                r.quality.unwrap_or(0).to_string(),
                format!("{:.1}", r.bitrate_kbps.unwrap_or(0.0)),
                r.bytes.to_string(),
                ms(r.trequest_ns),
                ms(r.tresponse_ns),
                ms(r.tfinish_ns),
                format!("{:.1}", r.throughput_kbps),
                format!("{:.3}", r.buffer_ms),
                r.attempt.to_string(),
                format!("{:.3}", r.media_start_ms.unwrap_or(0.0)),
                r.url.clone(),
                media.to_string(),
            ])?;
        }
    }
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    write_bytes(out, &bytes)
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
            (RequestType::Media, Some(q)) if r.media_type != Some(MediaType::Audio) => {
                format!(
                    "seg {} q{} {:.0} kbit/s, buffer {:.1} s",
                    r.number.unwrap_or(0),
                    q,
                    r.throughput_kbps,
                    r.buffer_ms / 1000.0
                )
            }
            (RequestType::Media, _) => return String::new(),
            _ => format!("{:?} loaded", r.request_type).to_lowercase(),
        },
        EventKind::StallStart(x) => match x.cause {
            MediaType::Audio => "STALLED (audio buffer empty)".into(),
            MediaType::Video => "STALLED".into(),
        },
        EventKind::GaveUp(g) => format!(
            "gave up on {} after {} tries",
            format!("{:?}", g.request_type).to_lowercase(),
            g.attempts
        ),
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
