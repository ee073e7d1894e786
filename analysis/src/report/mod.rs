//! The HTML report: one self-contained file (inline SVG drawn with plotters, inline
//! CSS, no script, no external asset) with the campaign's inputs, the migratability
//! table, phase bars with 95 % confidence intervals grouped by network scenario,
//! flavor, bandwidth, drop rate and mode, the study's Figures 3-5 with its statements
//! checked (when the campaign varies the migration link), statistics per condition, and per-run
//! timelines with the migration phases shaded (the first run of each cell, at most
//! [`MAX_TIMELINES`], so a huge campaign still gives a file a browser opens).

mod factors;
mod plots;
mod provenance;
mod sections;
pub mod series;
mod study;

pub use factors::Factor;

use crate::error::AnalysisError;
use crate::reader::{Campaign, LoadedRun};
use crate::stats::{PHASES, describe, phase_ms};
use crate::table::Table;
use crate::table::html::{TABLE_CSS, esc};
use record::MigrationOutcome;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Per-run timelines drawn at most.
pub const MAX_TIMELINES: usize = 40;

const CSS: &str = "body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table.stats{border-collapse:collapse;font-size:.9em;margin:.5em 0}\
table.stats th,table.stats td{border:1px solid #ccc;padding:.2em .6em;text-align:right}\
table.stats td:first-child,table.stats td:nth-child(2){text-align:left}\
pre{background:#f6f6f6;padding:1em;overflow:auto;max-height:30em}\
figure{margin:1em 0}figcaption{font-size:.9em;color:#555}ol.groups{columns:3;font-size:.85em}\
.key span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em}";

