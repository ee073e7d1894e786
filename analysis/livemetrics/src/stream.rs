//! The live stream probe's metrics: stalls, stall time, disconnects, reconnects, and
//! the latest sample's cache level, bitrate and frame counts.

use crate::families::{Amount, Count, Level, touch};
use crate::labels::ProbeLabels;
use prometheus_client::registry::{Registry, Unit};
use record::EventKind;

/// The stream probe's metric families.
pub(crate) struct StreamMetrics {
    stalls: Count<ProbeLabels>,
    stall: Amount<ProbeLabels>,
    disconnects: Count<ProbeLabels>,
    reconnects: Count<ProbeLabels>,
    cache: Level<ProbeLabels>,
    bitrate: Level<ProbeLabels>,
    rendered: Level<ProbeLabels>,
    dropped: Level<ProbeLabels>,
}

impl StreamMetrics {
    /// Registers the families.
    pub(crate) fn register(r: &mut Registry) -> Self {
        let m = Self {
            stalls: Count::default(),
            stall: Amount::default(),
            disconnects: Count::default(),
            reconnects: Count::default(),
            cache: Level::default(),
            bitrate: Level::default(),
            rendered: Level::default(),
            dropped: Level::default(),
        };
        r.register(
            "stream_stalls",
            "Stalls (playback ran out of data)",
            m.stalls.clone(),
        );
        r.register_with_unit(
            "stream_stall",
            "Time spent stalled, counted when a stall ends",
            Unit::Seconds,
            m.stall.clone(),
        );
        r.register(
            "stream_disconnects",
            "Connections to the stream server lost",
            m.disconnects.clone(),
        );
        r.register(
            "stream_reconnects",
            "Reconnections after a disconnect",
            m.reconnects.clone(),
        );
        r.register_with_unit(
            "stream_cache_level",
            "Cache level at the latest sample",
            Unit::Seconds,
            m.cache.clone(),
        );
        r.register(
            "stream_bitrate_bits_per_second",
            "Received bitrate at the latest sample",
            m.bitrate.clone(),
        );
        r.register(
            "stream_frames_rendered",
            "Frames rendered since the start, at the latest sample",
            m.rendered.clone(),
        );
        r.register(
            "stream_frames_dropped",
            "Frames dropped since the start, at the latest sample",
            m.dropped.clone(),
        );
        m
    }

    /// Updates the families from one event; false when it is not the stream's.
    pub(crate) fn observe(&self, labels: &ProbeLabels, kind: &EventKind) -> bool {
        match kind {
            EventKind::StreamStart(_) => {
                // Counters at zero from the start (absent reads as no data).
                touch(&self.stalls, labels);
                touch(&self.stall, labels);
                touch(&self.disconnects, labels);
                touch(&self.reconnects, labels);
            }
            EventKind::StreamStallStart(_) => {
                self.stalls.get_or_create(labels).inc();
            }
            EventKind::StreamStallEnd(s) => {
                self.stall
                    .get_or_create(labels)
                    .inc_by(s.duration_ms / 1000.0);
            }
            EventKind::StreamDisconnect(_) => {
                self.disconnects.get_or_create(labels).inc();
            }
            EventKind::StreamReconnect(_) => {
                self.reconnects.get_or_create(labels).inc();
            }
            EventKind::StreamSample(s) => {
                self.cache.get_or_create(labels).set(s.level_ms / 1000.0);
                self.bitrate
                    .get_or_create(labels)
                    .set(s.bitrate_kbps * 1000.0);
                self.rendered
                    .get_or_create(labels)
                    .set(s.frames_rendered as f64);
                self.dropped
                    .get_or_create(labels)
                    .set(s.frames_dropped as f64);
            }
            _ => return false,
        }
        true
    }
}
