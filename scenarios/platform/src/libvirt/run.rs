//! One libvirt migration and the events it emits.
//!
//! `virDomainMigrate3` (or `virDomainMigrateToURI3` peer-to-peer) blocks until the
//! migration ends, so it runs on a blocking thread while this module watches:
//! libvirt's lifecycle events give the phases (`SUSPENDED_MIGRATED` or
//! `SUSPENDED_POSTCOPY` on the source: `migration_paused`; `RESUMED_MIGRATED` or
//! `RESUMED_POSTCOPY` on the destination: `migration_resumed`), each
//! `MIGRATION_ITERATION` event a `migration_pass` with the job statistics read at that
//! moment, and `virDomainGetJobStats` is polled for the counters, the post-copy
//! switch (`virDomainMigrateStartPostCopy` once the requested passes are done) and the
//! time limit (`virDomainAbortJob`: a never-ending migration, the domain keeps running
//! on the source). Failures never escape as errors: they end the migration as
//! `failed` with libvirt's message.

use super::config::{LibvirtConfig, flags, parameters};
use super::conn::Conn;
use super::events::{DomainEvent, EventKind, Side, Subscription, channel};
use super::jobstats::{self, JobStats};
use crate::{EventSink, MigrationRequest};
use record::Copy;
use record::clock::Clock;
use record::{
    Event, EventKind as Ev, MigrationEnd, MigrationOutcome, MigrationPass, MigrationPaused,
    MigrationRequested, MigrationResumed,
};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;
use virt::domain::Domain;
use virt_sys as sys;

/// After the migration call returns, wait at most this long for the destination's
/// resume event (it can arrive after the call on the source returns).
const RESUME_GRACE: Duration = Duration::from_secs(5);

/// Counters and timings of one libvirt migration (times are offsets on the run's
/// clock).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LibvirtStats {
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Why it failed or was cancelled.
    pub detail: Option<String>,
    /// `migration_requested`.
    pub requested_t: Duration,
    /// The source's suspend event.
    pub paused_t: Option<Duration>,
    /// Its libvirt name (`SUSPENDED_MIGRATED`, `SUSPENDED_POSTCOPY`).
    pub paused_by: Option<String>,
    /// The destination's resume event.
    pub resumed_t: Option<Duration>,
    /// Its libvirt name (`RESUMED_MIGRATED`, `RESUMED_POSTCOPY`).
    pub resumed_by: Option<String>,
    /// When `virDomainMigrateStartPostCopy` was accepted.
    pub postcopy_t: Option<Duration>,
    /// End of the migration.
    pub ended_t: Duration,
    /// Pre-copy passes (libvirt's `memory_iteration`).
    pub passes: u64,
    /// Bytes sent (memory and disks).
    pub transferred: u64,
    /// Memory bytes left at the end (non-zero when cancelled).
    pub remaining: u64,
    /// Disk bytes copied (block mode).
    pub disk_bytes: Option<u64>,
    /// libvirt's own downtime figure, ms (completed migrations).
    pub platform_downtime_ms: Option<f64>,
    /// Every lifecycle event seen, in order: (time, host, libvirt name).
    pub lifecycle: Vec<(Duration, String, String)>,
}

/// What one migration needs.
pub(super) struct Round<'a> {
    pub request: &'a MigrationRequest,
    pub config: &'a LibvirtConfig,
    pub clock: &'a dyn Clock,
    pub sink: &'a EventSink,
    pub src: Arc<Conn>,
    pub dst: Arc<Conn>,
    pub domain: Arc<Domain>,
    pub uuid: String,
    /// 0: towards the configured destination; 1: back to the configured source.
    pub dst_index: usize,
}

/// Runs one migration; emits its events; never fails (a failure is an outcome).
pub(super) async fn migrate(r: &Round<'_>) -> LibvirtStats {
    let requested_t = r.clock.now();
    (r.sink)(Event::new(
        requested_t,
        "migration",
        Ev::MigrationRequested(MigrationRequested {
            driver: "libvirt".into(),
            mode: r.request.mode,
            copy: r.request.copy,
        }),
    ));
    let mut st = LibvirtStats {
        outcome: MigrationOutcome::Failed,
        detail: None,
        requested_t,
        paused_t: None,
        paused_by: None,
        resumed_t: None,
        resumed_by: None,
        postcopy_t: None,
        ended_t: requested_t,
        passes: 0,
        transferred: 0,
        remaining: 0,
        disk_bytes: None,
        platform_downtime_ms: None,
        lifecycle: Vec::new(),
    };
    let (outcome, detail) = match run(r, &mut st).await {
        Ok(v) => v,
        Err(e) => (MigrationOutcome::Failed, Some(e)),
    };
    st.outcome = outcome;
    st.detail = detail;
    let mut end_t = r.clock.now();
    if let Some(t) = st.resumed_t {
        end_t = end_t.max(t);
    }
    st.ended_t = end_t;
    (r.sink)(Event::new(
        end_t,
        "migration",
        Ev::MigrationEnd(MigrationEnd {
            outcome: st.outcome,
            detail: st.detail.clone(),
            transferred_bytes: Some(st.transferred),
            remaining_bytes: Some(st.remaining),
            platform_downtime_ms: st.platform_downtime_ms,
        }),
    ));
    st
}

