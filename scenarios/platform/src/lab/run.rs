//! The QMP migration sequence of one lab migration and the events it emits.
//!
//! Source and destination get capability `events` (plus `postcopy-ram` on both for
//! post-copy, `auto-converge` and, in block mode, `pause-before-switchover` on the
//! source), the source its `max-bandwidth` / `downtime-limit`; the destination listens
//! with `migrate-incoming`, the source runs `migrate`. Block mode first mirrors the disk
//! to the destination's NBD export and cancels the mirror in the pre-switchover pause.
//! The loop then reads events from both sides and polls `query-migrate` every 50 ms.
//! Event times come from QEMU's timestamps, converted to the run's clock. Failures never
//! escape as errors: they end the migration as `failed` with a detail.

use super::network::Host;
use super::node::Node;
use super::qmp::QmpEvent;
use crate::driver::EventSink;
use crate::request::MigrationRequest;
use record::clock::{Clock, unix_now_ns};
use record::{Copy, Mode};
use record::{
    Event, EventKind, MigrationEnd, MigrationOutcome, MigrationPass, MigrationPaused,
    MigrationResumed,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MIGRATION_PORT: u16 = 4444;
const NBD_PORT: u16 = 10809;
const JOB: &str = "qp-mirror";

/// What one migration's run needs.
pub(super) struct Context<'a> {
    pub request: &'a MigrationRequest,
    pub postcopy_after: Option<Duration>,
    pub clock: &'a dyn Clock,
    pub sink: &'a EventSink,
    pub command: Instant,
    pub requested_t: Duration,
}

/// Counters and timings of one lab migration (times are offsets on the run's clock).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LabStats {
    /// How it ended.
    pub outcome: MigrationOutcome,
    /// Why it failed or was cancelled.
    pub detail: Option<String>,
    /// `migration_requested`.
    pub requested_t: Duration,
    /// The source's STOP.
    pub paused_t: Option<Duration>,
    /// The destination's RESUME.
    pub resumed_t: Option<Duration>,
    /// Post-copy switch (`migrate-start-postcopy`) time, if it happened.
    pub postcopy_t: Option<Duration>,
    /// End of the migration.
    pub ended_t: Duration,
    /// Pre-copy passes (QEMU's dirty-sync count).
    pub passes: u64,
    /// RAM bytes sent.
    pub ram_transferred: u64,
    /// RAM bytes left at the end (non-zero when cancelled).
    pub ram_remaining: u64,
    /// Guest RAM size, bytes.
    pub ram_total: u64,
    /// Block mode: disk bytes the mirror copied.
    pub disk_bytes: Option<u64>,
    /// QEMU's `total-time`, ms.
    pub qemu_total_ms: Option<f64>,
    /// QEMU's `downtime`, ms (source side only: reads low).
    pub qemu_downtime_ms: Option<f64>,
    /// Command to destination QEMU up (started, tap attached, QMP connected).
    pub dst_start: Duration,
    /// Command to the source's `migrate` accepted (driver overhead incl. `dst_start`).
    pub command_to_migrate: Duration,
    /// Largest delay from a QMP event's timestamp to its record being emitted.
    pub max_event_to_record: Duration,
    /// The memory check after a completed migration (guests running `serve dirty`).
    pub memory_check: Option<record::MemoryCheck>,
}

impl LabStats {
    /// Requested to paused.
    pub fn preoperation(&self) -> Option<Duration> {
        self.paused_t.map(|p| p.saturating_sub(self.requested_t))
    }

    /// Paused to resumed.
    pub fn downtime(&self) -> Option<Duration> {
        Some(self.resumed_t?.saturating_sub(self.paused_t?))
    }
}

