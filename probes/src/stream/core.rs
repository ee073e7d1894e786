//! [`StreamCore`]: the sans-IO model of a live stream player with MPlayer's cache.
//!
//! It is fed frame arrivals, disconnects and renderer counters with a `now`, and is
//! polled for [`Action`]s (play, pause, connect, stop), events and its next wake-up.
//! It never reads a clock and never touches GStreamer.
//!
//! The model (docs/stream.md):
//! - The cache holds received media not yet played; its level is
//!   `received end - playback position`, in media time.
//! - Prefill: playback starts once the cache holds `cache` of media (at the first
//!   frame with no cache). Only at the start, as MPlayer's `-cache` does.
//! - Underrun: when the position reaches the received end, playback freezes: a stall,
//!   which lasts until the next frame arrives (no refill threshold), then playback
//!   continues from where it froze (no frames are skipped).
//! - The media timeline is continuous across reconnects and timestamp jumps: each
//!   connection's first frame, and a jump of more than [`MAX_JUMP`], continues at
//!   the received end.
//! - Disconnect: with `reconnect = never` (MPlayer) the cache is played out and the
//!   session ends; with `always` the core asks to connect again every
//!   `reconnect_interval` and an underrun meanwhile is a stall.

pub use super::config::{Action, ReconnectPolicy, StreamConfig};
use crate::record::{
    DisconnectCause, Event, EventKind, StreamDisconnect, StreamEnd, StreamEndReason, StreamPlaying,
    StreamReconnect, StreamSample, StreamStallEnd, StreamStallStart, StreamStart,
};
use std::collections::VecDeque;
use std::time::Duration;

/// A timestamp jump within one connection larger than this is a discontinuity.
pub const MAX_JUMP: Duration = Duration::from_secs(1);
/// Frame duration assumed until the stream tells otherwise (25 fps).
const DEFAULT_FRAME: Duration = Duration::from_millis(40);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Prefill,
    Playing {
        since: Duration,
        from: Duration,
    },
    /// `announced`: the underrun outlasted the stall threshold and was recorded.
    Stalled {
        since: Duration,
        announced: bool,
    },
    Ended,
}

/// One connection's mapping from its timestamps to the media timeline.
#[derive(Debug, Clone, Copy)]
struct Mapping {
    /// media = connection pts + offset (nanoseconds, may be negative).
    offset_ns: i128,
}

/// The reader's state machine.
#[derive(Debug)]
pub struct StreamCore {
    cfg: StreamConfig,
    /// `cfg.source`, interned once: every event shares it.
    source: crate::record::Source,
    start: Duration,
    phase: Phase,
    /// Media position while not playing (the frozen position).
    pos: Duration,
    received_end: Option<Duration>,
    mapping: Option<Mapping>,
    last_frame: Duration,
    connected: bool,
    disconnected_at: Option<Duration>,
    attempts: u32,
    next_connect: Option<Duration>,
    next_sample: Duration,
    min_level: Option<Duration>,
    bytes_since_sample: u64,
    last_sample_at: Duration,
    rendered: u64,
    dropped: u64,
    short_underruns: u64,
    last_t: Duration,
    events: VecDeque<Event>,
    actions: VecDeque<Action>,
}

impl StreamCore {
    /// A session starting at `now`: emits `stream_start` and asks to connect.
    pub fn new(cfg: StreamConfig, now: Duration) -> Self {
        let mut c = StreamCore {
            start: now,
            phase: Phase::Prefill,
            pos: Duration::ZERO,
            received_end: None,
            mapping: None,
            last_frame: DEFAULT_FRAME,
            connected: false,
            disconnected_at: None,
            attempts: 1,
            next_connect: None,
            next_sample: now + cfg.sample_interval,
            min_level: None,
            bytes_since_sample: 0,
            last_sample_at: now,
            rendered: 0,
            dropped: 0,
            short_underruns: 0,
            last_t: now,
            events: VecDeque::new(),
            actions: VecDeque::from([Action::Connect]),
            source: crate::record::Source::from(&cfg.source),
            cfg,
        };
        let start = StreamStart {
            url: c.cfg.url.clone(),
            cache_ms: ms(c.cfg.cache),
            stall_threshold_ms: ms(c.cfg.stall_threshold),
            reconnect: c.cfg.reconnect.as_str().into(),
        };
        c.emit(now, EventKind::StreamStart(start));
        c
    }

    /// The media position being shown at `now`.
    pub fn position(&self, now: Duration) -> Duration {
        match self.phase {
            Phase::Playing { since, from } => {
                let p = from + now.saturating_sub(since);
                p.min(self.received_end.unwrap_or(p))
            }
            _ => self.pos,
        }
    }

