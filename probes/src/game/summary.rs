//! The game summary as a pure function of the events (docs/game.md defines each
//! metric). Reads only `game_*` events; never does I/O.

use crate::record::{Event, EventKind, GameSummary};
use hdrhistogram::Histogram;

/// Freeze limit of the default game profile (docs/verdicts.md), ms.
pub const PLAYABLE_MAX_FREEZE_MS: f64 = 250.0;
/// RTT p95 limit of the default game profile, ms.
pub const PLAYABLE_MAX_RTT_P95_MS: f64 = 150.0;

#[derive(Default)]
struct SessionCount {
    sent_seqs: Vec<u32>,
    max_ack: Option<u32>,
    max_cmd_count: u32,
    max_snap: Option<u32>,
    distinct_snaps: u64,
}

impl SessionCount {
    fn loss_up(&self) -> (u64, u64) {
        let Some(ack) = self.max_ack else {
            return (0, 0);
        };
        let expected = self.sent_seqs.iter().filter(|&&s| s <= ack).count() as u64;
        (
            expected.saturating_sub(u64::from(self.max_cmd_count)),
            expected,
        )
    }

    fn loss_down(&self) -> (u64, u64) {
        let expected = self.max_snap.map_or(0, |m| u64::from(m) + 1);
        (expected.saturating_sub(self.distinct_snaps), expected)
    }
}

fn hist() -> Histogram<u64> {
    // 1 ns .. 1 hour at 3 significant digits: constant, valid bounds.
    Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
        .expect("constant histogram bounds are valid")
}

fn quantile_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 / 1e6)
}

