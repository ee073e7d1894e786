//! `qoeprobe table DIR [--format md|csv|latex|html|json] [-o FILE]`: the
//! migratability table (the study's Table 2) of a campaign's results folder, or of a
//! campaign in PostgreSQL (`--from postgres://... --campaign NAME`).

use super::output::{Output, write_bytes};
use analysis::{Format, LoadOptions, Table};
use std::path::PathBuf;
use std::process::ExitCode;

/// Output formats of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormatArg {
    /// Markdown.
    Md,
    /// CSV, one line per cell.
    Csv,
    /// LaTeX (needs amssymb).
    Latex,
    /// A standalone HTML page.
    Html,
    /// JSON: `rows[].cells.<scenario>.{verdict,clean,impaired,failed,...}`.
    Json,
}

impl From<TableFormatArg> for Format {
    fn from(f: TableFormatArg) -> Self {
        match f {
            TableFormatArg::Md => Format::Md,
            TableFormatArg::Csv => Format::Csv,
            TableFormatArg::Latex => Format::Latex,
            TableFormatArg::Html => Format::Html,
            TableFormatArg::Json => Format::Json,
        }
    }
}

/// Arguments of `qoeprobe table`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign's results folder (results/<campaign>/, or a folder holding one).
    pub dir: Option<PathBuf>,
    /// Read the campaign from this PostgreSQL database instead (loaded by
    /// `qoeprobe export DIR --postgres URL`); needs --campaign. A folder given
    /// wins over the environment's URL.
    #[arg(
        long,
        value_name = "URL",
        env = "QOEPROBE_POSTGRES",
        hide_env_values = true
    )]
    pub from: Option<String>,
    /// The campaign's name in the database (with --from).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: TableFormatArg,
    /// Write to this file instead of standard output (`-`: standard output).
    #[arg(short, long)]
    pub output: Option<Output>,
}

/// Prints a loaded campaign's warnings on stderr (at most 20, then a count).
pub fn print_warnings(warnings: &[String]) {
    for w in warnings.iter().take(20) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > 20 {
        eprintln!("warning: {} more (see the report)", warnings.len() - 20);
    }
}

/// Runs `qoeprobe table`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    // Checked here, not by clap: --from may come from QOEPROBE_POSTGRES, which must
    // not make `table DIR` an error.
    let campaign = match (&args.dir, &args.from, &args.campaign) {
        (Some(_), _, Some(_)) => {
            anyhow::bail!("--campaign reads from a database: give --from URL instead of a folder")
        }
        (Some(dir), _, None) => analysis::load(dir, &LoadOptions::default())?,
        (None, Some(url), Some(name)) => {
            let client = store::connect(url).await?;
            store::read_campaign(&client, name, &LoadOptions::default()).await?
        }
        (None, Some(_), None) => anyhow::bail!(
            "which campaign? give --campaign NAME (`qoeprobe export DIR --postgres URL` loads one)"
        ),
        (None, None, _) => anyhow::bail!(
            "give a results folder, or --from URL --campaign NAME (or QOEPROBE_POSTGRES=URL)"
        ),
    };
    print_warnings(&analysis::warnings(&campaign));
    let table = Table::from_campaign(&campaign);
    let text = Format::from(args.format).render(&table);
    let out = args.output.unwrap_or(Output::Stdout);
    write_bytes(&out, text.as_bytes())?;
    if !out.is_stdout() {
        eprintln!("table written to {out}");
    }
    Ok(ExitCode::SUCCESS)
}
