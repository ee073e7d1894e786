//! The JSON Schema of the record, generated from the types so it cannot drift:
//! `docs/record-schema.json` is this function's output (a test keeps them equal and
//! validates real output against it).

use crate::{DownloadSummary, Event, GameSummary, PlayerSummary, ProbeOutput, StreamSummary};
use schemars::{Schema, json_schema};

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
pub fn json_schema() -> Schema {
    let mut g = schemars::SchemaGenerator::default();
    let roots = [
        g.subschema_for::<Event>(),
        g.subschema_for::<ProbeOutput<PlayerSummary>>(),
        g.subschema_for::<ProbeOutput<DownloadSummary>>(),
        g.subschema_for::<ProbeOutput<GameSummary>>(),
        g.subschema_for::<ProbeOutput<StreamSummary>>(),
    ];
    let mut defs = g.take_definitions(true);
    for (name, schema) in ROOTS.iter().zip(roots) {
        let v = schema.to_value();
        // A root whose schema is a reference gets an alias under its plain name.
        if defs.get(*name).is_none() {
            defs.insert((*name).to_string(), v);
        }
    }
    let any_of: Vec<Schema> = ROOTS
        .iter()
        .map(|n| Schema::new_ref(format!("#/$defs/{n}")))
        .collect();
    json_schema!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("qoeprobe record schema, version {}", crate::SCHEMA_VERSION),
        "description": "Event = one line of timeline.jsonl (or one entry of `events` in a probe's --json output); <Probe>Output = what `qoeprobe <probe> --json` writes. See docs/record-schema.md.",
        "$defs": defs,
        "anyOf": any_of,
    })
}

/// A schema that validates exactly one root definition (`Event`, `PlayerOutput`, ...).
pub fn schema_for_root(root: &str) -> Schema {
    let mut s = json_schema();
    s.remove("anyOf");
    s.insert("$ref".into(), format!("#/$defs/{root}").into());
    s
}
