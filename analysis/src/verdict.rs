//! The verdict per application x network scenario (docs/verdicts.md): all runs
//! clean -> migratable; all failed -> not migratable; anything else ->
//! semi-migratable. A [`Cell`] keeps the counts and the reasons with the runs they
//! came from.

use crate::judge::{Outcome, RunOutcome};
use serde::{Deserialize, Serialize};

/// The verdict of one application under one network scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every run clean.
    Migratable,
    /// Some runs impaired or failed, not all failed.
    SemiMigratable,
    /// Every run failed.
    NotMigratable,
}

impl Verdict {
    /// The verdict for these counts; `None` without runs.
    pub fn of(clean: usize, impaired: usize, failed: usize) -> Option<Self> {
        let total = clean + impaired + failed;
        if total == 0 {
            None
        } else if clean == total {
            Some(Verdict::Migratable)
        } else if failed == total {
            Some(Verdict::NotMigratable)
        } else {
            Some(Verdict::SemiMigratable)
        }
    }

    /// The table symbol: ✓, ✗* or ✗.
    pub fn symbol(self) -> &'static str {
        match self {
            Verdict::Migratable => "✓",
            Verdict::SemiMigratable => "✗*",
            Verdict::NotMigratable => "✗",
        }
    }

    /// `migratable`, `semi-migratable` or `not-migratable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Migratable => "migratable",
            Verdict::SemiMigratable => "semi-migratable",
            Verdict::NotMigratable => "not-migratable",
        }
    }
}

/// One reason behind a non-clean cell, with the runs it fired in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellReason {
    /// Whether it made runs failed or impaired.
    pub outcome: Outcome,
    /// The rule (same text across runs).
    pub reason: String,
    /// Run numbers it fired in.
    pub runs: Vec<u32>,
    /// The evidence of the first of those runs.
    pub example: String,
}

/// One cell of the table: an application under a network scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The verdict (`None` when no run of the cell is complete).
    pub verdict: Option<Verdict>,
    /// Clean runs.
    pub clean: usize,
    /// Impaired runs.
    pub impaired: usize,
    /// Failed runs.
    pub failed: usize,
    /// Complete runs judged.
    pub runs: usize,
    /// Runs left out because they are incomplete or unreadable.
    pub skipped: usize,
    /// The reasons, failed ones first, most frequent first.
    pub reasons: Vec<CellReason>,
}

impl Cell {
    /// The cell of the judged runs `(run number, outcome)` plus `skipped` runs left out.
    pub fn from_runs<'a>(
        runs: impl IntoIterator<Item = (u32, &'a RunOutcome)>,
        skipped: usize,
    ) -> Self {
        let (mut clean, mut impaired, mut failed) = (0, 0, 0);
        let mut reasons: Vec<CellReason> = Vec::new();
        for (run, o) in runs {
            match o.outcome {
                Outcome::Clean => clean += 1,
                Outcome::Impaired => impaired += 1,
                Outcome::Failed => failed += 1,
            }
            for r in &o.reasons {
                match reasons
                    .iter_mut()
                    .find(|c| c.reason == r.key && c.outcome == o.outcome)
                {
                    Some(c) => {
                        if c.runs.last() != Some(&run) {
                            c.runs.push(run);
                        }
                    }
                    None => reasons.push(CellReason {
                        outcome: o.outcome,
                        reason: r.key.clone(),
                        runs: vec![run],
                        example: format!("run {run}: {}", r.detail),
                    }),
                }
            }
        }
        reasons.sort_by(|a, b| {
            b.outcome
                .cmp(&a.outcome)
                .then(b.runs.len().cmp(&a.runs.len()))
                .then(a.reason.cmp(&b.reason))
        });
        Cell {
            verdict: Verdict::of(clean, impaired, failed),
            clean,
            impaired,
            failed,
            runs: clean + impaired + failed,
            skipped,
            reasons,
        }
    }

    /// `✓ 10/10`: the symbol and clean runs out of the runs judged (`–` without runs).
    pub fn label(&self) -> String {
        match self.verdict {
            Some(v) => format!("{} {}/{}", v.symbol(), self.clean, self.runs),
            None => "–".to_string(),
        }
    }
}

/// `runs 1, 2, 5` with long lists shortened.
pub fn run_list(runs: &[u32]) -> String {
    let shown: Vec<String> = runs.iter().take(8).map(|r| r.to_string()).collect();
    let more = runs.len().saturating_sub(8);
    let word = if runs.len() == 1 { "run" } else { "runs" };
    if more > 0 {
        format!("{word} {} and {more} more", shown.join(", "))
    } else {
        format!("{word} {}", shown.join(", "))
    }
}
