//! The report's sections that are HTML tables and text: statistics per condition,
//! the campaign's inputs, problems and notes.

use crate::reader::Campaign;
use crate::stats::{PHASES, Stats, describe, describe_runs, phase_ms};
use crate::table::HtmlTable;
use std::collections::BTreeMap;
use std::fmt::Write;

fn esc(s: &str) -> String {
    crate::table::html::esc(s)
}

/// `1234.5 ± 12.3` (ms), `1234.5` when there is no interval.
pub fn mean_ci(s: &Stats) -> String {
    match s.ci95 {
        Some(h) => format!("{} ± {}", num(s.mean), num(h)),
        None => num(s.mean),
    }
}

/// A number with sensible precision.
pub fn num(v: f64) -> String {
    if v.abs() >= 1000.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The campaign's inputs: `campaign.json` (shortened past 20 kB).
pub fn inputs(c: &Campaign) -> String {
    let mut o = String::from("<h2>Inputs</h2>\n");
    let _ = writeln!(
        o,
        "<p>Results folder <code>{}</code>: {} complete runs judged, {} skipped.</p>",
        esc(&c.root.display().to_string()),
        c.runs.len(),
        c.skipped.values().sum::<usize>()
    );
    match &c.campaign {
        Some(v) => {
            let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
            if text.len() > 20_000 {
                let cut = (0..=20_000)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push_str("\n... (shortened; see campaign.json)");
            }
            let _ = writeln!(
                o,
                "<details><summary>campaign.json</summary><pre>{}</pre></details>",
                esc(&text)
            );
        }
        None => o.push_str("<p>No campaign.json in the folder.</p>\n"),
    }
    o
}

/// The table section.
pub fn table(t: &crate::table::Table) -> String {
    format!("<h2>Migratability</h2>\n{}", HtmlTable::fragment(t))
}

/// Phases per application x scenario (mean ± 95 % CI half-width, ms) and every
/// numeric metric per cell in collapsed blocks.
pub fn statistics(c: &Campaign) -> String {
    let mut o = String::from(
        "<h2>Statistics per condition</h2>\n<p>Mean ± half-width of the 95 % confidence interval (Student's t), in ms; n = completed migrations.</p>\n<table class=\"stats\"><thead><tr><th>application</th><th>scenario</th><th>n</th>",
    );
    for p in PHASES {
        let _ = write!(o, "<th>{p}</th>");
    }
    o.push_str("</tr></thead><tbody>\n");
    let mut cells: BTreeMap<(usize, usize), Vec<&crate::reader::LoadedRun>> = BTreeMap::new();
    for r in &c.runs {
        let a = c
            .applications
            .iter()
            .position(|x| *x == r.application)
            .unwrap_or(0);
        let s = c
            .scenarios
            .iter()
            .position(|x| *x == r.scenario)
            .unwrap_or(0);
        cells.entry((a, s)).or_default().push(r);
    }
    for ((a, s), runs) in &cells {
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td>",
            esc(&c.applications[*a]),
            esc(&c.scenarios[*s])
        );
        let completed: Vec<_> = runs
            .iter()
            .filter(|r| r.summary.migration.outcome == record::MigrationOutcome::Completed)
            .collect();
        let _ = write!(o, "<td>{}</td>", completed.len());
        for p in PHASES {
            let v: Vec<f64> = completed
                .iter()
                .filter_map(|r| phase_ms(&r.summary, p))
                .collect();
            let _ = write!(
                o,
                "<td>{}</td>",
                describe(&v).map(|s| mean_ci(&s)).unwrap_or("–".into())
            );
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table>\n<h3>Every metric</h3>\n");
    for ((a, s), runs) in &cells {
        let stats = describe_runs(runs.iter().map(|r| &r.summary));
        let _ = write!(
            o,
            "<details><summary>{} / {} ({} runs)</summary><table class=\"stats\"><thead><tr><th>metric</th><th>n</th><th>mean</th><th>sd</th><th>95 % CI</th><th>min</th><th>max</th></tr></thead><tbody>",
            esc(&c.applications[*a]),
            esc(&c.scenarios[*s]),
            runs.len()
        );
        for (k, st) in &stats {
            let ci = st
                .ci95
                .map(|_| format!("[{}, {}]", num(st.ci_low()), num(st.ci_high())))
                .unwrap_or("–".into());
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{ci}</td><td>{}</td><td>{}</td></tr>",
                esc(k),
                st.n,
                num(st.mean),
                st.sd.map(num).unwrap_or("–".into()),
                num(st.min),
                num(st.max)
            );
        }
        o.push_str("</tbody></table></details>\n");
    }
    o
}

/// Unreadable files and notes (at most 100 lines each).
pub fn problems(c: &Campaign) -> String {
    if c.problems.is_empty() && c.notes.is_empty() {
        return String::new();
    }
    let mut o = String::from("<h2>Problems and notes</h2>\n<ul>\n");
    for p in c.problems.iter().take(100) {
        let _ = writeln!(
            o,
            "<li><code>{}</code>: {}</li>",
            esc(&p.path.display().to_string()),
            esc(&p.reason)
        );
    }
    if c.problems.len() > 100 {
        let _ = writeln!(
            o,
            "<li>{} more unreadable files</li>",
            c.problems.len() - 100
        );
    }
    for n in c.notes.iter().take(100) {
        let _ = writeln!(o, "<li>{}</li>", esc(n));
    }
    if c.notes.len() > 100 {
        let _ = writeln!(o, "<li>{} more notes</li>", c.notes.len() - 100);
    }
    o.push_str("</ul>\n");
    o
}
