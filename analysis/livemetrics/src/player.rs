//! The player's (DASH/HLS) metrics: stalls, stall time, media segments, request
//! errors, reconnects, segment throughput and the video bitrate chosen.

use crate::families::{
    Amount, Count, Hist, Level, bits_per_second, hist, interruption_seconds, touch,
};
use crate::labels::ProbeLabels;
use prometheus_client::registry::{Registry, Unit};
use record::{EventKind, MediaType, RequestType};

/// The player's metric families.
pub(crate) struct PlayerMetrics {
    stalls: Count<ProbeLabels>,
    stall: Amount<ProbeLabels>,
    stall_duration: Hist<ProbeLabels>,
    segments: Count<ProbeLabels>,
    audio_segments: Count<ProbeLabels>,
    request_errors: Count<ProbeLabels>,
    reconnects: Count<ProbeLabels>,
    throughput: Hist<ProbeLabels>,
    bitrate: Level<ProbeLabels>,
}

impl PlayerMetrics {
    /// Registers the families.
    pub(crate) fn register(r: &mut Registry) -> Self {
        let m = Self {
            stalls: Count::default(),
            stall: Amount::default(),
            stall_duration: hist(interruption_seconds),
            segments: Count::default(),
            audio_segments: Count::default(),
            request_errors: Count::default(),
            reconnects: Count::default(),
            throughput: hist(bits_per_second),
            bitrate: Level::default(),
        };
        r.register(
            "player_stalls",
            "Stalls (rebuffering events: the buffer ran empty during playback)",
            m.stalls.clone(),
        );
        r.register_with_unit(
            "player_stall",
            "Time spent stalled, counted when a stall ends",
            Unit::Seconds,
            m.stall.clone(),
        );
        r.register_with_unit(
            "player_stall_duration",
            "Duration of each stall",
            Unit::Seconds,
            m.stall_duration.clone(),
        );
        r.register(
            "player_segments",
            "Media segments downloaded (video, or muxed; audio apart)",
            m.segments.clone(),
        );
        r.register(
            "player_audio_segments",
            "Audio segments downloaded (separate audio representations)",
            m.audio_segments.clone(),
        );
        r.register(
            "player_request_errors",
            "Failed request attempts",
            m.request_errors.clone(),
        );
        r.register(
            "player_reconnects",
            "Requests that succeeded after transport errors (the service is back)",
            m.reconnects.clone(),
        );
        r.register(
            "player_segment_throughput_bits_per_second",
            "Throughput of each media segment download, video or audio (bytes x 8 / (finish - request))",
            m.throughput.clone(),
        );
        r.register(
            "player_video_bitrate_bits_per_second",
            "Bitrate of the video representation switched to last",
            m.bitrate.clone(),
        );
        m
    }

    /// Updates the families from one event; false when it is not the player's.
    pub(crate) fn observe(&self, labels: &ProbeLabels, kind: &EventKind) -> bool {
        match kind {
            EventKind::SessionStart(_) => {
                // Counters and histograms at zero from the start: a series that is
                // absent until the first stall reads as "no data", not as 0.
                touch(&self.stalls, labels);
                touch(&self.stall, labels);
                touch(&self.stall_duration, labels);
                touch(&self.segments, labels);
                touch(&self.audio_segments, labels);
                touch(&self.request_errors, labels);
                touch(&self.reconnects, labels);
                touch(&self.throughput, labels);
            }
            EventKind::StallStart(_) => {
                self.stalls.get_or_create(labels).inc();
            }
            EventKind::StallEnd(s) => {
                let secs = s.duration_ms / 1000.0;
                self.stall.get_or_create(labels).inc_by(secs);
                self.stall_duration.get_or_create(labels).observe(secs);
            }
            EventKind::Request(r) => {
                if r.request_type == RequestType::Media {
                    let audio = r.media_type == Some(MediaType::Audio);
                    let family = if audio {
                        &self.audio_segments
                    } else {
                        &self.segments
                    };
                    family.get_or_create(labels).inc();
                    let secs = r.tfinish_ns.saturating_sub(r.trequest_ns) as f64 / 1e9;
                    if secs > 0.0 {
                        self.throughput
                            .get_or_create(labels)
                            .observe(r.bytes as f64 * 8.0 / secs);
                    }
                }
            }
            EventKind::RequestError(_) => {
                self.request_errors.get_or_create(labels).inc();
            }
            EventKind::Reconnect(_) => {
                self.reconnects.get_or_create(labels).inc();
            }
            EventKind::Switch(s) => {
                if s.media_type == MediaType::Video {
                    self.bitrate.get_or_create(labels).set(s.to_kbps * 1000.0);
                }
            }
            _ => return false,
        }
        true
    }
}
