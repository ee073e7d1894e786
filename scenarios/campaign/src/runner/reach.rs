//! The runner's reachability prober: a fresh TCP connect to the service every
//! interval (10-20 ms), each with its own deadline, however many earlier attempts
//! still wait. A paused or moving VM leaves attempts unanswered; the kernel retries a
//! lost SYN only after 1 s, then 3 s, so a prober that waited on its earlier attempts
//! would see the network come back only at those retries. Starting a new attempt every
//! interval keeps a fresh SYN on the wire, so the first answer after the resume comes
//! within an interval (plus the round trip) of the network's return.
//!
//! It emits `reachability` events when the service stops and starts answering (and
//! one for a gap still open at the end), and `network_reattached` at the first answer
//! after the migration's resume to an attempt sent after its pause ([`gaps`]).

use super::gaps::{Gaps, MigrationMarks, Reattach};
use platform::EventSink;
use record::ReachabilitySummary;
use record::clock::{Clock, MonotonicClock};
use record::{Event, EventKind, NetworkReattached};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Longest an attempt waits for its answer (it covers the SYN retries at 1 s and 3 s
/// after a loss on a lossy link; fresh attempts keep coming meanwhile).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts in flight at most (sockets); the deadline shrinks for a short interval.
const MAX_IN_FLIGHT: u32 = 400;

/// Handles of a running prober.
pub struct ReachProber {
    /// Set by the prober when the network reattached.
    pub reattached: watch::Receiver<Option<Duration>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<ReachabilitySummary>,
}

impl ReachProber {
    /// Starts probing `target` every `interval`; `marks` says when the migration
    /// paused and resumed.
    pub fn start(
        target: SocketAddr,
        interval: Duration,
        clock: MonotonicClock,
        sink: EventSink,
        marks: watch::Receiver<MigrationMarks>,
    ) -> Self {
        let (reattached_tx, reattached) = watch::channel(None);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(
            target,
            interval,
            clock,
            sink,
            marks,
            reattached_tx,
            stop_rx,
        ));
        Self {
            reattached,
            stop,
            task,
        }
    }

    /// Stops it and returns what it saw.
    pub async fn finish(self) -> ReachabilitySummary {
        let _ = self.stop.send(true);
        self.task.await.unwrap_or(ReachabilitySummary {
            interval_ms: 0.0,
            longest_gap_ms: 0.0,
            gaps: 0,
            unfinished_gap_ms: None,
        })
    }
}

/// One attempt: when it was sent, and whether it was answered in time. The send time
/// is read when the task first runs, right before its `connect` (on a busy runtime a
/// task can start well after it was spawned).
async fn attempt(
    target: SocketAddr,
    deadline: Duration,
    clock: MonotonicClock,
) -> (Duration, bool) {
    let sent = clock.now();
    let ok = matches!(
        tokio::time::timeout(deadline, tokio::net::TcpStream::connect(target)).await,
        Ok(Ok(_))
    );
    (sent, ok)
}

async fn run(
    target: SocketAddr,
    interval: Duration,
    clock: MonotonicClock,
    sink: EventSink,
    mut marks: watch::Receiver<MigrationMarks>,
    reattached: watch::Sender<Option<Duration>>,
    mut stop: watch::Receiver<bool>,
) -> ReachabilitySummary {
    let interval = interval.max(Duration::from_millis(1));
    let deadline = ATTEMPT_TIMEOUT.min(interval * (MAX_IN_FLIGHT - 16));
    let emit = |t: Duration, kind: EventKind| sink(Event::new(t, "runner", kind));
    let emit_gap = |g: Option<(Duration, record::Reachability)>| {
        if let Some((t, r)) = g {
            emit(t, EventKind::Reachability(r));
        }
    };
    let on_reattach = |t: Option<Duration>| {
        if let Some(t) = t {
            emit(
                t,
                EventKind::NetworkReattached(NetworkReattached {
                    origin: "reachability".into(),
                }),
            );
            let _ = reattached.send(Some(t));
        }
    };
    // Silence longer than this is a gap even before an attempt times out.
    let silence = interval * 3 + deadline.min(interval * 10);
    let mut gaps = Gaps::new(interval, silence, clock.now());
    let mut reattach = Reattach::default();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut attempts = JoinSet::new();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = clock.now();
                if attempts.len() < MAX_IN_FLIGHT as usize {
                    attempts.spawn(attempt(target, deadline, clock.clone()));
                }
                emit_gap(gaps.tick(now));
            }
            Some(r) = attempts.join_next(), if !attempts.is_empty() => {
                let now = clock.now();
                match r {
                    Ok((sent, true)) => {
                        emit_gap(gaps.answered(now));
                        on_reattach(reattach.answered(sent, now, *marks.borrow()));
                    }
                    _ => emit_gap(gaps.failed(now)),
                }
            }
            Ok(()) = marks.changed() => on_reattach(reattach.check(*marks.borrow_and_update())),
            _ = stop.changed() => break,
        }
    }
    attempts.abort_all();
    let (summary, unfinished) = gaps.finish(clock.now());
    emit_gap(unfinished);
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A real prober against a loopback service that stops answering for good: the
    /// gap still open at the end is counted, and its length is the longest gap.
    #[tokio::test]
    async fn a_service_lost_for_good_is_one_unfinished_gap() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = listener.local_addr().unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink: EventSink = {
            let events = events.clone();
            Arc::new(move |e: Event| events.lock().unwrap().push(e))
        };
        let (_marks_tx, marks) = watch::channel(MigrationMarks::default());
        let prober = ReachProber::start(
            target,
            Duration::from_millis(10),
            MonotonicClock::start(),
            sink,
            marks,
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Connections are refused from now on.
        drop(listener);
        tokio::time::sleep(Duration::from_millis(700)).await;
        let s = prober.finish().await;
        assert_eq!(s.gaps, 1, "{s:?}");
        let open = s.unfinished_gap_ms.expect("the gap is still open");
        assert_eq!(open, s.longest_gap_ms, "{s:?}");
        assert!((600.0..2000.0).contains(&open), "{s:?}");
        let events = events.lock().unwrap();
        let last = events.last().expect("events");
        assert!(
            matches!(&last.kind, EventKind::Reachability(r) if !r.up && r.unfinished && r.gap_ms == Some(open)),
            "{last:?}"
        );
    }
}
