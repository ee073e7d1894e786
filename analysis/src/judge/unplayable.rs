//! Unplayable time of a game probe in the migration window, by phase (docs/verdicts.md,
//! "Game: impaired or failed"). Between two consecutive snapshots the game is
//! unplayable when the gap is a freeze (longer than `max_freeze_ms`: more than a
//! client's interpolation hides) or when the later snapshot's RTT exceeds the
//! impairment limit by more than `unplayable_rtt_margin_ms` (past the latency at
//! which a first-person shooter's aiming fails). The gap counts in the phase where it
//! began.

use super::Window;

/// One arrival: its time and the largest RTT it carried (ms; `None`: no sample).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Arrival {
    pub t_ns: u64,
    pub rtt_ms: Option<f64>,
}

/// Unplayable milliseconds per phase of the window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Unplayable {
    pub preoperation_ms: f64,
    pub downtime_ms: f64,
    pub postoperation_ms: f64,
    pub cooldown_ms: f64,
}

impl Unplayable {
    /// All phases together.
    pub fn total_ms(&self) -> f64 {
        self.preoperation_ms + self.downtime_ms + self.postoperation_ms + self.cooldown_ms
    }

    /// `preoperation 0.4 s, downtime 2.1 s, ...` (phases with none left out).
    pub fn by_phase(&self) -> String {
        let parts: Vec<String> = [
            ("preoperation", self.preoperation_ms),
            ("downtime", self.downtime_ms),
            ("postoperation", self.postoperation_ms),
            ("cool-down", self.cooldown_ms),
        ]
        .iter()
        .filter(|(_, ms)| *ms > 0.0)
        .map(|(name, ms)| format!("{name} {:.1} s", ms / 1000.0))
        .collect();
        parts.join(", ")
    }

    fn add(&mut self, w: &Window, start_ns: u64, ms: f64) {
        let before = |t: Option<u64>| t.is_none_or(|t| start_ns < t);
        let slot = if before(w.paused_ns) {
            &mut self.preoperation_ms
        } else if before(w.resumed_ns) {
            &mut self.downtime_ms
        } else if before(w.reattached_ns) {
            &mut self.postoperation_ms
        } else {
            &mut self.cooldown_ms
        };
        *slot += ms;
    }
}

/// The unplayable time of `arrivals` (in time order) within `window`: gaps that end
/// in the window, clipped to its start.
pub(crate) fn unplayable(
    arrivals: &[Arrival],
    window: &Window,
    max_freeze_ms: f64,
    rtt_limit_ms: f64,
) -> Unplayable {
    let mut out = Unplayable::default();
    for pair in arrivals.windows(2) {
        let (prev, cur) = (pair[0], pair[1]);
        if !window.contains(cur.t_ns) || cur.t_ns <= prev.t_ns {
            continue;
        }
        let gap_ms = (cur.t_ns - prev.t_ns) as f64 / 1e6;
        let lagged = cur.rtt_ms.is_some_and(|r| r > rtt_limit_ms);
        if gap_ms > max_freeze_ms || lagged {
            let start = prev.t_ns.max(window.requested_ns);
            out.add(window, start, (cur.t_ns - start) as f64 / 1e6);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn window() -> Window {
        Window {
            requested_ns: 10_000 * MS,
            paused_ns: Some(20_000 * MS),
            resumed_ns: Some(22_000 * MS),
            reattached_ns: Some(23_000 * MS),
            end_ns: 33_000 * MS,
        }
    }

    /// Snapshots every 50 ms from 9 s to 34 s with `rtt`, except over `hole`.
    fn arrivals(rtt: impl Fn(u64) -> f64, hole: (u64, u64)) -> Vec<Arrival> {
        (180..=680)
            .map(|i| i * 50)
            .filter(|ms| !(*ms > hole.0 && *ms < hole.1))
            .map(|ms| Arrival {
                t_ns: ms * MS,
                rtt_ms: Some(rtt(ms)),
            })
            .collect()
    }

    #[test]
    fn a_gap_at_the_freeze_limit_is_playable_one_past_it_is_not() {
        let w = window();
        // 20.000 -> 20.250: a gap of exactly 250 ms.
        let at = arrivals(|_| 5.0, (20_000, 20_250));
        assert_eq!(unplayable(&at, &w, 250.0, 105.0).total_ms(), 0.0);
        // 20.000 -> 20.300: 300 ms, past the limit: all of it counts, in downtime.
        let past = arrivals(|_| 5.0, (20_000, 20_300));
        let u = unplayable(&past, &w, 250.0, 105.0);
        assert_eq!(u.total_ms(), 300.0);
        assert_eq!(u.downtime_ms, 300.0);
    }

    #[test]
    fn rtt_at_the_limit_is_playable_above_it_counts_per_gap() {
        let w = window();
        let at = arrivals(|ms| if ms >= 12_000 { 105.0 } else { 5.0 }, (0, 0));
        assert_eq!(unplayable(&at, &w, 250.0, 105.0).total_ms(), 0.0);
        // Lagged from 12.0 s to 13.0 s (snapshots 12.05 .. 13.0): 20 gaps of 50 ms.
        let over = arrivals(
            |ms| {
                if (12_050..=13_000).contains(&ms) {
                    105.1
                } else {
                    5.0
                }
            },
            (0, 0),
        );
        let u = unplayable(&over, &w, 250.0, 105.0);
        assert_eq!(u.preoperation_ms, 1000.0);
        assert_eq!(u.total_ms(), 1000.0);
    }

    #[test]
    fn gaps_are_clipped_to_the_window_and_attributed_to_their_phase() {
        let w = window();
        // A freeze from 9.5 s (baseline) to 10.5 s: only 500 ms are in the window.
        let early = arrivals(|_| 5.0, (9_500, 10_500));
        assert_eq!(unplayable(&early, &w, 250.0, 105.0).preoperation_ms, 500.0);
        // A freeze ending after the window's end is not counted (it ends outside).
        let late = arrivals(|_| 5.0, (32_900, 33_500));
        assert_eq!(unplayable(&late, &w, 250.0, 105.0).total_ms(), 0.0);
        // Postoperation (22.0 .. 23.0) and the cool-down after it.
        let post = arrivals(|_| 5.0, (22_100, 22_600));
        assert_eq!(unplayable(&post, &w, 250.0, 105.0).postoperation_ms, 500.0);
        let cool = arrivals(|_| 5.0, (25_000, 26_000));
        let u = unplayable(&cool, &w, 250.0, 105.0);
        assert_eq!(u.cooldown_ms, 1000.0);
        assert_eq!(u.by_phase(), "cool-down 1.0 s");
    }
}
