//! `qoeprobe run FILE`: runs a campaign (scenario file) and writes one folder per
//! run, then the verdicts, the migratability table and the report.

use campaign::runner::{self, ProgressMode, RunObserver, RunnerOptions};
use campaign::scenario::Campaign;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::watch;

/// `qoeprobe run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign: a scenario file (TOML, docs/scenario-file.md).
    pub file: PathBuf,
    /// Output folder (default: $QOEPROBE_RESULTS/<campaign name>, else
    /// results/<campaign name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Repetitions per application x scenario (default: the file's `runs`).
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Only these cells: APP or APP/SCENARIO (`*` matches any).
    #[arg(long, value_name = "APP/SCENARIO")]
    pub only: Option<String>,
    /// Skip runs already finished in the output folder.
    #[arg(long)]
    pub resume: bool,
    /// Run only shard K of N (K from 0 to N-1; docs/scale-out.md); merge the shards'
    /// folders with `qoeprobe merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<campaign::shard::Shard>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    /// Start even when the campaign is expected to take over an hour.
    #[arg(long)]
    pub long: bool,
    /// Also write each run into this PostgreSQL database as it finishes
    /// (postgres://USER:PASSWORD@HOST:PORT/DB; docs/postgres.md); the results folder
    /// stays the source of truth.
    #[arg(
        long,
        value_name = "URL",
        env = "QOEPROBE_POSTGRES",
        hide_env_values = true
    )]
    pub postgres: Option<String>,
    /// Live Prometheus metrics.
    #[command(flatten)]
    pub metrics: super::metrics_opts::MetricsOpts,
    /// Take part as host K of N (K from 0 to N-1): host 0 starts the service and
    /// migrates it, the others run the probes against it (docs/scale-out.md, "Many
    /// client hosts, one migration"); merge the hosts' folders with `qoeprobe merge`.
    /// (Not with --postgres: a host's runs are parts; load the merged folder with
    /// `qoeprobe export --postgres`.)
    #[arg(long, value_name = "K/N", requires_all = ["start_at", "rendezvous"], conflicts_with = "postgres")]
    pub host: Option<campaign::hosts::HostRole>,
    /// With --host: the shared start (RFC 3339 or unix seconds): the first run's
    /// warm-up begins then on every host.
    #[arg(long, value_name = "TIME", requires = "host")]
    pub start_at: Option<super::start_at::StartAt>,
    /// With --host: a folder every host reads and writes (a shared file system):
    /// host 0 announces each run's service address and start there.
    #[arg(long, value_name = "DIR", requires = "host")]
    pub rendezvous: Option<PathBuf>,
    /// With --host: seconds between host 0's announcement of a later run and its
    /// start (the client hosts must see the announcement in time).
    #[arg(long, value_name = "SECS", default_value = "2", requires = "host")]
    pub host_lead: probes::values::Secs,
}

/// Campaigns expected to take longer than this need `--long`.
const LONG: std::time::Duration = std::time::Duration::from_secs(3600);

/// Prints the expected duration of the runs still to do (with `--resume`, those
/// not finished in `out`); refuses a campaign over an hour without `--long`.
fn check_duration(campaign: &Campaign, args: &Args, out: &Path) -> anyhow::Result<()> {
    let Ok(mut plan) = campaign.plan(args.runs, args.only.as_deref()) else {
        return Ok(()); // the runner reports a bad selection
    };
    if let Some(shard) = args.shard {
        plan = shard.select(plan);
    }
    if args.resume {
        plan.retain(|id| !runner::is_finished(&out.join(id.rel_dir())));
    }
    let e = campaign::estimate::estimate(campaign, &plan);
    let human = campaign::estimate::Estimate::human;
    let text = format!(
        "expected duration: about {} for {} run(s) (longest run about {}{}; docs/campaigns.md, \"Expected duration\")",
        human(e.total),
        e.runs,
        human(e.longest),
        if e.capped > 0 {
            format!(", {} run(s) at the time limit", e.capped)
        } else {
            String::new()
        }
    );
    if e.total > LONG && !args.long {
        anyhow::bail!(
            "{text}: over an hour, so it does not start without --long (or choose fewer runs with --runs N or cells with --only APP/SCENARIO)"
        );
    }
    if !args.quiet {
        eprintln!("{text}");
    }
    Ok(())
}

/// Runs `qoeprobe run` (with `--metrics`, serving the live metrics until its linger
/// is over).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let live = args.metrics.start().await?;
    let observers = live
        .as_ref()
        .map(|l| {
            Arc::new(super::metrics_campaign::CampaignFeed(l.exporter())) as Arc<dyn RunObserver>
        })
        .into_iter()
        .collect();
    let code = run_campaign(args, observers).await;
    super::metrics_opts::finish(live).await;
    code
}

