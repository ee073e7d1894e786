//! Run outcomes, verdicts, the migratability table, statistics, plots and the HTML
//! report.
//!
//! This crate only reads result folders and writes outputs; it never measures. It
//! depends on the [`record`] alone: it judges typed summaries and events. The
//! pipeline: [`reader::load`] reads and judges a campaign ([`mod@judge`], by
//! profiles, [`limits`]), [`table::Table`] aggregates the verdicts ([`Verdict`]), [`stats`]
//! describes the numbers, [`study`] checks the study's section 5 statements on a
//! sweep, [`report`] draws the HTML report. [`write_outputs`] does all
//! of it for a campaign folder. [`synth`] writes synthetic campaigns (typed record
//! files) for tests, benchmarks and docs.

pub mod clients;
mod error;
pub mod export;
pub mod judge;
mod loaded;
mod parts;
mod profile;
pub mod reader;
pub mod report;
pub mod stats;
pub mod study;
pub mod synth;
pub mod table;
pub mod timeline;
mod verdict;

pub use error::AnalysisError;
pub use judge::{Outcome, RunOutcome, judge};
pub use parts::{RunEntry, RunParts, from_parts, judged_run};
pub use profile::{Limits, limits, profiles_from_campaign};
pub use reader::{Campaign, LoadOptions, load};
pub use record::{AppKind, Profile};
pub use table::{Format, Table, TableFormat};
pub use verdict::{Cell, CellReason, Verdict, run_list};

use std::path::{Path, PathBuf};

/// What [`write_outputs`] wrote.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// The table, to print.
    pub table: Table,
    /// `verdicts.json` (the JSON table).
    pub verdicts_json: PathBuf,
    /// `table.md`.
    pub table_md: PathBuf,
    /// `report.html`.
    pub report_html: PathBuf,
    /// Unreadable files and skipped runs, one line each, to show the user.
    pub warnings: Vec<String>,
}

/// Writes an output file (atomically, never replacing a symlink or a special file:
/// [`userfile::write`]).
fn write(path: &Path, text: &str) -> Result<(), AnalysisError> {
    userfile::write(path, text.as_bytes())
        .map(|_| ())
        .map_err(|source| AnalysisError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Warnings of a loaded campaign: each problem (`path: reason`) and note.
pub fn warnings(c: &Campaign) -> Vec<String> {
    c.problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
        .chain(c.notes.iter().cloned())
        .collect()
}

/// Reads and judges the campaign in `dir` and writes `verdicts.json`, `table.md` and
/// `report.html` into its folder (docs/results.md). The command line calls this after
/// a campaign has run; `opts.profiles` carries the scenario file's profiles.
pub fn write_outputs(dir: &Path, opts: &LoadOptions) -> Result<Outputs, AnalysisError> {
    let campaign = load(dir, opts)?;
    let table = Table::from_campaign(&campaign);
    let verdicts_json = campaign.root.join("verdicts.json");
    let table_md = campaign.root.join("table.md");
    let report_html = campaign.root.join("report.html");
    write(&verdicts_json, &Format::Json.render(&table))?;
    write(&table_md, &Format::Md.render(&table))?;
    write(&report_html, &report::render(&campaign, &table)?)?;
    Ok(Outputs {
        warnings: warnings(&campaign),
        table,
        verdicts_json,
        table_md,
        report_html,
    })
}
