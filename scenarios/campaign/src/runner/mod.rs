//! The campaign runner: for each application x network scenario x repetition it
//! sets up the conditions, starts the service (through the migration driver),
//! attaches the probes and the reachability prober, warms up, migrates, waits for
//! completion or the time limit, cools down, stops, and writes the run folder
//! (docs/results.md) as it goes. It writes the record; judging it is the analysis's
//! job (the command line writes the verdicts after a campaign).
//!
//! Public API: [`run_campaign`] with [`RunnerOptions`]; drivers come from a
//! [`DriverFactory`] ([`platform::DefaultDrivers`] by default); the runner's one hook
//! is its observers ([`RunObserver`], told in turn). `--resume` skips runs
//! whose `summary.json` says `complete: true`; an interrupt (the caller's: Ctrl-C,
//! SIGTERM) finalizes the current run as `complete: false` and stops.

mod client_run;
mod folder;
mod gaps;
mod migration_host;
mod observe;
mod one_run;
mod progress;
mod reach;
mod realtime;
mod sessions;
pub(crate) mod starts;
mod tcp_probe;

use crate::hosts::{HostMode, rendezvous};
use crate::scenario::{Campaign, RunId};
use crate::shard::{Shard, campaign_hash, run_key};
use platform::{DefaultDrivers, DriverFactory};
use record::RunSummary;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;
use tracing::Instrument;

pub use folder::{is_finished, write_json_atomic};
pub use observe::RunObserver;
pub use progress::{ProgressMode, line as progress_line};

/// A runner error: what failed, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The selection or the plan is not possible.
    #[error("{0}")]
    Plan(String),
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The driver cannot be built or used.
    #[error("{0}")]
    Driver(String),
}

/// How to run a campaign.
#[derive(Clone)]
pub struct RunnerOptions {
    /// Output folder (`<out>/<application>/<scenario>/run-<k>/`).
    pub out: PathBuf,
    /// Override of the campaign's repetitions.
    pub runs: Option<u32>,
    /// `APP` or `APP/SCENARIO` (`*` matches any).
    pub only: Option<String>,
    /// Skip runs already finished in `out`.
    pub resume: bool,
    /// Run only this shard of the plan (`crate::shard`).
    pub shard: Option<Shard>,
    /// Take part as one of several hosts (`crate::hosts`).
    pub host: Option<HostMode>,
    /// Progress display.
    pub progress: ProgressMode,
    /// Builds each run's driver.
    pub drivers: Arc<dyn DriverFactory>,
    /// The interrupt: it turns `Some(reason)` when the campaign must stop (the
    /// reason is written into the interrupted run's `summary.json`).
    pub interrupt: watch::Receiver<Option<String>>,
    /// See the plan, every run and every event as they are written, each call in
    /// this order (live metrics, loading each finished run into a database).
    pub observers: Vec<Arc<dyn RunObserver>>,
    /// The commit the running binary was built from, recorded in `campaign.json`
    /// (`tool.commit`, and in `starts`); `None` leaves it out.
    pub tool_commit: Option<String>,
}

impl RunnerOptions {
    /// Defaults: all runs, no resume, automatic progress, the default drivers.
    pub fn new(out: impl Into<PathBuf>, interrupt: watch::Receiver<Option<String>>) -> Self {
        Self {
            out: out.into(),
            runs: None,
            only: None,
            resume: false,
            shard: None,
            host: None,
            progress: ProgressMode::Auto,
            drivers: Arc::new(DefaultDrivers),
            interrupt,
            observers: Vec::new(),
            tool_commit: None,
        }
    }
}

/// One run as the campaign saw it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    /// Which run.
    pub id: RunId,
    /// Its folder.
    pub dir: PathBuf,
    /// Its summary (`None` when it was skipped by `--resume`: read it from `dir`).
    pub summary: Option<RunSummary>,
}

/// What a campaign did.
#[derive(Debug, Clone)]
pub struct CampaignResult {
    /// The output folder.
    pub out: PathBuf,
    /// Every planned run, in order (skipped ones included).
    pub runs: Vec<RunRecord>,
    /// Runs skipped because they were already finished.
    pub skipped: usize,
    /// Why the campaign stopped early at an interrupt (SIGINT, SIGTERM), if it did:
    /// `--resume` finishes it.
    pub interrupted: Option<String>,
    /// Why the campaign stopped early because a run could not be made (a service
    /// that could not be prepared, probes that could not attach): no signal came,
    /// and resuming without fixing the cause fails the same way.
    pub failed: Option<String>,
}

/// The environment variable naming the folder campaigns' results go into.
pub const RESULTS_ENV: &str = "QOEPROBE_RESULTS";

/// The default output folder of a campaign: `$QOEPROBE_RESULTS/<name>`, else
/// `results/<name>`.
pub fn default_out(campaign: &Campaign) -> PathBuf {
    let base = std::env::var_os(RESULTS_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("results"), PathBuf::from);
    base.join(campaign.name.get_ref())
}

