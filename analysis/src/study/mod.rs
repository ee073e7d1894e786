//! The study's section 5 (Ifflander et al.): what its Figures 3-5 plot and each of
//! its quantitative statements, checked against a campaign that varies the
//! migration link's rate and drop rate, the flavor and the mode
//! (docs/results/paper-network.md, docs/verdicts.md "The study's statements").
//!
//! [`Sweep::of`] groups the completed migrations of a campaign into cells (flavor,
//! mode, rate, drop) with statistics per phase; [`checks`] compares them with the
//! study. Only typed fields of `run.json` and `summary.json` are read.

mod statements;

pub use statements::{Check, Holds, Statement, checks};

use crate::reader::{Campaign, LoadedRun};
use crate::stats::{Stats, describe};
use record::{Copy, MigrationOutcome, Mode};
use std::collections::BTreeMap;

/// A phase of the migration, as the study's figures plot it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// Requested -> paused.
    Preoperation,
    /// Paused -> resumed.
    Downtime,
    /// Resumed -> network reattached.
    Postoperation,
    /// Requested -> reattached.
    Total,
}

impl Phase {
    /// Every phase, in the study's order.
    pub const ALL: [Phase; 4] = [
        Phase::Preoperation,
        Phase::Downtime,
        Phase::Postoperation,
        Phase::Total,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Preoperation => "preoperation",
            Phase::Downtime => "downtime",
            Phase::Postoperation => "postoperation",
            Phase::Total => "total",
        }
    }

    fn of(self, r: &LoadedRun) -> Option<f64> {
        let m = &r.summary.migration;
        match self {
            Phase::Preoperation => m.preoperation_ms,
            Phase::Downtime => m.downtime_ms,
            Phase::Postoperation => m.postoperation_ms,
            Phase::Total => m.total_ms,
        }
    }
}

/// The factors of one cell of the sweep.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CellKey {
    /// Flavor (as `run.json` names it).
    pub flavor: String,
    /// Live or block.
    pub mode: Mode,
    /// Migration link rate in kbit/s (integer, so that keys order and compare);
    /// `None`: unshaped.
    pub rate_kbit: Option<u64>,
    /// Migration link drop rate in hundredths of a percent.
    pub drop_centi_pct: u64,
}

impl Ord for CellKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        let key = |k: &CellKey| {
            (
                flavor_rank(&k.flavor).0,
                k.flavor.clone(),
                k.mode == Mode::Block,
                k.rate_kbit,
                k.drop_centi_pct,
            )
        };
        key(self).cmp(&key(o))
    }
}

impl PartialOrd for CellKey {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl CellKey {
    /// The rate in Mbit/s (`None`: unshaped).
    pub fn rate_mbit(&self) -> Option<f64> {
        self.rate_kbit.map(|k| k as f64 / 1000.0)
    }

    /// The drop rate in percent.
    pub fn drop_pct(&self) -> f64 {
        self.drop_centi_pct as f64 / 100.0
    }

    /// `1000 Mbit/s`, `unshaped`.
    pub fn rate_label(&self) -> String {
        self.rate_mbit()
            .map_or_else(|| "unshaped".into(), |r| format!("{r} Mbit/s"))
    }

    /// `tiny live`.
    pub fn flavor_mode(&self) -> String {
        format!("{} {}", self.flavor, self.mode)
    }
}

/// Statistics per phase of one cell's completed migrations (in ms).
#[derive(Debug, Clone, PartialEq)]
pub struct CellStats {
    /// Per phase; absent when no run had the phase.
    pub phases: BTreeMap<Phase, Stats>,
}

impl CellStats {
    /// The mean of a phase, ms.
    pub fn mean(&self, p: Phase) -> Option<f64> {
        self.phases.get(&p).map(|s| s.mean)
    }
}

/// A campaign's completed pre-copy migrations by cell.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sweep {
    /// The cells, ordered by flavor (smallest first), mode (live first), rate, drop.
    pub cells: BTreeMap<CellKey, CellStats>,
    /// Runs left out: without `run.json`, post-copy, or not completed.
    pub left_out: usize,
}

