//! The sans-IO player session: a deterministic state machine in the style of
//! quinn-proto. It is fed inputs with a `now` (response head, body bytes, request
//! done, request failed, timer fired) and polled for [`Action`]s (send a request,
//! abort one), for its next wake-up ([`Player::poll_timeout`]) and for record
//! [`Event`]s. It never reads a clock and never touches a socket: the real adapter
//! (`player::http`), the simulator (`player::sim`) and the tests drive it.
//!
//! One media "slot" fetches, in order, what the next segment needs (manifest, HLS
//! media playlist, sidx index, init segment, media segment); a second slot reloads a
//! live manifest or playlist on its refresh interval. Playback drains the
//! `Buffer` (`super::buffer`) meanwhile.

mod complete;
mod plan;
mod types;

pub use types::*;

use super::abr::Abr;
use super::buffer::{Buffer, BufferEvent, PlaybackState};
use super::manifest::Manifest;
use crate::clock::duration_ns;
use crate::record::{self, EndReason, Event, EventKind};
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

/// The player core. See the module documentation.
pub struct Player {
    cfg: PlayerConfig,
    abr: Box<dyn Abr>,
    buffer: Buffer,
    start_ns: u64,
    manifest: Option<Manifest>,
    /// Next presentation time to fetch, once known.
    next_pos_s: Option<f64>,
    /// Quality chosen for the segment at `next_pos_s` (decided once per segment).
    decided: Option<usize>,
    last_quality: Option<usize>,
    /// HLS: `(number, start_s)` of a segment of the previously loaded media playlist.
    hls_anchor: Option<(u64, f64)>,
    inits_fetched: HashSet<String>,
    /// HLS: each quality's media playlist URL (for reloads).
    playlist_urls: Vec<Option<url::Url>>,
    /// HLS: when each quality's media playlist was last loaded.
    hls_loaded_ns: HashMap<usize, u64>,
    media_slot: Slot,
    refresh_slot: Slot,
    last_refresh_ns: u64,
    inflight: Vec<Inflight>,
    next_id: u64,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    /// The current outage: since the first transport failure until a response.
    outage: Option<Outage>,
    /// Connections the adapter reported opening.
    connections: u64,
    gave_up: bool,
    fatal: Option<PlayerError>,
    ended: bool,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("state", &self.buffer.state())
            .field("buffer_ns", &self.buffer.level_ns())
            .field("next_pos_s", &self.next_pos_s)
            .finish_non_exhaustive()
    }
}

impl Player {
    /// A session that starts at `now` by requesting `cfg.url`.
    pub fn new(cfg: PlayerConfig, abr: Box<dyn Abr>, now: Duration) -> Self {
        let start_ns = duration_ns(now);
        let buffer = Buffer::new(
            start_ns,
            duration_ns(cfg.startup_threshold),
            duration_ns(cfg.resume_threshold),
        );
        let mut p = Self {
            abr,
            buffer,
            start_ns,
            manifest: None,
            next_pos_s: None,
            decided: None,
            last_quality: None,
            hls_anchor: None,
            inits_fetched: HashSet::new(),
            playlist_urls: Vec::new(),
            hls_loaded_ns: HashMap::new(),
            media_slot: Slot::Idle { since_ns: start_ns },
            refresh_slot: Slot::Idle { since_ns: start_ns },
            last_refresh_ns: start_ns,
            inflight: Vec::new(),
            next_id: 1,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            outage: None,
            connections: 0,
            gave_up: false,
            fatal: None,
            ended: false,
            cfg,
        };
        let start = EventKind::SessionStart(record::SessionStart {
            url: p.cfg.url.to_string(),
            abr: p.abr.name(),
            retry: p.cfg.retry.name().to_string(),
        });
        p.emit(start_ns, start);
        p
    }

    /// The next action to carry out, if any. Call it until it returns `None` after
    /// every input.
    pub fn poll_action(&mut self, now: Duration) -> Option<Action> {
        self.drive(duration_ns(now));
        self.actions.pop_front()
    }