/// Phase bars grouped by `label_of` (one cluster per distinct value, sorted).
fn phase_chart(
    title: &str,
    runs: &[&LoadedRun],
    label_of: impl Fn(&LoadedRun) -> String,
    order: Option<&[String]>,
) -> Result<Option<String>, AnalysisError> {
    let mut groups: BTreeMap<String, Vec<&LoadedRun>> = BTreeMap::new();
    for r in runs {
        groups.entry(label_of(r)).or_default().push(r);
    }
    if groups.is_empty() {
        return Ok(None);
    }
    let mut keys: Vec<String> = groups.keys().cloned().collect();
    match order {
        Some(o) => keys.sort_by_key(|k| o.iter().position(|x| x == k).unwrap_or(usize::MAX)),
        None => keys.sort_by(|a, b| {
            Factor::sort_key(a)
                .partial_cmp(&Factor::sort_key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
    }
    let bars: Vec<plots::BarGroup> = keys
        .iter()
        .map(|k| {
            let rs = &groups[k];
            let stats = PHASES
                .iter()
                .map(|p| {
                    describe(
                        &rs.iter()
                            .filter_map(|r| phase_ms(&r.summary, p))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect();
            (format!("{k} (n={})", rs.len()), stats)
        })
        .collect();
    // long labels that would overlap are replaced by numbers, listed under the plot
    let slot_px = plots::bars_width(bars.len()).saturating_sub(90) as usize / bars.len().max(1);
    if bars.iter().any(|b| b.0.chars().count() * 7 > slot_px) {
        let numbered: Vec<plots::BarGroup> = bars
            .iter()
            .enumerate()
            .map(|(i, b)| (format!("{}", i + 1), b.1.clone()))
            .collect();
        let svg = plots::phase_bars(title, &PHASES, &numbered)?;
        let mut key = String::from("<figcaption><ol class=\"groups\">");
        for b in &bars {
            let _ = write!(key, "<li>{}</li>", esc(&b.0));
        }
        key.push_str("</ol></figcaption>");
        return Ok(Some(format!("{svg}{key}")));
    }
    plots::phase_bars(title, &PHASES, &bars).map(Some)
}

fn phases_section(c: &Campaign) -> Result<String, AnalysisError> {
    let completed: Vec<&LoadedRun> = c
        .runs
        .iter()
        .filter(|r| r.summary.migration.outcome == MigrationOutcome::Completed)
        .collect();
    let mut o = String::from(
        "<h2>Migration phases</h2>\n<p>Completed migrations only. Preoperation = requested → paused; downtime = paused → resumed; postoperation = resumed → network reattached; total = requested → reattached. Bars: mean; whiskers: 95 % confidence interval (Student's t).</p>\n",
    );
    if completed.is_empty() {
        o.push_str("<p>No migration completed.</p>\n");
        return Ok(o);
    }
    o.push_str("<p class=\"key\">");
    for (i, name) in PHASES.iter().enumerate() {
        let col = plots::PHASE_COLORS[i];
        let _ = write!(
            o,
            "<span style=\"background:rgb({},{},{})\"></span>{name}",
            col.0, col.1, col.2
        );
    }
    o.push_str("</p>\n");
    if let Some(svg) = phase_chart(
        "by network scenario",
        &completed,
        |r| r.scenario.clone(),
        Some(&c.scenarios),
    )? {
        let _ = writeln!(o, "<figure>{svg}</figure>");
    }
    for f in Factor::ALL {
        let values: std::collections::BTreeSet<String> =
            completed.iter().map(|r| f.value(r.info.as_ref())).collect();
        if values.len() < 2 {
            let v = values.into_iter().next().unwrap_or_default();
            let _ = writeln!(o, "<p>{}: every run {}.</p>", esc(f.title()), esc(&v));
            continue;
        }
        let title = format!("by {}", f.title());
        if let Some(svg) = phase_chart(&title, &completed, |r| f.value(r.info.as_ref()), None)? {
            let _ = writeln!(o, "<figure>{svg}</figure>");
        }
    }
    Ok(o)
}

fn timelines_section(c: &Campaign) -> Result<String, AnalysisError> {
    let mut o = String::from(
        "<h2>Run timelines</h2>\n<p class=\"key\">The first run of each cell. Shaded:",
    );
    for (i, name) in ["preoperation", "downtime", "postoperation"]
        .iter()
        .enumerate()
    {
        let col = plots::PHASE_COLORS[i];
        let _ = write!(
            o,
            "<span style=\"background:rgba({},{},{},.3)\"></span>{name}",
            col.0, col.1, col.2
        );
    }
    o.push_str("<span style=\"background:rgba(150,190,230,.2)\"></span>cool-down<span style=\"background:rgba(214,39,40,.25)\"></span>stall / freeze</p>\n");
    let mut drawn = 0usize;
    let mut left = 0usize;
    let mut done = std::collections::BTreeSet::new();
    for app in &c.applications {
        for scn in &c.scenarios {
            let Some(r) = c
                .runs
                .iter()
                .find(|r| r.application == *app && r.scenario == *scn && r.timeline.is_some())
            else {
                continue;
            };
            if !done.insert((app, scn)) {
                continue;
            }
            if drawn >= MAX_TIMELINES {
                left += 1;
                continue;
            }
            let events = r.timeline.as_deref().unwrap_or(&[]);
            let panels = series::panels(&r.summary, events);
            let outcome = format!("{:?}", r.outcome.outcome).to_lowercase();
            let title = format!("{app} / {scn} / run {}: {outcome}", r.run);
            if panels.is_empty() {
                let _ = writeln!(
                    o,
                    "<p>{}: nothing to plot (no probe events).</p>",
                    esc(&title)
                );
                continue;
            }
            let svg = plots::timeline(&title, &panels, r.window.as_ref())?;
            let reasons: Vec<String> = r.outcome.reasons.iter().map(|x| esc(&x.detail)).collect();
            let _ = writeln!(
                o,
                "<figure>{svg}<figcaption>{}</figcaption></figure>",
                if reasons.is_empty() {
                    "clean".to_string()
                } else {
                    reasons.join("; ")
                }
            );
            drawn += 1;
        }
    }
    if left > 0 {
        let _ = writeln!(
            o,
            "<p>{left} more cells not drawn (at most {MAX_TIMELINES} timelines per report).</p>"
        );
    }
    Ok(o)
}

/// The whole report as one HTML document.
pub fn render(c: &Campaign, table: &Table) -> Result<String, AnalysisError> {
    let mut o = String::with_capacity(1 << 20);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>qoeprobe report: {0}</title>\n<style>{CSS}{TABLE_CSS}</style>\n</head>\n<body>\n<h1>qoeprobe report: {0}</h1>\n<p>Generated by qoeprobe {1}.</p>\n",
        esc(&table.campaign),
        env!("CARGO_PKG_VERSION")
    );
    if let Some(p) = c.campaign.as_ref().and_then(provenance::measured_by) {
        o.push_str(&p);
    }
    o.push_str(&sections::table(table));
    o.push_str(&sections::inputs(c));
    o.push_str(&phases_section(c)?);
    o.push_str(&study::section(c)?);
    o.push_str(&sections::statistics(c));
    o.push_str(&timelines_section(c)?);
    o.push_str(&sections::problems(c));
    o.push_str("</body>\n</html>\n");
    Ok(o)
}
