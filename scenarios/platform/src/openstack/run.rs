//! One Nova live migration and the events it emits.
//!
//! `os-migrateLive`, then the server (status, task state, host) and its migration
//! (memory and disk bytes processed / remaining) are polled until the server is
//! ACTIVE with no task. Nova reports no pause or resume: with libvirt URIs of the
//! compute hosts, the phases come from libvirt's lifecycle events for the domain
//! whose UUID is the server's ID (`origin: "libvirt:..."`); otherwise the driver's
//! reachability watcher bounds the downtime from outside (`origin: "reachability"`).
//! At the time limit the migration is aborted (`DELETE .../migrations/{id}`); a
//! configured delay force-completes it. Nova's instance action events (their own
//! times) end up as `platform_event`s.

use super::nova::{ActionEvent, Progress};
use super::phases::Phases;
use super::round::{Round, to_t};
use record::{
    Event, EventKind as Ev, MigrationEnd, MigrationOutcome, MigrationPass, MigrationRequested,
    PlatformEvent,
};
use std::time::Instant;

/// Counters and timings of one Nova migration.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OpenStackStats {
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Why it failed or was cancelled.
    pub detail: Option<String>,
    /// Host before.
    pub source_host: Option<String>,
    /// Host after.
    pub dest_host: Option<String>,
    /// Nova's request id of the `os-migrateLive` call.
    pub request_id: Option<String>,
    /// Nova's migration id.
    pub migration_id: Option<u64>,
    /// Progress samples seen.
    pub samples: u64,
    /// Where `migration_paused` / `migration_resumed` came from, if emitted.
    pub phases_from: Option<String>,
    /// Nova's instance action events.
    pub action_events: Vec<ActionEvent>,
}

/// Runs one migration; never fails (a failure is an outcome).
pub(super) async fn migrate(r: &Round<'_>) -> OpenStackStats {
    let requested_t = r.clock.now();
    (r.sink)(Event::new(
        requested_t,
        "migration",
        Ev::MigrationRequested(MigrationRequested {
            driver: "openstack".into(),
            mode: r.request.mode,
            copy: r.request.copy,
        }),
    ));
    let mut st = OpenStackStats {
        outcome: MigrationOutcome::Failed,
        detail: None,
        source_host: r.server.host.clone(),
        dest_host: None,
        request_id: None,
        migration_id: None,
        samples: 0,
        phases_from: None,
        action_events: Vec::new(),
    };
    let mut phases = Phases::start(r).await;
    let (outcome, detail) = match run(r, &mut st, &mut phases).await {
        Ok(v) => v,
        Err(e) => (MigrationOutcome::Failed, Some(e)),
    };
    st.outcome = outcome;
    st.detail = detail;
    let (_paused, resumed, from) = phases.finish(r).await;
    st.phases_from = from;
    if let Some(rid) = &st.request_id
        && let Ok(evs) = r.nova.action_events(&r.server.id, rid).await
    {
        emit_action_events(r, &evs);
        st.action_events = evs;
    }
    let mut end_t = r.clock.now();
    if let Some(t) = resumed {
        end_t = end_t.max(t);
    }
    (r.sink)(Event::new(
        end_t,
        "migration",
        Ev::MigrationEnd(MigrationEnd {
            outcome: st.outcome,
            detail: st.detail.clone(),
            transferred_bytes: None,
            remaining_bytes: None,
            platform_downtime_ms: None,
        }),
    ));
    st
}

type Outcome = (MigrationOutcome, Option<String>);

