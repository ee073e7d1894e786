//! One run: folder, driver, reachability prober, probes, warm-up, migration,
//! reattach, cool-down, stop, summary. Whatever happens (error, interrupt), the
//! probes are stopped, the driver torn down and `summary.json` written; an
//! interrupted run is written with `complete: false` and its reason.

use super::RunnerError;
use super::folder::{Timeline, fresh_dir, write_json_atomic};
use super::gaps::MigrationMarks;
use super::migration_host::{self, MigrationHost};
use super::observe::RunObserver;
use super::reach::{ProberSetup, ReachProber};
use super::sessions;
use crate::attach;
use crate::hosts::sleep_until_unix;
use crate::scenario::{Application, Campaign, NetScenario, RunId};
use platform::{DriverContext, DriverFactory, EventSink, MigrationDriver};
use record::clock::{Clock, MonotonicClock};
use record::{
    Event, EventKind, MigrationOutcome, MigrationSummary, ProbeResult, RunConditions, RunInfo,
    RunSummary, RunnerPhase, SCHEMA_VERSION,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Runs `f` unless the interrupt fires first (then its reason).
pub(crate) async fn unless<F: Future>(
    f: F,
    intr: &mut watch::Receiver<Option<String>>,
) -> Result<F::Output, String> {
    if let Some(r) = intr.borrow_and_update().clone() {
        return Err(r);
    }
    tokio::select! {
        v = f => Ok(v),
        r = async {
            loop {
                if intr.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
                if let Some(r) = intr.borrow_and_update().clone() {
                    return r;
                }
            }
        } => Err(r),
    }
}

/// The application and scenario of a run of the plan.
pub(crate) fn parts<'a>(
    campaign: &'a Campaign,
    id: &RunId,
) -> Result<(&'a Application, &'a NetScenario), RunnerError> {
    let app = campaign
        .application(&id.application)
        .ok_or_else(|| RunnerError::Plan(format!("no application {}", id.application)))?;
    let scen = campaign
        .scenario(&id.scenario)
        .ok_or_else(|| RunnerError::Plan(format!("no scenario {}", id.scenario)))?;
    Ok((app, scen))
}

/// The inputs of a run (`run.json`) whose clock is `clock`.
pub(crate) fn run_info(
    campaign: &Campaign,
    id: &RunId,
    clock: &MonotonicClock,
) -> Result<RunInfo, RunnerError> {
    let (app, scen) = parts(campaign, id)?;
    let settings = scen.migration_settings(&campaign.migration);
    Ok(RunInfo {
        schema_version: SCHEMA_VERSION,
        campaign: campaign.name.get_ref().clone(),
        application: id.application.clone(),
        scenario: id.scenario.clone(),
        run: id.run,
        seed: id.seed(campaign.seed),
        driver: settings.driver.name().into(),
        mode: settings.mode,
        copy: settings.copy,
        flavor: campaign.run_flavor(app, scen).name().into(),
        conditions: RunConditions {
            client: scen.client.condition(),
            migration: scen.migration.condition(),
        },
        wall_anchor_unix_ns: clock.wall_anchor_unix_ns(),
    })
}

