//! `qoeprobe export DIR --format ndjson`: one JSON document per line, one per run
//! (`event.dataset` = `qoeprobe.run`) followed by one per event of its timeline
//! (`qoeprobe.timeline`), in Elastic Common Schema field names with `@timestamp`
//! (docs/export.md; the schema is docs/export-ndjson.schema.json). With a bulk index
//! each document is preceded by an Elasticsearch / OpenSearch `_bulk` action line
//! `{"create": {"_index": ..., "_id": ...}}`, whose stable `_id` makes loading the
//! same folder twice add nothing.

use super::{ExportStats, Folder, RawRun};
use crate::error::AnalysisError;
use crate::reader::Problem;
use serde_json::{Map, Value, json};
use std::io::{BufRead, Write};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "8.11.0";

/// Options of the NDJSON export.
#[derive(Debug, Clone, Default)]
pub struct NdjsonOptions {
    /// Precede each document with a `_bulk` `create` action into this index.
    pub bulk_index: Option<String>,
}

/// RFC 3339 UTC time with nanoseconds of a Unix time in ns.
pub fn rfc3339_ns(unix_ns: u64) -> String {
    let secs = (unix_ns / 1_000_000_000) as i64;
    let nanos = (unix_ns % 1_000_000_000) as u32;
    chrono::DateTime::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_default()
}

fn labels(folder: &Folder, r: &RawRun) -> Value {
    json!({
        "campaign": folder.name,
        "application": r.application,
        "scenario": r.scenario,
        "run": r.run.to_string(),
    })
}

fn run_id(folder: &Folder, r: &RawRun) -> String {
    format!(
        "{}/{}/{}/run-{}",
        folder.name, r.application, r.scenario, r.run
    )
}

/// The document of one run.
fn run_document(folder: &Folder, r: &RawRun, anchor: Option<u64>) -> Value {
    let migration = r.summary.as_ref().map(|s| &s.migration);
    let outcome = match migration.map(|m| m.outcome) {
        Some(record::MigrationOutcome::Completed) => "success",
        Some(_) => "failure",
        None => "unknown",
    };
    let mut event = json!({
        "kind": "event",
        "category": ["process"],
        "type": ["info"],
        "module": "qoeprobe",
        "dataset": "qoeprobe.run",
        "action": "run",
        "id": run_id(folder, r),
        "outcome": outcome,
    });
    if let Some(a) = anchor {
        event["start"] = json!(rfc3339_ns(a));
        if let Some(total) = migration.and_then(|m| m.total_ms) {
            event["duration"] = json!((total * 1e6).round() as u64);
        }
    }
    let mut doc = json!({
        "ecs": {"version": ECS_VERSION},
        "event": event,
        "labels": labels(folder, r),
        "qoeprobe": {
            "campaign": folder.name,
            "application": r.application,
            "scenario": r.scenario,
            "run": r.run,
            "complete": r.complete(),
            "incomplete_reason": r.incomplete_reason(),
            "info": r.info,
            "summary": r.summary,
        },
    });
    if let Some(a) = anchor {
        doc["@timestamp"] = json!(rfc3339_ns(a));
    }
    doc
}

/// The document of one timeline line; an error when the line is not an event.
fn event_document(
    folder: &Folder,
    r: &RawRun,
    anchor: u64,
    sequence: usize,
    line: &str,
) -> Result<Value, String> {
    let mut fields: Map<String, Value> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    let t_ns = fields
        .remove("t_ns")
        .and_then(|t| t.as_u64())
        .ok_or("no t_ns")?;
    let kind = match fields.remove("kind") {
        Some(Value::String(k)) => k,
        _ => return Err("no kind".into()),
    };
    let source = match fields.remove("source") {
        Some(Value::String(s)) => s,
        _ => return Err("no source".into()),
    };
    let mut q = json!({
        "campaign": folder.name,
        "application": r.application,
        "scenario": r.scenario,
        "run": r.run,
        "t_ns": t_ns,
        "source": source,
        "kind": kind,
    });
    q[&kind] = Value::Object(fields);
    Ok(json!({
        "@timestamp": rfc3339_ns(anchor.saturating_add(t_ns)),
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "event",
            "module": "qoeprobe",
            "dataset": "qoeprobe.timeline",
            "action": kind,
            "provider": source,
            "sequence": sequence,
            "id": format!("{}/{sequence}", run_id(folder, r)),
        },
        "labels": labels(folder, r),
        "qoeprobe": q,
    }))
}

fn write_doc(
    out: &mut impl Write,
    opts: &NdjsonOptions,
    doc: &Value,
) -> Result<(), std::io::Error> {
    if let Some(index) = &opts.bulk_index {
        let id = doc["event"]["id"].clone();
        serde_json::to_writer(&mut *out, &json!({"create": {"_index": index, "_id": id}}))?;
        out.write_all(b"\n")?;
    }
    serde_json::to_writer(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// Writes the NDJSON export of `folder` to `out`.
pub fn write(
    folder: &Folder,
    opts: &NdjsonOptions,
    out: &mut impl Write,
) -> Result<ExportStats, AnalysisError> {
    let io = |source| AnalysisError::Write {
        path: "(export output)".into(),
        source,
    };
    let mut stats = ExportStats::default();
    folder.problems.iter().for_each(|p| stats.problem(p));
    for r in folder.runs() {
        r.problems.iter().for_each(|p| stats.problem(p));
        let anchor = r.wall_anchor_unix_ns();
        write_doc(out, opts, &run_document(folder, &r, anchor)).map_err(io)?;
        stats.runs += 1;
        stats.incomplete += usize::from(!r.complete());
        let path = r.timeline_path();
        let Ok(file) = std::fs::File::open(&path) else {
            continue;
        };
        let Some(anchor) = anchor else {
            stats.problem(&Problem {
                path,
                reason: "no wall-clock anchor (run.json unreadable): events left out".into(),
            });
            continue;
        };
        let mut bad = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let Ok(line) = line else {
                bad.push(format!("line {}: not UTF-8", i + 1));
                break;
            };
            if line.trim().is_empty() {
                continue;
            }
            match event_document(folder, &r, anchor, i + 1, &line) {
                Ok(doc) => {
                    write_doc(out, opts, &doc).map_err(io)?;
                    stats.events += 1;
                }
                Err(e) => bad.push(format!("line {}: {e}", i + 1)),
            }
        }
        if !bad.is_empty() {
            let n = bad.len();
            bad.truncate(5);
            stats.problem(&Problem {
                path,
                reason: format!("{n} line(s) left out: {}", bad.join("; ")),
            });
        }
    }
    out.flush().map_err(io)?;
    Ok(stats)
}
