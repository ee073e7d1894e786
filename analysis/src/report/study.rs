//! The study's section 5 in the report, when a campaign varies the migration link:
//! its Figures 3-5 redrawn from the campaign (log axes, one panel per phase, so that
//! downtime and postoperation stay readable next to minutes of preoperation), and
//! each of its statements next to the measured values ([`crate::study`]).

use super::plots::{self, BarGroup, SERIES_COLORS, Scale};
use crate::error::AnalysisError;
use crate::reader::Campaign;
use crate::study::{CellStats, Holds, Phase, Sweep, checks};
use crate::table::html::esc;
use record::Mode;
use std::fmt::Write;

/// One panel: `groups` clusters, one bar per series, the stats of `phase`.
fn panel(
    title: &str,
    groups: &[(String, Vec<Option<&CellStats>>)],
    n_series: usize,
    phase: Phase,
) -> Result<String, AnalysisError> {
    let bars: Vec<BarGroup> = groups
        .iter()
        .map(|(label, cells)| {
            (
                label.clone(),
                cells
                    .iter()
                    .map(|c| c.and_then(|c| c.phases.get(&phase).copied()))
                    .collect(),
            )
        })
        .collect();
    plots::bars(title, n_series, &SERIES_COLORS, &bars, Scale::Log)
}

fn key(series: &[String]) -> String {
    let mut o = String::from("<p class=\"key\">");
    for (i, name) in series.iter().enumerate() {
        let c = SERIES_COLORS[i % SERIES_COLORS.len()];
        let _ = write!(
            o,
            "<span style=\"background:rgb({},{},{})\"></span>{}",
            c.0,
            c.1,
            c.2,
            esc(name)
        );
    }
    o.push_str("</p>\n");
    o
}

fn rate_label(r: Option<u64>) -> String {
    r.map_or_else(
        || "unshaped".into(),
        |k| format!("{} Mbit/s", k as f64 / 1000.0),
    )
}

/// The section; empty when the campaign does not vary the migration link.
pub(super) fn section(c: &Campaign) -> Result<String, AnalysisError> {
    let s = Sweep::of(c);
    if !s.varies_the_network() {
        return Ok(String::new());
    }
    let mut o = String::from(
        "<h2>The study's section 5</h2>\n<p>Completed pre-copy migrations grouped as the study's Figures 3-5 group them (flavor, mode, migration link rate and drop rate, from each run's <code>run.json</code>). Bars: mean; whiskers: 95 % confidence interval (Student's t); log axis, one panel per phase.</p>\n",
    );
    let flavors = s.flavors();
    let modes = s.modes();
    let low = s.drops().first().copied().unwrap_or(0);
    let series: Vec<(String, Mode)> = flavors
        .iter()
        .flat_map(|f| modes.iter().map(move |m| (f.clone(), *m)))
        .collect();
    let names: Vec<String> = series.iter().map(|(f, m)| format!("{f} {m}")).collect();

    // Figure 3: total by rate and mode, one flavor, no drop.
    if let Some(f) = flavors.first() {
        let groups: Vec<(String, Vec<Option<&CellStats>>)> = s
            .rates()
            .into_iter()
            .map(|r| {
                (
                    rate_label(r),
                    modes.iter().map(|m| s.cell(f, *m, r, low)).collect(),
                )
            })
            .collect();
        let title = format!(
            "Fig. 3: total time, {f}, {} % drop, by rate and mode",
            low as f64 / 100.0
        );
        let _ = writeln!(
            o,
            "<h3>Figure 3</h3>\n{}<figure>{}</figure>",
            key(&modes.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
            panel(&title, &groups, modes.len(), Phase::Total)?
        );
    }

    // Figure 4: preoperation and downtime by flavor and mode, grouped by rate.
    o.push_str("<h3>Figure 4</h3>\n");
    o.push_str(&key(&names));
    let groups: Vec<(String, Vec<Option<&CellStats>>)> = s
        .rates()
        .into_iter()
        .map(|r| {
            (
                rate_label(r),
                series.iter().map(|(f, m)| s.cell(f, *m, r, low)).collect(),
            )
        })
        .collect();
    for p in [Phase::Preoperation, Phase::Downtime] {
        let title = format!(
            "Fig. 4: {}, {} % drop, by rate",
            p.name(),
            low as f64 / 100.0
        );
        let _ = writeln!(
            o,
            "<figure>{}</figure>",
            panel(&title, &groups, series.len(), p)?
        );
    }

    // Figure 5: preoperation and postoperation by flavor and mode, grouped by drop,
    // at the fastest rate.
    if let Some(rate) = s.rates().first().copied() {
        o.push_str("<h3>Figure 5</h3>\n");
        o.push_str(&key(&names));
        let groups: Vec<(String, Vec<Option<&CellStats>>)> = s
            .drops()
            .into_iter()
            .map(|d| {
                (
                    format!("{} % drop", d as f64 / 100.0),
                    series.iter().map(|(f, m)| s.cell(f, *m, rate, d)).collect(),
                )
            })
            .collect();
        for p in [Phase::Preoperation, Phase::Postoperation] {
            let title = format!("Fig. 5: {}, {}, by drop rate", p.name(), rate_label(rate));
            let _ = writeln!(
                o,
                "<figure>{}</figure>",
                panel(&title, &groups, series.len(), p)?
            );
        }
    }

    o.push_str(&comparison(&s));
    Ok(o)
}

/// The statements next to the measurements.
fn comparison(s: &Sweep) -> String {
    let mut o = String::from(
        "<h3>Checked against the study</h3>\n<p>Each statement of the study's section 5, the rule it is checked by, and what this campaign measured (every comparison listed under it).</p>\n<table class=\"stats\"><tr><th>the study</th><th>rule</th><th>measured</th><th>verdict</th></tr>\n",
    );
    for ch in checks(s) {
        let mark = match ch.holds {
            Holds::Yes => "✓ holds",
            Holds::No => "✗ does not hold",
            Holds::NotMeasured => "– not measured",
        };
        let mut list = String::new();
        if !ch.comparisons.is_empty() {
            list.push_str("<details><summary>");
            list.push_str(&esc(&ch.summary()));
            list.push_str("</summary><ul>");
            for c in &ch.comparisons {
                let _ = write!(
                    list,
                    "<li>{} {}: {}</li>",
                    if c.agrees { "✓" } else { "✗" },
                    esc(&c.cells),
                    esc(&c.value)
                );
            }
            list.push_str("</ul></details>");
        } else {
            list.push_str(&esc(&ch.summary()));
        }
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td>{}</td><td>{list}</td><td>{mark}</td></tr>",
            esc(ch.statement.study()),
            esc(ch.statement.rule())
        );
    }
    o.push_str("</table>\n");
    o
}
