//! `qoeprobe merge OUT DIR...`: the shards' results folders of one campaign made into
//! one folder (campaign::merge), then its verdicts, table and report.

use campaign::merge::{MergeOptions, merge};
use std::path::PathBuf;
use std::process::ExitCode;

/// `qoeprobe merge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The merged results folder to write (must not exist or be empty).
    pub out: PathBuf,
    /// The shards' results folders (`qoeprobe run --shard K/N --out DIR`), or the
    /// hosts' (`qoeprobe run --host K/N --out DIR`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Write the merged folder even when runs are missing (they are listed).
    #[arg(long)]
    pub allow_missing: bool,
    /// Hosts' folders (`run --host`): the most a host may start a run after its
    /// announced start, or show its clock behind or ahead of host 0's, in ms.
    #[arg(long, value_name = "MS", default_value_t = campaign::merge::MergeOptions::default().max_skew_ms)]
    pub max_skew_ms: f64,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `qoeprobe merge`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if !(args.max_skew_ms.is_finite() && args.max_skew_ms >= 0.0) {
        anyhow::bail!(
            "--max-skew-ms {}: give a number of milliseconds, 0 or more",
            args.max_skew_ms
        );
    }
    let opts = MergeOptions {
        allow_missing: args.allow_missing,
        max_skew_ms: args.max_skew_ms,
    };
    let report = merge(&args.out, &args.dirs, &opts)?;
    if !args.quiet {
        for (dir, part, n) in &report.sources {
            eprintln!("merge: {} ({part}): {n} run(s)", dir.display());
        }
        eprintln!(
            "merge: {} run(s) written to {}",
            report.runs.len(),
            args.out.display()
        );
    }
    for m in &report.missing {
        eprintln!("warning: missing run {m}");
    }
    for key in &report.runs {
        super::run_clients::write(&args.out.join(key))?;
    }
    let outputs = analysis::write_outputs(&args.out, &analysis::LoadOptions::default())?;
    print!("{}", analysis::Format::Md.render(&outputs.table));
    super::table::print_warnings(&outputs.warnings);
    if !args.quiet {
        eprintln!(
            "wrote {}, {} and {}",
            outputs.verdicts_json.display(),
            outputs.table_md.display(),
            outputs.report_html.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