/// Summarizes a game probe run from its events.
pub fn summarize(events: &[Event]) -> GameSummary {
    let mut rtt = hist();
    let mut send_err = hist();
    let mut s = GameSummary {
        protocol: "qgt".into(),
        end_reason: "interrupted".into(),
        duration_ms: 0.0,
        commands_sent: 0,
        snapshots_received: 0,
        rtt_p50_ms: None,
        rtt_p95_ms: None,
        rtt_p99_ms: None,
        rtt_max_ms: None,
        rtt_mean_ms: None,
        jitter_ms: 0.0,
        ipdv_mean_ms: 0.0,
        gap_max_ms: 0.0,
        freeze_count: 0,
        freeze_longest_ms: 0.0,
        freeze_total_ms: 0.0,
        loss_up_count: None,
        loss_up_pct: None,
        loss_down_count: None,
        loss_down_pct: None,
        loss_round_trip_pct: None,
        late: 0,
        duplicates: 0,
        ignored: 0,
        tick_jumps: 0,
        ticks_missed: 0,
        sessions: 0,
        sessions_lost: 0,
        session_continuous: false,
        playable: false,
        send_error_p50_us: None,
        send_error_p99_us: None,
        send_error_max_us: None,
        send_error_mean_us: None,
    };
    let mut sessions: Vec<SessionCount> = Vec::new();
    let (mut first_t, mut last_t) = (None, 0u64);
    let mut jitter = 0.0f64;
    let mut prev_transit: Option<f64> = None;
    let (mut prev_rtt, mut ipdv_sum, mut ipdv_n) = (None::<u64>, 0.0f64, 0u64);
    let mut prev_fresh: Option<(u64, Option<u64>)> = None;
    let mut stamp_reflected = std::collections::BTreeSet::new();
    let mut rtt_sum = 0.0f64;
    for e in events {
        let game_event = matches!(
            e.kind,
            EventKind::GameSession(_)
                | EventKind::GameCommand(_)
                | EventKind::GameSnapshot(_)
                | EventKind::GameFreeze(_)
                | EventKind::GameSessionLost(_)
                | EventKind::GameIgnored(_)
                | EventKind::GameEnd(_)
        );
        if !game_event {
            continue;
        }
        first_t.get_or_insert(e.t_ns);
        last_t = last_t.max(e.t_ns);
        match &e.kind {
            EventKind::GameSession(g) => {
                s.protocol = g.protocol.clone();
                s.sessions += 1;
                sessions.push(SessionCount::default());
            }
            EventKind::GameCommand(c) => {
                s.commands_sent += 1;
                let _ = send_err.record(e.t_ns.saturating_sub(c.scheduled_ns).max(1));
                if let Some(cur) = sessions.last_mut() {
                    cur.sent_seqs.push(c.seq);
                }
            }
            EventKind::GameSnapshot(g) => {
                s.snapshots_received += 1;
                s.late += u64::from(g.late);
                s.duplicates += u64::from(g.duplicate);
                for &r in &g.rtt_ns {
                    let _ = rtt.record(r.max(1));
                    rtt_sum += r as f64;
                    if let Some(p) = prev_rtt {
                        ipdv_sum += (r as f64 - p as f64).abs();
                        ipdv_n += 1;
                    }
                    prev_rtt = Some(r);
                }
                if s.protocol == "stamp" {
                    stamp_reflected.insert(g.seq);
                }
                if let Some(cur) = sessions.last_mut() {
                    if !g.duplicate {
                        cur.distinct_snaps += 1;
                    }
                    cur.max_snap = cur.max_snap.max(Some(g.seq));
                    cur.max_ack = cur.max_ack.max(g.ack_seq);
                    cur.max_cmd_count = cur.max_cmd_count.max(g.cmd_count.unwrap_or(0));
                }
                if g.late || g.duplicate {
                    continue;
                }
                if let Some(peer) = g.peer_send_ns {
                    // RFC 3550 6.4.1: D = (Rj - Ri) - (Sj - Si); J += (|D| - J) / 16.
                    let transit = e.t_ns as f64 - peer as f64;
                    if let Some(p) = prev_transit {
                        jitter += ((transit - p).abs() - jitter) / 16.0;
                    }
                    prev_transit = Some(transit);
                }
                if let Some((pt, ptick)) = prev_fresh {
                    s.gap_max_ms = s.gap_max_ms.max(e.t_ns.saturating_sub(pt) as f64 / 1e6);
                    if let (Some(a), Some(b)) = (ptick, g.tick)
                        && b != a.wrapping_add(1)
                    {
                        s.tick_jumps += 1;
                        s.ticks_missed += b.saturating_sub(a).saturating_sub(1);
                    }
                }
                prev_fresh = Some((e.t_ns, g.tick));
            }
            EventKind::GameFreeze(f) => {
                s.freeze_count += 1;
                s.freeze_total_ms += f.duration_ms;
                s.freeze_longest_ms = s.freeze_longest_ms.max(f.duration_ms);
            }
            EventKind::GameSessionLost(_) => {
                s.sessions_lost += 1;
                prev_fresh = prev_fresh.map(|(t, _)| (t, None));
                prev_transit = None;
            }
            EventKind::GameIgnored(_) => s.ignored += 1,
            EventKind::GameEnd(g) => s.end_reason = g.reason.clone(),
            _ => {}
        }
    }
    s.duration_ms = last_t.saturating_sub(first_t.unwrap_or(0)) as f64 / 1e6;
    s.rtt_p50_ms = quantile_ms(&rtt, 0.5);
    s.rtt_p95_ms = quantile_ms(&rtt, 0.95);
    s.rtt_p99_ms = quantile_ms(&rtt, 0.99);
    s.rtt_max_ms = (!rtt.is_empty()).then(|| rtt.max() as f64 / 1e6);
    s.rtt_mean_ms = (!rtt.is_empty()).then(|| rtt_sum / rtt.len() as f64 / 1e6);
    s.jitter_ms = jitter / 1e6;
    s.ipdv_mean_ms = if ipdv_n > 0 {
        ipdv_sum / ipdv_n as f64 / 1e6
    } else {
        0.0
    };
    let us = |q: f64| (!send_err.is_empty()).then(|| send_err.value_at_quantile(q) as f64 / 1e3);
    s.send_error_p50_us = us(0.5);
    s.send_error_p99_us = us(0.99);
    s.send_error_max_us = us(1.0);
    s.send_error_mean_us = (!send_err.is_empty()).then(|| send_err.mean() / 1e3);
    if s.protocol == "stamp" {
        let sent = s.commands_sent;
        if sent > 0 {
            let lost = sent.saturating_sub(stamp_reflected.len() as u64);
            s.loss_round_trip_pct = Some(100.0 * lost as f64 / sent as f64);
        }
    } else if !sessions.is_empty() {
        let (mut lu, mut eu, mut ld, mut ed) = (0, 0, 0, 0);
        for c in &sessions {
            let (l, e) = c.loss_up();
            lu += l;
            eu += e;
            let (l, e) = c.loss_down();
            ld += l;
            ed += e;
        }
        s.loss_up_count = Some(lu);
        s.loss_up_pct = (eu > 0).then(|| 100.0 * lu as f64 / eu as f64);
        s.loss_down_count = Some(ld);
        s.loss_down_pct = (ed > 0).then(|| 100.0 * ld as f64 / ed as f64);
    }
    s.session_continuous = s.sessions == 1 && s.sessions_lost == 0;
    s.playable = s.session_continuous
        && s.freeze_longest_ms <= PLAYABLE_MAX_FREEZE_MS
        && s.rtt_p95_ms.is_some_and(|p| p < PLAYABLE_MAX_RTT_P95_MS);
    s
}
