//! Rules for video: the DASH/HLS player (`probe: player`) and the live stream reader
//! (`probe: stream`). Failed: the player gave up, a stall never ended, the stream
//! client disconnected and did not reconnect, or the stream could not be played. Impaired: more rebuffering events in
//! the migration window than the profile allows; for a live stream without cache,
//! more dropped frames than the profile's share of the window's frames.

use super::{Findings, ProbeCtx, Reason};
use record::{EndReason, Event, EventKind, ProbeKind, ProbeSummary};

/// One rebuffering event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stall {
    /// Playback stopped, `t_ns`.
    pub start_ns: u64,
    /// Length, ms (`None`: it never ended).
    pub duration_ms: Option<f64>,
    /// Closed by the end of the run, not by data.
    pub unresolved: bool,
}

/// The stalls in a video probe's events: the player's `stall_start` / `stall_end`
/// and the stream reader's `stream_stall_start` / `stream_stall_end`.
pub(crate) fn stalls(events: &[&Event]) -> Vec<Stall> {
    let mut out = Vec::new();
    let mut open: Option<u64> = None;
    for e in events {
        let end = match &e.kind {
            EventKind::StallStart(_) | EventKind::StreamStallStart(_) => {
                if let Some(s) = open.take() {
                    out.push(Stall {
                        start_ns: s,
                        duration_ms: None,
                        unresolved: false,
                    });
                }
                open = Some(e.t_ns);
                continue;
            }
            EventKind::StallEnd(s) => (s.duration_ms, s.unresolved),
            EventKind::StreamStallEnd(s) => (s.duration_ms, false),
            _ => continue,
        };
        let d = end.0.max(0.0);
        let start = open
            .take()
            .unwrap_or_else(|| e.t_ns.saturating_sub((d * 1e6) as u64));
        out.push(Stall {
            start_ns: start,
            duration_ms: Some(d),
            unresolved: end.1,
        });
    }
    if let Some(s) = open {
        out.push(Stall {
            start_ns: s,
            duration_ms: None,
            unresolved: true,
        });
    }
    out
}

/// What the video rules read of a player's or a stream reader's summary.
struct Totals {
    stall_count: u64,
    stall_longest_ms: f64,
}

pub(crate) fn judge(ctx: &ProbeCtx<'_>, f: &mut Findings) {
    let name = ctx.name;
    // The stream reader ends with an error when it never got a frame (unreachable,
    // not a stream) or could not decode: the service was not delivered.
    if ctx.kind == ProbeKind::Stream
        && let Some(err) = ctx.error
    {
        f.failed.push(Reason::new(
            "stream could not be played",
            format!("`{name}`: {err}"),
        ));
    }
    let totals = match ctx.summary {
        Some(ProbeSummary::Player(p)) => {
            if p.gave_up || p.end_reason == Some(EndReason::GaveUp) {
                f.failed.push(Reason::new(
                    "player gave up and did not recover",
                    format!(
                        "`{name}`: its retry policy ran out ({} failed requests)",
                        p.request_errors
                    ),
                ));
            }
            Some(Totals {
                stall_count: p.stall_count,
                stall_longest_ms: p.stall_longest_ms,
            })
        }
        Some(ProbeSummary::Stream(s)) => {
            if s.disconnects > s.reconnects {
                f.failed.push(Reason::new(
                    "client disconnected and did not reconnect",
                    format!(
                        "`{name}`: {} disconnects, {} reconnects",
                        s.disconnects, s.reconnects
                    ),
                ));
            }
            Some(Totals {
                stall_count: s.stall_count,
                stall_longest_ms: s.stall_longest_ms,
            })
        }
        _ => None,
    };
    let all = stalls(ctx.events);
    if let Some(s) = all.iter().find(|s| s.unresolved) {
        f.failed.push(Reason::new(
            "playback never resumed",
            format!(
                "`{name}`: stalled at {:.1} s until the end of the run",
                s.start_ns as f64 / 1e9
            ),
        ));
    }
    let l = ctx.limits;
    let counts = |s: &&Stall| s.duration_ms.is_none_or(|d| d >= l.min_stall_ms);
    if ctx.events.is_empty() {
        if let Some(t) = totals {
            f.notes.push(format!(
                "`{name}`: no timeline events, stalls judged on the whole run's summary"
            ));
            if t.stall_count > l.max_stalls {
                f.impaired.push(Reason::new(
                    "rebuffering during the run",
                    format!(
                        "`{name}`: {} stalls in the run (longest {:.0} ms), profile allows {}",
                        t.stall_count, t.stall_longest_ms, l.max_stalls
                    ),
                ));
            }
        }
    } else {
        let in_window: Vec<&Stall> = all
            .iter()
            .filter(|s| ctx.in_window(s.start_ns))
            .filter(counts)
            .collect();
        if in_window.len() as u64 > l.max_stalls {
            let longest = in_window
                .iter()
                .filter_map(|s| s.duration_ms)
                .fold(0.0, f64::max);
            let baseline = all
                .iter()
                .filter(|s| ctx.in_baseline(s.start_ns))
                .filter(counts)
                .count();
            f.impaired.push(Reason::new(
                "rebuffering in the migration window",
                format!(
                    "`{name}`: {} stall{} (longest {longest:.0} ms) in the migration window, profile allows {}; {baseline} before the migration",
                    in_window.len(),
                    if in_window.len() == 1 { "" } else { "s" },
                    l.max_stalls
                ),
            ));
        }
    }
    if let Some(max_pct) = l.max_dropped_frames_pct {
        dropped_frames(ctx, max_pct, f);
    }
}

/// Dropped frames in the window from the probe's cumulative frame counters, or from
/// the summary's totals when the timeline has none.
fn dropped_frames(ctx: &ProbeCtx<'_>, max_pct: f64, f: &mut Findings) {
    let name = ctx.name;
    let counters: Vec<(u64, u64, u64)> = ctx
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StreamSample(s) => Some((e.t_ns, s.frames_dropped, s.frames_rendered)),
            _ => None,
        })
        .collect();
    let (dropped, rendered, scope) = if let (Some(w), false) = (ctx.window, counters.is_empty()) {
        let at = |t: u64| {
            counters
                .iter()
                .rev()
                .find(|c| c.0 <= t)
                .map(|c| (c.1, c.2))
                .unwrap_or((0, 0))
        };
        let (d0, r0) = at(w.requested_ns.saturating_sub(1));
        let (d1, r1) = at(w.end_ns);
        (
            d1.saturating_sub(d0) as f64,
            r1.saturating_sub(r0) as f64,
            "the migration window",
        )
    } else {
        match ctx.summary {
            Some(ProbeSummary::Stream(s)) => {
                f.notes.push(format!(
                    "`{name}`: no frame counters in the timeline, dropped frames judged over the whole run"
                ));
                (s.frames_dropped as f64, s.frames_rendered as f64, "the run")
            }
            _ => {
                f.notes.push(format!(
                    "`{name}`: no frame counts, dropped frames not judged"
                ));
                return;
            }
        }
    };
    let total = dropped + rendered;
    if total <= 0.0 {
        return;
    }
    let pct = 100.0 * dropped / total;
    if pct > max_pct {
        f.impaired.push(Reason::new(
            "dropped frames in the migration window",
            format!(
                "`{name}`: {dropped:.0} of {total:.0} frames dropped ({pct:.1} %) in {scope}, profile allows {max_pct} %"
            ),
        ));
    }
}
