//! The migratability table (the study's Table 2): rows applications, columns network
//! scenarios, cells ✓ / ✗* / ✗ with counts, a legend, and the reasons behind every
//! non-✓ cell. [`Table`] is the model; each output format is its own module behind
//! [`TableFormat`].

mod csv;
pub(crate) mod html;
mod json;
mod latex;
mod md;

pub use html::HtmlTable;
pub use json::JsonTable;

use crate::reader::Campaign;
use crate::verdict::Cell;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The legend every format prints: symbol -> meaning.
pub const LEGEND: [(&str, &str); 4] = [
    ("✓", "migratable: every run clean"),
    (
        "✗*",
        "semi-migratable: some runs impaired or failed, not all failed",
    ),
    ("✗", "not migratable: every run failed"),
    ("n/N", "clean runs / complete runs judged"),
];

/// The table model.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Campaign name (`campaign.json` `name`, else the folder's name).
    pub campaign: String,
    /// Row order.
    pub applications: Vec<String>,
    /// Column order.
    pub scenarios: Vec<String>,
    /// Cells by (application, scenario); absent where the campaign has no run.
    pub cells: BTreeMap<(String, String), Cell>,
}

impl Table {
    /// The table of a judged campaign.
    pub fn from_campaign(c: &Campaign) -> Self {
        let mut by_cell: BTreeMap<(String, String), Vec<(u32, &crate::judge::RunOutcome)>> =
            BTreeMap::new();
        for r in &c.runs {
            by_cell
                .entry((r.application.clone(), r.scenario.clone()))
                .or_default()
                .push((r.run, &r.outcome));
        }
        let mut cells = BTreeMap::new();
        for app in &c.applications {
            for scn in &c.scenarios {
                let key = (app.clone(), scn.clone());
                let skipped = c.skipped.get(&key).copied().unwrap_or(0);
                let runs = by_cell.remove(&key).unwrap_or_default();
                if runs.is_empty() && skipped == 0 {
                    continue;
                }
                cells.insert(key, Cell::from_runs(runs, skipped));
            }
        }
        let campaign = c
            .campaign
            .as_ref()
            .and_then(|v| v.get("name"))
            .and_then(|n| n.as_str())
            .map(String::from)
            .or_else(|| c.root.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "campaign".into());
        Table {
            campaign,
            applications: c.applications.clone(),
            scenarios: c.scenarios.clone(),
            cells,
        }
    }

    /// The cell of `application` under `scenario`.
    pub fn cell(&self, application: &str, scenario: &str) -> Option<&Cell> {
        self.cells
            .get(&(application.to_string(), scenario.to_string()))
    }

    /// The cells that need explaining (not ✓), in table order.
    pub fn explained(&self) -> Vec<(&str, &str, &Cell)> {
        let mut out = Vec::new();
        for a in &self.applications {
            for s in &self.scenarios {
                if let Some(c) = self.cell(a, s)
                    && (c.clean != c.runs || c.skipped > 0)
                {
                    out.push((a.as_str(), s.as_str(), c));
                }
            }
        }
        out
    }

    /// The label of a cell (`✓ 10/10`), `–` where there is no run.
    pub fn label(&self, application: &str, scenario: &str) -> String {
        self.cell(application, scenario)
            .map(Cell::label)
            .unwrap_or_else(|| "–".into())
    }
}

/// `10 runs: 4 clean, 5 impaired, 1 failed (2 skipped)`.
pub fn counts_text(c: &Cell) -> String {
    let mut s = format!(
        "{} run{}: {} clean, {} impaired, {} failed",
        c.runs,
        if c.runs == 1 { "" } else { "s" },
        c.clean,
        c.impaired,
        c.failed
    );
    if c.skipped > 0 {
        s.push_str(&format!(
            " ({} incomplete or unreadable, skipped)",
            c.skipped
        ));
    }
    s
}

/// One reason line: `failed, runs 1, 2: migration failed (e.g. run 1: ...)`.
pub fn reason_text(r: &crate::verdict::CellReason) -> String {
    let o = match r.outcome {
        crate::judge::Outcome::Failed => "failed",
        crate::judge::Outcome::Impaired => "impaired",
        crate::judge::Outcome::Clean => "clean",
    };
    format!(
        "{o}, {}: {} (e.g. {})",
        crate::verdict::run_list(&r.runs),
        r.reason,
        r.example
    )
}

/// One output format of the table.
pub trait TableFormat {
    /// Renders the whole table: cells, legend and reasons.
    fn render(&self, table: &Table) -> String;
}

/// The formats `qoeprobe table --format` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Markdown.
    Md,
    /// CSV, one line per cell.
    Csv,
    /// LaTeX (tabular, needs amssymb).
    Latex,
    /// A standalone HTML page.
    Html,
    /// JSON (the contract of docs/results.md).
    Json,
}

impl Format {
    /// The renderer of this format.
    pub fn renderer(self) -> Box<dyn TableFormat> {
        match self {
            Format::Md => Box::new(md::MarkdownTable),
            Format::Csv => Box::new(csv::CsvTable),
            Format::Latex => Box::new(latex::LatexTable),
            Format::Html => Box::new(HtmlTable { standalone: true }),
            Format::Json => Box::new(JsonTable),
        }
    }

    /// Renders `table` in this format.
    pub fn render(self, table: &Table) -> String {
        self.renderer().render(table)
    }
}

impl FromStr for Format {
    type Err = crate::error::AnalysisError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Format::Md),
            "csv" => Ok(Format::Csv),
            "latex" | "tex" => Ok(Format::Latex),
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            _ => Err(crate::error::AnalysisError::UnknownFormat(s.to_string())),
        }
    }
}
