//! The game prober's sans-IO state machine. It is fed `now` with every input
//! (datagram received, timer fired), is polled for datagrams to send, for its next
//! wake-up and for events. It never reads a clock or touches a socket.

use super::stamp;
use super::wire;
use crate::clock::duration_ns;
use crate::record::{Event, EventKind, GameCommand, GameEnd, GameFreeze, GameIgnored, GameSession};
use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

/// Which protocol the prober speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
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

pub(super) const RING: usize = 8192;

#[derive(Debug, Clone, Copy)]
pub(super) struct Session {
    pub(super) id: u64,
    pub(super) token: u64,
    pub(super) seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Phase {
    Handshake {
        first: Duration,
        next_hello: Duration,
        nonce: u64,
        /// The server's cookie to echo ([`wire::NO_COOKIE`] until a CHALLENGE).
        cookie: [u8; wire::COOKIE_LEN],
    },
    Running,
    Draining {
        until: Duration,
    },
    Done,
}

/// The prober.
#[derive(Debug)]
pub struct GameProbe {
    pub(super) cfg: GameConfig,
    /// `cfg.source`, interned once: every event shares it.
    source: crate::record::Source,
    pub(super) phase: Phase,
    pub(super) end: Duration,
    pub(super) connect_deadline: Option<Duration>,
    pub(super) handshakes: u64,
    pub(super) session: Option<Session>,
    pub(super) tick_interval: Duration,
    pub(super) next_seq: u32,
    pub(super) origin: Duration,
    pub(super) origin_seq: u32,
    pub(super) sent: Vec<(u32, u64)>,
    pub(super) highest_ack: Option<u32>,
    pub(super) highest_snap: Option<u32>,
    pub(super) seen: BTreeSet<u32>,
    pub(super) last_arrival: Option<(Duration, Option<u64>)>,
    pub(super) events: VecDeque<Event>,
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
            source: crate::record::Source::from(&cfg.source),
            cfg,
        };
        match p.cfg.protocol {
            Protocol::Qgt => p.start_handshake(now),
            Protocol::Stamp => {
                p.connect_deadline = None;
                p.phase = Phase::Running;
                p.push(
                    now,
                    EventKind::GameSession(GameSession {
                        protocol: "stamp".into(),
                        server: p.cfg.server.clone(),
                        session_id: "-".into(),
                        tick_interval_ns: duration_ns(p.cfg.cmd_interval),
                        handshake_ms: 0.0,
                    }),
                );
            }
        }
        p
    }

    pub(super) fn start_handshake(&mut self, now: Duration) {
        self.handshakes += 1;
        let nonce = wire::mix64(self.cfg.nonce_seed ^ self.handshakes);
        self.phase = Phase::Handshake {
            first: now,
            next_hello: now,
            nonce,
            cookie: wire::NO_COOKIE,
        };
    }

    pub(super) fn push(&mut self, t: Duration, kind: EventKind) {
        let e = Event::new(t, self.source.clone(), kind);
        crate::log_event(&e);
        self.events.push_back(e);
    }

    pub(super) fn ignore(&mut self, now: Duration, reason: &str, len: usize) {
        let len = u64::try_from(len).unwrap_or(u64::MAX);
        self.push(
            now,
            EventKind::GameIgnored(GameIgnored {
                reason: reason.into(),
                len,
            }),
        );
    }

    pub(super) fn freeze_threshold(&self) -> Duration {
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
            // Never answered (the first handshake outlived the run): no session at all.
            Phase::Handshake { .. } if now >= self.end && self.handshakes == 1 => {
                self.finish(now, "no_answer")
            }
            Phase::Handshake { .. } | Phase::Running if now >= self.end => {
                self.phase = Phase::Draining {
                    until: now + self.cfg.drain,
                };
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
        // A reflector answers only what was sent: after the last packet, silence is
        // expected, so a STAMP gap still open is measured up to the end of sending.
        let until = match self.cfg.protocol {
            Protocol::Stamp => now.min(self.end),
            Protocol::Qgt => now,
        };
        if let Some((last, _)) = self.last_arrival
            && until.saturating_sub(last) > self.freeze_threshold()
        {
            self.push(
                now,
                EventKind::GameFreeze(GameFreeze {
                    start_ns: duration_ns(last),
                    duration_ms: ms(until.saturating_sub(last)),
                    ticks_missed: None,
                    unresolved: true,
                }),
            );
        }
        self.push(
            now,
            EventKind::GameEnd(GameEnd {
                reason: reason.into(),
            }),
        );
        self.phase = Phase::Done;
    }

    /// The next datagram due at `now`, if any; the command's send time is `now`, so
    /// call this right before sending.
    pub fn poll_transmit(&mut self, now: Duration) -> Option<Vec<u8>> {
        match self.phase {
            Phase::Handshake {
                first,
                next_hello,
                nonce,
                cookie,
            } if now >= next_hello && now < self.end => {
                self.phase = Phase::Handshake {
                    first,
                    next_hello: now + self.cfg.hello_interval,
                    nonce,
                    cookie,
                };
                Some(wire::encode_hello(nonce, &cookie))
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
                self.push(
                    now,
                    EventKind::GameCommand(GameCommand {
                        seq,
                        scheduled_ns: duration_ns(scheduled),
                    }),
                );
                Some(bytes)
            }
            _ => None,
        }
    }
}

pub(super) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
