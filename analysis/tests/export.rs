//! `analysis::export`: the NDJSON documents follow docs/export-ndjson.schema.json and
//! carry every run and event with absolute timestamps; the CSV has one correctly
//! quoted row per run with the summary's numbers.

use analysis::export::{Folder, csv as csv_export, ndjson};
use analysis::synth::{SynthSpec, write_campaign};
use serde_json::Value;
use std::path::Path;

/// A synthetic Table-2 campaign (2 runs per cell) with one run interrupted before
/// its summary, one finalized as incomplete and one reason with a comma and quotes.
fn campaign(dir: &Path) -> usize {
    let n = write_campaign(dir, &SynthSpec::table2(2)).unwrap();
    std::fs::remove_file(dir.join("dash/S2/run-2/summary.json")).unwrap();
    let sp = dir.join("game/S1/run-2/summary.json");
    let mut s: Value = serde_json::from_str(&std::fs::read_to_string(&sp).unwrap()).unwrap();
    s["complete"] = Value::Bool(false);
    s["incomplete_reason"] = Value::from("interrupted by \"SIGTERM\", at 3 s");
    std::fs::write(&sp, serde_json::to_string(&s).unwrap()).unwrap();
    n
}

fn timeline_lines(dir: &Path) -> usize {
    let mut n = 0;
    for app in std::fs::read_dir(dir).unwrap().flatten() {
        for scn in std::fs::read_dir(app.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            for run in std::fs::read_dir(scn.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if let Ok(t) = std::fs::read_to_string(run.path().join("timeline.jsonl")) {
                    n += t.lines().filter(|l| !l.trim().is_empty()).count();
                }
            }
        }
    }
    n
}

#[test]
fn ndjson_documents_follow_the_documented_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = campaign(tmp.path());
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../docs/export-ndjson.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let folder = Folder::open(tmp.path()).unwrap();
    let mut out = Vec::new();
    let stats = ndjson::write(&folder, &ndjson::NdjsonOptions::default(), &mut out).unwrap();
    assert_eq!(stats.runs, runs);
    assert_eq!(stats.incomplete, 2);
    assert_eq!(stats.events, timeline_lines(tmp.path()));
    let text = String::from_utf8(out).unwrap();
    let docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), runs + stats.events);
    for d in &docs {
        let errors: Vec<String> = validator.iter_errors(d).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?} in {d}");
    }
    let run_docs: Vec<&Value> = docs
        .iter()
        .filter(|d| d["event"]["dataset"] == "qoeprobe.run")
        .collect();
    assert_eq!(run_docs.len(), runs);
    let interrupted = run_docs
        .iter()
        .find(|d| d["event"]["id"] == "synthetic-table2/dash/S2/run-2")
        .unwrap();
    assert_eq!(interrupted["qoeprobe"]["complete"], false);
    assert!(interrupted["qoeprobe"]["summary"].is_null());
    // An event's @timestamp is the run's anchor plus its t_ns.
    let e = docs
        .iter()
        .find(|d| {
            d["event"]["dataset"] == "qoeprobe.timeline" && d["qoeprobe"]["t_ns"] == 400_000_000
        })
        .unwrap();
    assert_eq!(e["@timestamp"], "2023-11-14T22:13:20.400000000Z");
    // The schema is not vacuous: an event without its time or kind is refused.
    let mut broken = e.clone();
    broken.as_object_mut().unwrap().remove("@timestamp");
    assert!(!validator.is_valid(&broken));
    let mut broken = e.clone();
    broken["qoeprobe"].as_object_mut().unwrap().remove("kind");
    assert!(!validator.is_valid(&broken));
    // The bulk form: an action line with a stable id before every document.
    let mut bulk = Vec::new();
    let opts = ndjson::NdjsonOptions {
        bulk_index: Some("qoeprobe".into()),
    };
    ndjson::write(&folder, &opts, &mut bulk).unwrap();
    let lines: Vec<Value> = String::from_utf8(bulk)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2 * docs.len());
    assert_eq!(lines[0]["create"]["_index"], "qoeprobe");
    assert_eq!(lines[0]["create"]["_id"], lines[1]["event"]["id"]);
}

#[test]
fn csv_has_one_quoted_row_per_run_with_the_phases() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = campaign(tmp.path());
    let folder = Folder::open(tmp.path()).unwrap();
    let mut out = Vec::new();
    let stats = csv_export::write(&folder, &mut out).unwrap();
    assert_eq!(stats.runs, runs);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..9], &csv_export::FIXED_COLUMNS);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), runs);
    for r in &rows {
        assert_eq!(r.len(), header.len());
    }
    let find = |app: &str, scn: &str, k: &str| {
        rows.iter()
            .find(|r| &r[1] == app && &r[2] == scn && &r[3] == k)
            .unwrap()
    };
    let sigterm = find("game", "S1", "2");
    assert_eq!(&sigterm[col("complete")], "false");
    assert_eq!(
        &sigterm[col("incomplete_reason")],
        "interrupted by \"SIGTERM\", at 3 s"
    );
    assert_eq!(&sigterm[col("outcome")], "");
    let s: Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("dash/S1/run-1/summary.json")).unwrap(),
    )
    .unwrap();
    let dash = find("dash", "S1", "1");
    let downtime: f64 = dash[col("migration.downtime_ms")].parse().unwrap();
    assert_eq!(downtime, s["migration"]["downtime_ms"].as_f64().unwrap());
    let stalls: u64 = dash[col("probes.player.stall_count")].parse().unwrap();
    assert_eq!(
        stalls,
        s["probes"]["player"]["stall_count"].as_u64().unwrap()
    );
    assert_eq!(&dash[col("outcome")], "clean");
    // A failed run carries its reasons.
    let failed = find("stream-encoder-inside", "S1", "1");
    assert_eq!(&failed[col("outcome")], "failed");
    assert!(!failed[col("reasons")].is_empty());
}
