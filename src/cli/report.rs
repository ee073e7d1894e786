//! `qoeprobe report DIR [-o report.html]`: one self-contained HTML report of a
//! campaign's results folder (table, phase bars with confidence intervals,
//! statistics, per-run timelines).

use super::output::{Output, write_bytes};
use analysis::{LoadOptions, Table};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `qoeprobe report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign's results folder (results/<campaign>/, or a folder holding one).
    pub dir: PathBuf,
    /// Where to write the report (default: report.html in the campaign folder; `-`:
    /// standard output).
    #[arg(short, long)]
    pub output: Option<Output>,
}

/// Runs `qoeprobe report`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let campaign = analysis::load(&args.dir, &LoadOptions::default())?;
    super::table::print_warnings(&analysis::warnings(&campaign));
    let table = Table::from_campaign(&campaign);
    let html = analysis::report::render(&campaign, &table)?;
    let out = args
        .output
        .unwrap_or_else(|| Output::File(campaign.root.join("report.html")));
    write_bytes(&out, html.as_bytes())?;
    if !out.is_stdout() {
        println!("report written to {out}");
    }
    Ok(ExitCode::SUCCESS)
}
