//! The reachability prober's bookkeeping, free of I/O: gaps (times without an answer)
//! and the moment the network reattached after a migration's resume.
//!
//! A gap starts at the last answer before the service stopped answering: when an
//! attempt fails, or when no answer came for longer than the silence threshold. It
//! ends at the next answer. A gap still open when the run ends is a gap too: counted,
//! measured to the end, and reported as unfinished.

use record::{Reachability, ReachabilitySummary};
use std::collections::VecDeque;
use std::time::Duration;

/// Answers kept while the migration's pause and resume are not known yet (their
/// events can reach the runner late): about a minute at the default interval.
const KEPT_ANSWERS: usize = 4096;

/// Where the migration is, as its events say (times on the run's clock).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MigrationMarks {
    /// `migration_paused`.
    pub paused: Option<Duration>,
    /// `migration_resumed`.
    pub resumed: Option<Duration>,
}

/// Gaps over a run.
#[derive(Debug)]
pub(crate) struct Gaps {
    interval: Duration,
    silence: Duration,
    started: Duration,
    last_ok: Option<Duration>,
    down_since: Option<Duration>,
    longest: Duration,
    closed: u64,
}

impl Gaps {
    /// Starts counting at `started`; an answer is missed after `silence`.
    pub fn new(interval: Duration, silence: Duration, started: Duration) -> Self {
        Self {
            interval,
            silence,
            started,
            last_ok: None,
            down_since: None,
            longest: Duration::ZERO,
            closed: 0,
        }
    }

    fn go_down(&mut self, now: Duration) -> Option<(Duration, Reachability)> {
        if self.down_since.is_some() {
            return None;
        }
        let since = self.last_ok.unwrap_or(self.started).min(now);
        self.down_since = Some(since);
        Some((
            since,
            Reachability {
                up: false,
                gap_ms: None,
                unfinished: false,
            },
        ))
    }

    /// An attempt was answered at `now`; returns the `reachability` event that closes
    /// a gap, if one was open.
    pub fn answered(&mut self, now: Duration) -> Option<(Duration, Reachability)> {
        self.last_ok = Some(self.last_ok.map_or(now, |t| t.max(now)));
        let since = self.down_since.take()?;
        let gap = now.saturating_sub(since);
        self.longest = self.longest.max(gap);
        self.closed += 1;
        Some((
            now,
            Reachability {
                up: true,
                gap_ms: Some(ms(gap)),
                unfinished: false,
            },
        ))
    }

    /// An attempt failed (refused, timed out) at `now`.
    pub fn failed(&mut self, now: Duration) -> Option<(Duration, Reachability)> {
        self.go_down(now)
    }

    /// The clock ticked: no answer for longer than the silence threshold is a gap.
    pub fn tick(&mut self, now: Duration) -> Option<(Duration, Reachability)> {
        let last = self.last_ok.unwrap_or(self.started);
        if now.saturating_sub(last) > self.silence {
            self.go_down(now)
        } else {
            None
        }
    }

    /// The run ended at `now`: the summary, and the event that reports a gap still
    /// open (counted in `gaps` and `longest_gap_ms`, its length in
    /// `unfinished_gap_ms`).
    pub fn finish(
        mut self,
        now: Duration,
    ) -> (ReachabilitySummary, Option<(Duration, Reachability)>) {
        let _ = self.tick(now);
        let mut gaps = self.closed;
        let mut unfinished = None;
        if let Some(since) = self.down_since {
            let gap = now.saturating_sub(since);
            self.longest = self.longest.max(gap);
            gaps += 1;
            unfinished = Some(ms(gap));
        }
        let event = unfinished.map(|g| {
            (
                now,
                Reachability {
                    up: false,
                    gap_ms: Some(g),
                    unfinished: true,
                },
            )
        });
        (
            ReachabilitySummary {
                interval_ms: ms(self.interval),
                longest_gap_ms: ms(self.longest),
                gaps,
                unfinished_gap_ms: unfinished,
                method: None,
            },
            event,
        )
    }
}

/// Finds `network_reattached`: the first answer, at or after the resume, to an attempt
/// sent at or after the pause (an answer to an earlier attempt may have left the
/// source before it paused). Answers (each with a `T` saying how it was dated) are
/// kept until both marks are known.
#[derive(Debug)]
pub(crate) struct Reattach<T> {
    answers: VecDeque<(Duration, Duration, T)>,
    found: bool,
}

impl<T> Default for Reattach<T> {
    fn default() -> Self {
        Self {
            answers: VecDeque::new(),
            found: false,
        }
    }
}