/// What a results folder holds of its campaign: the hash, the whole plan, the shard.
struct PlanFacts<'a> {
    hash: String,
    plan: &'a [RunId],
    shard: Option<Shard>,
    host: Option<&'a HostMode>,
}

/// Refuses to resume into a folder of another campaign, plan or shard.
fn check_resume(out: &Path, facts: &PlanFacts<'_>) -> Result<(), RunnerError> {
    let Ok(text) = std::fs::read_to_string(out.join("campaign.json")) else {
        return Ok(());
    };
    let old: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let Some(hash) = old.get("campaign_hash").and_then(|h| h.as_str()) else {
        return Ok(()); // written by a version without hashes
    };
    let shard: Option<Shard> = old
        .get("shard")
        .and_then(|s| serde_json::from_value(s.clone()).ok());
    if hash != facts.hash || shard != facts.shard {
        let show =
            |s: Option<Shard>| s.map_or("the whole campaign".into(), |s| format!("shard {s}"));
        return Err(RunnerError::Plan(format!(
            "--resume: {} holds {} of campaign {} but this is {} of campaign {}: resume with the same file, --runs, --only and --shard, or choose another --out",
            out.display(),
            show(shard),
            &hash[..12.min(hash.len())],
            show(facts.shard),
            &facts.hash[..12]
        )));
    }
    Ok(())
}

/// Writes `campaign.json`: the resolved campaign, its hash, plan and shard, the tool
/// (version, commit) of this start and of the earlier ones, host facts.
fn write_campaign_json(
    campaign: &Campaign,
    facts: &PlanFacts<'_>,
    opts: &RunnerOptions,
) -> Result<(), RunnerError> {
    let out = opts.out.as_path();
    let now = record::clock::unix_now_ns();
    let tool = starts::tool(opts.tool_commit.as_deref());
    let starts = starts::starts(out, opts.resume, &tool, now);
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .ok()
    };
    // The resolved campaign at the top level (`applications`, `scenarios` with their
    // profiles, as analysis reads them), plus the tool and the host.
    let mut value = serde_json::to_value(campaign).unwrap_or_default();
    let extra = serde_json::json!({
        "schema_version": record::SCHEMA_VERSION,
        "tool": tool,
        "starts": starts,
        "host": {
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "kernel": read("/proc/sys/kernel/osrelease"),
            "hostname": read("/proc/sys/kernel/hostname"),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
        "written_unix_ns": now,
        "campaign_hash": facts.hash,
        "plan": facts.plan.iter().map(run_key).collect::<Vec<_>>(),
        "shard": facts.shard,
    });
    let extra = match (extra, facts.host) {
        (serde_json::Value::Object(mut e), Some(h)) => {
            // What the merge checks the hosts' folders against.
            let sessions: serde_json::Map<String, serde_json::Value> = campaign
                .applications
                .iter()
                .map(|a| {
                    (
                        a.name.get_ref().clone(),
                        crate::attach::session_names(a).into(),
                    )
                })
                .collect();
            e.insert(
                "hosts".into(),
                serde_json::json!({
                    "index": h.role.index,
                    "count": h.role.count,
                    "start_at_unix_ns": h.start_at_unix_ns,
                    "sessions": sessions,
                }),
            );
            serde_json::Value::Object(e)
        }
        (e, _) => e,
    };
    if let (Some(v), serde_json::Value::Object(e)) = (value.as_object_mut(), extra) {
        v.extend(e);
    }
    let path = out.join("campaign.json");
    folder::write_json_atomic(&path, &value).map_err(|source| RunnerError::Io { path, source })
}

