//! Unit tests of the cache/stall model on virtual time: frames arrive at 25 fps in
//! real time, the server pauses, the connection drops.

use super::*;
use crate::record::EventKind;
use crate::stream::summary::summarize;

const FRAME: Duration = Duration::from_millis(40);

struct Sim {
    core: StreamCore,
    now: Duration,
    /// Next frame's pts on the connection's timeline.
    pts: Duration,
    events: Vec<Event>,
    actions: Vec<Action>,
}

impl Sim {
    fn new(cache_s: u64, reconnect: ReconnectPolicy) -> Sim {
        let cfg = StreamConfig::new("http://x/live.ts", Duration::from_secs(cache_s), reconnect);
        let mut s = Sim {
            core: StreamCore::new(cfg, Duration::ZERO),
            now: Duration::ZERO,
            pts: Duration::from_secs(100),
            events: Vec::new(),
            actions: Vec::new(),
        };
        s.drain();
        s
    }

    fn drain(&mut self) {
        while let Some(e) = self.core.poll_event() {
            self.events.push(e);
        }
        while let Some(a) = self.core.poll_action() {
            self.actions.push(a);
        }
    }

    /// Advances to `t`, stepping through the core's wake-ups (discrete events).
    fn idle_until(&mut self, t: Duration) {
        while let Some(w) = self.core.poll_timeout().filter(|w| *w <= t) {
            self.now = self.now.max(w);
            self.core.handle_timeout(self.now);
            self.drain();
        }
        self.now = t;
        self.core.handle_timeout(t);
        self.drain();
    }

    /// Frames arrive in real time (one every 40 ms) for `secs`.
    fn stream_for(&mut self, secs: f64) {
        let n = (secs / FRAME.as_secs_f64()).round() as u32;
        for _ in 0..n {
            self.idle_until(self.now + FRAME);
            self.core
                .on_frame(self.now, self.pts, Some(FRAME), 5000, "video/x-h264");
            self.pts += FRAME;
            self.drain();
        }
    }

    fn summary(&self) -> crate::record::StreamSummary {
        summarize(&self.events, "probe:stream")
    }
}

#[test]
fn prefill_then_steady_play_has_no_stall() {
    let mut s = Sim::new(2, ReconnectPolicy::Never);
    s.stream_for(10.0);
    let sum = s.summary();
    assert_eq!(sum.stall_count, 0);
    let startup = sum.startup_ms.expect("playing");
    assert!((startup - 2040.0).abs() < 41.0, "startup {startup}");
    assert!(
        (sum.min_cache_ms - 2000.0).abs() <= 41.0,
        "min cache {}",
        sum.min_cache_ms
    );
    assert_eq!(s.actions[..2], [Action::Connect, Action::Play]);
}

#[test]
fn no_cache_plays_at_the_first_frame() {
    let mut s = Sim::new(0, ReconnectPolicy::Never);
    s.stream_for(3.0);
    let sum = s.summary();
    assert_eq!(sum.stall_count, 0);
    assert!(sum.startup_ms.unwrap() <= 41.0);
}

/// The server pauses for `pause` s with cache `cache` s: a stall iff pause > cache,
/// of length pause - cache.
fn paused(cache: u64, pause: f64) -> crate::record::StreamSummary {
    let mut s = Sim::new(cache, ReconnectPolicy::Never);
    s.stream_for(5.0);
    s.idle_until(s.now + Duration::from_secs_f64(pause));
    // A paused live encoder loses the time it was frozen: timestamps continue.
    s.stream_for(5.0);
    s.core.finish(s.now, StreamEndReason::Duration);
    s.drain();
    s.summary()
}

#[test]
fn a_pause_shorter_than_the_cache_is_absorbed() {
    let sum = paused(3, 2.0);
    assert_eq!(sum.stall_count, 0);
    assert!(
        (sum.min_cache_ms - 1000.0).abs() < 50.0,
        "min cache {}",
        sum.min_cache_ms
    );
}

