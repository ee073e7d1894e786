//! The game prober's sans-IO state machine. It is fed `now` with every input
//! (datagram received, timer fired), is polled for datagrams to send, for its next
//! wake-up and for events. It never reads a clock or touches a socket.

use super::stamp;
use super::wire::{self, ServerMessage};
use crate::clock::duration_ns;
use crate::record::{
    Event, EventKind, GameCommand, GameEnd, GameFreeze, GameIgnored, GameSession,
    GameSessionLost, GameSnapshot,
};
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

/// Which protocol the prober speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// qoeprobe's own game protocol (docs/protocol/game.md).
    Qgt,
    /// RFC 8762 STAMP, unauthenticated, to any session reflector.
    Stamp,
}

impl Protocol {
    /// `qgt` or `stamp`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Qgt => "qgt",
            Self::Stamp => "stamp",
        }
    }
}

/// What the prober does and how it judges.
#[derive(Debug, Clone)]
pub struct GameConfig {
    /// Protocol.
    pub protocol: Protocol,
    /// Interval between commands (1 / cmdrate).
    pub cmd_interval: Duration,
    /// How long to send commands.
    pub duration: Duration,
    /// Freeze threshold; `None` = max(3 ticks, 100 ms).
    pub freeze_threshold: Option<Duration>,
    /// HELLO repeat interval.
    pub hello_interval: Duration,
    /// Give up if no WELCOME arrives within this.
    pub connect_timeout: Duration,
    /// After the last command, keep listening this long.
    pub drain: Duration,
    /// Event source, e.g. `probe:game`.
    pub source: String,
    /// Server address, for the record.
    pub server: String,
    /// Random seed of the handshake nonces.
    pub nonce_seed: u64,
    /// Wall clock at `now` = 0, ns since the Unix epoch (STAMP timestamps).
    pub wall_anchor_unix_ns: u64,
}

impl GameConfig {
    /// Defaults: 66 commands/s, 10 s, automatic freeze threshold.
    pub fn new(protocol: Protocol, server: impl Into<String>) -> Self {
        Self {
            protocol,
            cmd_interval: Duration::from_nanos(1_000_000_000 / 66),
            duration: Duration::from_secs(10),
            freeze_threshold: None,
            hello_interval: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(5),
            drain: Duration::from_millis(300),
            source: crate::record::probe_source("game"),
            server: server.into(),
            nonce_seed: 0x5eed,
            wall_anchor_unix_ns: 0,
        }
    }
}

const RING: usize = 8192;

#[derive(Debug, Clone, Copy)]
struct Session {
    id: u64,
    token: u64,
    seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Handshake { first: Duration, next_hello: Duration, nonce: u64 },
    Running,
    Draining { until: Duration },
    Done,
}

/// The prober.
#[derive(Debug)]
pub struct GameProbe {
    cfg: GameConfig,
    phase: Phase,
    end: Duration,
    connect_deadline: Option<Duration>,
    handshakes: u64,
    session: Option<Session>,
    tick_interval: Duration,
    next_seq: u32,
    origin: Duration,
    origin_seq: u32,
    sent: Vec<(u32, u64)>,
    highest_ack: Option<u32>,
    highest_snap: Option<u32>,
    seen: BTreeSet<u32>,
    last_arrival: Option<(Duration, Option<u64>)>,
    events: VecDeque<Event>,
}

impl GameProbe {
    /// A prober starting at `now`.
    pub fn new(cfg: GameConfig, now: Duration) -> Self {
        let mut p = Self {
            end: now + cfg.duration,
            connect_deadline: Some(now + cfg.connect_timeout),
            phase: Phase::Done,
            handshakes: 0,
            session: None,
            tick_interval: cfg.cmd_interval,
            next_seq: 0,
            origin: now,
            origin_seq: 0,
            sent: vec![(u32::MAX, 0); RING],
            highest_ack: None,
            highest_snap: None,
            seen: BTreeSet::new(),
            last_arrival: None,
            events: VecDeque::new(),
            cfg,
        };
        match p.cfg.protocol {
            Protocol::Qgt => p.start_handshake(now),
            Protocol::Stamp => {
                p.connect_deadline = None;
                p.phase = Phase::Running;
                p.push(now, EventKind::GameSession(GameSession {
                    protocol: "stamp".into(),
                    server: p.cfg.server.clone(),
                    session_id: "-".into(),
                    tick_interval_ns: duration_ns(p.cfg.cmd_interval),
                    handshake_ms: 0.0,
                }));
            }
        }
        p
    }

    fn start_handshake(&mut self, now: Duration) {
        self.handshakes += 1;
        let nonce = wire::mix64(self.cfg.nonce_seed ^ self.handshakes);
        self.phase = Phase::Handshake { first: now, next_hello: now, nonce };
    }

    fn push(&mut self, t: Duration, kind: EventKind) {
        self.events.push_back(Event::new(t, self.cfg.source.clone(), kind));
    }

    fn ignore(&mut self, now: Duration, reason: &str, len: usize) {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.push(now, EventKind::GameIgnored(GameIgnored { reason: reason.into(), len }));
    }