type Outcome = (MigrationOutcome, Option<String>);

async fn run(r: &Round<'_>, st: &mut LibvirtStats) -> Result<Outcome, String> {
    let (tx, mut rx) = channel();
    let subs = {
        let (src, dst, uuid) = (r.src.clone(), r.dst.clone(), r.uuid.clone());
        blocking(move || {
            Ok((
                Subscription::new(src.connect(), Side::Source, &uuid, tx.clone())?,
                Subscription::new(dst.connect(), Side::Destination, &uuid, tx)?,
            ))
        })
        .await?
    };
    if let Some(limit) = r.request.downtime_limit {
        let dom = r.domain.clone();
        let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
        blocking(move || {
            dom.migrate_set_max_downtime(ms, 0).map(drop).map_err(|e| {
                format!(
                    "cannot set the downtime limit to {ms} ms: {}",
                    e.message().trim()
                )
            })
        })
        .await?;
    }
    let command = Instant::now();
    let deadline = command + r.request.time_limit;
    let mut call = tokio::task::spawn_blocking(start_call(r));
    let mut tick = tokio::time::interval(r.config.poll_interval);
    let mut aborted = false;
    let mut emitted_pass = 0u64;
    let result = loop {
        tokio::select! {
            done = &mut call => break done.map_err(|e| format!("the migration thread failed: {e}"))?,
            Some(ev) = rx.recv() => {
                on_event(r, st, ev, &mut emitted_pass).await;
            }
            _ = tick.tick() => {
                if let Some(stats) = job_stats(&r.domain, 0).await {
                    update(st, &stats);
                    emit_missed_passes(r, st, &stats, &mut emitted_pass);
                }
                if r.request.copy == Copy::Postcopy && st.postcopy_t.is_none() && !aborted {
                    maybe_postcopy(r, st).await;
                }
            }
            _ = tokio::time::sleep_until(deadline.into()), if !aborted && st.postcopy_t.is_none() && st.paused_t.is_none() => {
                aborted = true;
                let dom = r.domain.clone();
                // Refused when the job just ended: the call's result decides then.
                if blocking(move || super::abort_job(&dom)).await.is_err() {
                    aborted = false;
                }
            }
        }
    };
    match result {
        Ok(dst_domain) => {
            let until = Instant::now() + RESUME_GRACE;
            while st.resumed_t.is_none() && Instant::now() < until {
                match tokio::time::timeout_at(until.into(), rx.recv()).await {
                    Ok(Some(ev)) => on_event(r, st, ev, &mut emitted_pass).await,
                    _ => break,
                }
            }
            drain(r, st, &mut rx, &mut emitted_pass).await;
            completed_stats(r, st, dst_domain).await;
            drop(subs);
            Ok((MigrationOutcome::Completed, None))
        }
        Err(msg) => {
            drain(r, st, &mut rx, &mut emitted_pass).await;
            drop(subs);
            if aborted {
                let detail = format!(
                    "never-ending: cancelled at the time limit ({:.0} s) after {} passes with {} bytes remaining",
                    r.request.time_limit.as_secs_f64(),
                    st.passes,
                    st.remaining
                );
                Ok((MigrationOutcome::Cancelled, Some(detail)))
            } else {
                Ok((
                    MigrationOutcome::Failed,
                    Some(format!("libvirt reports the migration failed: {msg}")),
                ))
            }
        }
    }
}

