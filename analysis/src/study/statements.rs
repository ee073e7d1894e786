//! The study's quantitative statements on its section 5 sweep, each checked on the
//! cells of a [`Sweep`]: every comparison the statement implies that the campaign
//! measured, with its value and whether it agrees. A statement holds when every one
//! of its comparisons does; it is not measured when the campaign lacks the cells
//! (docs/verdicts.md, "The study's statements", gives each rule).

use super::{CellKey, CellStats, Phase, Sweep};
use record::Mode;

/// A statement of the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    /// Most of the total time is preoperation.
    PreoperationDominates,
    /// The total grows as the migration throughput falls.
    SlowerLinkLonger,
    /// 100 -> 10 Mbit/s adds far more than 1000 -> 100.
    TenMbitStepLargest,
    /// Live migration is faster than block migration.
    LiveFaster,
    /// Live downtime is below block downtime by up to 50 %.
    LiveDowntimeLower,
    /// Throughput has no significant effect on postoperation.
    PostoperationIgnoresRate,
    /// Block: 0 -> 1 % drop adds 38 % (tiny) to 77 % (large) to the total.
    DropOnePercent,
    /// Block: 1 -> 5 % drop adds 1164 % to 2525 % to the total.
    DropFivePercent,
    /// Downtime at least doubles at 5 % drop.
    DowntimeDoublesAtFivePercent,
    /// Postoperation grows by about 60 % from 0 to 5 % drop.
    PostoperationAtFivePercent,
}

impl Statement {
    /// Every statement, in the order of the study's section 5.
    pub const ALL: [Statement; 10] = [
        Statement::PreoperationDominates,
        Statement::SlowerLinkLonger,
        Statement::TenMbitStepLargest,
        Statement::LiveFaster,
        Statement::LiveDowntimeLower,
        Statement::PostoperationIgnoresRate,
        Statement::DropOnePercent,
        Statement::DropFivePercent,
        Statement::DowntimeDoublesAtFivePercent,
        Statement::PostoperationAtFivePercent,
    ];

    /// What the study says.
    pub fn study(self) -> &'static str {
        match self {
            Statement::PreoperationDominates => "most of the migration time is preoperation",
            Statement::SlowerLinkLonger => "migration time grows as throughput falls",
            Statement::TenMbitStepLargest => {
                "100 -> 10 Mbit/s adds far more time than 1000 -> 100 Mbit/s"
            }
            Statement::LiveFaster => "live migration is faster than block migration",
            Statement::LiveDowntimeLower => "live downtime is below block downtime by up to 50 %",
            Statement::PostoperationIgnoresRate => {
                "throughput has no significant effect on postoperation"
            }
            Statement::DropOnePercent => {
                "block: 0 -> 1 % drop adds 38 % (tiny) to 77 % (large) to the migration time (ideal, formula 1: +1.01 %)"
            }
            Statement::DropFivePercent => {
                "block: 1 -> 5 % drop adds 1164 % to 2525 % to the migration time (ideal, formula 1: +4.21 %)"
            }
            Statement::DowntimeDoublesAtFivePercent => "downtime at least doubles at 5 % drop",
            Statement::PostoperationAtFivePercent => {
                "postoperation grows by about 60 % from 0 to 5 % drop"
            }
        }
    }

    /// How the comparisons are judged.
    pub fn rule(self) -> &'static str {
        match self {
            Statement::PreoperationDominates => "per cell: mean preoperation > 50 % of mean total",
            Statement::SlowerLinkLonger => {
                "per flavor x mode at the lowest drop: mean total at each rate > at the next faster rate"
            }
            Statement::TenMbitStepLargest => {
                "per flavor x mode at the lowest drop: total(10) - total(100) > total(100) - total(1000)"
            }
            Statement::LiveFaster => "per flavor x rate x drop: mean total live < block",
            Statement::LiveDowntimeLower => {
                "per flavor x rate x drop: 1 - downtime(live) / downtime(block) between 0 and 50 %"
            }
            Statement::PostoperationIgnoresRate => {
                "per flavor x mode at the lowest drop: the 95 % intervals of postoperation at every rate overlap"
            }
            Statement::DropOnePercent => {
                "per flavor x rate, block: total(1 %) / total(0 %) - 1 between +38 % and +77 %"
            }
            Statement::DropFivePercent => {
                "per flavor x rate, block: total(5 %) / total(1 %) - 1 between +1164 % and +2525 %"
            }
            Statement::DowntimeDoublesAtFivePercent => {
                "per flavor x mode x rate: downtime(5 %) / downtime(0 %) >= 2"
            }
            Statement::PostoperationAtFivePercent => {
                "per flavor x mode x rate: postoperation(5 %) / postoperation(0 %) - 1 between +30 % and +90 % (60 % +- half)"
            }
        }
    }
}

/// Whether a statement holds on the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Every comparison agrees.
    Yes,
    /// At least one comparison disagrees.
    No,
    /// The campaign has no cells to compare.
    NotMeasured,
}

