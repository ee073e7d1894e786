//! Golden outputs (insta) of every table format on a constructed results folder,
//! and the reader's behaviour on missing, empty and damaged folders.

use analysis::synth::{SynthSpec, write_campaign};
use analysis::{AnalysisError, Format, LoadOptions, Table, load};
use std::path::Path;

/// The synthetic Table 2 campaign, 3 runs per cell, plus an incomplete run and a
/// damaged one.
fn campaign(dir: &Path) -> Table {
    write_campaign(dir, &SynthSpec::table2(3)).unwrap();
    let incomplete = dir.join("dash/S1/run-4");
    std::fs::create_dir_all(&incomplete).unwrap();
    let mut s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("dash/S1/run-1/summary.json")).unwrap(),
    )
    .unwrap();
    s["complete"] = false.into();
    s["incomplete_reason"] = "interrupted (SIGTERM)".into();
    std::fs::write(incomplete.join("summary.json"), s.to_string()).unwrap();
    let damaged = dir.join("game/S2/run-4");
    std::fs::create_dir_all(&damaged).unwrap();
    std::fs::write(damaged.join("summary.json"), "{not json").unwrap();
    let c = load(dir, &LoadOptions::default()).unwrap();
    assert_eq!(c.runs.len(), 30);
    assert_eq!(c.problems.len(), 1, "{:?}", c.problems);
    assert!(c.problems[0].path.ends_with("game/S2/run-4/summary.json"));
    assert!(
        c.notes.iter().any(|n| n.contains("interrupted (SIGTERM)")),
        "{:?}",
        c.notes
    );
    Table::from_campaign(&c)
}

#[test]
fn every_table_format() {
    let tmp = tempfile::tempdir().unwrap();
    let table = campaign(tmp.path());
    for (name, f) in [
        ("md", Format::Md),
        ("csv", Format::Csv),
        ("latex", Format::Latex),
        ("html", Format::Html),
        ("json", Format::Json),
    ] {
        insta::assert_snapshot!(name, f.render(&table));
    }
}

#[test]
fn json_contract() {
    let tmp = tempfile::tempdir().unwrap();
    let table = campaign(tmp.path());
    let v: serde_json::Value = serde_json::from_str(&Format::Json.render(&table)).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    for row in rows {
        assert!(row["application"].is_string());
        for (_, cell) in row["cells"].as_object().unwrap() {
            let verdict = cell["verdict"].as_str().unwrap();
            assert!(["migratable", "semi-migratable", "not-migratable"].contains(&verdict));
            let n: u64 = ["clean", "impaired", "failed"]
                .iter()
                .map(|k| cell[k].as_u64().unwrap())
                .sum();
            assert!(n > 0);
        }
    }
    let enc = rows
        .iter()
        .find(|r| r["application"] == "stream-encoder-inside")
        .unwrap();
    assert_eq!(enc["cells"]["S1"]["verdict"], "not-migratable");
}

#[test]
fn missing_empty_and_file_paths_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let e = load(&missing, &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, AnalysisError::Missing(_)), "{e}");
    assert!(e.to_string().contains("does not exist"));
    let e = load(tmp.path(), &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, AnalysisError::Empty(_)), "{e}");
    assert!(e.to_string().contains("no runs in"));
    let file = tmp.path().join("f.txt");
    std::fs::write(&file, "x").unwrap();
    let e = load(&file, &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, AnalysisError::NotAFolder(_)), "{e}");
}

#[test]
fn a_folder_holding_campaigns() {
    let tmp = tempfile::tempdir().unwrap();
    write_campaign(&tmp.path().join("one"), &SynthSpec::table2(1)).unwrap();
    assert_eq!(
        load(tmp.path(), &LoadOptions::default())
            .unwrap()
            .runs
            .len(),
        10
    );
    write_campaign(&tmp.path().join("two"), &SynthSpec::table2(1)).unwrap();
    let e = load(tmp.path(), &LoadOptions::default()).unwrap_err();
    assert!(e.to_string().contains("one, two"), "{e}");
}

#[test]
fn garbage_everywhere_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write_campaign(d, &SynthSpec::table2(1)).unwrap();
    std::fs::write(d.join("campaign.json"), "[]]").unwrap();
    std::fs::write(
        d.join("dash/S1/run-1/timeline.jsonl"),
        "{\"t_ns\":1}\nnonsense\n\u{0}\u{1}",
    )
    .unwrap();
    std::fs::write(d.join("dash/S1/run-1/run.json"), "").unwrap();
    std::fs::remove_file(d.join("game/S1/run-1/timeline.jsonl")).unwrap();
    std::fs::write(d.join("game/S2/run-1/summary.json"), "{\"complete\": true}").unwrap();
    let c = load(d, &LoadOptions::default()).unwrap();
    assert_eq!(c.runs.len(), 9);
    assert!(c.problems.len() >= 4, "{:?}", c.problems);
    let t = Table::from_campaign(&c);
    for f in [
        Format::Md,
        Format::Csv,
        Format::Latex,
        Format::Html,
        Format::Json,
    ] {
        assert!(!f.render(&t).is_empty());
    }
    analysis::report::render(&c, &t).unwrap();
}

#[test]
fn write_outputs_writes_the_three_files() {
    let tmp = tempfile::tempdir().unwrap();
    write_campaign(tmp.path(), &SynthSpec::table2(2)).unwrap();
    let out = analysis::write_outputs(tmp.path(), &LoadOptions::default()).unwrap();
    for p in [&out.verdicts_json, &out.table_md, &out.report_html] {
        assert!(std::fs::metadata(p).unwrap().len() > 100, "{}", p.display());
    }
}