/// Runs one migration from `src` to `dst`; emits its events; never fails (a failure
/// is an outcome).
pub(super) async fn migrate(ctx: &Context<'_>, src: &mut Node, dst: &mut Node) -> LabStats {
    let mut st = LabStats {
        outcome: MigrationOutcome::Failed,
        detail: None,
        requested_t: ctx.requested_t,
        paused_t: None,
        resumed_t: None,
        postcopy_t: None,
        ended_t: ctx.requested_t,
        passes: 0,
        ram_transferred: 0,
        ram_remaining: 0,
        ram_total: 0,
        disk_bytes: None,
        qemu_total_ms: None,
        qemu_downtime_ms: None,
        dst_start: Duration::ZERO,
        command_to_migrate: Duration::ZERO,
        max_event_to_record: Duration::ZERO,
        memory_check: None,
    };
    let result = run(ctx, src, dst, &mut st).await;
    let mut end_t = ctx.clock.now();
    match result {
        Ok((outcome, detail, end_wall)) => {
            st.outcome = outcome;
            st.detail = detail;
            if let Some(w) = end_wall {
                end_t = to_t(ctx, w);
            }
        }
        Err(e) => {
            st.outcome = MigrationOutcome::Failed;
            st.detail = Some(e);
            let _ = src.qmp.execute("migrate_cancel", Value::Null).await;
            if ctx.request.mode == Mode::Block {
                let _ = src
                    .qmp
                    .execute("block-job-cancel", json!({"device": JOB, "force": true}))
                    .await;
            }
        }
    }
    // The source reports `completed` before the destination resumes: the migration
    // is over once the VM runs on the destination.
    if let Some(r) = st.resumed_t {
        end_t = end_t.max(r);
    }
    st.ended_t = end_t;
    (ctx.sink)(Event::new(
        end_t,
        "migration",
        EventKind::MigrationEnd(MigrationEnd {
            outcome: st.outcome,
            detail: st.detail.clone(),
            transferred_bytes: Some(st.ram_transferred + st.disk_bytes.unwrap_or(0)),
            remaining_bytes: Some(st.ram_remaining),
            platform_downtime_ms: st.qemu_downtime_ms,
        }),
    ));
    st
}

type Outcome = (MigrationOutcome, Option<String>, Option<u64>);

async fn run(
    ctx: &Context<'_>,
    src: &mut Node,
    dst: &mut Node,
    st: &mut LabStats,
) -> Result<Outcome, String> {
    let req = ctx.request;
    let postcopy = req.copy == Copy::Postcopy;
    let block = req.mode == Mode::Block;
    let caps = |extra: &[(&str, bool)]| {
        let mut list = vec![json!({"capability": "events", "state": true})];
        list.extend(
            extra
                .iter()
                .map(|(c, s)| json!({"capability": c, "state": s})),
        );
        json!({ "capabilities": list })
    };
    exec(
        src,
        "migrate-set-capabilities",
        caps(&[
            ("postcopy-ram", postcopy),
            ("auto-converge", req.auto_converge),
            ("pause-before-switchover", block),
        ]),
    )
    .await?;
    exec(
        dst,
        "migrate-set-capabilities",
        caps(&[("postcopy-ram", postcopy)]),
    )
    .await?;
    let bytes_per_s = req
        .bandwidth_bps
        .map(|b| (b / 8).max(1))
        .unwrap_or(100_000_000_000);
    let mut params = json!({ "max-bandwidth": bytes_per_s });
    if let Some(d) = req.downtime_limit {
        params["downtime-limit"] = json!(
            u64::try_from(d.as_millis())
                .unwrap_or(u64::MAX)
                .clamp(1, 2_000_000)
        );
    }
    exec(src, "migrate-set-parameters", params).await?;
    let dst_ip = dst.host.migration_ip();
    exec(
        dst,
        "migrate-incoming",
        json!({"uri": format!("tcp:{dst_ip}:{MIGRATION_PORT}")}),
    )
    .await?;
    let deadline = ctx.command + req.time_limit;
    if block && let Some(cancelled) = mirror(ctx, src, dst, st, deadline).await? {
        return Ok(cancelled);
    }
    exec(
        src,
        "migrate",
        json!({"uri": format!("tcp:{dst_ip}:{MIGRATION_PORT}")}),
    )
    .await?;
    st.command_to_migrate = ctx.command.elapsed();
    let outcome = watch(ctx, src, dst, st, deadline).await?;
    if block {
        let _ = dst.qmp.execute("nbd-server-stop", Value::Null).await;
    }
    Ok(outcome)
}

