//! The game prober's receive side: decoding what arrives (QGT or STAMP), RTT samples,
//! late and duplicate detection, freezes and session loss. Part of [`GameProbe`]; pure
//! like the rest of the core.

use super::core::{GameProbe, Phase, Protocol, RING, Session, ms};
use super::stamp;
use super::wire::{self, ServerMessage};
use crate::clock::duration_ns;
use crate::record::{EventKind, GameFreeze, GameSession, GameSessionLost, GameSnapshot};
use std::time::Duration;

impl GameProbe {
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
            Ok(ServerMessage::Challenge { nonce, cookie }) => match self.phase {
                Phase::Handshake {
                    first,
                    next_hello,
                    nonce: ours,
                    cookie: had,
                } if nonce == ours => {
                    // Echo the first cookie at once; a later one waits for the next
                    // regular HELLO, so a server that keeps challenging cannot make
                    // the client answer at its round-trip rate.
                    let first_cookie = had == wire::NO_COOKIE;
                    self.phase = Phase::Handshake {
                        first,
                        next_hello: if first_cookie { now } else { next_hello },
                        nonce,
                        cookie,
                    };
                }
                _ => self.ignore(now, "wrong_nonce", bytes.len()),
            },
            Ok(ServerMessage::Welcome(w)) => match self.phase {
                Phase::Handshake { first, nonce, .. } if w.nonce == nonce && w.session_id != 0 => {
                    self.connect_deadline = None;
                    self.session = Some(Session {
                        id: w.session_id,
                        token: w.token,
                        seed: w.state_seed,
                    });
                    if w.tick_interval_ns > 0 {
                        self.tick_interval = Duration::from_nanos(u64::from(w.tick_interval_ns));
                    }
                    self.highest_ack = None;
                    self.highest_snap = None;
                    self.seen.clear();
                    self.origin = now;
                    self.origin_seq = self.next_seq;
                    self.phase = if now < self.end {
                        Phase::Running
                    } else {
                        self.phase
                    };
                    self.push(
                        now,
                        EventKind::GameSession(GameSession {
                            protocol: "qgt".into(),
                            server: self.cfg.server.clone(),
                            session_id: format!("{:016x}", w.session_id),
                            tick_interval_ns: u64::from(w.tick_interval_ns),
                            handshake_ms: ms(now.saturating_sub(first)),
                        }),
                    );
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
                self.arrival(
                    now,
                    s.snap_seq,
                    Some(s.tick),
                    GameSnapshot {
                        seq: s.snap_seq,
                        tick: Some(s.tick),
                        ack_seq: (s.cmd_count > 0).then_some(s.ack_seq),
                        cmd_count: Some(s.cmd_count),
                        rtt_ns,
                        peer_send_ns: Some(s.server_ns),
                        late: false,
                        duplicate: false,
                    },
                );
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
        let from = self
            .highest_ack
            .map_or(self.origin_seq, |h| h.wrapping_add(1));
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
        let rtt = duration_ns(now)
            .saturating_sub(sent_ns)
            .saturating_sub(hold);
        self.arrival(
            now,
            r.sender_seq,
            None,
            GameSnapshot {
                seq: r.sender_seq,
                tick: None,
                ack_seq: Some(r.sender_seq),
                cmd_count: None,
                rtt_ns: vec![rtt],
                peer_send_ns: Some(stamp::ntp_to_ns(r.tx_ntp)),
                late: false,
                duplicate: false,
            },
        );
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
                self.push(
                    now,
                    EventKind::GameFreeze(GameFreeze {
                        start_ns: duration_ns(last),
                        duration_ms: ms(gap),
                        ticks_missed,
                        unresolved: false,
                    }),
                );
            }
        }
        if fresh {
            self.last_arrival = Some((now, tick));
        }
        self.push(now, EventKind::GameSnapshot(snap));
    }

    fn lose_session(&mut self, now: Duration, reason: &str) {
        if let Some(s) = self.session.take() {
            self.push(
                now,
                EventKind::GameSessionLost(GameSessionLost {
                    session_id: format!("{:016x}", s.id),
                    reason: reason.into(),
                }),
            );
        }
        if matches!(self.phase, Phase::Running) {
            self.start_handshake(now);
        }
    }
}