/// Runs a campaign. Returns when every selected run is done, or at the first
/// interrupt (the current run is then written with `complete: false`).
pub async fn run_campaign(
    campaign: &Campaign,
    opts: RunnerOptions,
) -> Result<CampaignResult, RunnerError> {
    let plan = campaign
        .plan(opts.runs, opts.only.as_deref())
        .map_err(RunnerError::Plan)?;
    check_drivers(campaign, opts.drivers.as_ref()).map_err(RunnerError::Driver)?;
    let hash = campaign_hash(campaign, &plan);
    let facts = PlanFacts {
        hash: hash.clone(),
        plan: &plan,
        shard: opts.shard,
        host: opts.host.as_ref(),
    };
    if let Some(h) = &opts.host {
        check_hosts(campaign, h, &opts)?;
    }
    if opts.resume {
        check_resume(&opts.out, &facts)?;
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| RunnerError::Io {
        path: opts.out.clone(),
        source,
    })?;
    write_campaign_json(campaign, &facts, &opts)?;
    let plan = match opts.shard {
        Some(s) => s.select(plan.clone()),
        None => plan,
    };
    let intr = opts.interrupt.clone();
    let mut records = Vec::with_capacity(plan.len());
    let mut todo = Vec::new();
    let mut skipped = 0;
    for id in plan {
        let dir = opts.out.join(id.rel_dir());
        if opts.resume && folder::is_finished(&dir) {
            skipped += 1;
            records.push(RunRecord {
                id,
                dir,
                summary: None,
            });
        } else {
            todo.push(records.len());
            records.push(RunRecord {
                id,
                dir,
                summary: None,
            });
        }
    }
    let observers: Arc<dyn RunObserver> = Arc::new(observe::Fanout(opts.observers));
    observers.planned(campaign.name.get_ref(), records.len(), skipped);
    tracing::info!(
        campaign = %campaign.name.get_ref(),
        runs = todo.len(),
        skipped,
        out = %opts.out.display(),
        "campaign starts"
    );
    let mut progress = progress::Progress::new(opts.progress, todo.len());
    let mut interrupted = None;
    let mut failed = None;
    // The driver (and VM) the last run left up for the next one (`reuse_vm`).
    let mut kept = None;
    for i in todo {
        if let Some(r) = intr.borrow().clone() {
            interrupted = Some(r);
            break;
        }
        let rec = &mut records[i];
        let label = format!(
            "{}/{}/run-{}",
            rec.id.application, rec.id.scenario, rec.id.run
        );
        progress.start(&label);
        let span = tracing::info_span!("run", run = %label);
        let summary = match &opts.host {
            Some(h) if !h.role.is_migration() => {
                client_run::execute(
                    campaign,
                    &rec.id,
                    &rec.dir,
                    h,
                    &hash,
                    &observers,
                    intr.clone(),
                )
                .instrument(span)
                .await
            }
            host => {
                let host = host
                    .as_ref()
                    .map(|mode| migration_host::MigrationHost { mode, hash: &hash });
                one_run::execute(
                    campaign,
                    &rec.id,
                    &rec.dir,
                    opts.drivers.as_ref(),
                    &observers,
                    intr.clone(),
                    host,
                    &mut kept,
                )
                .instrument(span)
                .await
            }
        };
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                progress.finish();
                release_kept(&mut kept).await;
                return Err(e);
            }
        };
        progress.finish_run(&label, &summary);
        tracing::info!(
            run = %label,
            complete = summary.complete,
            migration = ?summary.migration.outcome,
            downtime_ms = ?summary.migration.downtime_ms,
            "run finished"
        );
        let stop =
            (!summary.complete).then(|| summary.incomplete_reason.clone().unwrap_or_default());
        rec.summary = Some(summary);
        if let Some(reason) = stop {
            // Incomplete because the interrupt fired, or because the run failed.
            if intr.borrow().is_some() {
                interrupted = Some(reason);
            } else {
                failed = Some(format!("{label}: {reason}"));
            }
            break;
        }
    }
    progress.finish();
    release_kept(&mut kept).await;
    if let Some(h) = opts.host.as_ref().filter(|h| h.role.is_migration())
        && let Some(reason) = interrupted.as_ref().or(failed.as_ref())
    {
        // The client hosts wait for the next announcement: tell them there is none.
        rendezvous::abort(&h.rendezvous, reason).map_err(RunnerError::Plan)?;
    }
    Ok(CampaignResult {
        out: opts.out,
        runs: records,
        skipped,
        interrupted,
        failed,
    })
}

/// Tears down the driver the last run kept up (the campaign ends, fails or is
/// interrupted: nothing stays running).
async fn release_kept(kept: &mut Option<Box<dyn platform::MigrationDriver>>) {
    if let Some(mut d) = kept.take()
        && let Err(e) = d.teardown().await
    {
        tracing::warn!(error = %e, "tearing down the kept driver failed");
    }
}

/// Checks a campaign of several hosts before it starts: every host runs the whole
/// plan (no shard, no resume), every client host has a client of every application,
/// and the migration host's rendezvous folder is fresh.
fn check_hosts(campaign: &Campaign, h: &HostMode, opts: &RunnerOptions) -> Result<(), RunnerError> {
    let plan = |m: String| Err(RunnerError::Plan(m));
    if opts.shard.is_some() || opts.resume {
        return plan("--host runs the whole plan on every host: --shard and --resume do not go with it (run the campaign again into new folders)".into());
    }
    // Whether the hosts share a machine is not known here: an emulated service
    // out of the client hosts' reach fails their probes (docs/scale-out.md).
    crate::hosts::check_campaign(campaign, h.role.count, true).map_err(RunnerError::Plan)?;
    if h.role.is_migration() {
        rendezvous::prepare(&h.rendezvous).map_err(RunnerError::Plan)?;
    }
    Ok(())
}

/// Checks, before a campaign, that its driver can run here and apply every link
/// (`Err` says why not).
pub fn check_drivers(campaign: &Campaign, drivers: &dyn DriverFactory) -> Result<(), String> {
    let kind = campaign.migration.driver;
    drivers.check(kind)?;
    for app in &campaign.applications {
        let config = campaign
            .migration
            .driver_config(app)
            .map_err(|e| format!("application `{}`: {e}", app.name.get_ref()))?;
        drivers.check_config(&config)?;
    }
    for s in &campaign.scenarios {
        for (name, link) in [("client", &s.client), ("migration", &s.migration)] {
            drivers
                .check_link(kind, &link.condition())
                .map_err(|e| format!("scenario `{}`, link `{name}`: {e}", s.name.get_ref()))?;
        }
    }
    Ok(())
}