/// Flavors in the study's order (smallest first); other names after them.
pub fn flavor_rank(name: &str) -> (usize, &str) {
    let base = name.trim_start_matches("m1.").trim_start_matches("lab.");
    let rank = ["tiny", "small", "medium", "large"]
        .iter()
        .position(|f| *f == base)
        .unwrap_or(4);
    (rank, name)
}

impl Sweep {
    /// Groups `runs` (completed pre-copy migrations with a `run.json`) into cells.
    pub fn from_runs<'a>(runs: impl IntoIterator<Item = &'a LoadedRun>) -> Self {
        let mut values: BTreeMap<CellKey, BTreeMap<Phase, Vec<f64>>> = BTreeMap::new();
        let mut left_out = 0;
        for r in runs {
            let Some(info) = r.info.as_ref() else {
                left_out += 1;
                continue;
            };
            if info.copy != Copy::Precopy
                || r.summary.migration.outcome != MigrationOutcome::Completed
            {
                left_out += 1;
                continue;
            }
            let link = &info.conditions.migration;
            let key = CellKey {
                flavor: info.flavor.clone(),
                mode: info.mode,
                rate_kbit: link.rate_mbit.map(|m| (m * 1000.0).round() as u64),
                drop_centi_pct: (link.loss_pct.unwrap_or(0.0) * 100.0).round() as u64,
            };
            let cell = values.entry(key).or_default();
            for p in Phase::ALL {
                if let Some(v) = p.of(r) {
                    cell.entry(p).or_default().push(v);
                }
            }
        }
        let cells = values
            .into_iter()
            .map(|(k, phases)| {
                let phases = phases
                    .into_iter()
                    .filter_map(|(p, v)| describe(&v).map(|s| (p, s)))
                    .collect();
                (k, CellStats { phases })
            })
            .collect();
        Sweep { cells, left_out }
    }

    /// The sweep of a loaded campaign.
    pub fn of(c: &Campaign) -> Self {
        Self::from_runs(&c.runs)
    }

    /// Whether the campaign varies the migration link's rate or drop rate (the
    /// study's figures are drawn then).
    pub fn varies_the_network(&self) -> bool {
        let rates: std::collections::BTreeSet<_> = self.cells.keys().map(|k| k.rate_kbit).collect();
        let drops: std::collections::BTreeSet<_> =
            self.cells.keys().map(|k| k.drop_centi_pct).collect();
        rates.len() > 1 || drops.len() > 1
    }

    /// The flavors present, smallest first.
    pub fn flavors(&self) -> Vec<String> {
        let mut f: Vec<String> = self.cells.keys().map(|k| k.flavor.clone()).collect();
        f.sort_by(|a, b| flavor_rank(a).cmp(&flavor_rank(b)));
        f.dedup();
        f
    }

    /// The rates present, fastest first (unshaped first of all).
    pub fn rates(&self) -> Vec<Option<u64>> {
        let mut r: Vec<Option<u64>> = self.cells.keys().map(|k| k.rate_kbit).collect();
        r.sort_by(|a, b| b.unwrap_or(u64::MAX).cmp(&a.unwrap_or(u64::MAX)));
        r.dedup();
        r
    }

    /// The drop rates present, smallest first.
    pub fn drops(&self) -> Vec<u64> {
        let mut d: Vec<u64> = self.cells.keys().map(|k| k.drop_centi_pct).collect();
        d.sort_unstable();
        d.dedup();
        d
    }

    /// The modes present (live first).
    pub fn modes(&self) -> Vec<Mode> {
        Mode::ALL
            .into_iter()
            .filter(|m| self.cells.keys().any(|k| k.mode == *m))
            .collect()
    }

    /// One cell.
    pub fn cell(
        &self,
        flavor: &str,
        mode: Mode,
        rate: Option<u64>,
        drop: u64,
    ) -> Option<&CellStats> {
        self.cells.get(&CellKey {
            flavor: flavor.to_string(),
            mode,
            rate_kbit: rate,
            drop_centi_pct: drop,
        })
    }
}
