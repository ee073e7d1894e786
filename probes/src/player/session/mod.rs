//! The sans-IO player session: a deterministic state machine in the style of
//! quinn-proto. It is fed inputs with a `now` (response head, body bytes, request
//! done, request failed, timer fired) and polled for [`Action`]s (send a request,
//! abort one), for its next wake-up ([`Player::poll_timeout`]) and for record
//! [`Event`]s. It never reads a clock and never touches a socket: the real adapter
//! (`player::http`), the simulator (`player::sim`) and the tests drive it.
//!
//! Each track (video; audio when it has its own segments) has a media "slot" that
//! fetches, in order, what its next segment needs (manifest, HLS media playlist, sidx
//! index, init segment, media segment); the tracks fetch in parallel, as dash.js's
//! stream processors do. A further slot reloads a live manifest or playlist on its
//! refresh interval. Playback drains the `Buffer` (`super::buffer`), one level per
//! track, meanwhile.

mod complete;
mod plan;
mod track;
mod types;

pub use types::*;

use super::abr::Abr;
use super::buffer::{Buffer, BufferEvent, PlaybackState};
use super::manifest::{Manifest, MediaKind};
use crate::clock::duration_ns;
use crate::record::{self, EndReason, Event, EventKind};
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use track::{Track, VIDEO};

/// The player core. See the module documentation.
pub struct Player {
    cfg: PlayerConfig,
    /// `cfg.source`, interned once: every event shares it.
    source: record::Source,
    buffer: Buffer,
    start_ns: u64,
    manifest: Option<Manifest>,
    /// Video first; audio second when the manifest gives it its own segments.
    tracks: Vec<Track>,
    inits_fetched: HashSet<String>,
    /// The bitrates handed to the ABR, kept between decisions to reuse the buffer.
    bitrates: Vec<u64>,
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
            .field("next_pos_s", &self.tracks[VIDEO].next_pos_s)
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
        let abr_name = abr.name();
        let mut p = Self {
            buffer,
            start_ns,
            manifest: None,
            tracks: vec![Track::new(MediaKind::Video, abr, start_ns)],
            inits_fetched: HashSet::new(),
            bitrates: Vec::new(),
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
            source: record::Source::from(&cfg.source),
            cfg,
        };
        let start = EventKind::SessionStart(record::SessionStart {
            url: p.cfg.url.to_string(),
            abr: abr_name,
            retry: p.cfg.retry.name().to_string(),
        });
        p.emit(start_ns, start);
        p
    }

    /// The next action to carry out, if any. Call it until it returns `None` after
    /// every input.
    pub fn poll_action(&mut self, now: Duration) -> Option<Action> {
        let now = duration_ns(now);
        if !self.settled(now) {
            self.drive(now);
        }
        self.actions.pop_front()
    }

    /// The next record event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Every pending record event, oldest first (what [`Player::poll_event`] would
    /// return one by one). A driver that only collects the events (the simulator)
    /// takes them once at the end: none is moved before, and when none was polled
    /// the queue becomes the vector in place.
    pub fn take_events(&mut self) -> Vec<Event> {
        Vec::from(std::mem::take(&mut self.events))
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
        let slots = self.tracks.iter().map(|t| &t.slot);
        for slot in slots.chain([&self.refresh_slot]) {
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

    /// Buffer level that counts for playback (the lower of video and audio).
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

    /// Quality of the last video segment requested.
    pub fn quality(&self) -> Option<usize> {
        self.tracks[VIDEO].last_quality
    }

    /// The manifest, once loaded.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    fn emit(&mut self, t_ns: u64, kind: EventKind) {
        let e = Event {
            t_ns,
            source: self.source.clone(),
            kind,
        };
        crate::log_event(&e);
        self.events.push_back(e);
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
            BufferEvent::StallStarted {
                t_ns,
                media_ns,
                track,
            } => {
                let cause = self
                    .tracks
                    .get(track)
                    .map_or(record::MediaType::Video, Track::media_type);
                self.emit(
                    t_ns,
                    EventKind::StallStart(record::StallStart {
                        media_ms: ms(media_ns),
                        cause,
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

    /// Whether [`Player::drive`] at `now` would change nothing: the buffer is
    /// already at `now`, no limit or timeout is due, and every slot is busy or
    /// waiting for a later time (so planning returns at once). The state a request
    /// was just sent from, or a response head left: the adapter polls again at the
    /// same time, and planning again would only find the same slots.
    fn settled(&self, now: u64) -> bool {
        if self.ended {
            return true;
        }
        let later = |slot: &Slot| match slot {
            Slot::Busy { .. } => true,
            Slot::Waiting { at_ns, .. } => *at_ns > now,
            Slot::Idle { .. } => false,
        };
        let refresh_later = match &self.refresh_slot {
            Slot::Idle { .. } => self.refresh_due_ns().is_none_or(|at| at > now),
            slot => later(slot),
        };
        now <= self.buffer.now_ns()
            && self
                .cfg
                .duration
                .is_none_or(|d| now < self.start_ns + duration_ns(d))
            && self.inflight.iter().all(|f| f.deadline_ns > now)
            && refresh_later
            && self.tracks.iter().all(|t| later(&t.slot))
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
