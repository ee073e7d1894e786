//! The table as Markdown: a pipe table, the legend, and the reasons per cell.

use super::{LEGEND, Table, TableFormat, counts_text, reason_text};

/// Markdown renderer.
pub struct MarkdownTable;

fn esc(s: &str) -> String {
    s.replace('|', "\\|")
}

impl TableFormat for MarkdownTable {
    fn render(&self, t: &Table) -> String {
        let mut o = format!("Migratability: {}\n\n", esc(&t.campaign));
        o.push_str("| application |");
        for s in &t.scenarios {
            o.push_str(&format!(" {} |", esc(s)));
        }
        o.push_str("\n|---|");
        for _ in &t.scenarios {
            o.push_str(":---:|");
        }
        o.push('\n');
        for a in &t.applications {
            o.push_str(&format!("| {} |", esc(a)));
            for s in &t.scenarios {
                o.push_str(&format!(" {} |", t.label(a, s)));
            }
            o.push('\n');
        }
        o.push('\n');
        let legend: Vec<String> = LEGEND.iter().map(|(k, v)| format!("{k} {v}")).collect();
        o.push_str(&format!("Legend: {}.\n", legend.join("; ")));
        let explained = t.explained();
        if !explained.is_empty() {
            o.push_str("\nReasons:\n");
            for (a, s, c) in explained {
                o.push_str(&format!(
                    "\n- **{} / {}** ({}): {}\n",
                    esc(a),
                    esc(s),
                    c.label(),
                    counts_text(c)
                ));
                for r in &c.reasons {
                    o.push_str(&format!("  - {}\n", esc(&reason_text(r))));
                }
            }
        }
        o
    }
}
