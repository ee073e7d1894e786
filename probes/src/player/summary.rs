//! The player summary as a pure function of the session's events, kept list or
//! event by event ([`Summarizer`]).

use crate::record::{Event, EventKind, MediaType, PlayerSummary, RequestType};

/// Computes the summary of one player session from its events (events of other
/// sources are ignored).
pub fn summarize(events: &[Event], source: &str) -> PlayerSummary {
    let mut s = Summarizer::new(source);
    for e in events {
        s.observe(e);
    }
    s.finish()
}

/// The summary of one session built event by event, as they come: what
/// [`summarize`] computes from a kept list, without keeping the list (many sessions
/// in one process keep only this).
#[derive(Debug, Clone)]
pub struct Summarizer {
    source: String,
    s: PlayerSummary,
    start_ns: Option<u64>,
    end_ns: Option<u64>,
    weighted_kbps: f64,
    media_s: f64,
    last_kbps: Option<f64>,
    audio_weighted_kbps: f64,
    audio_s: f64,
    lateness: Vec<f64>,
}

impl Summarizer {
    /// An empty summary of the session whose events carry `source`.
    pub fn new(source: &str) -> Self {
        Self {
            source: source.to_string(),
            s: PlayerSummary::default(),
            start_ns: None,
            end_ns: None,
            weighted_kbps: 0.0,
            media_s: 0.0,
            last_kbps: None,
            audio_weighted_kbps: 0.0,
            audio_s: 0.0,
            lateness: Vec::new(),
        }
    }

    /// Takes one event into the summary (an event of another source is ignored).
    pub fn observe(&mut self, e: &Event) {
        if e.source != self.source {
            return;
        }
        let s = &mut self.s;
        match &e.kind {
            EventKind::SessionStart(x) => {
                self.start_ns = Some(e.t_ns);
                s.url = x.url.clone();
                s.abr = x.abr.clone();
                s.retry = x.retry.clone();
            }
            EventKind::ManifestLoaded(x) => {
                s.format = x.format.clone();
                s.live = x.live;
                s.audio |= !x.audio_representations.is_empty();
            }
            EventKind::Startup(x) => s.startup_delay_ms = Some(x.delay_ms),
            EventKind::StallStart(x) => {
                s.stall_count += 1;
                match x.cause {
                    MediaType::Video => s.video_stalls += 1,
                    MediaType::Audio => s.audio_stalls += 1,
                }
            }
            EventKind::StallEnd(x) => {
                s.stall_total_ms += x.duration_ms;
                s.stall_longest_ms = s.stall_longest_ms.max(x.duration_ms);
            }
            EventKind::Switch(x) if x.media_type == MediaType::Video => s.switch_count += 1,
            EventKind::Request(r) => {
                s.bytes += r.bytes;
                if r.http_version.is_some() {
                    s.http_version.clone_from(&r.http_version);
                }
                if r.request_type == RequestType::Media && r.media_type == Some(MediaType::Audio) {
                    s.audio_segments += 1;
                    let dur = r.media_duration_ms.unwrap_or(0.0) / 1000.0;
                    self.audio_weighted_kbps += segment_kbps(r) * dur;
                    self.audio_s += dur;
                    self.lateness
                        .push(r.trequest_ns.saturating_sub(r.tscheduled_ns) as f64 / 1e6);
                } else if r.request_type == RequestType::Media {
                    s.segments += 1;
                    let kbps = segment_kbps(r);
                    let dur = r.media_duration_ms.unwrap_or(0.0) / 1000.0;
                    self.weighted_kbps += kbps * dur;
                    self.media_s += dur;
                    s.qoe_linear += kbps / 1000.0;
                    if let Some(prev) = self.last_kbps {
                        let change = (kbps - prev).abs();
                        s.bitrate_change_sum_kbps += change;
                        s.qoe_linear -= change / 1000.0;
                    }
                    self.last_kbps = Some(kbps);
                    self.lateness
                        .push(r.trequest_ns.saturating_sub(r.tscheduled_ns) as f64 / 1e6);
                }
            }
            EventKind::RequestError(_) => s.request_errors += 1,
            EventKind::Retry(_) => s.retries += 1,
            EventKind::Reconnect(_) => s.reconnects += 1,
            EventKind::Connection(c) => s.connections = s.connections.max(c.total),
            EventKind::GaveUp(_) => s.gave_up = true,
            EventKind::Ended(x) => {
                self.end_ns = Some(e.t_ns);
                s.end_reason = Some(x.reason);
                s.play_time_ms = x.played_ms;
            }
            _ => {}
        }
    }

    /// Each media request's timing error so far (sent minus scheduled), ms, in the
    /// order observed: what the summary's `request_lateness_*` percentiles are of.
    pub fn lateness_ms(&self) -> &[f64] {
        &self.lateness
    }

    /// The summary of everything observed.
    pub fn finish(self) -> PlayerSummary {
        let Self {
            mut s,
            start_ns,
            end_ns,
            weighted_kbps,
            media_s,
            audio_weighted_kbps,
            audio_s,
            mut lateness,
            ..
        } = self;
        if media_s > 0.0 {
            s.avg_bitrate_kbps = weighted_kbps / media_s;
        }
        if audio_s > 0.0 {
            s.audio_avg_bitrate_kbps = audio_weighted_kbps / audio_s;
        }
        let denom = s.play_time_ms + s.stall_total_ms;
        if denom > 0.0 {
            s.rebuffer_ratio = s.stall_total_ms / denom;
        }
        s.qoe_linear -= 4.3 * s.stall_total_ms / 1000.0;
        if let (Some(a), Some(b)) = (start_ns, end_ns) {
            s.session_ms = b.saturating_sub(a) as f64 / 1e6;
        }
        if !lateness.is_empty() {
            lateness.sort_by(f64::total_cmp);
            s.request_lateness_p50_ms = percentile(&lateness, 0.50);
            s.request_lateness_p99_ms = percentile(&lateness, 0.99);
            s.request_lateness_max_ms = lateness[lateness.len() - 1];
        }
        s
    }
}

/// A media segment's bitrate: the announced one, or, when the manifest announces
/// none (an HLS audio rendition, a bare media playlist), the segment's own size over
/// its duration.
fn segment_kbps(r: &crate::record::RequestRecord) -> f64 {
    match r.bitrate_kbps {
        Some(k) if k > 0.0 => k,
        _ => {
            let dur_s = r.media_duration_ms.unwrap_or(0.0) / 1000.0;
            if dur_s > 0.0 {
                r.bytes as f64 * 8.0 / dur_s / 1000.0
            } else {
                0.0
            }
        }
    }
}

/// Nearest-rank percentile of sorted values (`q` in 0..=1).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&v, 1.0), 100.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }
}