    /// Media in the cache at `now`.
    pub fn level(&self, now: Duration) -> Duration {
        self.received_end
            .map(|e| e.saturating_sub(self.position(now)))
            .unwrap_or_default()
    }

    /// Whether the session has ended.
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// Whether any frame has arrived yet.
    pub fn has_data(&self) -> bool {
        self.received_end.is_some()
    }

    /// A frame arrived: `pts` on its connection's timeline, `duration` if known,
    /// `bytes` of compressed video, `codec` its caps name. Returns the frame's
    /// position on the continuous media timeline (what the renderer must use).
    pub fn on_frame(
        &mut self,
        now: Duration,
        pts: Duration,
        duration: Option<Duration>,
        bytes: u64,
        codec: &str,
    ) -> Duration {
        self.handle_timeout(now);
        let end = self.received_end.unwrap_or_default();
        if !self.connected {
            self.connected = true;
            if let Some(at) = self.disconnected_at.take() {
                let r = StreamReconnect {
                    attempts: self.attempts,
                    outage_ms: ms(now.saturating_sub(at)),
                };
                self.emit(now, EventKind::StreamReconnect(r));
            }
            self.attempts = 1;
        }
        let anchor = end.max(self.position(now));
        let mapped = |m: &Mapping| pts.as_nanos() as i128 + m.offset_ns;
        let fits = |m: &Mapping| {
            let t = mapped(m);
            t >= 0 && (t - end.as_nanos() as i128).unsigned_abs() <= MAX_JUMP.as_nanos()
        };
        let m = match self.mapping {
            Some(m) if self.received_end.is_none() || fits(&m) => m,
            _ => Mapping {
                offset_ns: anchor.as_nanos() as i128 - pts.as_nanos() as i128,
            },
        };
        self.mapping = Some(m);
        let media = Duration::from_nanos(mapped(&m).max(0) as u64);
        let dur = duration.filter(|d| !d.is_zero()).unwrap_or(self.last_frame);
        self.last_frame = dur;
        if matches!(self.phase, Phase::Playing { .. }) {
            let before = self.level(now);
            self.min_level = Some(self.min_level.map_or(before, |m| m.min(before)));
        }
        self.received_end = Some(end.max(media + dur));
        self.bytes_since_sample += bytes;
        match self.phase {
            Phase::Prefill if self.level(now) >= self.cfg.cache => self.play(now, codec),
            Phase::Stalled { since, announced } if self.level(now) > Duration::ZERO => {
                if announced {
                    let d = ms(now.saturating_sub(since));
                    self.emit(
                        now,
                        EventKind::StreamStallEnd(StreamStallEnd { duration_ms: d }),
                    );
                } else {
                    self.short_underruns += 1;
                }
                self.phase = Phase::Playing {
                    since: now,
                    from: self.pos,
                };
                self.actions.push_back(Action::Play);
            }
            _ => {}
        }
        media
    }

    fn play(&mut self, now: Duration, codec: &str) {
        let p = StreamPlaying {
            startup_ms: ms(now.saturating_sub(self.start)),
            level_ms: ms(self.level(now)),
            codec: codec.to_string(),
        };
        self.emit(now, EventKind::StreamPlaying(p));
        self.phase = Phase::Playing {
            since: now,
            from: self.pos,
        };
        self.min_level = Some(self.level(now));
        self.actions.push_back(Action::Play);
    }

    /// The connection ended (end of stream or error), or a connection attempt failed.
    pub fn on_disconnect(&mut self, now: Duration, cause: DisconnectCause, message: &str) {
        self.handle_timeout(now);
        if self.is_ended() {
            return;
        }
        if self.connected || self.disconnected_at.is_none() {
            self.connected = false;
            self.mapping = None;
            self.disconnected_at = Some(now);
            self.attempts = 1;
            let d = StreamDisconnect {
                cause,
                message: message.to_string(),
                level_ms: ms(self.level(now)),
            };
            self.emit(now, EventKind::StreamDisconnect(d));
        } else {
            self.attempts += 1;
        }
        match self.cfg.reconnect {
            ReconnectPolicy::Always => self.next_connect = Some(now + self.cfg.reconnect_interval),
            ReconnectPolicy::Never => match self.phase {
                Phase::Prefill if self.has_data() => self.play(now, ""),
                Phase::Prefill | Phase::Stalled { .. } => {
                    self.end(now, StreamEndReason::Disconnected)
                }
                _ => {}
            },
        }
    }

    /// Cumulative renderer counters since playback started.
    pub fn on_frame_stats(&mut self, rendered: u64, dropped: u64) {
        self.rendered = rendered;
        self.dropped = dropped;
    }

