//! Moving an event onto another run clock: a client host's events placed on the
//! migration host's timeline (docs/scale-out.md, "Many client hosts, one migration").
//! Every field that holds a time on the run's clock moves with `t_ns`; durations and
//! the peer's own clock (a game server's send time) do not.

use crate::{Event, EventKind};

impl Event {
    /// This event `offset_ns` later on the run clock: `t_ns` and every payload time
    /// that counts from the run's start (request times, a download stall's or game
    /// freeze's start, a game command's schedule).
    pub fn shifted(mut self, offset_ns: u64) -> Self {
        let add = |t: &mut u64| *t = t.saturating_add(offset_ns);
        add(&mut self.t_ns);
        match &mut self.kind {
            EventKind::Request(r) => {
                for t in [
                    &mut r.tscheduled_ns,
                    &mut r.trequest_ns,
                    &mut r.tresponse_ns,
                    &mut r.tfinish_ns,
                ] {
                    add(t);
                }
            }
            EventKind::DownloadStallStart(s) => add(&mut s.since_ns),
            EventKind::DownloadStallEnd(s) => add(&mut s.start_ns),
            EventKind::GameCommand(c) => add(&mut c.scheduled_ns),
            EventKind::GameFreeze(f) => add(&mut f.start_ns),
            _ => {}
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::{Event, EventKind, GameFreeze};
    use std::time::Duration;

    #[test]
    fn run_clock_fields_move_durations_do_not() {
        let e = Event::new(
            Duration::from_millis(5),
            "probe:game",
            EventKind::GameFreeze(GameFreeze {
                start_ns: 1_000_000,
                duration_ms: 4.0,
                ticks_missed: None,
                unresolved: false,
            }),
        )
        .shifted(2_000_000_000);
        assert_eq!(e.t_ns, 2_005_000_000);
        let EventKind::GameFreeze(f) = e.kind else {
            unreachable!()
        };
        assert_eq!((f.start_ns, f.duration_ms), (2_001_000_000, 4.0));
    }
}