impl<T: Copy> Reattach<T> {
    /// An attempt sent at `sent` was answered at `done`; returns the reattach time
    /// (and that answer's `T`) when this, or an answer kept earlier, is the first
    /// that counts.
    pub fn answered(
        &mut self,
        sent: Duration,
        done: Duration,
        tag: T,
        marks: MigrationMarks,
    ) -> Option<(Duration, T)> {
        if self.found {
            return None;
        }
        if self.answers.len() == KEPT_ANSWERS {
            self.answers.pop_front();
        }
        self.answers.push_back((sent, done, tag));
        self.check(marks)
    }

    /// The marks changed; returns the reattach time if an answer kept counts now.
    pub fn check(&mut self, marks: MigrationMarks) -> Option<(Duration, T)> {
        if self.found {
            return None;
        }
        let resumed = marks.resumed?;
        let paused = marks.paused.unwrap_or(Duration::ZERO);
        let first = self
            .answers
            .iter()
            .filter(|(sent, done, _)| *sent >= paused && *done >= resumed)
            .map(|&(_, done, tag)| (done, tag))
            .min_by_key(|(done, _)| *done)?;
        self.found = true;
        self.answers.clear();
        Some(first)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn a_gap_still_open_at_the_end_is_counted_and_reported_unfinished() {
        let mut g = Gaps::new(t(15), t(45), t(0));
        for k in 0..10 {
            assert!(g.answered(t(k * 15)).is_none());
        }
        // The service stops answering after 135 ms and never answers again.
        let down = g
            .tick(t(200))
            .expect("a silence longer than 45 ms is a gap");
        assert_eq!(down.0, t(135));
        assert!(!down.1.up);
        let (s, event) = g.finish(t(5135));
        assert_eq!(s.gaps, 1, "{s:?}");
        assert!((s.longest_gap_ms - 5000.0).abs() < 1e-6, "{s:?}");
        assert_eq!(s.unfinished_gap_ms, Some(s.longest_gap_ms));
        let (at, r) = event.expect("an unfinished gap is reported");
        assert_eq!(at, t(5135));
        assert!(!r.up && r.unfinished);
        assert_eq!(r.gap_ms, Some(5000.0));
    }

    #[test]
    fn gaps_and_longest_gap_agree() {
        let mut g = Gaps::new(t(15), t(45), t(0));
        g.answered(t(0));
        g.failed(t(30));
        assert!(
            g.answered(t(230))
                .is_some_and(|(_, r)| r.gap_ms == Some(230.0))
        );
        g.answered(t(245));
        g.failed(t(260));
        let (s, e) = g.finish(t(300));
        assert_eq!(s.gaps, 2);
        assert_eq!(s.longest_gap_ms, 230.0);
        assert_eq!(s.unfinished_gap_ms, Some(55.0));
        assert!(e.is_some());
        // No gap at all: nothing unfinished, nothing longest.
        let mut g = Gaps::new(t(15), t(45), t(0));
        g.answered(t(10));
        let (s, e) = g.finish(t(40));
        assert_eq!(
            (s.gaps, s.longest_gap_ms, s.unfinished_gap_ms),
            (0, 0.0, None)
        );
        assert!(e.is_none());
    }

    #[test]
    fn a_service_that_never_answered_is_one_unfinished_gap_from_the_start() {
        let g = Gaps::new(t(15), t(45), t(100));
        let (s, _) = g.finish(t(1100));
        assert_eq!((s.gaps, s.longest_gap_ms), (1, 1000.0));
        assert_eq!(s.unfinished_gap_ms, Some(1000.0));
    }

    #[test]
    fn reattach_is_the_first_answer_to_a_probe_sent_after_the_pause() {
        let mut r = Reattach::default();
        let marks = MigrationMarks {
            paused: Some(t(1000)),
            resumed: None,
        };
        // Sent before the pause, answered after the resume: not a reattach.
        assert_eq!(r.answered(t(990), t(1300), (), marks), None);
        // The resume event arrives late: answers kept meanwhile still count.
        assert_eq!(r.answered(t(1100), t(1320), (), marks), None);
        assert_eq!(r.answered(t(1115), t(1330), (), marks), None);
        let marks = MigrationMarks {
            resumed: Some(t(1250)),
            ..marks
        };
        assert_eq!(r.check(marks), Some((t(1320), ())));
        assert_eq!(r.answered(t(1400), t(1410), (), marks), None, "found once");
    }

    #[test]
    fn without_a_pause_any_answer_after_the_resume_counts() {
        let mut r = Reattach::default();
        let marks = MigrationMarks {
            paused: None,
            resumed: Some(t(50)),
        };
        assert_eq!(r.answered(t(10), t(40), (), marks), None);
        assert_eq!(r.answered(t(20), t(60), (), marks), Some((t(60), ())));
    }
}
