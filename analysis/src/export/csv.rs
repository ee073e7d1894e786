//! `qoeprobe export DIR --format csv`: one row per run (incomplete ones included)
//! with its judged outcome and every field of its `run.json` and `summary.json`
//! flattened into dotted column names (`migration.downtime_ms`,
//! `probes.game.rtt_p95_ms`, `info.conditions.migration.rate_mbit`), quoted by the
//! `csv` crate, for pandas or R (docs/export.md). Columns are the union over all
//! runs, fixed ones first, then in the order first seen.

use super::{ExportStats, Folder, RawRun};
use crate::error::AnalysisError;
use crate::judge::{self, Outcome};
use crate::loaded::{LoadOptions, campaign_profiles};
use crate::timeline::Timeline;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;

/// The columns every export starts with.
pub const FIXED_COLUMNS: [&str; 9] = [
    "campaign",
    "application",
    "scenario",
    "run",
    "complete",
    "incomplete_reason",
    "start",
    "outcome",
    "reasons",
];

/// Flattens `v` into `out` under `prefix` (dotted names; arrays as JSON text).
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, x, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Array(_) => out.push((prefix.to_string(), v.to_string())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Clean => "clean",
        Outcome::Impaired => "impaired",
        Outcome::Failed => "failed",
    }
}

fn row(
    folder: &Folder,
    r: &RawRun,
    profiles: &BTreeMap<String, record::Profile>,
    stats: &mut ExportStats,
) -> Vec<(String, String)> {
    let mut cells = vec![
        ("campaign".to_string(), folder.name.clone()),
        ("application".into(), r.application.clone()),
        ("scenario".into(), r.scenario.clone()),
        ("run".into(), r.run.to_string()),
        ("complete".into(), r.complete().to_string()),
        (
            "incomplete_reason".into(),
            r.incomplete_reason().unwrap_or_default(),
        ),
        (
            "start".into(),
            r.wall_anchor_unix_ns()
                .map(super::ndjson::rfc3339_ns)
                .unwrap_or_default(),
        ),
    ];
    let (outcome, reasons) = match &r.summary {
        Some(s) if s.complete => {
            let events = match Timeline::read(&r.timeline_path()) {
                Ok(t) => t.events,
                Err(e) => {
                    stats.problems.push(format!(
                        "{}: {e}; the run was judged on its summary alone",
                        r.timeline_path().display()
                    ));
                    Vec::new()
                }
            };
            let profile = profiles.get(&r.application).cloned().unwrap_or_default();
            let o = judge::judge(s, &events, &profile);
            let reasons: Vec<String> = o
                .reasons
                .iter()
                .map(|x| format!("{}: {}", x.key, x.detail))
                .collect();
            (outcome_name(o.outcome).to_string(), reasons.join("; "))
        }
        _ => (String::new(), String::new()),
    };
    cells.push(("outcome".into(), outcome));
    cells.push(("reasons".into(), reasons));
    if let Some(info) = &r.info
        && let Ok(v) = serde_json::to_value(info)
    {
        flatten("info", &v, &mut cells);
    }
    if let Some(summary) = &r.summary
        && let Ok(mut v) = serde_json::to_value(summary)
        && let Some(m) = v.as_object_mut()
    {
        for k in [
            "schema_version",
            "complete",
            "incomplete_reason",
            "application",
            "scenario",
            "run",
        ] {
            m.remove(k);
        }
        flatten("", &v, &mut cells);
    }
    cells
}

/// Writes the CSV export of `folder` to `out`.
pub fn write(folder: &Folder, out: &mut impl Write) -> Result<ExportStats, AnalysisError> {
    let mut stats = ExportStats::default();
    folder.problems.iter().for_each(|p| stats.problem(p));
    let mut problems = Vec::new();
    let profiles = campaign_profiles(
        folder.campaign.as_ref(),
        &folder.root.join("campaign.json"),
        &LoadOptions::default(),
        &mut problems,
    );
    problems.iter().for_each(|p| stats.problem(p));
    let mut columns: Vec<String> = FIXED_COLUMNS.iter().map(|c| c.to_string()).collect();
    let mut index: HashMap<String, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), i))
        .collect();
    let mut rows = Vec::new();
    for r in folder.runs() {
        r.problems.iter().for_each(|p| stats.problem(p));
        let cells = row(folder, &r, &profiles, &mut stats);
        let mut positioned = Vec::with_capacity(cells.len());
        for (k, v) in cells {
            let i = *index.entry(k.clone()).or_insert_with(|| {
                columns.push(k);
                columns.len() - 1
            });
            positioned.push((i, v));
        }
        rows.push(positioned);
        stats.runs += 1;
        stats.incomplete += usize::from(!r.complete());
    }
    let io = |e: csv::Error| AnalysisError::Write {
        path: "(export output)".into(),
        source: std::io::Error::other(e.to_string()),
    };
    let mut w = csv::Writer::from_writer(out);
    w.write_record(&columns).map_err(io)?;
    let mut line = vec![String::new(); columns.len()];
    for cells in rows {
        line.iter_mut().for_each(String::clear);
        for (i, v) in cells {
            line[i] = v;
        }
        w.write_record(&line).map_err(io)?;
    }
    w.flush().map_err(|source| AnalysisError::Write {
        path: "(export output)".into(),
        source,
    })?;
    Ok(stats)
}
