//! What a per-run timeline plot shows, derived from the run's events: one [`Panel`]
//! per quantity (buffer level, bitrate, cache fill, dropped frames, RTT, throughput),
//! each with its series and the intervals where the service was interrupted (stalls,
//! freezes), in seconds since the run's start. Pure: no drawing here.

use crate::judge::detect_kind;
use crate::run::RunSummary;
use crate::timeline::TimelineEvent;

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

/// Stall bands from kinds ending in `stall_start` / `stall_end`.
fn stall_bands(events: &[&TimelineEvent], end_s: f64) -> Vec<(f64, f64)> {
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
fn buffer_level(events: &[&TimelineEvent]) -> Vec<(f64, f64)> {
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
        let t = e.t_s();
        match e.kind.as_str() {
            "startup" => {
                level = e.buffer_ms.map_or(level, |b| b / 1000.0);
                pts.push((t, level));
                playing = true;
            }
            "request" => {
                let Some(b) = e.buffer_ms else { continue };
                if playing {
                    drain_to(t, level, since, &mut pts);
                }
                level = b / 1000.0;
                pts.push((t, level));
            }
            "stall_start" => {
                if playing {
                    drain_to(t, level, since, &mut pts);
                }
                pts.push((t, 0.0));
                level = 0.0;
                playing = false;
            }
            "stall_end" => {
                level = e.buffer_ms.map_or(level, |b| b / 1000.0);
                pts.push((t, level));
                playing = true;
            }
            "ended" => {
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
pub fn panels(summary: &RunSummary, events: &[TimelineEvent]) -> Vec<Panel> {
    let end_s = events.iter().map(|e| e.t_s()).fold(0.0, f64::max);
    let mut out = Vec::new();
    for (name, value) in &summary.probes {
        let own: Vec<&TimelineEvent> = events
            .iter()
            .filter(|e| e.probe() == Some(name.as_str()))
            .collect();
        if own.is_empty() || detect_kind(value).is_none() {
            continue;
        }
        let kind = value.get("probe").and_then(|p| p.as_str()).unwrap_or("");
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
            "player" => {
                let stalls = stall_bands(&own, end_s);
                panel(
                    "buffer level (stalls in red)",
                    "buffer (s)",
                    buffer_level(&own),
                    false,
                    stalls.clone(),
                );
                let mut rate: Vec<(f64, f64)> = Vec::new();
                for e in own
                    .iter()
                    .filter(|e| e.kind == "request" && e.request_type.as_deref() == Some("media"))
                {
                    let Some(b) = e.bitrate_kbps else { continue };
                    // a step: the previous bitrate holds until this segment
                    if let Some(&(_, prev)) = rate.last()
                        && prev != b
                    {
                        rate.push((e.t_s(), prev));
                    }
                    rate.push((e.t_s(), b));
                }
                panel(
                    "bitrate of the media downloaded",
                    "bitrate (kbit/s)",
                    rate,
                    false,
                    stalls,
                );
            }
            "stream" => {
                let stalls = stall_bands(&own, end_s);
                let cache: Vec<(f64, f64)> = own
                    .iter()
                    .filter_map(|e| Some((e.t_s(), e.cache_ms.map(|c| c / 1000.0)?)))
                    .collect();
                if cache.is_empty() {
                    let pct = own
                        .iter()
                        .filter_map(|e| Some((e.t_s(), e.cache_pct?)))
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
                    .filter_map(|e| Some((e.t_s(), e.frames_dropped? as f64)))
                    .collect();
                panel("frames dropped", "dropped frames", dropped, false, stalls);
            }
            "game" => {
                let freezes: Vec<(f64, f64)> = own
                    .iter()
                    .filter(|e| e.kind == "game_freeze")
                    .map(|e| {
                        let d = e.duration_ms.unwrap_or(0.0) / 1000.0;
                        let a = e.start_ns.map_or(e.t_s() - d, s);
                        (a, a + d)
                    })
                    .collect();
                let rtt = own
                    .iter()
                    .filter(|e| e.kind == "game_snapshot")
                    .flat_map(|e| {
                        let t = e.t_s();
                        e.rtt_ns.iter().flatten().map(move |r| (t, *r as f64 / 1e6))
                    })
                    .collect();
                panel("RTT (freezes in red)", "RTT (ms)", rtt, true, freezes);
            }
            "download" => {
                let stalls = own
                    .iter()
                    .filter(|e| e.kind == "download_stall_end")
                    .map(|e| {
                        let d = e.duration_ms.unwrap_or(0.0) / 1000.0;
                        let a = e.start_ns.map_or(e.t_s() - d, s);
                        (a, a + d)
                    })
                    .collect();
                let tput = own
                    .iter()
                    .filter(|e| e.kind == "download_progress")
                    .filter_map(|e| Some((e.t_s(), e.throughput_kbps? / 1000.0)))
                    .collect();
                panel(
                    "throughput per 100 ms (stalls in red)",
                    "throughput (Mbit/s)",
                    tput,
                    false,
                    stalls,
                );
            }
            _ => {}
        }
    }
    out
}
