//! The runner's reachability prober: a fresh TCP connect to the service every
//! interval (10-20 ms), each with its own deadline, however many earlier attempts
//! still wait. A paused or moving VM leaves attempts unanswered; the kernel retries a
//! lost SYN only after 1 s, then 3 s, so a prober that waited on its earlier attempts
//! would see the network come back only at those retries. Starting a new attempt every
//! interval keeps a fresh SYN on the wire, so the first answer after the resume comes
//! within an interval (plus the round trip) of the network's return.
//!
//! Its timing does not depend on the host's load or on the probes: it runs on a
//! thread of its own (inside the client namespace, with a current-thread runtime),
//! under real-time priority when permitted ([`realtime`](super::realtime)), and dates
//! each answer by the kernel's clock rather than its wake-up
//! ([`tcp_probe`](super::tcp_probe)).
//!
//! It emits `reachability` events when the service stops and starts answering (and
//! one for a gap still open at the end), and `network_reattached` at the first answer
//! after the migration's resume to an attempt sent after its pause ([`gaps`]).

use super::gaps::{Gaps, MigrationMarks, Reattach};
use super::realtime;
use super::tcp_probe::{Attempt, attempt};
use platform::EventSink;
use record::clock::{Clock, MonotonicClock};
use record::{AnswerClock, ProberScheduling, ReachMethod, ReachProbe, ReachabilitySummary};
use record::{Event, EventKind, NetworkReattached};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// Longest an attempt waits for its answer (it covers the SYN retries at 1 s and 3 s
/// after a loss on a lossy link; fresh attempts keep coming meanwhile).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts in flight at most (sockets); the deadline shrinks for a short interval.
const MAX_IN_FLIGHT: u32 = 400;

/// What the prober probes, how often, and where its results go.
pub struct ProberSetup {
    /// The TCP address it connects to.
    pub target: SocketAddr,
    /// A fresh attempt every `interval`.
    pub interval: Duration,
    /// The network namespace to probe from (`None`: the runner's own).
    pub netns: Option<String>,
    /// The run's clock.
    pub clock: MonotonicClock,
    /// Where its events go.
    pub sink: EventSink,
    /// When the migration paused and resumed.
    pub marks: watch::Receiver<MigrationMarks>,
}

/// Handles of a running prober.
pub struct ReachProber {
    /// Set by the prober when the network reattached.
    pub reattached: watch::Receiver<Option<Duration>>,
    stop: watch::Sender<bool>,
    done: oneshot::Receiver<ReachabilitySummary>,
    thread: std::thread::JoinHandle<()>,
}

impl ReachProber {
    /// Starts the prober's thread; returns once it probes, or why it cannot.
    pub async fn start(setup: ProberSetup) -> Result<Self, String> {
        let (reattached_tx, reattached) = watch::channel(None);
        let (stop, stop_rx) = watch::channel(false);
        let (ready_tx, ready) = oneshot::channel();
        let (done_tx, done) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("reach-prober".into())
            .spawn(move || {
                let ProberSetup {
                    target,
                    interval,
                    netns,
                    clock,
                    sink,
                    marks,
                } = setup;
                if let Some(ns) = &netns
                    && let Err(e) = platform::net::enter_namespace(ns)
                {
                    let _ = ready_tx.send(Err(format!("cannot enter namespace {ns}: {e}")));
                    return;
                }
                let scheduling = realtime::raise_this_thread();
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("cannot start its runtime: {e}")));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                let out = Outputs {
                    sink,
                    reattached: reattached_tx,
                };
                let summary = rt.block_on(run(target, interval, clock, out, marks, stop_rx));
                // Every socket is closed before the summary is handed over.
                drop(rt);
                let (scheduling, scheduling_note) = scheduling;
                let summary = ReachabilitySummary {
                    method: summary.method.map(|m| ReachMethod {
                        scheduling,
                        scheduling_note,
                        ..m
                    }),
                    ..summary
                };
                let _ = done_tx.send(summary);
            })
            .map_err(|e| format!("cannot start its thread: {e}"))?;
        match ready.await {
            Ok(Ok(())) => Ok(Self {
                reattached,
                stop,
                done,
                thread,
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("its thread ended before it started probing".into()),
        }
    }

    /// Stops it and returns what it saw.
    pub async fn finish(self) -> ReachabilitySummary {
        let _ = self.stop.send(true);
        let summary = self.done.await.unwrap_or(ReachabilitySummary {
            interval_ms: 0.0,
            longest_gap_ms: 0.0,
            gaps: 0,
            unfinished_gap_ms: None,
            method: None,
        });
        // It has handed over its summary: joining is immediate.
        let _ = self.thread.join();
        summary
    }
}

/// Where the prober's results go.
struct Outputs {
    sink: EventSink,
    reattached: watch::Sender<Option<Duration>>,
}

impl Outputs {
    fn emit(&self, t: Duration, kind: EventKind) {
        (self.sink)(Event::new(t, "runner", kind));
    }

    fn gap(&self, g: Option<(Duration, record::Reachability)>) {
        if let Some((t, r)) = g {
            self.emit(t, EventKind::Reachability(r));
        }
    }

