//! Rules for the game prober (`probe: game`). Failed: no session was ever
//! established, the session state was lost (session lost or not continuous), the server never answered again, or the game was
//! unplayable for longer than the profile allows in the migration window (frozen, or
//! lagged past what a shooter tolerates: [`super::unplayable`]). Impaired: a
//! freeze (snapshot gap) in the migration window longer than the profile allows, or
//! the window's RTT p95 over the profile's limit (absolute, or relative to the
//! run's own baseline p95 where that is already above the absolute limit).

use super::unplayable::{Arrival, unplayable};
use super::{Findings, ProbeCtx, Reason};
use crate::timeline::percentile;
use record::{EventKind, GameSummary, ProbeSummary};

pub(crate) fn judge(ctx: &ProbeCtx<'_>, f: &mut Findings) {
    let name = ctx.name;
    let summary: Option<&GameSummary> = match ctx.summary {
        Some(ProbeSummary::Game(s)) => Some(s),
        _ => None,
    };
    if let Some(s) = summary.filter(|s| s.sessions == 0 && s.snapshots_received == 0) {
        // Never reached the server: not a lost session, and told apart so the reader
        // sees a run whose game never started (a set-up fault of that run).
        f.failed.push(Reason::new(
            "game session never established",
            format!(
                "`{name}`: no snapshot in the whole run (end reason `{}`): the prober never reached the server",
                s.end_reason
            ),
        ));
    } else if let Some(s) = summary
        && (s.sessions_lost > 0 || !s.session_continuous)
    {
        f.failed.push(Reason::new(
            "game session state lost",
            format!(
                "`{name}`: {} session(s) lost, {} session(s) in the run",
                s.sessions_lost, s.sessions
            ),
        ));
    }
    let freezes: Vec<(u64, f64, bool)> = ctx
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GameFreeze(g) => Some((g.start_ns, g.duration_ms, g.unresolved)),
            _ => None,
        })
        .collect();
    if let Some(fr) = freezes.iter().find(|fr| fr.2) {
        f.failed.push(Reason::new(
            "game server never answered again",
            format!(
                "`{name}`: no snapshot from {:.1} s to the end of the run ({:.0} ms)",
                fr.0 as f64 / 1e9,
                fr.1
            ),
        ));
    }
    let l = ctx.limits;
    if ctx.events.is_empty() {
        if let Some(longest) = summary.map(|s| s.freeze_longest_ms)
            && longest > l.max_freeze_ms
        {
            f.notes.push(format!(
                "`{name}`: no timeline events, freezes judged on the whole run's summary"
            ));
            f.impaired.push(Reason::new(
                "freeze longer than the limit",
                format!(
                    "`{name}`: longest freeze {longest:.0} ms in the run, profile allows {:.0} ms",
                    l.max_freeze_ms
                ),
            ));
        }
        return;
    }
    let long: Vec<f64> = freezes
        .iter()
        .filter(|fr| ctx.in_window(fr.0) && fr.1 > l.max_freeze_ms)
        .map(|fr| fr.1)
        .collect();
    if !long.is_empty() {
        f.impaired.push(Reason::new(
            "freeze longer than the limit",
            format!(
                "`{name}`: {} freeze(s) in the migration window, longest {:.0} ms, profile allows {:.0} ms",
                long.len(),
                long.iter().copied().fold(0.0, f64::max),
                l.max_freeze_ms
            ),
        ));
    }
    let mut window_rtt = Vec::new();
    let mut base_rtt = Vec::new();
    for e in ctx.events {
        let EventKind::GameSnapshot(snapshot) = &e.kind else {
            continue;
        };
        let rtts = &snapshot.rtt_ns;
        let target = if ctx.in_window(e.t_ns) {
            &mut window_rtt
        } else if ctx.in_baseline(e.t_ns) {
            &mut base_rtt
        } else {
            continue;
        };
        target.extend(rtts.iter().map(|r| *r as f64 / 1e6));
    }
    let base_p95 = percentile(&mut base_rtt, 95.0);
    judge_unplayable(ctx, base_p95, f);
    let Some(win_p95) = percentile(&mut window_rtt, 95.0) else {
        return;
    };
    let limit = l.rtt_p95_limit(base_p95);
    if win_p95 > limit {
        let base = base_p95
            .map(|b| format!("{b:.0} ms"))
            .unwrap_or_else(|| "none".into());
        f.impaired.push(Reason::new(
            "lag: RTT p95 over the limit in the migration window",
            format!(
                "`{name}`: RTT p95 {win_p95:.0} ms in the migration window, limit {limit:.0} ms (baseline p95 {base})"
            ),
        ));
    }
}

/// Failed when the window's unplayable time exceeds the profile's `max_unplayable_ms`.
fn judge_unplayable(ctx: &ProbeCtx<'_>, base_p95: Option<f64>, f: &mut Findings) {
    let Some(window) = ctx.window else {
        return;
    };
    let l = ctx.limits;
    let arrivals: Vec<Arrival> = ctx
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GameSnapshot(s) if !s.late && !s.duplicate => Some(Arrival {
                t_ns: e.t_ns,
                rtt_ms: s.rtt_ns.iter().max().map(|r| *r as f64 / 1e6),
            }),
            _ => None,
        })
        .collect();
    let rtt_limit = l.rtt_p95_limit(base_p95) + l.unplayable_rtt_margin_ms;
    let u = unplayable(&arrivals, &window, l.max_freeze_ms, rtt_limit);
    if u.total_ms() > l.max_unplayable_ms {
        f.failed.push(Reason::new(
            "unplayable in the migration window",
            format!(
                "`{}`: {:.1} s unplayable ({}): frozen over {:.0} ms or RTT over {rtt_limit:.0} ms; profile allows {:.1} s",
                ctx.name,
                u.total_ms() / 1000.0,
                u.by_phase(),
                l.max_freeze_ms,
                l.max_unplayable_ms / 1000.0
            ),
        ));
    }
}
