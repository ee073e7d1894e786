//! What a per-run timeline plot shows, derived from the run's events: one [`Panel`]
//! per quantity (buffer level, bitrate, cache fill, dropped frames, RTT, throughput),
//! each with its series and the intervals where the service was interrupted (stalls,
//! freezes), in seconds since the run's start. Pure: no drawing here.

use crate::judge::detect_kind;
use record::{Event, EventKind, ProbeKind, RequestType, RunSummary};

/// One panel of a run's timeline plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title (`player: buffer level`).
    pub title: String,
    /// Y axis description with unit.
    pub y_desc: String,
    /// (t seconds, value) points, time-ordered.
    pub points: Vec<(f64, f64)>,
    /// Draw points as dots (samples) rather than a line.
    pub dots: bool,
    /// Interruptions (stalls, freezes): (start s, end s).
    pub bands: Vec<(f64, f64)>,
}

const MAX_POINTS: usize = 1200;

/// Keeps the shape of a long series: per time bucket its first, min and max points.
pub fn decimate(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let per = points.len().div_ceil(MAX_POINTS / 3);
    let mut out = Vec::with_capacity(MAX_POINTS + 3);
    for chunk in points.chunks(per) {
        let lo = chunk.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = chunk.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        let mut pick = vec![chunk[0]];
        pick.extend(lo.copied());
        pick.extend(hi.copied());
        pick.sort_by(|a, b| a.0.total_cmp(&b.0));
        pick.dedup();
        out.extend(pick);
    }
    out
}

