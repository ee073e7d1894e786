//! The JSON Schema of the record, generated from the types so it cannot drift:
//! `docs/record-schema.json` is this function's output (a test keeps them equal and
//! validates real output against it).

use super::{DownloadSummary, Event, GameSummary, PlayerSummary, ProbeOutput, StreamSummary};
use serde_json::{Value, json};

/// Names of the top-level definitions: `Event` (one line of `timeline.jsonl`) and one
/// `<Probe>Output` per probe (its `--json` file).
pub const ROOTS: &[&str] = &[
    "Event",
    "PlayerOutput",
    "DownloadOutput",
    "GameOutput",
    "StreamOutput",
];

/// The whole record schema (JSON Schema draft 2020-12).
pub fn json_schema() -> Value {
    let mut g = schemars::SchemaGenerator::default();
    let roots = [
        g.subschema_for::<Event>(),
        g.subschema_for::<ProbeOutput<PlayerSummary>>(),
        g.subschema_for::<ProbeOutput<DownloadSummary>>(),
        g.subschema_for::<ProbeOutput<GameSummary>>(),
        g.subschema_for::<ProbeOutput<StreamSummary>>(),
    ];
    let mut defs = serde_json::Map::new();
    for (name, schema) in g.take_definitions(true) {
        defs.insert(name, schema);
    }
    for (name, schema) in ROOTS.iter().zip(roots) {
        let v = schema.to_value();
        // A root whose schema is a reference gets an alias under its plain name.
        if defs.get(*name).is_none() {
            defs.insert((*name).to_string(), v);
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("qoeprobe record schema, version {}", super::SCHEMA_VERSION),
        "description": "Event = one line of timeline.jsonl (or one entry of `events` in a probe's --json output); <Probe>Output = what `qoeprobe <probe> --json` writes. See docs/record-schema.md.",
        "$defs": Value::Object(defs),
        "anyOf": ROOTS.iter().map(|n| json!({"$ref": format!("#/$defs/{n}")})).collect::<Vec<_>>(),
    })
}

/// A schema that validates exactly one root definition (`Event`, `PlayerOutput`, ...).
pub fn schema_for_root(root: &str) -> Value {
    let mut s = json_schema();
    if let Some(obj) = s.as_object_mut() {
        obj.remove("anyOf");
        obj.insert("$ref".into(), json!(format!("#/$defs/{root}")));
    }
    s
}
