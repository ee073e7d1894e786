//! The stream reader's summary as a pure function of its events.

use crate::record::{Event, EventKind, StreamSummary};

/// Computes the summary of one reader session from its events (events of other
/// sources are ignored). A stall still open at the end counts up to the last event.
pub fn summarize(events: &[Event], source: &str) -> StreamSummary {
    let mut s = StreamSummary::default();
    let mut start_ns = None;
    let mut last_ns = 0;
    let mut open_stall: Option<u64> = None;
    let mut min_cache: Option<f64> = None;
    let mut playing = false;
    for e in events.iter().filter(|e| e.source == source) {
        last_ns = e.t_ns;
        match &e.kind {
            EventKind::StreamStart(x) => {
                start_ns = Some(e.t_ns);
                s.url = x.url.clone();
                s.cache_ms = x.cache_ms;
            }
            EventKind::StreamPlaying(x) => {
                playing = true;
                s.startup_ms = Some(x.startup_ms);
                min_cache = Some(min_cache.map_or(x.level_ms, |m: f64| m.min(x.level_ms)));
            }
            EventKind::StreamSample(x) => {
                s.frames_rendered = x.frames_rendered;
                s.frames_dropped = x.frames_dropped;
                s.short_underruns = x.short_underruns;
                s.bytes += x.bytes;
                if playing {
                    min_cache = Some(min_cache.map_or(x.min_level_ms, |m| m.min(x.min_level_ms)));
                }
            }
            EventKind::StreamStallStart(_) => {
                s.stall_count += 1;
                open_stall = Some(e.t_ns);
                min_cache = Some(0.0);
            }
            EventKind::StreamStallEnd(x) => {
                open_stall = None;
                s.stall_total_ms += x.duration_ms;
                s.stall_longest_ms = s.stall_longest_ms.max(x.duration_ms);
            }
            EventKind::StreamDisconnect(_) => s.disconnects += 1,
            EventKind::StreamReconnect(_) => s.reconnects += 1,
            EventKind::StreamEnd(x) => {
                s.end_reason = Some(x.reason);
                s.played_ms = x.played_ms;
            }
            _ => {}
        }
    }
    if let Some(t) = open_stall {
        let d = last_ns.saturating_sub(t) as f64 / 1e6;
        s.stall_total_ms += d;
        s.stall_longest_ms = s.stall_longest_ms.max(d);
    }
    s.min_cache_ms = min_cache.unwrap_or(0.0);
    let frames = s.frames_rendered + s.frames_dropped;
    if frames > 0 {
        s.drop_ratio = s.frames_dropped as f64 / frames as f64;
    }
    if let Some(t0) = start_ns {
        s.session_ms = last_ns.saturating_sub(t0) as f64 / 1e6;
        if s.session_ms > 0.0 {
            s.avg_bitrate_kbps = s.bytes as f64 * 8.0 / s.session_ms;
        }
    }
    s
}