/// Executes one run into `dir`; as the migration host of several hosts with `host`
/// (no probes here: the run is announced to the client hosts). `kept` is the driver
/// the previous run left running (`[migration] reuse_vm`): this run takes it when
/// it serves the same setup, and leaves its own there when it can serve the next.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn execute(
    campaign: &Campaign,
    id: &RunId,
    dir: &Path,
    drivers: &dyn DriverFactory,
    observer: &Arc<dyn RunObserver>,
    mut intr: watch::Receiver<Option<String>>,
    host: Option<MigrationHost<'_>>,
    kept: &mut Option<Box<dyn MigrationDriver>>,
) -> Result<RunSummary, RunnerError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| RunnerError::Io { path, source }
    };
    let (app, scen) = parts(campaign, id)?;
    fresh_dir(dir).map_err(io(dir))?;
    let clock = MonotonicClock::start();
    let seed = id.seed(campaign.seed);
    let settings = &scen.migration_settings(&campaign.migration);
    let info = run_info(campaign, id, &clock)?;
    let flavor = campaign.run_flavor(app, scen);
    write_json_atomic(&dir.join("run.json"), &info).map_err(io(&dir.join("run.json")))?;
    observer.run_started(&info);
    let info = Arc::new(info);
    let timeline_path = dir.join("timeline.jsonl");
    let timeline = Arc::new(Timeline::create(&timeline_path).map_err(io(&timeline_path))?);
    let (marks_tx, marks_rx) = watch::channel(MigrationMarks::default());
    let sink: EventSink = {
        let timeline = timeline.clone();
        let (observer, info) = (observer.clone(), info.clone());
        Arc::new(move |e: Event| {
            observer.event(&info, &e);
            let t = e.t();
            match e.kind {
                EventKind::MigrationPaused(_) => {
                    marks_tx
                        .send_if_modified(|m| m.paused.is_none() && m.paused.replace(t).is_none());
                }
                EventKind::MigrationResumed(_) => {
                    marks_tx.send_if_modified(|m| {
                        m.resumed.is_none() && m.resumed.replace(t).is_none()
                    });
                }
                _ => {}
            }
            log_event(&e);
            timeline.append(e);
        })
    };
    let phase = |name: &str| {
        tracing::info!(phase = name, "run phase");
        sink(Event::new(
            clock.now(),
            "runner",
            EventKind::Phase(RunnerPhase { phase: name.into() }),
        ))
    };
    let ctx = DriverContext {
        clock: clock.clone(),
        sink: sink.clone(),
        seed,
        run_dir: dir.to_path_buf(),
        driver: settings.driver_config(app).map_err(RunnerError::Driver)?,
        service: app.service(),
        flavor,
        client: scen.client.condition(),
        migration: scen.migration.condition(),
    };
    let request = settings.request();
    let (mut driver, continued) = take_or_create(kept, ctx, drivers).await?;
    let driver_name = driver.name();

    let mut incomplete: Option<String> = None;
    let mut fallback = (
        MigrationOutcome::Failed,
        Some("the migration did not start".to_string()),
    );
    let mut probe_results: BTreeMap<String, ProbeResult> = BTreeMap::new();
    let mut reach_summary = None;
    let mut facts = None;
    phase("setup");
    if continued
        && let Err(r) = unless(tokio::time::sleep(settings.settle_s.duration()), &mut intr).await
    {
        incomplete = Some(r);
    }
    let prepared = match incomplete {
        None => unless(driver.prepare(), &mut intr).await,
        Some(_) => Err(String::new()),
    };
    let endpoint = match prepared {
        Ok(Ok(e)) => Some(e),
        Ok(Err(e)) => {
            incomplete = Some(format!("the service could not be prepared: {e}"));
            None
        }
        Err(r) => {
            incomplete.get_or_insert(r);
            None
        }
    };
    // Probes and the prober run where the driver says the clients are: a namespace
    // we built (the lab) gets its own runtime whose threads all live inside it.
    let mut ns_runtime = None;
    let endpoint = match endpoint {
        Some(e) => match e.netns.as_deref().map(platform::net::runtime_in) {
            Some(Err(err)) => {
                incomplete = Some(format!("cannot attach the probes: {err}"));
                None
            }
            Some(Ok(rt)) => {
                ns_runtime = Some(rt);
                Some(e)
            }
            None => Some(e),
        },
        None => None,
    };
    // The prober runs on a thread of its own, in the same namespace.
    let attached = match endpoint {
        Some(e) => {
            let setup = ProberSetup {
                target: e.probe_target,
                interval: campaign.reachability_interval_ms.duration(),
                netns: e.netns.clone(),
                clock: clock.clone(),
                sink: sink.clone(),
                marks: marks_rx,
            };
            match ReachProber::start(setup).await {
                Ok(p) => Some((e, p)),
                Err(err) => {
                    incomplete = Some(format!("cannot start the reachability prober: {err}"));
                    if let Some(rt) = ns_runtime.take() {
                        rt.shutdown_background();
                    }
                    None
                }
            }
        }
        None => None,
    };
    if let Some((endpoint, prober)) = attached {
        let ns_guard = ns_runtime.as_ref().map(|rt| rt.enter());
        let running = sessions::start(
            attach::attachments(app, |_| host.is_none()),
            &clock,
            &sink,
            &endpoint,
        );
        drop(ns_guard);
        if let Some(h) = &host {
            // The client hosts start their probes at the announced time: so does
            // the warm-up here.
            match migration_host::announce(h, id, &endpoint) {
                Ok(start) => match unless(sleep_until_unix(start), &mut intr).await {
                    Ok(()) => facts = Some(migration_host::facts(h, start)),
                    Err(r) => incomplete = Some(r),
                },
                Err(e) => incomplete = Some(e),
            }
        }
        if incomplete.is_none() {
            phase("warmup");
            if let Err(r) =
                unless(tokio::time::sleep(campaign.warmup_s.duration()), &mut intr).await
            {
                incomplete = Some(r);
            }
        }
        if incomplete.is_none() {
            phase("migration");
            let limit = request.time_limit + Duration::from_secs(60);
            let mig = unless(
                tokio::time::timeout(limit, driver.migrate(&request, sink.clone())),
                &mut intr,
            )
            .await;
            match mig {
                Ok(Ok(Ok(report))) => fallback = (report.outcome, report.detail),
                Ok(Ok(Err(e))) => fallback = (MigrationOutcome::Failed, Some(e.to_string())),
                Ok(Err(_)) => {
                    let _ = driver.cancel().await;
                    fallback = (
                        MigrationOutcome::Cancelled,
                        Some("the driver did not end the migration by the time limit".into()),
                    );
                }
                Err(r) => {
                    let _ = driver.cancel().await;
                    fallback = (MigrationOutcome::Cancelled, Some(r.clone()));
                    incomplete = Some(r);
                }
            }
        }
        if incomplete.is_none() && fallback.0 == MigrationOutcome::Completed {
            let mut re = prober.reattached.clone();
            let wait = async { re.wait_for(|r| r.is_some()).await.map(drop) };
            if let Err(r) = unless(
                tokio::time::timeout(campaign.reattach_timeout_s.duration(), wait),
                &mut intr,
            )
            .await
            {
                incomplete = Some(r);
            }
        }
        if incomplete.is_none() {
            phase("cooldown");
            if let Err(r) = unless(
                tokio::time::sleep(campaign.cooldown_s.duration()),
                &mut intr,
            )
            .await
            {
                incomplete = Some(r);
            }
        }
        phase("stop");
        probe_results = sessions::stop(running, incomplete.is_none()).await;
        reach_summary = Some(prober.finish().await);
        if let Some(rt) = ns_runtime.take() {
            rt.shutdown_background();
        }
    }
    if let Some(h) = &host {
        // Also when the run ends early: the client hosts stop their probes on it.
        if let Err(e) = migration_host::end(h, id, &incomplete, facts.as_ref(), dir) {
            incomplete.get_or_insert(e);
        }
    }
    let keep = settings.reuse_vm
        && incomplete.is_none()
        && fallback.0 == MigrationOutcome::Completed
        && driver.reusable();
    let ended = if keep {
        driver.end_run().await
    } else {
        driver.teardown().await
    };
    match ended {
        Ok(()) if keep => *kept = Some(driver),
        Ok(()) => drop(driver),
        Err(e) => {
            incomplete.get_or_insert(format!("teardown failed: {e}"));
            let _ = driver.teardown().await;
        }
    }
    if let Some(e) = timeline.error() {
        incomplete.get_or_insert(e);
    }
    let events = timeline.events();
    let summary = RunSummary {
        schema_version: SCHEMA_VERSION,
        complete: incomplete.is_none(),
        incomplete_reason: incomplete,
        application: id.application.clone(),
        scenario: id.scenario.clone(),
        run: id.run,
        migration: MigrationSummary::of_events(driver_name, &events, fallback),
        probes: probe_results,
        reachability: reach_summary,
    };
    let path = dir.join("summary.json");
    write_json_atomic(&path, &summary).map_err(io(&path))?;
    observer.run_finished(&info, &summary);
    Ok(summary)
}