impl Holds {
    /// `holds`, `does not hold`, `not measured`.
    pub fn as_str(self) -> &'static str {
        match self {
            Holds::Yes => "holds",
            Holds::No => "does not hold",
            Holds::NotMeasured => "not measured",
        }
    }
}

/// One comparison of a statement: which cells, the measured value, agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The cells compared (`tiny block 100 Mbit/s`).
    pub cells: String,
    /// The measured value (`+42 %`, `3.1 s -> 12 s`).
    pub value: String,
    /// Whether it agrees with the statement.
    pub agrees: bool,
}

/// A statement next to what the campaign measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The statement.
    pub statement: Statement,
    /// Its comparisons.
    pub comparisons: Vec<Comparison>,
    /// Verdict.
    pub holds: Holds,
}

impl Check {
    /// `7 of 8 agree; +35 % .. +80 %`: a one-line summary of the comparisons.
    pub fn summary(&self) -> String {
        if self.comparisons.is_empty() {
            return "no cells to compare".into();
        }
        let agree = self.comparisons.iter().filter(|c| c.agrees).count();
        format!("{agree} of {} comparisons agree", self.comparisons.len())
    }
}

fn check(statement: Statement, comparisons: Vec<Comparison>) -> Check {
    let holds = if comparisons.is_empty() {
        Holds::NotMeasured
    } else if comparisons.iter().all(|c| c.agrees) {
        Holds::Yes
    } else {
        Holds::No
    };
    Check {
        statement,
        comparisons,
        holds,
    }
}

fn secs(ms: f64) -> String {
    let s = ms / 1000.0;
    if s >= 10.0 {
        format!("{s:.0} s")
    } else if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{ms:.0} ms")
    }
}

fn pct(x: f64) -> String {
    format!("{:+.0} %", x * 100.0)
}

/// The lowest drop rate present (the study's throughput figures have none).
fn lowest_drop(s: &Sweep) -> Option<u64> {
    s.drops().first().copied()
}

/// Shaped rates, fastest first.
fn shaped_rates(s: &Sweep) -> Vec<u64> {
    s.rates().into_iter().flatten().collect()
}

fn label(flavor: &str, mode: Mode, rate: Option<u64>, drop: Option<u64>) -> String {
    let key = CellKey {
        flavor: flavor.into(),
        mode,
        rate_kbit: rate,
        drop_centi_pct: drop.unwrap_or(0),
    };
    let mut l = key.flavor_mode();
    if rate.is_some() {
        l.push(' ');
        l.push_str(&key.rate_label());
    }
    if drop.is_some() {
        l.push_str(&format!(" {} % drop", key.drop_pct()));
    }
    l
}

/// A flavor x mode with its cells by rate (kbit/s).
type ByRate<'a> = (String, Mode, Vec<(u64, &'a CellStats)>);

/// Each flavor x mode with its cells at every shaped rate (fastest first) at `drop`.
fn by_rate(s: &Sweep, drop: u64) -> Vec<ByRate<'_>> {
    let mut out = Vec::new();
    for f in s.flavors() {
        for m in s.modes() {
            let cells: Vec<(u64, &CellStats)> = shaped_rates(s)
                .into_iter()
                .filter_map(|r| s.cell(&f, m, Some(r), drop).map(|c| (r, c)))
                .collect();
            if !cells.is_empty() {
                out.push((f.clone(), m, cells));
            }
        }
    }
    out
}

/// A ratio of two cells' means of `phase` in `modes` at two drop rates, per flavor x
/// mode x rate, judged by `agrees`.
fn drop_step(
    s: &Sweep,
    modes: &[Mode],
    phase: Phase,
    (from, to): (u64, u64),
    agrees: impl Fn(f64) -> bool,
) -> Vec<Comparison> {
    let mut out = Vec::new();
    for f in s.flavors() {
        for &m in modes {
            for r in s.rates() {
                let (Some(a), Some(b)) = (
                    s.cell(&f, m, r, from).and_then(|c| c.mean(phase)),
                    s.cell(&f, m, r, to).and_then(|c| c.mean(phase)),
                ) else {
                    continue;
                };
                if a <= 0.0 {
                    continue;
                }
                let x = b / a - 1.0;
                out.push(Comparison {
                    cells: label(&f, m, r, None),
                    value: format!("{} -> {} ({})", secs(a), secs(b), pct(x)),
                    agrees: agrees(x),
                });
            }
        }
    }
    out
}

/// Every statement checked on `s`.
pub fn checks(s: &Sweep) -> Vec<Check> {
    Statement::ALL
        .iter()
        .map(|&st| check(st, compare(s, st)))
        .collect()
}