    fn freeze_threshold(&self) -> Duration {
        self.cfg
            .freeze_threshold
            .unwrap_or_else(|| (self.tick_interval * 3).max(Duration::from_millis(100)))
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// `true` once the run is over (all events emitted by then).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    fn scheduled(&self, seq: u32) -> Duration {
        self.origin + self.cfg.cmd_interval * seq.wrapping_sub(self.origin_seq)
    }

    /// When the prober next needs `handle_timeout` / `poll_transmit`.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let t = match self.phase {
            Phase::Handshake { next_hello, .. } => next_hello.min(self.end),
            Phase::Running => self.scheduled(self.next_seq).min(self.end),
            Phase::Draining { until } => until,
            Phase::Done => return None,
        };
        Some(self.connect_deadline.map_or(t, |d| t.min(d)))
    }

    /// Advances timers: connect timeout, end of sending, end of draining.
    pub fn handle_timeout(&mut self, now: Duration) {
        if let Some(d) = self.connect_deadline
            && now >= d
            && matches!(self.phase, Phase::Handshake { .. })
        {
            return self.finish(now, "no_answer");
        }
        match self.phase {
            Phase::Handshake { .. } | Phase::Running if now >= self.end => {
                self.phase = Phase::Draining { until: now + self.cfg.drain };
            }
            Phase::Draining { until } if now >= until => self.finish(now, "duration"),
            _ => {}
        }
    }

    /// Ends the run now (`reason`: `duration`, `no_answer`, `interrupted`): closes an
    /// open freeze as unresolved and emits `game_end`.
    pub fn finish(&mut self, now: Duration, reason: &str) {
        if self.phase == Phase::Done {
            return;
        }
        if let Some((last, _)) = self.last_arrival
            && now.saturating_sub(last) > self.freeze_threshold()
        {
            self.push(now, EventKind::GameFreeze(GameFreeze {
                start_ns: duration_ns(last),
                duration_ms: ms(now.saturating_sub(last)),
                ticks_missed: None,
                unresolved: true,
            }));
        }
        self.push(now, EventKind::GameEnd(GameEnd { reason: reason.into() }));
        self.phase = Phase::Done;
    }

    /// The next datagram due at `now`, if any; the command's send time is `now`, so
    /// call this right before sending.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Vec<u8>> {
        match self.phase {
            Phase::Handshake { first, next_hello, nonce } if now >= next_hello && now < self.end => {
                self.phase = Phase::Handshake {
                    first,
                    next_hello: now + self.cfg.hello_interval,
                    nonce,
                };
                Some(wire::encode_hello(nonce))
            }
            Phase::Running if now < self.end => {
                let scheduled = self.scheduled(self.next_seq);
                if now < scheduled {
                    return None;
                }
                let seq = self.next_seq;
                self.next_seq = seq.wrapping_add(1);
                let now_ns = duration_ns(now);
                self.sent[seq as usize % RING] = (seq, now_ns);
                let bytes = match (self.cfg.protocol, self.session) {
                    (Protocol::Stamp, _) => stamp::encode_test(
                        seq,
                        stamp::unix_ns_to_ntp(self.cfg.wall_anchor_unix_ns.saturating_add(now_ns)),
                    ),
                    (Protocol::Qgt, Some(s)) => wire::encode_command(s.id, s.token, seq, now_ns),
                    (Protocol::Qgt, None) => return None,
                };
                self.push(now, EventKind::GameCommand(GameCommand {
                    seq,
                    scheduled_ns: duration_ns(scheduled),
                }));
                Some(bytes)
            }
            _ => None,
        }
    }

    /// Feeds one received datagram.
    pub fn handle_datagram(&mut self, now: Duration, bytes: &[u8]) {
        if self.phase == Phase::Done {
            return;
        }
        if self.cfg.protocol == Protocol::Stamp {
            return self.handle_stamp(now, bytes);
        }
        match wire::decode(bytes) {
            Err(e) => self.ignore(now, e.name(), bytes.len()),
            Ok(ServerMessage::Welcome(w)) => match self.phase {
                Phase::Handshake { first, nonce, .. } if w.nonce == nonce && w.session_id != 0 => {
                    self.connect_deadline = None;
                    self.session = Some(Session { id: w.session_id, token: w.token, seed: w.state_seed });
                    if w.tick_interval_ns > 0 {
                        self.tick_interval = Duration::from_nanos(u64::from(w.tick_interval_ns));
                    }
                    self.highest_ack = None;
                    self.highest_snap = None;
                    self.seen.clear();
                    self.origin = now;
                    self.origin_seq = self.next_seq;
                    self.phase = if now < self.end { Phase::Running } else { self.phase };
                    self.push(now, EventKind::GameSession(GameSession {
                        protocol: "qgt".into(),
                        server: self.cfg.server.clone(),
                        session_id: format!("{:016x}", w.session_id),
                        tick_interval_ns: u64::from(w.tick_interval_ns),
                        handshake_ms: ms(now.saturating_sub(first)),
                    }));
                }
                _ => self.ignore(now, "wrong_nonce", bytes.len()),
            },
            Ok(ServerMessage::UnknownSession(id)) => match self.session {
                Some(s) if s.id == id => self.lose_session(now, "unknown_session"),
                _ => self.ignore(now, "foreign_session", bytes.len()),
            },
            Ok(ServerMessage::Snapshot(s)) => {
                let Some(sess) = self.session else {
                    return self.ignore(now, "no_session", bytes.len());
                };
                if s.session_id != sess.id {
                    return self.ignore(now, "foreign_session", bytes.len());
                }
                if s.state != wire::state_at(sess.seed, s.tick) {
                    return self.lose_session(now, "state_mismatch");
                }
                let rtt_ns = self.newly_acked(now, &s);
                self.arrival(now, s.snap_seq, Some(s.tick), GameSnapshot {
                    seq: s.snap_seq,
                    tick: Some(s.tick),
                    ack_seq: (s.cmd_count > 0).then_some(s.ack_seq),
                    cmd_count: Some(s.cmd_count),
                    rtt_ns,
                    peer_send_ns: Some(s.server_ns),
                    late: false,
                    duplicate: false,
                });
            }
        }
    }

    /// RTT samples of the commands `s` acknowledges for the first time: for each,
    /// arrival - its send time - the snapshot's hold time (docs/game.md).
    fn newly_acked(&mut self, now: Duration, s: &wire::Snapshot) -> Vec<u64> {
        let (seq, sent_ns) = self.sent[s.ack_seq as usize % RING];
        let valid = s.cmd_count > 0 && seq == s.ack_seq && sent_ns == s.echo_send_ns;
        if !valid || self.highest_ack.is_some_and(|h| s.ack_seq <= h) {
            return Vec::new();
        }
        let from = self.highest_ack.map_or(self.origin_seq, |h| h.wrapping_add(1));
        self.highest_ack = Some(s.ack_seq);
        let now_ns = duration_ns(now);
        let span = s.ack_seq.wrapping_sub(from).min(RING as u32 - 1);
        (0..=span)
            .filter_map(|i| {
                let q = s.ack_seq.wrapping_sub(span - i);
                let (have, t) = self.sent[q as usize % RING];
                (have == q).then(|| now_ns.saturating_sub(t.saturating_add(u64::from(s.hold_ns))))
            })
            .collect()
    }

    fn handle_stamp(&mut self, now: Duration, bytes: &[u8]) {
        let Some(r) = stamp::decode_reflected(bytes) else {
            return self.ignore(now, "short", bytes.len());
        };
        let (seq, sent_ns) = self.sent[r.sender_seq as usize % RING];
        let expect = stamp::unix_ns_to_ntp(self.cfg.wall_anchor_unix_ns.saturating_add(sent_ns));
        if seq != r.sender_seq || r.sender_ntp != expect {
            return self.ignore(now, "unknown_seq", bytes.len());
        }
        let hold = stamp::ntp_to_ns(r.tx_ntp).saturating_sub(stamp::ntp_to_ns(r.rx_ntp));
        let rtt = duration_ns(now).saturating_sub(sent_ns).saturating_sub(hold);
        self.arrival(now, r.sender_seq, None, GameSnapshot {
            seq: r.sender_seq,
            tick: None,
            ack_seq: Some(r.sender_seq),
            cmd_count: None,
            rtt_ns: vec![rtt],
            peer_send_ns: Some(stamp::ntp_to_ns(r.tx_ntp)),
            late: false,
            duplicate: false,
        });
    }

    fn arrival(&mut self, now: Duration, seq: u32, tick: Option<u64>, mut snap: GameSnapshot) {
        snap.duplicate = !self.seen.insert(seq);
        snap.late = self.highest_snap.is_some_and(|h| seq < h);
        if self.highest_snap.is_none_or(|h| seq > h) {
            self.highest_snap = Some(seq);
        }
        if self.seen.len() > RING {
            let floor = seq.saturating_sub(RING as u32);
            self.seen = self.seen.split_off(&floor);
        }
        let fresh = !snap.late && !snap.duplicate;
        if let Some((last, last_tick)) = self.last_arrival.filter(|_| fresh) {
            let gap = now.saturating_sub(last);
            if gap > self.freeze_threshold() {
                let ticks_missed = match (last_tick, tick) {
                    (Some(a), Some(b)) if b > a => Some(b - a - 1),
                    _ => None,
                };
                self.push(now, EventKind::GameFreeze(GameFreeze {
                    start_ns: duration_ns(last),
                    duration_ms: ms(gap),
                    ticks_missed,
                    unresolved: false,
                }));
            }
        }
        if fresh {
            self.last_arrival = Some((now, tick));
        }
        self.push(now, EventKind::GameSnapshot(snap));
    }

    fn lose_session(&mut self, now: Duration, reason: &str) {
        if let Some(s) = self.session.take() {
            self.push(now, EventKind::GameSessionLost(GameSessionLost {
                session_id: format!("{:016x}", s.id),
                reason: reason.into(),
            }));
        }
        if matches!(self.phase, Phase::Running) {
            self.start_handshake(now);
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