    /// The next record event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the core wants [`Player::handle_timeout`] called next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.ended {
            return None;
        }
        let mut t: Option<u64> = None;
        let mut consider = |x: u64| t = Some(t.map_or(x, |t| t.min(x)));
        if let Some(e) = self.buffer.empty_at_ns() {
            consider(e);
        }
        if let Some(d) = self.cfg.duration {
            consider(self.start_ns + duration_ns(d));
        }
        for slot in [&self.media_slot, &self.refresh_slot] {
            if let Slot::Waiting { at_ns, .. } = slot {
                consider(*at_ns);
            }
        }
        if let Some(at) = self.refresh_due_ns() {
            consider(at);
        }
        for f in &self.inflight {
            consider(f.deadline_ns);
        }
        t.map(Duration::from_nanos)
    }

    /// Lets time pass to `now`: fires due timers (stall start, request timeouts,
    /// waits, session end).
    pub fn handle_timeout(&mut self, now: Duration) {
        self.drive(duration_ns(now));
    }

    /// The adapter's HTTP client opened a new connection.
    pub fn on_connection(&mut self, now: Duration) {
        let now = duration_ns(now);
        self.advance(now);
        if self.ended {
            return;
        }
        self.connections += 1;
        if let Some(o) = &mut self.outage {
            o.new_connection = true;
        }
        let k = EventKind::Connection(record::Connection {
            total: self.connections,
        });
        self.emit(now, k);
    }

    /// Stops the session from outside (Ctrl-C, the runner's stop).
    pub fn stop(&mut self, now: Duration, reason: EndReason) {
        let now = duration_ns(now);
        self.advance(now);
        self.finish(now, reason);
    }

    /// Whether the session is over.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Why the session could not play at all (unusable or unreachable manifest).
    pub fn fatal_error(&self) -> Option<&PlayerError> {
        self.fatal.as_ref()
    }

    /// Buffer level.
    pub fn buffer_level(&self) -> Duration {
        Duration::from_nanos(self.buffer.level_ns())
    }

    /// Playback state.
    pub fn state(&self) -> PlaybackState {
        self.buffer.state()
    }

    /// Content played so far.
    pub fn played(&self) -> Duration {
        Duration::from_nanos(self.buffer.played_ns())
    }

    /// Time spent stalled so far.
    pub fn stalled(&self) -> Duration {
        Duration::from_nanos(self.buffer.stalled_ns())
    }

    /// Startup time so far (all of the session until playback started).
    pub fn startup(&self) -> Duration {
        Duration::from_nanos(self.buffer.startup_ns())
    }

    /// Session time the buffer has accounted for.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.buffer.elapsed_ns())
    }

    /// Quality of the last media segment requested.
    pub fn quality(&self) -> Option<usize> {
        self.last_quality
    }

    /// The manifest, once loaded.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    fn emit(&mut self, t_ns: u64, kind: EventKind) {
        self.events.push_back(Event {
            t_ns,
            source: self.cfg.source.clone(),
            kind,
        });
    }

    /// Advances the buffer to `now`, turning its transitions into events.
    fn advance(&mut self, now: u64) {
        if self.ended {
            return;
        }
        if let Some(limit) = self.cfg.duration.map(|d| self.start_ns + duration_ns(d))
            && now >= limit
        {
            if let Some(ev) = self.buffer.advance(limit) {
                self.buffer_event(ev);
            }
            if !self.ended {
                self.finish(limit, EndReason::Duration);
            }
            return;
        }
        if let Some(ev) = self.buffer.advance(now) {
            self.buffer_event(ev);
        }
    }

    fn buffer_event(&mut self, ev: BufferEvent) {
        match ev {
            BufferEvent::Started { t_ns, delay_ns } => {
                let k = EventKind::Startup(record::Startup {
                    delay_ms: ms(delay_ns),
                    buffer_ms: ms(self.buffer.level_ns()),
                });
                self.emit(t_ns, k);
            }
            BufferEvent::StallStarted { t_ns, media_ns } => {
                self.emit(
                    t_ns,
                    EventKind::StallStart(record::StallStart {
                        media_ms: ms(media_ns),
                    }),
                );
            }
            BufferEvent::StallEnded { t_ns, duration_ns } => {
                let k = EventKind::StallEnd(record::StallEnd {
                    duration_ms: ms(duration_ns),
                    buffer_ms: ms(self.buffer.level_ns()),
                    unresolved: false,
                });
                self.emit(t_ns, k);
            }
            BufferEvent::Drained { t_ns } => {
                let reason = if self.gave_up {
                    EndReason::GaveUp
                } else {
                    EndReason::ContentEnd
                };
                self.finish(t_ns, reason);
            }
        }
    }

    /// Ends the session at `t_ns`: closes an open stall, aborts requests, emits `ended`.
    fn finish(&mut self, t_ns: u64, reason: EndReason) {
        if self.ended {
            return;
        }
        if let Some(open) = self.buffer.end() {
            let k = EventKind::StallEnd(record::StallEnd {
                duration_ms: ms(open),
                buffer_ms: 0.0,
                unresolved: true,
            });
            self.emit(t_ns, k);
        }
        for f in self.inflight.drain(..) {
            self.actions.push_back(Action::Abort(f.req.id));
        }
        let played_ms = ms(self.buffer.played_ns());
        self.emit(t_ns, EventKind::Ended(record::Ended { reason, played_ms }));
        self.ended = true;
    }

    /// Fires due timers and plans the slots.
    fn drive(&mut self, now: u64) {
        self.advance(now);
        if self.ended {
            return;
        }
        self.expire_requests(now);
        if self.ended {
            return;
        }
        self.plan_refresh(now);
        self.plan_media(now);
    }
}

/// Nanoseconds to milliseconds as f64.
pub(crate) fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}