fn compare(s: &Sweep, st: Statement) -> Vec<Comparison> {
    let low = lowest_drop(s);
    match st {
        Statement::PreoperationDominates => s
            .cells
            .iter()
            .filter_map(|(k, c)| {
                let (p, t) = (c.mean(Phase::Preoperation)?, c.mean(Phase::Total)?);
                (t > 0.0).then(|| Comparison {
                    cells: label(&k.flavor, k.mode, k.rate_kbit, Some(k.drop_centi_pct)),
                    value: format!("{:.0} % of {}", p / t * 100.0, secs(t)),
                    agrees: p / t > 0.5,
                })
            })
            .collect(),
        Statement::SlowerLinkLonger => {
            let Some(low) = low else { return vec![] };
            let mut out = Vec::new();
            for (f, m, cells) in by_rate(s, low) {
                for w in cells.windows(2) {
                    let (Some(a), Some(b)) = (w[0].1.mean(Phase::Total), w[1].1.mean(Phase::Total))
                    else {
                        continue;
                    };
                    out.push(Comparison {
                        cells: format!(
                            "{} {} -> {}",
                            label(&f, m, None, None),
                            label_rate(w[0].0),
                            label_rate(w[1].0)
                        ),
                        value: format!("{} -> {}", secs(a), secs(b)),
                        agrees: b > a,
                    });
                }
            }
            out
        }
        Statement::TenMbitStepLargest => {
            let Some(low) = low else { return vec![] };
            let mut out = Vec::new();
            for (f, m, cells) in by_rate(s, low) {
                let at = |mbit: u64| {
                    cells
                        .iter()
                        .find(|(r, _)| *r == mbit * 1000)
                        .and_then(|(_, c)| c.mean(Phase::Total))
                };
                let (Some(a), Some(b), Some(c)) = (at(1000), at(100), at(10)) else {
                    continue;
                };
                let (first, second) = (b - a, c - b);
                out.push(Comparison {
                    cells: label(&f, m, None, None),
                    value: format!(
                        "1000 -> 100: +{}, 100 -> 10: +{}",
                        secs(first.max(0.0)),
                        secs(second.max(0.0))
                    ),
                    agrees: second > first,
                });
            }
            out
        }
        Statement::LiveFaster | Statement::LiveDowntimeLower => {
            let phase = if st == Statement::LiveFaster {
                Phase::Total
            } else {
                Phase::Downtime
            };
            let mut out = Vec::new();
            for f in s.flavors() {
                for r in s.rates() {
                    for d in s.drops() {
                        let (Some(l), Some(b)) = (
                            s.cell(&f, Mode::Live, r, d).and_then(|c| c.mean(phase)),
                            s.cell(&f, Mode::Block, r, d).and_then(|c| c.mean(phase)),
                        ) else {
                            continue;
                        };
                        let cells = format!(
                            "{f} {}{} % drop",
                            r.map(|r| format!("{} ", label_rate(r))).unwrap_or_default(),
                            d as f64 / 100.0
                        );
                        out.push(if st == Statement::LiveFaster {
                            Comparison {
                                cells,
                                value: format!("live {} vs block {}", secs(l), secs(b)),
                                agrees: l < b,
                            }
                        } else {
                            let cut = if b > 0.0 { 1.0 - l / b } else { 0.0 };
                            Comparison {
                                cells,
                                value: format!(
                                    "live {} vs block {} ({} below)",
                                    secs(l),
                                    secs(b),
                                    format_args!("{:.0} %", cut * 100.0)
                                ),
                                agrees: (0.0..=0.5).contains(&cut),
                            }
                        });
                    }
                }
            }
            out
        }
        Statement::PostoperationIgnoresRate => {
            let Some(low) = low else { return vec![] };
            let mut out = Vec::new();
            for (f, m, cells) in by_rate(s, low) {
                let stats: Vec<_> = cells
                    .iter()
                    .filter_map(|(r, c)| c.phases.get(&Phase::Postoperation).map(|p| (*r, *p)))
                    .collect();
                if stats.len() < 2 || stats.iter().any(|(_, p)| p.ci95.is_none()) {
                    continue;
                }
                let lo = stats
                    .iter()
                    .map(|(_, p)| p.ci_low())
                    .fold(f64::MIN, f64::max);
                let hi = stats
                    .iter()
                    .map(|(_, p)| p.ci_high())
                    .fold(f64::MAX, f64::min);
                let value = stats
                    .iter()
                    .map(|(r, p)| {
                        format!(
                            "{}: {} +- {}",
                            label_rate(*r),
                            secs(p.mean),
                            secs(p.ci95.unwrap_or(0.0))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push(Comparison {
                    cells: label(&f, m, None, None),
                    value,
                    agrees: lo <= hi,
                });
            }
            out
        }
        Statement::DropOnePercent => drop_step(s, &[Mode::Block], Phase::Total, (0, 100), |x| {
            (0.38..=0.77).contains(&x)
        }),
        Statement::DropFivePercent => drop_step(s, &[Mode::Block], Phase::Total, (100, 500), |x| {
            (11.64..=25.25).contains(&x)
        }),
        Statement::DowntimeDoublesAtFivePercent => {
            drop_step(s, &Mode::ALL, Phase::Downtime, (0, 500), |x| x >= 1.0)
        }
        Statement::PostoperationAtFivePercent => {
            drop_step(s, &Mode::ALL, Phase::Postoperation, (0, 500), |x| {
                (0.30..=0.90).contains(&x)
            })
        }
    }
}

fn label_rate(kbit: u64) -> String {
    format!("{} Mbit/s", kbit as f64 / 1000.0)
}
