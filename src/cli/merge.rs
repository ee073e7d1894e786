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
    /// The shards' results folders (`qoeprobe run --shard K/N --out DIR`).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Write the merged folder even when runs are missing (they are listed).
    #[arg(long)]
    pub allow_missing: bool,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `qoeprobe merge`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let opts = MergeOptions {
        allow_missing: args.allow_missing,
    };
    let report = merge(&args.out, &args.dirs, &opts)?;
    if !args.quiet {
        for (dir, shard, n) in &report.sources {
            let shard = shard.map_or("whole campaign".into(), |s| format!("shard {s}"));
            eprintln!("merge: {} ({shard}): {n} run(s)", dir.display());
        }
        eprintln!(
            "merge: {} run(s) written to {}",
            report.runs,
            args.out.display()
        );
    }
    for m in &report.missing {
        eprintln!("warning: missing run {m}");
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