async fn run(
    r: &Round<'_>,
    st: &mut OpenStackStats,
    phases: &mut Phases,
) -> Result<Outcome, String> {
    let id = r.server.id.as_str();
    let block = r.config.block_migration.value(r.request);
    st.request_id = r
        .nova
        .live_migrate(id, r.config.host.as_deref(), block)
        .await?;
    let command = Instant::now();
    let deadline = command + r.request.time_limit;
    let mut last: Option<Progress> = None;
    let (mut aborted, mut forced) = (false, false);
    let mut tick = tokio::time::interval(r.config.poll_interval);
    loop {
        tick.tick().await;
        phases.poll(r).await;
        let server = match r.nova.server(id).await {
            Ok(s) => s,
            Err(e) => {
                return Err(format!(
                    "cannot read the server during its migration: {e:?}"
                ));
            }
        };
        if server.task_state.is_some() || server.status == "MIGRATING" {
            if let Ok(list) = r.nova.migrations(id).await
                && let Some(p) = list.into_iter().next()
            {
                st.migration_id = Some(p.id);
                *r.running.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((r.server.id.clone(), Some(p.id)));
                st.dest_host = p.dest.clone().or(st.dest_host.take());
                if last
                    .as_ref()
                    .map(|l| (l.memory_processed, l.disk_processed))
                    != Some((p.memory_processed, p.disk_processed))
                    && (p.memory_processed.is_some() || p.disk_processed.is_some())
                {
                    st.samples += 1;
                    emit_progress(r, &p, st.samples);
                }
                last = Some(p);
            }
            let mid = st.migration_id;
            if let (Some(after), Some(m)) = (r.config.force_complete_after, mid)
                && !forced
                && command.elapsed() >= after
            {
                r.nova.force_complete(id, m).await?;
                forced = true;
            }
            if !aborted
                && !forced
                && Instant::now() >= deadline
                && let Some(m) = mid
            {
                // Refused when the migration just finished: the next poll tells.
                aborted = r.nova.abort(id, m).await.is_ok();
            }
            continue;
        }
        // No task any more: the migration is over one way or another.
        if server.status == "ERROR" {
            return Ok((
                MigrationOutcome::Failed,
                Some("Nova put the server in ERROR during the migration (see `openstack server show` and the instance actions)".into()),
            ));
        }
        let moved = match (&st.source_host, &server.host) {
            (Some(a), Some(b)) => Some(a != b),
            _ => None,
        };
        if let Some(h) = &server.host {
            st.dest_host = Some(h.clone());
        }
        if aborted {
            let detail = format!(
                "never-ending: aborted at the time limit ({:.0} s) after {} progress samples{}",
                r.request.time_limit.as_secs_f64(),
                st.samples,
                last.and_then(|p| p.memory_remaining)
                    .map(|b| format!(" with {b} memory bytes remaining"))
                    .unwrap_or_default()
            );
            return Ok((MigrationOutcome::Cancelled, Some(detail)));
        }
        return Ok(match moved {
            Some(true) => (MigrationOutcome::Completed, None),
            Some(false) => (
                MigrationOutcome::Failed,
                Some(format!(
                    "the server is still on {} after the migration: Nova rolled it back (see the instance action `{}`)",
                    server.host.as_deref().unwrap_or("?"),
                    st.request_id.as_deref().unwrap_or("?")
                )),
            ),
            // Not an admin: no host attribute; the instance action says how it went.
            None => match outcome_of_actions(r, st).await {
                Some(o) => o,
                None => (MigrationOutcome::Completed, None),
            },
        });
    }
}

/// Without the host attribute: the result of the compute's live migration event.
async fn outcome_of_actions(r: &Round<'_>, st: &OpenStackStats) -> Option<Outcome> {
    let rid = st.request_id.as_ref()?;
    let evs = r.nova.action_events(&r.server.id, rid).await.ok()?;
    let e = evs.iter().find(|e| e.event == "compute_live_migration")?;
    Some(match e.result.as_deref() {
        Some("Success") => (MigrationOutcome::Completed, None),
        Some(res) => (
            MigrationOutcome::Failed,
            Some(format!(
                "Nova's compute_live_migration event ended with {res}"
            )),
        ),
        None => return None,
    })
}

fn emit_progress(r: &Round<'_>, p: &Progress, sample: u64) {
    let sum = |a: Option<u64>, b: Option<u64>| a.unwrap_or(0) + b.unwrap_or(0);
    (r.sink)(Event::new(
        r.clock.now(),
        "migration",
        Ev::MigrationPass(MigrationPass {
            pass: sample,
            transferred_bytes: sum(p.memory_processed, p.disk_processed),
            remaining_bytes: sum(p.memory_remaining, p.disk_remaining),
            dirty_pages_rate: None,
            mbps: None,
        }),
    ));
}

fn emit_action_events(r: &Round<'_>, evs: &[ActionEvent]) {
    for e in evs {
        for (when, what) in [(&e.start_time, "started"), (&e.finish_time, "finished")] {
            let Some(ns) = when.as_deref().and_then(parse_nova_time) else {
                continue;
            };
            (r.sink)(Event::new(
                to_t(r.clock, ns),
                "migration",
                Ev::PlatformEvent(PlatformEvent {
                    origin: "nova".into(),
                    name: format!("{} {what}", e.event),
                    host: e.host.clone(),
                    detail: if what == "finished" {
                        e.result.clone()
                    } else {
                        None
                    },
                }),
            ));
        }
    }
}

/// Nova's timestamps (`2018-04-25T01:26:29.000000`, UTC, with or without a zone
/// suffix `Z` / `+00:00`) in ns since the Unix epoch.
pub fn parse_nova_time(s: &str) -> Option<u64> {
    let s = s.trim().trim_end_matches('Z').trim_end_matches("+00:00");
    let s = s.replacen(' ', "T", 1);
    let t = chrono::NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    u64::try_from(t.and_utc().timestamp_nanos_opt()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nova_timestamps() {
        assert_eq!(
            parse_nova_time("2024-02-29T12:34:56.250000"),
            Some(1_709_210_096_250_000_000)
        );
        assert_eq!(
            parse_nova_time("2024-02-29T12:34:56Z"),
            Some(1_709_210_096_000_000_000)
        );
        assert_eq!(
            parse_nova_time("2024-02-29 12:34:56+00:00"),
            Some(1_709_210_096_000_000_000)
        );
        assert_eq!(parse_nova_time("yesterday"), None);
    }
}