/// Block mode: mirror the disk to the destination's NBD export until READY.
/// `Some` when the time limit ran out first.
async fn mirror(
    ctx: &Context<'_>,
    src: &mut Node,
    dst: &mut Node,
    st: &mut LabStats,
    deadline: Instant,
) -> Result<Option<Outcome>, String> {
    let ip = dst.host.migration_ip();
    exec(dst, "nbd-server-start", json!({"addr": {"type": "inet", "data": {"host": ip.to_string(), "port": NBD_PORT.to_string()}}})).await?;
    exec(
        dst,
        "nbd-server-add",
        json!({"device": "disk0", "writable": true}),
    )
    .await?;
    exec(src, "drive-mirror", json!({
        "job-id": JOB, "device": "disk0", "target": format!("nbd:{ip}:{NBD_PORT}:exportname=disk0"),
        "sync": "full", "mode": "existing", "format": "raw",
    })).await?;
    loop {
        let jobs = exec(src, "query-block-jobs", Value::Null).await?;
        let job = jobs
            .as_array()
            .and_then(|a| a.iter().find(|j| j["device"] == JOB))
            .cloned();
        let Some(job) = job else {
            return Err(
                "the disk mirror job vanished before it was ready (NBD connection lost?)".into(),
            );
        };
        st.disk_bytes = job["offset"].as_u64();
        if job["ready"].as_bool() == Some(true) {
            return Ok(None);
        }
        if Instant::now() >= deadline {
            let _ = src
                .qmp
                .execute("block-job-cancel", json!({"device": JOB, "force": true}))
                .await;
            let detail = format!(
                "never-ending: the disk copy was cancelled at the time limit ({:.0} s) after {} of {} bytes",
                ctx.request.time_limit.as_secs_f64(),
                job["offset"],
                job["len"]
            );
            return Ok(Some((MigrationOutcome::Cancelled, Some(detail), None)));
        }
        while src.events.try_recv().is_ok() {}
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn watch(
    ctx: &Context<'_>,
    src: &mut Node,
    dst: &mut Node,
    st: &mut LabStats,
    deadline: Instant,
) -> Result<Outcome, String> {
    let req = ctx.request;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    let (mut src_open, mut dst_open) = (true, true);
    let mut completed: Option<(Instant, Option<u64>)> = None;
    let mut postcopy_started = false;
    loop {
        if let Some((at, wall)) = completed
            && (st.resumed_t.is_some() || at.elapsed() > Duration::from_secs(5) || !dst_open)
        {
            finish(src, st).await;
            return Ok((MigrationOutcome::Completed, None, wall));
        }
        let timed_out = completed.is_none() && !postcopy_started && Instant::now() >= deadline;
        if timed_out {
            return cancel(ctx, src, st).await;
        }
        tokio::select! {
            ev = src.events.recv(), if src_open => match ev {
                None => src_open = false,
                Some(ev) => match ev.name.as_str() {
                    "STOP" if st.paused_t.is_none() => {
                        let t = record(ctx, st, &ev);
                        st.paused_t = Some(t);
                        (ctx.sink)(Event::new(t, "migration", EventKind::MigrationPaused(MigrationPaused { origin: "qmp:STOP".into() })));
                    }
                    "MIGRATION_PASS" => {
                        let q = exec(src, "query-migrate", Value::Null).await?;
                        update(st, &q);
                        let pass = ev.data["pass"].as_u64().unwrap_or(st.passes);
                        st.passes = st.passes.max(pass);
                        if req.copy == Copy::Postcopy && !postcopy_started && st.paused_t.is_none() {
                            postcopy_started = maybe_postcopy(ctx, src, st).await?;
                        }
                        let ram = &q["ram"];
                        let t = record(ctx, st, &ev);
                        (ctx.sink)(Event::new(t, "migration", EventKind::MigrationPass(MigrationPass {
                            pass,
                            transferred_bytes: ram["transferred"].as_u64().unwrap_or(0),
                            remaining_bytes: ram["remaining"].as_u64().unwrap_or(0),
                            dirty_pages_rate: ram["dirty-pages-rate"].as_f64(),
                            mbps: ram["mbps"].as_f64(),
                        })));
                    }
                    "MIGRATION" => match ev.data["status"].as_str() {
                        Some("completed") if completed.is_none() => completed = Some((Instant::now(), Some(ev.wall_unix_ns))),
                        Some("failed") => return Err(failure(src).await),
                        _ => {}
                    },
                    _ => {}
                },
            },
            ev = dst.events.recv(), if dst_open => match ev {
                None => dst_open = false,
                Some(ev) if ev.name == "RESUME" && st.resumed_t.is_none() => {
                    let t = record(ctx, st, &ev);
                    st.resumed_t = Some(t);
                    (ctx.sink)(Event::new(t, "migration", EventKind::MigrationResumed(MigrationResumed { origin: "qmp:RESUME".into() })));
                }
                Some(_) => {}
            },
            _ = tick.tick() => {
                let q = exec(src, "query-migrate", Value::Null).await?;
                update(st, &q);
                match q["status"].as_str().unwrap_or("") {
                    "completed" if completed.is_none() => completed = Some((Instant::now(), None)),
                    "failed" => return Err(failure(src).await),
                    "cancelled" => return Err("the migration was cancelled by someone else".into()),
                    "pre-switchover" => {
                        let cancel = exec(src, "block-job-cancel", json!({"device": JOB})).await;
                        if cancel.is_ok() {
                            wait_job_gone(src).await;
                        }
                        exec(src, "migrate-continue", json!({"state": "pre-switchover"})).await?;
                    }
                    "active" if req.copy == Copy::Postcopy && !postcopy_started => {
                        postcopy_started = maybe_postcopy(ctx, src, st).await?;
                    }
                    _ => {}
                }
            },
            _ = tokio::time::sleep_until(deadline.into()), if completed.is_none() && !postcopy_started => {}
        }
    }
}

/// Switches to post-copy when the request's pass count or the configured time is
/// reached (default: after the first pass); `true` once switched.
async fn maybe_postcopy(
    ctx: &Context<'_>,
    src: &mut Node,
    st: &mut LabStats,
) -> Result<bool, String> {
    let req = ctx.request;
    let by_passes = req.postcopy_after_passes.is_some_and(|n| st.passes > n);
    let by_time = ctx
        .postcopy_after
        .is_some_and(|d| ctx.command.elapsed() >= d);
    let default =
        req.postcopy_after_passes.is_none() && ctx.postcopy_after.is_none() && st.passes > 1;
    if !(by_passes || by_time || default) {
        return Ok(false);
    }
    exec(src, "migrate-start-postcopy", Value::Null).await?;
    st.postcopy_t = Some(ctx.clock.now());
    Ok(true)
}

/// Cancels at the time limit: a never-ending migration; the source keeps running.
async fn cancel(ctx: &Context<'_>, src: &mut Node, st: &mut LabStats) -> Result<Outcome, String> {
    exec(src, "migrate_cancel", Value::Null).await?;
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        let q = exec(src, "query-migrate", Value::Null).await?;
        if matches!(
            q["status"].as_str(),
            Some("cancelled") | Some("failed") | Some("completed")
        ) {
            break;
        }
        update(st, &q);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if ctx.request.mode == Mode::Block {
        let _ = src
            .qmp
            .execute("block-job-cancel", json!({"device": JOB, "force": true}))
            .await;
    }
    let detail = format!(
        "never-ending: cancelled at the time limit ({:.0} s) after {} passes with {} bytes remaining",
        ctx.request.time_limit.as_secs_f64(),
        st.passes,
        st.ram_remaining
    );
    Ok((MigrationOutcome::Cancelled, Some(detail), None))
}

/// Reads the final counters (QEMU 7.2 may report total-time 0 for a moment).
async fn finish(src: &mut Node, st: &mut LabStats) {
    for _ in 0..20 {
        match src.qmp.execute("query-migrate", Value::Null).await {
            Ok(q) if q["total-time"].as_u64().unwrap_or(0) > 0 => {
                update(st, &q);
                st.ram_remaining = 0;
                return;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(_) => return,
        }
    }
}

async fn wait_job_gone(src: &mut Node) {
    for _ in 0..200 {
        match src.qmp.execute("query-block-jobs", Value::Null).await {
            Ok(j)
                if j.as_array()
                    .is_some_and(|a| a.iter().any(|x| x["device"] == JOB)) =>
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            _ => return,
        }
    }
}

async fn failure(src: &mut Node) -> String {
    let desc = match src.qmp.execute("query-migrate", Value::Null).await {
        Ok(q) => q["error-desc"]
            .as_str()
            .unwrap_or("no error description")
            .to_string(),
        Err(e) => e.to_string(),
    };
    format!("QEMU reports the migration failed: {desc}")
}

fn update(st: &mut LabStats, q: &Value) {
    let ram = &q["ram"];
    if let Some(v) = ram["transferred"].as_u64() {
        st.ram_transferred = v;
    }
    if let Some(v) = ram["remaining"].as_u64() {
        st.ram_remaining = v;
    }
    if let Some(v) = ram["total"].as_u64() {
        st.ram_total = v;
    }
    if let Some(v) = ram["dirty-sync-count"].as_u64() {
        st.passes = st.passes.max(v);
    }
    if let Some(v) = q["total-time"].as_f64().filter(|v| *v > 0.0) {
        st.qemu_total_ms = Some(v);
    }
    if let Some(v) = q["downtime"].as_f64() {
        st.qemu_downtime_ms = Some(v);
    }
}

/// The event's time on the run's clock, noting how late its record is.
fn record(ctx: &Context<'_>, st: &mut LabStats, ev: &QmpEvent) -> Duration {
    let late = Duration::from_nanos(unix_now_ns().saturating_sub(ev.wall_unix_ns));
    st.max_event_to_record = st.max_event_to_record.max(late);
    to_t(ctx, ev.wall_unix_ns)
}

fn to_t(ctx: &Context<'_>, wall_unix_ns: u64) -> Duration {
    Duration::from_nanos(wall_unix_ns.saturating_sub(ctx.clock.wall_anchor_unix_ns()))
}

async fn exec(node: &Node, command: &str, args: Value) -> Result<Value, String> {
    node.qmp
        .execute(command, args)
        .await
        .map_err(|e| format!("{} ({}): {e}", command, host_name(node.host)))
}

fn host_name(h: Host) -> &'static str {
    h.name()
}
