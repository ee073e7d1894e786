//! Property harness over the results reader: a synthetic campaign folder whose
//! `campaign.json`, `summary.json`, `run.json` and `timeline.jsonl` files are damaged
//! value by value (extreme numbers, wrong types, missing keys), byte by byte and line
//! by line, or replaced by folders. Properties: reading, judging, every table format
//! and the HTML report never panic and end within a bound; a damaged file is a
//! problem reported for that file, not a failure of the whole folder.
//!
//! Cases: `PROPTEST_CASES` / 4 (default 64; `make fuzz` sets many more): each case
//! writes and reads a whole campaign folder.

use analysis::{Format, LoadOptions, Table};
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The most reading and rendering one folder may take, debug build included.
const BOUND: Duration = Duration::from_secs(60);

/// The run files edits can hit (the synthetic campaign's first three runs).
const FILES: &[&str] = &[
    "campaign.json",
    "download/S1/run-1/summary.json",
    "download/S1/run-1/run.json",
    "download/S1/run-1/timeline.jsonl",
    "dash/S2/run-1/summary.json",
    "dash/S2/run-1/timeline.jsonl",
    "game/S1/run-1/summary.json",
    "game/S1/run-1/timeline.jsonl",
];

/// One damage to a results folder.
#[derive(Debug, Clone)]
enum Damage {
    /// Replace the n-th JSON value (in document order) of a file by a hostile one.
    Value(usize, usize, HostileValue),
    /// Remove the n-th object key of a file.
    DropKey(usize, usize),
    /// Replace a byte of a file.
    Byte(usize, usize, u8),
    /// Cut a file short.
    Truncate(usize, usize),
    /// Replace a file by an empty folder.
    Folder(usize),
}

#[derive(Debug, Clone)]
enum HostileValue {
    Number(f64),
    Int(i128),
    Text(String),
    Null,
    Array,
    Object,
    Bool,
}

impl HostileValue {
    fn json(&self) -> Value {
        match self {
            Self::Number(v) => serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
            Self::Int(v) => serde_json::from_str(&v.to_string()).unwrap_or(Value::Null),
            Self::Text(s) => Value::String(s.clone()),
            Self::Null => Value::Null,
            Self::Array => Value::Array(vec![Value::from(1), Value::from("x")]),
            Self::Object => Value::Object(Default::default()),
            Self::Bool => Value::Bool(true),
        }
    }
}

fn hostile_value() -> impl Strategy<Value = HostileValue> {
    prop_oneof![
        prop_oneof![
            Just(1e308),
            Just(-1e308),
            Just(1e155),
            Just(0.0),
            Just(-1.0),
            Just(5e-324),
            any::<f64>(),
        ]
        .prop_map(HostileValue::Number),
        prop_oneof![
            Just(i128::from(u64::MAX)),
            Just(i128::from(i64::MIN)),
            Just(-1i128),
            Just(0i128),
        ]
        .prop_map(HostileValue::Int),
        prop_oneof![
            Just(String::new()),
            Just("x".to_string()),
            Just("../../etc/passwd".to_string()),
            "[ -~]{0,40}",
        ]
        .prop_map(HostileValue::Text),
        Just(HostileValue::Null),
        Just(HostileValue::Array),
        Just(HostileValue::Object),
        Just(HostileValue::Bool),
    ]
}

fn damage() -> impl Strategy<Value = Damage> {
    let file = 0..FILES.len();
    prop_oneof![
        4 => (file.clone(), any::<usize>(), hostile_value()).prop_map(|(f, n, v)| Damage::Value(f, n, v)),
        2 => (file.clone(), any::<usize>()).prop_map(|(f, n)| Damage::DropKey(f, n)),
        2 => (file.clone(), any::<usize>(), any::<u8>()).prop_map(|(f, at, b)| Damage::Byte(f, at, b)),
        1 => (file.clone(), any::<usize>()).prop_map(|(f, at)| Damage::Truncate(f, at)),
        1 => file.prop_map(Damage::Folder),
    ]
}

/// Visits every value of `v` in document order; `f` gets each one mutably.
fn walk(v: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    f(v);
    match v {
        Value::Array(a) => a.iter_mut().for_each(|x| walk(x, f)),
        Value::Object(o) => o.values_mut().for_each(|x| walk(x, f)),
        _ => {}
    }
}

/// Applies `edit` to every JSON document of the file (one, or one per line).
fn edit_json(path: &Path, edit: &mut dyn FnMut(&mut Value)) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    let docs: Vec<&str> = if jsonl {
        text.lines().collect()
    } else {
        vec![&text]
    };
    let out: Vec<String> = docs
        .iter()
        .map(|d| match serde_json::from_str::<Value>(d) {
            Ok(mut v) => {
                edit(&mut v);
                v.to_string()
            }
            Err(_) => d.to_string(),
        })
        .collect();
    let _ = std::fs::write(path, out.join("\n") + "\n");
}

fn apply(root: &Path, d: &Damage) {
    let path = |f: usize| root.join(FILES[f]);
    match d {
        Damage::Value(f, n, v) => {
            let mut i = 0usize;
            let target = *n % 400;
            edit_json(&path(*f), &mut |doc| {
                walk(doc, &mut |x| {
                    if i == target {
                        *x = v.json();
                    }
                    i += 1;
                })
            });
        }
        Damage::DropKey(f, n) => {
            let mut i = 0usize;
            let target = *n % 100;
            edit_json(&path(*f), &mut |doc| {
                walk(doc, &mut |x| {
                    if let Value::Object(o) = x {
                        let keys: Vec<String> = o.keys().cloned().collect();
                        for k in keys {
                            if i == target {
                                o.remove(&k);
                            }
                            i += 1;
                        }
                    }
                })
            });
        }
        Damage::Byte(f, at, b) => {
            if let Ok(mut bytes) = std::fs::read(path(*f))
                && !bytes.is_empty()
            {
                let i = at % bytes.len();
                bytes[i] = *b;
                let _ = std::fs::write(path(*f), bytes);
            }
        }
        Damage::Truncate(f, at) => {
            if let Ok(bytes) = std::fs::read(path(*f)) {
                let cut = at % (bytes.len() + 1);
                let _ = std::fs::write(path(*f), &bytes[..cut]);
            }
        }
        Damage::Folder(f) => {
            let _ = std::fs::remove_file(path(*f));
            let _ = std::fs::create_dir_all(path(*f));
        }
    }
}

/// A fresh synthetic campaign (the study's Table 2, one run per cell).
fn campaign() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().expect("temporary folder");
    let root = d.path().join("c");
    analysis::synth::write_campaign(&root, &analysis::synth::SynthSpec::table2(1))
        .expect("synthetic campaign");
    (d, root)
}

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    c.cases = (c.cases / 4).max(1);
    c
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn damaged_results_folders_are_read_judged_and_reported(
        damages in proptest::collection::vec(damage(), 1..4),
    ) {
        let (_keep, root) = campaign();
        for d in &damages {
            apply(&root, d);
        }
        let t0 = Instant::now();
        match analysis::load(&root, &LoadOptions::default()) {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            Ok(c) => {
                let table = Table::from_campaign(&c);
                for f in [Format::Md, Format::Csv, Format::Latex, Format::Html, Format::Json] {
                    let _ = f.render(&table);
                }
                let html = analysis::report::render(&c, &table);
                prop_assert!(html.is_ok(), "{:?}", html.err());
            }
        }
        prop_assert!(t0.elapsed() < BOUND, "took {:?}", t0.elapsed());
    }
}
