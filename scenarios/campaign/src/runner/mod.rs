//! The campaign runner: for each application x network scenario x repetition it
//! sets up the conditions, starts the service (through the migration driver),
//! attaches the probes and the reachability prober, warms up, migrates, waits for
//! completion or the time limit, cools down, stops, and writes the run folder
//! (docs/results.md) as it goes. It writes the record; judging it is the analysis's
//! job (the command line writes the verdicts after a campaign).
//!
//! Public API: [`run_campaign`] with [`RunnerOptions`]; drivers come from a
//! [`DriverFactory`] ([`platform::DefaultDrivers`] by default). `--resume` skips runs
//! whose `summary.json` says `complete: true`; an interrupt (the caller's: Ctrl-C,
//! SIGTERM) finalizes the current run as `complete: false` and stops.

mod folder;
mod gaps;
mod one_run;
mod progress;
mod reach;
mod realtime;
mod tcp_probe;

use crate::scenario::{Campaign, RunId};
use crate::shard::{Shard, campaign_hash, run_key};
use platform::{DefaultDrivers, DriverFactory};
use record::RunSummary;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::watch;

pub use folder::{is_finished, write_json_atomic};
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
    /// Progress display.
    pub progress: ProgressMode,
    /// Builds each run's driver.
    pub drivers: Arc<dyn DriverFactory>,
    /// The interrupt: it turns `Some(reason)` when the campaign must stop (the
    /// reason is written into the interrupted run's `summary.json`).
    pub interrupt: watch::Receiver<Option<String>>,
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
            progress: ProgressMode::Auto,
            drivers: Arc::new(DefaultDrivers),
            interrupt,
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

/// The default output folder of a campaign: `results/<name>`.
pub fn default_out(campaign: &Campaign) -> PathBuf {
    Path::new("results").join(campaign.name.get_ref())
}

/// What a results folder holds of its campaign: the hash, the whole plan, the shard.
struct PlanFacts<'a> {
    hash: String,
    plan: &'a [RunId],
    shard: Option<Shard>,
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
/// version, host facts.
fn write_campaign_json(
    campaign: &Campaign,
    facts: &PlanFacts<'_>,
    out: &Path,
) -> Result<(), RunnerError> {
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
        "tool": { "name": "qoeprobe", "version": env!("CARGO_PKG_VERSION") },
        "host": {
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "kernel": read("/proc/sys/kernel/osrelease"),
            "hostname": read("/proc/sys/kernel/hostname"),
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        },
        "written_unix_ns": record::clock::unix_now_ns(),
        "campaign_hash": facts.hash,
        "plan": facts.plan.iter().map(run_key).collect::<Vec<_>>(),
        "shard": facts.shard,
    });
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
    let facts = PlanFacts {
        hash: campaign_hash(campaign, &plan),
        plan: &plan,
        shard: opts.shard,
    };
    if opts.resume {
        check_resume(&opts.out, &facts)?;
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| RunnerError::Io {
        path: opts.out.clone(),
        source,
    })?;
    write_campaign_json(campaign, &facts, &opts.out)?;
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
    let mut progress = progress::Progress::new(opts.progress, todo.len());
    let mut interrupted = None;
    let mut failed = None;
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
        let summary = one_run::execute(
            campaign,
            &rec.id,
            &rec.dir,
            opts.drivers.as_ref(),
            intr.clone(),
        )
        .await;
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                progress.finish();
                return Err(e);
            }
        };
        progress.finish_run(&label, &summary);
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
    Ok(CampaignResult {
        out: opts.out,
        runs: records,
        skipped,
        interrupted,
        failed,
    })
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
