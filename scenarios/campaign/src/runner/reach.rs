//! The runner's reachability prober: a TCP connect to the service every 10-20 ms
//! (attempts overlap, each may take up to 3 s). It emits `reachability` events when
//! the service stops and starts answering (with the gap), and `network_reattached`
//! at the first successful round trip completed after the migration's resume.

use platform::EventSink;
use record::ReachabilitySummary;
use record::clock::{Clock, MonotonicClock};
use record::{Event, EventKind, NetworkReattached, Reachability};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
const MAX_IN_FLIGHT: usize = 64;

/// Handles of a running prober.
pub struct ReachProber {
    /// Set by the prober when the network reattached.
    pub reattached: watch::Receiver<Option<Duration>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<ReachabilitySummary>,
}

impl ReachProber {
    /// Starts probing `target` every `interval`; `resumed` turns `Some(t)` when the
    /// migration resumed.
    pub fn start(
        target: SocketAddr,
        interval: Duration,
        clock: MonotonicClock,
        sink: EventSink,
        resumed_rx: watch::Receiver<Option<Duration>>,
    ) -> Self {
        let (reattached_tx, reattached) = watch::channel(None);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(
            target,
            interval,
            clock,
            sink,
            resumed_rx,
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
        })
    }
}

async fn attempt(target: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(ATTEMPT_TIMEOUT, tokio::net::TcpStream::connect(target)).await,
        Ok(Ok(_))
    )
}

async fn run(
    target: SocketAddr,
    interval: Duration,
    clock: MonotonicClock,
    sink: EventSink,
    resumed: watch::Receiver<Option<Duration>>,
    reattached: watch::Sender<Option<Duration>>,
    mut stop: watch::Receiver<bool>,
) -> ReachabilitySummary {
    let interval = interval.max(Duration::from_millis(1));
    let threshold = interval * 3;
    let emit = |t: Duration, kind: EventKind| sink(Event::new(t, "runner", kind));
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut attempts = JoinSet::new();
    let mut last_ok: Option<Duration> = None;
    let mut down_since: Option<Duration> = None;
    let (mut longest, mut gaps) = (Duration::ZERO, 0u64);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if attempts.len() < MAX_IN_FLIGHT {
                    attempts.spawn(attempt(target));
                }
                let now = clock.now();
                if down_since.is_none()
                    && let Some(ok) = last_ok
                    && now.saturating_sub(ok) > threshold + ATTEMPT_TIMEOUT.min(interval * 10)
                {
                    down_since = Some(ok);
                    emit(ok, EventKind::Reachability(Reachability { up: false, gap_ms: None }));
                }
            }
            Some(r) = attempts.join_next(), if !attempts.is_empty() => {
                let now = clock.now();
                match r {
                    Ok(true) => {
                        if let Some(since) = down_since.take() {
                            let gap = now.saturating_sub(since);
                            longest = longest.max(gap);
                            gaps += 1;
                            emit(now, EventKind::Reachability(Reachability { up: true, gap_ms: Some(ms(gap)) }));
                        }
                        last_ok = Some(now);
                        if reattached.borrow().is_none()
                            && let Some(r) = *resumed.borrow()
                            && now >= r
                        {
                            emit(now, EventKind::NetworkReattached(NetworkReattached { origin: "reachability".into() }));
                            let _ = reattached.send(Some(now));
                        }
                    }
                    _ => {
                        if down_since.is_none() {
                            let since = last_ok.unwrap_or(now);
                            down_since = Some(since);
                            emit(since, EventKind::Reachability(Reachability { up: false, gap_ms: None }));
                        }
                    }
                }
            }
            _ = stop.changed() => break,
        }
    }
    attempts.abort_all();
    if let Some(since) = down_since {
        longest = longest.max(clock.now().saturating_sub(since));
    }
    ReachabilitySummary {
        interval_ms: ms(interval),
        longest_gap_ms: ms(longest),
        gaps,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
