//! The table as JSON. Contract (docs/results.md): an object with `rows`, one per
//! application, each with `application` and `cells` keyed by network scenario name,
//! each cell holding `verdict` (`migratable` | `semi-migratable` | `not-migratable`),
//! `clean`, `impaired`, `failed`; plus `symbol`, `label`, `runs`, `skipped` and
//! `reasons`. Cells without a complete run are left out of `cells` and listed in
//! `empty_cells`.

use super::{LEGEND, Table, TableFormat};
use serde_json::{Map, Value, json};

/// JSON renderer.
pub struct JsonTable;

impl JsonTable {
    /// The table as a JSON value.
    pub fn value(t: &Table) -> Value {
        let mut rows = Vec::new();
        let mut empty = Vec::new();
        for a in &t.applications {
            let mut cells = Map::new();
            for s in &t.scenarios {
                let Some(c) = t.cell(a, s) else { continue };
                let Some(v) = c.verdict else {
                    empty.push(json!({"application": a, "scenario": s, "skipped": c.skipped}));
                    continue;
                };
                cells.insert(
                    s.clone(),
                    json!({
                        "verdict": v.as_str(),
                        "symbol": v.symbol(),
                        "label": c.label(),
                        "clean": c.clean,
                        "impaired": c.impaired,
                        "failed": c.failed,
                        "runs": c.runs,
                        "skipped": c.skipped,
                        "reasons": c.reasons,
                    }),
                );
            }
            rows.push(json!({"application": a, "cells": cells}));
        }
        let legend: Map<String, Value> = LEGEND
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect();
        json!({
            "campaign": t.campaign,
            "scenarios": t.scenarios,
            "rows": rows,
            "empty_cells": empty,
            "legend": legend,
        })
    }
}

impl TableFormat for JsonTable {
    fn render(&self, t: &Table) -> String {
        let mut s = serde_json::to_string_pretty(&Self::value(t))
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the table: {e}\"}}"));
        s.push('\n');
        s
    }
}