/// Runs the campaign (told to `observers`, and with `--postgres` to the database's
/// follower too), then its analysis.
async fn run_campaign(
    args: Args,
    mut observers: Vec<Arc<dyn RunObserver>>,
) -> anyhow::Result<ExitCode> {
    let campaign = campaign::scenario::load(&args.file)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| runner::default_out(&campaign));
    check_duration(&campaign, &args, &out)?;
    let mut opts = runner_options(&out);
    opts.runs = args.runs;
    opts.only = args.only.clone();
    opts.resume = args.resume;
    opts.shard = args.shard;
    if let (Some(role), Some(start), Some(rendezvous)) =
        (args.host, args.start_at, args.rendezvous.clone())
    {
        start.check_not_past()?;
        opts.host = Some(campaign::hosts::HostMode {
            role,
            start_at_unix_ns: start.unix_ns(),
            rendezvous,
            lead: args.host_lead.duration(),
        });
    }
    opts.progress = if args.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    let follower = match &args.postgres {
        Some(url) => {
            let follower = super::run_postgres::follow(url, &out).await?;
            observers.push(follower.observer());
            Some(follower)
        }
        None => None,
    };
    opts.observers = observers;
    let campaign_run = runner::run_campaign(&campaign, opts);
    let result = match follower {
        Some(f) => f.alongside(campaign_run, args.quiet).await,
        None => campaign_run.await,
    }?;
    let done = result
        .runs
        .iter()
        .filter(|r| r.summary.as_ref().is_some_and(|s| s.complete))
        .count();
    if !args.quiet {
        eprintln!(
            "{done} run(s) written to {}{}",
            out.display(),
            if result.skipped > 0 {
                format!(" ({} already finished, skipped)", result.skipped)
            } else {
                String::new()
            }
        );
    }
    if let Some(reason) = &result.failed {
        // Not a signal: exit 1, and no `--resume` hint (it would fail the same way).
        eprintln!(
            "campaign stopped: {reason}; fix the cause, then run again (the finished runs are in {})",
            out.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(reason) = &result.interrupted {
        eprintln!("campaign stopped: {reason}; rerun with --resume to finish it");
        return Ok(ExitCode::from(super::exit::INTERRUPTED));
    }
    if let Some(host) = args.host {
        // One host's part: the merge of every host's folder is the run.
        if !args.quiet {
            eprintln!(
                "host {host} done; merge the hosts' folders with `qoeprobe merge OUT DIR...`"
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(shard) = args.shard {
        // A shard's table would judge a part of the campaign: the merge writes it.
        if !args.quiet {
            eprintln!("shard {shard} done; merge the shards with `qoeprobe merge OUT DIR...`");
        }
        return Ok(ExitCode::SUCCESS);
    }
    match write_analysis(&campaign, &out) {
        Ok(o) => {
            print!("{}", analysis::Format::Md.render(&o.table));
            for w in &o.warnings {
                eprintln!("warning: {w}");
            }
            if !args.quiet {
                eprintln!(
                    "wrote {}, {} and {}",
                    o.verdicts_json.display(),
                    o.table_md.display(),
                    o.report_html.display()
                );
            }
        }
        Err(e) => eprintln!("warning: the runs are written, but the analysis failed: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A campaign's options as the command line starts one: stopped by SIGINT or SIGTERM,
/// and `campaign.json` naming this binary's commit.
pub fn runner_options(out: &Path) -> RunnerOptions {
    let mut opts = RunnerOptions::new(out, interrupt_on_signals());
    opts.tool_commit = Some(env!("QOEPROBE_COMMIT").to_string());
    opts
}

/// The campaign's interrupt: it turns `Some(reason)` at the first SIGINT or SIGTERM.
fn interrupt_on_signals() -> watch::Receiver<Option<String>> {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        if let Ok(signal) = fixtures::signal::shutdown().await {
            let _ = tx.send(Some(format!("interrupted by {signal}")));
        }
        // Keep the sender alive so the runner never sees it closed.
        std::future::pending::<()>().await;
    });
    rx
}

/// Writes `verdicts.json`, `table.md` and `report.html` of the campaign in `out`
/// (the analysis judges the run folders with the campaign's profiles).
pub fn write_analysis(
    campaign: &Campaign,
    out: &Path,
) -> Result<analysis::Outputs, analysis::AnalysisError> {
    analysis::write_outputs(
        out,
        &analysis::LoadOptions {
            profiles: campaign.profiles(),
            ..Default::default()
        },
    )
}