/// The driver of a run: the one the previous run kept when it takes this run
/// (`true`), else a new one (the kept one torn down first: one lab at a time).
async fn take_or_create(
    kept: &mut Option<Box<dyn MigrationDriver>>,
    ctx: DriverContext,
    drivers: &dyn DriverFactory,
) -> Result<(Box<dyn MigrationDriver>, bool), RunnerError> {
    if let Some(mut old) = kept.take() {
        match old.continue_with(ctx.clone()) {
            Ok(true) => return Ok((old, true)),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "the kept driver cannot take this run"),
        }
        if let Err(e) = old.teardown().await {
            tracing::warn!(error = %e, "tearing down the kept driver failed");
        }
    }
    let driver = drivers.create(ctx).map_err(RunnerError::Driver)?;
    Ok((driver, false))
}

/// Logs a runner, migration or network event (the probes log their own at debug):
/// migration steps at info (`-v`), the rest at debug (`-vv`).
fn log_event(e: &Event) {
    if e.probe().is_some() || !tracing::enabled!(tracing::Level::INFO) {
        return;
    }
    let line = serde_json::to_string(e).unwrap_or_default();
    if e.source.as_str() == "migration" {
        tracing::info!(source = "migration", "{line}");
    } else {
        tracing::debug!(source = %e.source.as_str(), "{line}");
    }
}