/// The blocking migration call of this round.
fn start_call(r: &Round<'_>) -> impl FnOnce() -> Result<Option<Domain>, String> + Send + 'static {
    let (dom, dst) = (r.domain.clone(), r.dst.clone());
    let flags = flags(r.request, r.config);
    let params = parameters(r.request, r.config, r.dst_index);
    let p2p = r.config.peer2peer;
    move || {
        let res = if p2p {
            dom.migrate_to_uri3(Some(dst.uri()), params, flags)
                .map(|()| None)
        } else {
            dom.migrate3(dst.connect(), params, flags).map(Some)
        };
        res.map_err(|e| e.message().trim().to_string())
    }
}

async fn on_event(r: &Round<'_>, st: &mut LibvirtStats, ev: DomainEvent, emitted: &mut u64) {
    let t = to_t(r.clock, ev.wall_ns);
    match ev.kind {
        EventKind::Lifecycle(l) => {
            let host = match ev.side {
                Side::Source => r.src.uri(),
                Side::Destination => r.dst.uri(),
            };
            st.lifecycle.push((t, host.to_string(), l.name()));
            if ev.side == Side::Source && l.is_paused_for_migration() && st.paused_t.is_none() {
                st.paused_t = Some(t);
                st.paused_by = Some(l.name());
                (r.sink)(Event::new(
                    t,
                    "migration",
                    Ev::MigrationPaused(MigrationPaused {
                        origin: format!("libvirt:{}", l.name()),
                    }),
                ));
            }
            if ev.side == Side::Destination
                && l.is_resumed_after_migration()
                && st.resumed_t.is_none()
            {
                st.resumed_t = Some(t);
                st.resumed_by = Some(l.name());
                (r.sink)(Event::new(
                    t,
                    "migration",
                    Ev::MigrationResumed(MigrationResumed {
                        origin: format!("libvirt:{}", l.name()),
                    }),
                ));
            }
        }
        EventKind::Iteration(n) if ev.side == Side::Source && n > *emitted => {
            if let Some(stats) = job_stats(&r.domain, 0).await {
                update(st, &stats);
            }
            st.passes = st.passes.max(n);
            *emitted = n;
            emit_pass(r, st, t, n);
            // Switch as soon as the pass begins (a poll can be a whole pass late, and
            // an idle guest converges at the start of its second pass).
            if r.request.copy == Copy::Postcopy && st.postcopy_t.is_none() {
                maybe_postcopy(r, st).await;
            }
        }
        EventKind::Iteration(_) => {}
    }
}

/// Passes the poll saw that no iteration event reported (an older libvirt, or an
/// event still in flight is reported by the event itself later and skipped then).
fn emit_missed_passes(r: &Round<'_>, st: &LibvirtStats, stats: &JobStats, emitted: &mut u64) {
    let Some(n) = stats.mem_iteration else {
        return;
    };
    // One behind the poll: the iteration event of pass n is usually in flight.
    while *emitted + 1 < n {
        *emitted += 1;
        emit_pass(r, st, r.clock.now(), *emitted);
    }
}

fn emit_pass(r: &Round<'_>, st: &LibvirtStats, t: Duration, pass: u64) {
    (r.sink)(Event::new(
        t,
        "migration",
        Ev::MigrationPass(MigrationPass {
            pass,
            transferred_bytes: st.transferred,
            remaining_bytes: st.remaining,
            dirty_pages_rate: None,
            mbps: None,
        }),
    ));
}

/// Events still queued once the migration call returned.
async fn drain(
    r: &Round<'_>,
    st: &mut LibvirtStats,
    rx: &mut UnboundedReceiver<DomainEvent>,
    emitted: &mut u64,
) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    while let Ok(ev) = rx.try_recv() {
        on_event(r, st, ev, emitted).await;
    }
}

/// Switches to post-copy once the requested passes are done (lab semantics: after
/// `n` passes, i.e. when pass `n + 1` has begun; 0: at once).
async fn maybe_postcopy(r: &Round<'_>, st: &mut LibvirtStats) {
    let after = r.request.postcopy_after_passes.unwrap_or(1);
    if st.passes <= after {
        return;
    }
    let dom = r.domain.clone();
    // SAFETY: a valid domain handle held by this round.
    let rc = blocking(move || Ok(unsafe { sys::virDomainMigrateStartPostCopy(dom.as_ptr(), 0) }))
        .await
        .unwrap_or(-1);
    // Refused before QEMU's migration is under way: the next poll tries again.
    if rc == 0 {
        st.postcopy_t = Some(r.clock.now());
    }
}

/// libvirt's statistics of the finished job (kept on the destination).
async fn completed_stats(r: &Round<'_>, st: &mut LibvirtStats, dst_domain: Option<Domain>) {
    let dom = match dst_domain {
        Some(d) => Some(Arc::new(d)),
        None => {
            let (dst, uuid) = (r.dst.clone(), r.uuid.clone());
            blocking(move || {
                dst.find(&super::config::DomainRef::Uuid(uuid))
                    .map(|d| d.map(Arc::new))
            })
            .await
            .ok()
            .flatten()
        }
    };
    let flags = sys::VIR_DOMAIN_JOB_STATS_COMPLETED;
    let stats = match &dom {
        Some(d) => job_stats(d, flags).await,
        None => None,
    };
    let stats = match stats {
        Some(s) => Some(s),
        None => job_stats(&r.domain, flags).await,
    };
    if let Some(s) = stats {
        update(st, &s);
        st.platform_downtime_ms = s.downtime.map(|d| d as f64);
    }
    st.remaining = 0;
}

async fn job_stats(dom: &Arc<Domain>, flags: u32) -> Option<JobStats> {
    let dom = dom.clone();
    blocking(move || jobstats::job_stats(&dom, flags))
        .await
        .ok()
        // VIR_DOMAIN_JOB_NONE: no job (not started yet, or over).
        .filter(|s| s.job_type != sys::VIR_DOMAIN_JOB_NONE as i32)
}

fn update(st: &mut LibvirtStats, s: &JobStats) {
    if let Some(v) = s.data_processed {
        st.transferred = st.transferred.max(v);
    }
    if let Some(v) = s.mem_remaining {
        st.remaining = v;
    }
    if let Some(v) = s.mem_iteration {
        st.passes = st.passes.max(v);
    }
    if s.disk_total.is_some_and(|t| t > 0) {
        st.disk_bytes = Some(s.disk_processed.unwrap_or(0));
    }
}

fn to_t(clock: &dyn Clock, wall_ns: u64) -> Duration {
    Duration::from_nanos(wall_ns.saturating_sub(clock.wall_anchor_unix_ns()))
}

/// Runs a blocking libvirt call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("a libvirt call failed: {e}"))?
}