#[test]
fn a_pause_longer_than_the_cache_stalls_for_the_difference() {
    for (cache, pause) in [(0, 1.0), (1, 3.0), (2, 5.0)] {
        let sum = paused(cache, pause);
        assert_eq!(sum.stall_count, 1, "cache {cache} pause {pause}");
        let expected = (pause - cache as f64) * 1000.0;
        assert!(
            (sum.stall_total_ms - expected).abs() <= 45.0,
            "stall {} expected {expected}",
            sum.stall_total_ms
        );
        assert_eq!(sum.min_cache_ms, 0.0);
    }
}

#[test]
fn never_reconnect_plays_out_the_cache_then_ends() {
    let mut s = Sim::new(2, ReconnectPolicy::Never);
    s.stream_for(4.0);
    s.core
        .on_disconnect(s.now, DisconnectCause::EndOfStream, "end of stream");
    s.drain();
    s.idle_until(s.now + Duration::from_secs(5));
    assert!(s.core.is_ended());
    let sum = s.summary();
    assert_eq!(sum.disconnects, 1);
    assert_eq!(sum.stall_count, 0, "the end of the stream is not a stall");
    assert_eq!(sum.end_reason, Some(StreamEndReason::Disconnected));
    assert!(
        !s.actions.contains(&Action::Connect)
            || s.actions.iter().filter(|a| **a == Action::Connect).count() == 1
    );
    assert_eq!(s.actions.last(), Some(&Action::Stop));
}

#[test]
fn always_reconnect_retries_and_continues_the_timeline() {
    let mut s = Sim::new(1, ReconnectPolicy::Always);
    s.stream_for(3.0);
    s.core
        .on_disconnect(s.now, DisconnectCause::Error, "connection reset");
    s.drain();
    // Two failed attempts, one per second, then the server is back.
    for _ in 0..2 {
        s.idle_until(s.now + Duration::from_millis(1000));
        assert_eq!(s.actions.last(), Some(&Action::Connect));
        s.core
            .on_disconnect(s.now, DisconnectCause::Error, "connection refused");
        s.drain();
    }
    s.idle_until(s.now + Duration::from_millis(1000));
    assert_eq!(s.actions.last(), Some(&Action::Connect));
    // The new connection's timestamps start again from zero.
    s.pts = Duration::ZERO;
    let before = s.core.position(s.now);
    s.stream_for(2.0);
    let sum = s.summary();
    assert_eq!((sum.disconnects, sum.reconnects), (1, 1));
    assert_eq!(sum.stall_count, 1);
    assert!(s.core.position(s.now) > before + Duration::from_millis(1900));
    let r = s.events.iter().find_map(|e| match &e.kind {
        EventKind::StreamReconnect(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(r.map(|r| r.attempts), Some(3));
}

#[test]
fn a_timestamp_jump_is_not_a_gap() {
    let mut s = Sim::new(1, ReconnectPolicy::Never);
    s.stream_for(2.0);
    s.pts += Duration::from_secs(30);
    s.stream_for(2.0);
    assert_eq!(s.summary().stall_count, 0);
    assert!(s.core.level(s.now) < Duration::from_millis(1100));
}

#[test]
fn events_are_in_time_order() {
    let mut s = Sim::new(1, ReconnectPolicy::Always);
    s.stream_for(2.0);
    s.idle_until(s.now + Duration::from_secs(3));
    s.stream_for(1.0);
    assert!(s.events.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
}

#[test]
fn an_underrun_shorter_than_the_threshold_is_not_a_stall() {
    let mut s = Sim::new(0, ReconnectPolicy::Never);
    s.stream_for(2.0);
    // One frame 60 ms late (threshold 100 ms), then one 300 ms late.
    s.idle_until(s.now + Duration::from_millis(60));
    s.stream_for(1.0);
    s.idle_until(s.now + Duration::from_millis(300));
    s.stream_for(1.0);
    let sum = s.summary();
    assert_eq!(sum.short_underruns, 1);
    assert_eq!(sum.stall_count, 1);
    assert!(
        (sum.stall_total_ms - 300.0).abs() < 1.0,
        "{}",
        sum.stall_total_ms
    );
    assert!(s.events.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
}