fn s(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// An event's time in seconds since the run's start.
fn t_s(e: &Event) -> f64 {
    s(e.t_ns)
}

/// The stream reader's cache level where an event states it: when playback starts,
/// at every sample and at a disconnect.
fn cache_level_ms(kind: &EventKind) -> Option<f64> {
    match kind {
        EventKind::StreamPlaying(p) => Some(p.level_ms),
        EventKind::StreamSample(s) => Some(s.level_ms),
        EventKind::StreamDisconnect(d) => Some(d.level_ms),
        _ => None,
    }
}

/// Stall bands of a video probe.
fn stall_bands(events: &[&Event], end_s: f64) -> Vec<(f64, f64)> {
    crate::judge::video_stalls(events)
        .into_iter()
        .map(|st| {
            let a = s(st.start_ns);
            (a, st.duration_ms.map_or(end_s, |d| a + d / 1000.0))
        })
        .collect()
}

/// The buffer level, piecewise linear: it jumps at each `request` to that request's
/// `buffer_ms`, drains at 1 s/s while playing, is 0 during stalls.
fn buffer_level(events: &[&Event]) -> Vec<(f64, f64)> {
    let mut pts = Vec::new();
    let (mut playing, mut level, mut since) = (false, 0.0f64, 0.0f64);
    let drain_to = |t: f64, level: f64, since: f64, pts: &mut Vec<(f64, f64)>| {
        let left = level - (t - since);
        if left < 0.0 {
            pts.push((since + level, 0.0));
            pts.push((t, 0.0));
            0.0
        } else {
            pts.push((t, left));
            left
        }
    };
    for e in events {
        let t = t_s(e);
        match &e.kind {
            EventKind::Startup(s) => {
                level = s.buffer_ms / 1000.0;
                pts.push((t, level));
                playing = true;
            }
            EventKind::Request(r) => {
                if playing {
                    drain_to(t, level, since, &mut pts);
                }
                level = r.buffer_ms / 1000.0;
                pts.push((t, level));
            }
            EventKind::StallStart(_) => {
                if playing {
                    drain_to(t, level, since, &mut pts);
                }
                pts.push((t, 0.0));
                level = 0.0;
                playing = false;
            }
            EventKind::StallEnd(s) => {
                level = s.buffer_ms / 1000.0;
                pts.push((t, level));
                playing = true;
            }
            EventKind::Ended(_) => {
                if playing {
                    level = drain_to(t, level, since, &mut pts);
                }
                playing = false;
            }
            _ => continue,
        }
        since = t;
    }
    pts
}

/// The panels of one run: for each probe, what its kind plots.
pub fn panels(summary: &RunSummary, events: &[Event]) -> Vec<Panel> {
    let end_s = events.iter().map(t_s).fold(0.0, f64::max);
    let mut out = Vec::new();
    for (name, probe) in &summary.probes {
        let own: Vec<&Event> = events
            .iter()
            .filter(|e| e.probe() == Some(name.as_str()))
            .collect();
        let Some(kind) = probe.kind() else { continue };
        if own.is_empty() || detect_kind(probe).is_none() {
            continue;
        }
        let mut panel = |title: &str, y: &str, points: Vec<(f64, f64)>, dots, bands| {
            if !points.is_empty() {
                out.push(Panel {
                    title: format!("{name}: {title}"),
                    y_desc: y.into(),
                    points: decimate(points),
                    dots,
                    bands,
                });
            }
        };
        match kind {
            ProbeKind::Player => {
                let stalls = stall_bands(&own, end_s);
                panel(
                    "buffer level (stalls in red)",
                    "buffer (s)",
                    buffer_level(&own),
                    false,
                    stalls.clone(),
                );
                let mut rate: Vec<(f64, f64)> = Vec::new();
                for e in &own {
                    let EventKind::Request(r) = &e.kind else {
                        continue;
                    };
                    let (RequestType::Media, Some(b)) = (r.request_type, r.bitrate_kbps) else {
                        continue;
                    };
                    // a step: the previous bitrate holds until this segment
                    if let Some(&(_, prev)) = rate.last()
                        && prev != b
                    {
                        rate.push((t_s(e), prev));
                    }
                    rate.push((t_s(e), b));
                }
                panel(
                    "bitrate of the media downloaded",
                    "bitrate (kbit/s)",
                    rate,
                    false,
                    stalls,
                );
            }
            ProbeKind::Stream => {
                let stalls = stall_bands(&own, end_s);
                let cache: Vec<(f64, f64)> = own
                    .iter()
                    .filter_map(|e| Some((t_s(e), cache_level_ms(&e.kind)? / 1000.0)))
                    .collect();
                if cache.is_empty() {
                    let pct = own
                        .iter()
                        .filter_map(|e| match &e.kind {
                            EventKind::StreamSample(s) => Some((t_s(e), s.level_percent?)),
                            _ => None,
                        })
                        .collect();
                    panel(
                        "cache fill (stalls in red)",
                        "cache (%)",
                        pct,
                        false,
                        stalls.clone(),
                    );
                } else {
                    panel(
                        "cache fill (stalls in red)",
                        "cache (s)",
                        cache,
                        false,
                        stalls.clone(),
                    );
                }
                let dropped = own
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::StreamSample(s) => Some((t_s(e), s.frames_dropped as f64)),
                        _ => None,
                    })
                    .collect();
                panel("frames dropped", "dropped frames", dropped, false, stalls);
            }
            ProbeKind::Game => {
                let freezes: Vec<(f64, f64)> = own
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::GameFreeze(g) => {
                            let a = s(g.start_ns);
                            Some((a, a + g.duration_ms / 1000.0))
                        }
                        _ => None,
                    })
                    .collect();
                let rtt = own
                    .iter()
                    .flat_map(|e| {
                        let t = t_s(e);
                        let rtts = match &e.kind {
                            EventKind::GameSnapshot(g) => g.rtt_ns.as_slice(),
                            _ => &[],
                        };
                        rtts.iter().map(move |r| (t, *r as f64 / 1e6))
                    })
                    .collect();
                panel("RTT (freezes in red)", "RTT (ms)", rtt, true, freezes);
            }
            ProbeKind::Download => {
                let stalls = own
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::DownloadStallEnd(d) => {
                            let a = s(d.start_ns);
                            Some((a, a + d.duration_ms / 1000.0))
                        }
                        _ => None,
                    })
                    .collect();
                let tput = own
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::DownloadProgress(p) => {
                            Some((t_s(e), p.throughput_kbps / 1000.0))
                        }
                        _ => None,
                    })
                    .collect();
                panel(
                    "throughput per 100 ms (stalls in red)",
                    "throughput (Mbit/s)",
                    tput,
                    false,
                    stalls,
                );
            }
        }
    }
    out
}
