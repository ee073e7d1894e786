//! `qoeprobe export DIR --format ndjson|csv [-o FILE]`: a results folder for other
//! tools: Elastic Common Schema NDJSON (one document per run and per event) or one
//! CSV row per run (docs/export.md); or, with `--postgres URL`, into PostgreSQL
//! (docs/postgres.md).

use analysis::export::{self, ExportStats, Folder, ndjson::NdjsonOptions};
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Elastic Common Schema documents, one per line (Elasticsearch/OpenSearch `_bulk`, Filebeat).
    Ndjson,
    /// One row per run with every phase and summary metric (pandas, R).
    Csv,
}

/// Arguments of `qoeprobe export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign's results folder (results/<campaign>/, or a folder holding one).
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: ExportFormat,
    /// Write to this file (through a temporary file renamed into place) instead of
    /// standard output; `-` is standard output.
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// NDJSON only: precede every document with an Elasticsearch/OpenSearch `_bulk`
    /// `create` action into this index (stable `_id`s: loading twice adds nothing).
    #[arg(long, value_name = "INDEX")]
    pub bulk_index: Option<String>,
    /// Load the folder into this PostgreSQL database instead (postgres://USER:PASSWORD@HOST:PORT/DB, password and port optional;
    /// idempotent: runs already loaded are skipped, changed ones replaced; docs/postgres.md).
    #[arg(long, value_name = "URL", conflicts_with_all = ["format", "bulk_index"])]
    pub postgres: Option<String>,
}

fn write_to(args: &Args, folder: &Folder, out: &mut impl Write) -> anyhow::Result<ExportStats> {
    Ok(match args.format {
        ExportFormat::Ndjson => {
            let opts = NdjsonOptions {
                bulk_index: args.bulk_index.clone(),
            };
            export::ndjson::write(folder, &opts, out)?
        }
        ExportFormat::Csv => export::csv::write(folder, out)?,
    })
}

fn write_file(args: &Args, folder: &Folder, path: &Path) -> anyhow::Result<ExportStats> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let file = std::fs::File::create(&tmp).with_context(|| {
        format!(
            "cannot write {}: check the folder exists and is writable",
            tmp.display()
        )
    })?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    let stats = write_to(args, folder, &mut out);
    let file = out.into_inner().map_err(|e| e.into_error());
    let done = stats.and_then(|s| {
        file?.sync_all()?;
        Ok(s)
    });
    match done {
        Ok(s) => {
            std::fs::rename(&tmp, path).with_context(|| {
                format!("cannot rename {} to {}", tmp.display(), path.display())
            })?;
            Ok(s)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn to_postgres(dir: &Path, url: &str) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    tracing::info!(dir = %dir.display(), url = %store::redact(url), "loading into PostgreSQL");
    let mut client = store::connect(url).await?;
    store::migrate(&mut client).await?;
    let s = store::load_folder(&mut client, dir).await?;
    super::table::print_warnings(&s.problems);
    eprintln!(
        "export: campaign `{}` into {}: {} run(s) loaded ({} replaced, {} incomplete), {} unchanged, {} event(s), {:.1} s",
        s.campaign,
        store::redact(url),
        s.inserted,
        s.replaced,
        s.incomplete,
        s.unchanged,
        s.events,
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `qoeprobe export`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.bulk_index.is_some() && args.format != ExportFormat::Ndjson {
        anyhow::bail!("--bulk-index applies to --format ndjson only");
    }
    if let Some(url) = &args.postgres {
        return to_postgres(&args.dir, url).await;
    }
    let folder = Folder::open(&args.dir)?;
    let stats = if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
        match write_to(&args, &folder, &mut out) {
            Ok(s) => s,
            // `qoeprobe export DIR | head`: the reader left; nothing is wrong.
            Err(e) if broken_pipe(&e) => return Ok(ExitCode::SUCCESS),
            Err(e) => return Err(e),
        }
    } else {
        write_file(&args, &folder, &args.output)?
    };
    super::table::print_warnings(&stats.problems);
    eprintln!(
        "export: {} run(s) ({} incomplete){}{}",
        stats.runs,
        stats.incomplete,
        // The CSV has one row per run and no events.
        if args.format == ExportFormat::Ndjson {
            format!(", {} event(s)", stats.events)
        } else {
            String::new()
        },
        if args.output.as_os_str() == "-" {
            String::new()
        } else {
            format!(" written to {}", args.output.display())
        }
    );
    Ok(ExitCode::SUCCESS)
}
