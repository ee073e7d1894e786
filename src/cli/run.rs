//! `qoeprobe run FILE`: runs a campaign (scenario file) and writes one folder per
//! run, then the verdicts, the migratability table and the report.

use campaign::runner::{self, ProgressMode, RunnerOptions};
use campaign::scenario::Campaign;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tokio::sync::watch;

/// `qoeprobe run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign: a scenario file (TOML, docs/scenario-file.md).
    pub file: PathBuf,
    /// Output folder (default: results/<campaign name>).
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
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `qoeprobe run`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let campaign = campaign::scenario::load(&args.file)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| runner::default_out(&campaign));
    let mut opts = RunnerOptions::new(&out, interrupt_on_signals());
    opts.runs = args.runs;
    opts.only = args.only.clone();
    opts.resume = args.resume;
    opts.progress = if args.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    let result = runner::run_campaign(&campaign, opts).await?;
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
        return Ok(ExitCode::from(130));
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

/// The campaign's interrupt: it turns `Some(reason)` at the first SIGINT or SIGTERM.
pub fn interrupt_on_signals() -> watch::Receiver<Option<String>> {
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