    /// Advances time: stalls, the end of a played-out cache, reconnect attempts and
    /// samples that are due.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.is_ended() {
            return;
        }
        if let (Phase::Playing { since, from }, Some(end)) = (self.phase, self.received_end) {
            let empty_at = since + end.saturating_sub(from);
            // Empty means time passed with nothing left: a frame arriving exactly
            // when the previous one ends is on time.
            if now > empty_at {
                self.pos = end;
                if self.connected || self.cfg.reconnect == ReconnectPolicy::Always {
                    self.phase = Phase::Stalled {
                        since: empty_at,
                        announced: false,
                    };
                    self.min_level = Some(Duration::ZERO);
                    self.actions.push_back(Action::Pause);
                } else {
                    self.end(empty_at, StreamEndReason::Disconnected);
                    return;
                }
            }
        }
        if let Phase::Stalled {
            since,
            announced: false,
        } = self.phase
            && now >= since + self.cfg.stall_threshold
        {
            let s = StreamStallStart {
                position_ms: ms(self.pos),
                disconnected: !self.connected,
            };
            self.emit(since, EventKind::StreamStallStart(s));
            self.phase = Phase::Stalled {
                since,
                announced: true,
            };
        }
        if self.next_connect.is_some_and(|at| now >= at) {
            self.next_connect = None;
            self.actions.push_back(Action::Connect);
        }
        // Samples wait while an underrun may still turn out to be a stall, so that
        // the stall's start stays in time order.
        let pending = matches!(
            self.phase,
            Phase::Stalled {
                announced: false,
                ..
            }
        );
        if now >= self.next_sample && !pending {
            self.sample(now);
            while self.next_sample <= now {
                self.next_sample += self.cfg.sample_interval;
            }
        }
    }

    fn sample(&mut self, now: Duration) {
        let level = self.level(now);
        let secs = now.saturating_sub(self.last_sample_at).as_secs_f64();
        let s = StreamSample {
            level_ms: ms(level),
            min_level_ms: ms(self.min_level.map_or(level, |m| m.min(level))),
            level_percent: (!self.cfg.cache.is_zero())
                .then(|| 100.0 * level.as_secs_f64() / self.cfg.cache.as_secs_f64()),
            frames_rendered: self.rendered,
            frames_dropped: self.dropped,
            short_underruns: self.short_underruns,
            bytes: self.bytes_since_sample,
            bitrate_kbps: if secs > 0.0 {
                self.bytes_since_sample as f64 * 8.0 / 1000.0 / secs
            } else {
                0.0
            },
            state: self.state_name().into(),
        };
        self.emit(now, EventKind::StreamSample(s));
        self.bytes_since_sample = 0;
        self.last_sample_at = now;
        self.min_level =
            matches!(self.phase, Phase::Playing { .. } | Phase::Stalled { .. }).then_some(level);
    }

    /// `prefill`, `playing`, `stalled` or `ended`.
    pub fn state_name(&self) -> &'static str {
        match self.phase {
            Phase::Prefill => "prefill",
            Phase::Playing { .. } => "playing",
            Phase::Stalled { .. } => "stalled",
            Phase::Ended => "ended",
        }
    }

    /// Ends the session at `now` (duration reached, or stopped); a no-op once ended.
    pub fn finish(&mut self, now: Duration, reason: StreamEndReason) {
        self.handle_timeout(now);
        if !self.is_ended() {
            self.sample(now);
            self.end(now, reason);
        }
    }

    fn end(&mut self, t: Duration, reason: StreamEndReason) {
        let played = self.position(t);
        self.pos = played;
        let e = StreamEnd {
            reason,
            played_ms: ms(played),
        };
        self.emit(t, EventKind::StreamEnd(e));
        self.phase = Phase::Ended;
        self.next_connect = None;
        self.actions.push_back(Action::Stop);
    }

    /// When [`StreamCore::handle_timeout`] must be called next (`None` once ended).
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.is_ended() {
            return None;
        }
        let mut t = self.next_sample;
        if let (Phase::Playing { since, from }, Some(end)) = (self.phase, self.received_end) {
            t = t.min(since + end.saturating_sub(from) + Duration::from_nanos(1));
        }
        if let Phase::Stalled {
            since,
            announced: false,
        } = self.phase
        {
            t = t.min(since + self.cfg.stall_threshold);
        }
        if let Some(c) = self.next_connect {
            t = t.min(c);
        }
        Some(t)
    }

    /// The next action for the driver.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next event to record.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn emit(&mut self, t: Duration, kind: EventKind) {
        let t = t.max(self.last_t);
        self.last_t = t;
        let e = Event::new(t, self.source.clone(), kind);
        crate::log_event(&e);
        self.events.push_back(e);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
