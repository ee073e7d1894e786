//! The table as HTML: a `<table>`, the legend and the reasons per cell; a
//! standalone page, or a fragment for the report.

use super::{LEGEND, Table, TableFormat, counts_text, reason_text};
use crate::verdict::Verdict;

/// HTML renderer.
pub struct HtmlTable {
    /// A whole page (`true`) or a fragment to embed (`false`).
    pub standalone: bool,
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(ch),
        }
    }
    o
}

fn class(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Migratable) => "ok",
        Some(Verdict::SemiMigratable) => "semi",
        Some(Verdict::NotMigratable) => "not",
        None => "none",
    }
}

/// The CSS the table uses.
pub const TABLE_CSS: &str = "table.migratability{border-collapse:collapse;margin:1em 0}\
table.migratability th,table.migratability td{border:1px solid #999;padding:.35em .8em;text-align:center}\
table.migratability th:first-child{text-align:left}\
td.ok{background:#d9f2d9}td.semi{background:#fff1c2}td.not{background:#f7d4d4}td.none{color:#888}";

impl HtmlTable {
    /// The table, legend and reasons as an HTML fragment.
    pub fn fragment(t: &Table) -> String {
        let mut o =
            String::from("<table class=\"migratability\">\n<thead><tr><th>application</th>");
        for s in &t.scenarios {
            o.push_str(&format!("<th>{}</th>", esc(s)));
        }
        o.push_str("</tr></thead>\n<tbody>\n");
        for a in &t.applications {
            o.push_str(&format!("<tr><th>{}</th>", esc(a)));
            for s in &t.scenarios {
                let c = t.cell(a, s);
                o.push_str(&format!(
                    "<td class=\"{}\">{}</td>",
                    class(c.and_then(|c| c.verdict)),
                    esc(&t.label(a, s))
                ));
            }
            o.push_str("</tr>\n");
        }
        o.push_str("</tbody>\n</table>\n<p class=\"legend\">");
        let legend: Vec<String> = LEGEND
            .iter()
            .map(|(k, v)| format!("<b>{}</b> {}", esc(k), esc(v)))
            .collect();
        o.push_str(&legend.join("; "));
        o.push_str("</p>\n");
        let explained = t.explained();
        if !explained.is_empty() {
            o.push_str("<ul class=\"reasons\">\n");
            for (a, s, c) in explained {
                o.push_str(&format!(
                    "<li><b>{} / {}</b> ({}): {}",
                    esc(a),
                    esc(s),
                    esc(&c.label()),
                    esc(&counts_text(c))
                ));
                if !c.reasons.is_empty() {
                    o.push_str("<ul>");
                    for r in &c.reasons {
                        o.push_str(&format!("<li>{}</li>", esc(&reason_text(r))));
                    }
                    o.push_str("</ul>");
                }
                o.push_str("</li>\n");
            }
            o.push_str("</ul>\n");
        }
        o
    }
}

impl TableFormat for HtmlTable {
    fn render(&self, t: &Table) -> String {
        if !self.standalone {
            return Self::fragment(t);
        }
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Migratability: {}</title>\n<style>body{{font-family:sans-serif;margin:2em}}{TABLE_CSS}</style>\n</head>\n<body>\n<h1>Migratability: {}</h1>\n{}</body>\n</html>\n",
            esc(&t.campaign),
            esc(&t.campaign),
            Self::fragment(t)
        )
    }
}
