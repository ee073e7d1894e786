//! The table as CSV (RFC 4180): one line per cell (application, scenario), with the
//! verdict, its symbol, the counts and the reasons joined by ` | `. A long format
//! suits spreadsheets and scripts better than the matrix of the other formats.

use super::{Table, TableFormat, reason_text};

/// CSV renderer.
pub struct CsvTable;

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl TableFormat for CsvTable {
    fn render(&self, t: &Table) -> String {
        let mut o = String::from(
            "application,scenario,verdict,symbol,clean,impaired,failed,runs,skipped,reasons\r\n",
        );
        for a in &t.applications {
            for s in &t.scenarios {
                let Some(c) = t.cell(a, s) else { continue };
                let reasons: Vec<String> = c.reasons.iter().map(reason_text).collect();
                let cols = [
                    field(a),
                    field(s),
                    c.verdict.map(|v| v.as_str()).unwrap_or("").to_string(),
                    c.verdict.map(|v| v.symbol()).unwrap_or("").to_string(),
                    c.clean.to_string(),
                    c.impaired.to_string(),
                    c.failed.to_string(),
                    c.runs.to_string(),
                    c.skipped.to_string(),
                    field(&reasons.join(" | ")),
                ];
                o.push_str(&cols.join(","));
                o.push_str("\r\n");
            }
        }
        o
    }
}