    fn reattach(&self, t: Option<Duration>) {
        if let Some(t) = t {
            self.emit(
                t,
                EventKind::NetworkReattached(NetworkReattached {
                    origin: "reachability".into(),
                }),
            );
            let _ = self.reattached.send(Some(t));
        }
    }
}

/// Answers counted by how they were dated, and how late the prober woke up to them.
#[derive(Default)]
struct Dating {
    kernel_rtt: u64,
    kernel_last_ack: u64,
    wakeup: u64,
    max_lag: Duration,
    reattach: Option<(AnswerClock, Duration)>,
}

impl Dating {
    /// An answer dated `how` that the prober saw `lag` after it arrived.
    fn count(&mut self, how: AnswerClock, lag: Duration) {
        *match how {
            AnswerClock::KernelRtt => &mut self.kernel_rtt,
            AnswerClock::KernelLastAck => &mut self.kernel_last_ack,
            AnswerClock::Wakeup => &mut self.wakeup,
        } += 1;
        self.max_lag = self.max_lag.max(lag);
    }

    fn method(self) -> ReachMethod {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        ReachMethod {
            probe: ReachProbe::TcpConnect,
            // Filled in by the thread that knows.
            scheduling: ProberScheduling::Normal,
            scheduling_note: None,
            reattach_dated_by: self.reattach.map(|(how, _)| how),
            reattach_wakeup_lag_ms: self.reattach.map(|(_, lag)| ms(lag)),
            wakeup_lag_max_ms: ms(self.max_lag),
            answers_kernel_rtt: self.kernel_rtt,
            answers_kernel_last_ack: self.kernel_last_ack,
            answers_wakeup: self.wakeup,
        }
    }
}

async fn run(
    target: SocketAddr,
    interval: Duration,
    clock: MonotonicClock,
    out: Outputs,
    mut marks: watch::Receiver<MigrationMarks>,
    mut stop: watch::Receiver<bool>,
) -> ReachabilitySummary {
    let interval = interval.max(Duration::from_millis(1));
    let deadline = ATTEMPT_TIMEOUT.min(interval * (MAX_IN_FLIGHT - 16));
    // Silence longer than this is a gap even before an attempt times out.
    let silence = interval * 3 + deadline.min(interval * 10);
    let mut gaps = Gaps::new(interval, silence, clock.now());
    let mut reattach = Reattach::default();
    let mut dating = Dating::default();
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
                out.gap(gaps.tick(now));
            }
            Some(r) = attempts.join_next(), if !attempts.is_empty() => {
                // Attempts that finished together are taken in the order their
                // answers arrived, not the order their tasks happened to run.
                let mut done = vec![r];
                while let Some(r) = attempts.try_join_next() {
                    done.push(r);
                }
                let mut done: Vec<Attempt> = done.into_iter().flatten().collect();
                done.sort_by_key(|a| a.answer.map_or(a.woke, |(at, _)| at));
                for a in done {
                    let Some((at, how)) = a.answer else {
                        out.gap(gaps.failed(a.woke));
                        continue;
                    };
                    let lag = a.woke.saturating_sub(at);
                    dating.count(how, lag);
                    out.gap(gaps.answered(at));
                    let found = reattach.answered(a.sent, at, (how, lag), *marks.borrow());
                    out.reattach(found.map(|(t, _)| t));
                    dating.reattach = dating.reattach.or(found.map(|(_, tag)| tag));
                }
            }
            Ok(()) = marks.changed() => {
                let found = reattach.check(*marks.borrow_and_update());
                out.reattach(found.map(|(t, _)| t));
                dating.reattach = dating.reattach.or(found.map(|(_, tag)| tag));
            }
            _ = stop.changed() => break,
        }
    }
    attempts.abort_all();
    let (summary, unfinished) = gaps.finish(clock.now());
    out.gap(unfinished);
    ReachabilitySummary {
        method: Some(dating.method()),
        ..summary
    }
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
        let prober = ReachProber::start(ProberSetup {
            target,
            interval: Duration::from_millis(10),
            netns: None,
            clock: MonotonicClock::start(),
            sink,
            marks,
        })
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // Connections are refused from now on.
        drop(listener);
        tokio::time::sleep(Duration::from_millis(700)).await;
        let s = prober.finish().await;
        assert_eq!(s.gaps, 1, "{s:?}");
        let open = s.unfinished_gap_ms.expect("the gap is still open");
        assert_eq!(open, s.longest_gap_ms, "{s:?}");
        assert!((600.0..2000.0).contains(&open), "{s:?}");
        let m = s.method.as_ref().expect("the method is recorded");
        assert_eq!(m.probe, ReachProbe::TcpConnect);
        assert_eq!(
            m.scheduling_note.is_none(),
            m.scheduling == ProberScheduling::RealtimeFifo
        );
        // Loopback handshakes are never retransmitted: every answer has its kernel RTT.
        assert!(m.answers_kernel_rtt > 10, "{m:?}");
        assert_eq!(
            (m.answers_kernel_last_ack, m.answers_wakeup),
            (0, 0),
            "{m:?}"
        );
        assert_eq!(m.reattach_dated_by, None, "no migration, no reattach");
        let events = events.lock().unwrap();
        let last = events.last().expect("events");
        assert!(
            matches!(&last.kind, EventKind::Reachability(r) if !r.up && r.unfinished && r.gap_ms == Some(open)),
            "{last:?}"
        );
    }
}
