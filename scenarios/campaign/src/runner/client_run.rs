//! A client host's run (crate::hosts): wait for host 0's announcement, start this
//! host's share of the probes at the announced wall-clock time against the announced
//! endpoint, stop them when host 0 ends the run, write the run folder (`run.json`,
//! `timeline.jsonl`, `summary.json` with this host's probes, `host.json`). The
//! migration and its phases are host 0's: this folder's migration summary says so.

use super::RunnerError;
use super::folder::{Timeline, fresh_dir, write_json_atomic};
use super::observe::RunObserver;
use super::one_run::{parts, run_info, unless};
use super::sessions;
use crate::attach;
use crate::hosts::rendezvous::{self, Waited};
use crate::hosts::{HostMode, RunHostFacts, hostname, sleep_until_unix};
use crate::scenario::{Campaign, RunId};
use platform::EventSink;
use record::clock::{Clock, MonotonicClock};
use record::{Event, MigrationOutcome, MigrationSummary, RunSummary, SCHEMA_VERSION};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How long a client host waits for host 0 to announce a run: its service may take
/// this long to start (a VM booting on a cloud).
const ANNOUNCE_LIMIT: Duration = Duration::from_secs(15 * 60);

/// What a client host's run folder says of the migration: it ran on host 0.
const MIGRATION_ELSEWHERE: &str = "the migration ran on the migration host (host 0): merge the hosts' folders with `qoeprobe merge`";

/// Executes this client host's part of one run into `dir`; `observer` sees its
/// `run.json`, its probes' events and its summary as a run of host 0 would.
pub(crate) async fn execute(
    campaign: &Campaign,
    id: &RunId,
    dir: &Path,
    mode: &HostMode,
    hash: &str,
    observer: &Arc<dyn RunObserver>,
    mut intr: watch::Receiver<Option<String>>,
) -> Result<RunSummary, RunnerError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunnerError::Io { path, source }
    };
    let (app, scen) = parts(campaign, id)?;
    let settings = scen.migration_settings(&campaign.migration);
    fresh_dir(dir).map_err(io(dir))?;
    let unfinished = |reason: String| RunSummary {
        schema_version: SCHEMA_VERSION,
        complete: false,
        incomplete_reason: Some(reason.clone()),
        application: id.application.clone(),
        scenario: id.scenario.clone(),
        run: id.run,
        migration: MigrationSummary::of_events(
            settings.driver.name(),
            &[],
            (MigrationOutcome::Failed, Some(reason)),
        ),
        probes: BTreeMap::new(),
        reachability: None,
    };
    let write_summary = |s: &RunSummary| {
        let path = dir.join("summary.json");
        write_json_atomic(&path, s).map_err(io(&path))
    };
    let announced = rendezvous::wait_announce(&mode.rendezvous, id, ANNOUNCE_LIMIT, &intr).await;
    let announce = match announced.map_err(RunnerError::Plan)? {
        Waited::Got(a) => a,
        Waited::Gone(r) | Waited::Stopped(r) => {
            let s = unfinished(r);
            write_summary(&s)?;
            return Ok(s);
        }
    };
    let seen = record::clock::unix_now_ns();
    if announce.campaign_hash != hash {
        return Err(RunnerError::Plan(format!(
            "host 0 runs campaign {} but this host was given campaign {}: give every host the same file, --runs and --only",
            &announce.campaign_hash[..12.min(announce.campaign_hash.len())],
            &hash[..12.min(hash.len())]
        )));
    }
    if announce.start_at_unix_ns != mode.start_at_unix_ns {
        return Err(RunnerError::Plan(format!(
            "host 0 was given --start-at {} but this host {} (unix ns): give every host the same start time",
            announce.start_at_unix_ns, mode.start_at_unix_ns
        )));
    }
    if let Err(r) = unless(sleep_until_unix(announce.run_start_unix_ns), &mut intr).await {
        let s = unfinished(r);
        write_summary(&s)?;
        return Ok(s);
    }
    let clock = MonotonicClock::start();
    let facts = RunHostFacts {
        host: mode.role,
        hostname: hostname(),
        run_start_unix_ns: announce.run_start_unix_ns,
        started_unix_ns: clock.wall_anchor_unix_ns(),
        announced_unix_ns: Some(announce.announced_unix_ns),
        seen_unix_ns: Some(seen),
    };
    let info = run_info(campaign, id, &clock)?;
    write_json_atomic(&dir.join("run.json"), &info).map_err(io(&dir.join("run.json")))?;
    write_json_atomic(&dir.join("host.json"), &facts).map_err(io(&dir.join("host.json")))?;
    observer.run_started(&info);
    let info = Arc::new(info);
    let timeline_path = dir.join("timeline.jsonl");
    let timeline = Arc::new(Timeline::create(&timeline_path).map_err(io(&timeline_path))?);
    let sink: EventSink = {
        let timeline = timeline.clone();
        let (observer, info) = (observer.clone(), info.clone());
        Arc::new(move |e: Event| {
            observer.event(&info, &e);
            timeline.append(e)
        })
    };
    let running = sessions::start(
        attach::attachments(app, |j| mode.role.runs_client(j)),
        &clock,
        &sink,
        &announce.endpoint(),
    );
    // Host 0 ends the run after its warm-up, migration (at most its time limit and
    // the driver's minute), reattachment and cool-down.
    let limit = campaign.warmup_s.duration()
        + settings.request().time_limit
        + Duration::from_secs(60)
        + campaign.reattach_timeout_s.duration()
        + campaign.cooldown_s.duration()
        + ANNOUNCE_LIMIT;
    let mut incomplete = match rendezvous::wait_end(&mode.rendezvous, id, limit, &intr).await {
        Ok(Waited::Got(end)) => end
            .incomplete_reason
            .map(|r| format!("the run is incomplete on host 0: {r}")),
        Ok(Waited::Gone(r) | Waited::Stopped(r)) | Err(r) => Some(r),
    };
    let probes = sessions::stop(running, incomplete.is_none()).await;
    if let Some(e) = timeline.error() {
        incomplete.get_or_insert(e);
    }
    let summary = RunSummary {
        complete: incomplete.is_none(),
        incomplete_reason: incomplete,
        probes,
        ..unfinished(MIGRATION_ELSEWHERE.into())
    };
    write_summary(&summary)?;
    observer.run_finished(&info, &summary);
    Ok(summary)
}
