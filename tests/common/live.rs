//! What the live-metrics tests share: a small emulated campaign that stalls the
//! player and freezes the game, the dashboard's PromQL expressions, and the series
//! and label names of a `/metrics` scrape.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// A campaign of four runs (about 6 s each) through an emulated migration whose
/// downtime (about 1.4 s: 16 MiB at 100 Mbit/s) exceeds the clients' buffers: a DASH
/// player with a 1 s buffer and a live stream reader with a 1 s cache stall, a game
/// client freezes, a download goes on. The live stream plays the test clip
/// (scripts/make-clip.sh, made here if missing).
pub fn stalling_campaign(name: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let clip = root.join("build/media/clip.ts");
    if !clip.is_file() {
        let ok = std::process::Command::new(root.join("scripts/make-clip.sh"))
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "scripts/make-clip.sh could not make {} (needs ffmpeg)",
            clip.display()
        );
    }
    format!(
        r#"
name = "{name}"
runs = 1
seed = 7
warmup_s = 2
cooldown_s = 1

[migration]
driver = "emulated"
downtime_limit_ms = 2000
time_limit_s = 30
[migration.emulated]
memory_mb = 16
working_set_mb = 16
dirty_rate_mb_s = 40
reattach_ms = 20

[[application]]
name = "dash"
service = "dash"
[application.player]
max_buffer_s = 1

[[application]]
name = "game"
service = "game"
[application.game]
cmdrate = 30

[[application]]
name = "stream"
service = "live"
source = "encoder"
service_args = ["--clip", "{clip}"]
[application.stream]
cache_s = 1

[[application]]
name = "download"
service = "file"
[application.download]
path = "/gen/2M"

[[scenario]]
name = "s"
[scenario.migration]
rate_mbit = 100
"#,
        clip = clip.display()
    )
}

/// The dashboard in docs/grafana.
pub fn dashboard() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/grafana/qoeprobe-campaign.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every PromQL expression of a dashboard: the panels' targets and the template
/// variables' queries (`label_values(...)` included).
pub fn dashboard_exprs(d: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().into_iter().flatten() {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push(e.to_string());
            }
        }
    }
    for v in d["templating"]["list"].as_array().into_iter().flatten() {
        let q = v["query"]["query"].as_str().or(v["query"].as_str());
        if let Some(q) = q {
            out.push(q.to_string());
        }
    }
    out
}

/// An expression with the dashboard's variables replaced, as Grafana would send it.
pub fn substitute(expr: &str, campaign: &str) -> String {
    expr.replace("$campaign", campaign)
        .replace("$application", ".*")
        .replace("$__rate_interval", "1m")
}

/// The identifiers of an expression: `(metric names, label names)`. Metric names are
/// the words starting `qoeprobe_`; label names are those matched inside `{...}`, those
/// in `by (...)` / `without (...)`, and the second argument of `label_values`.
pub fn promql_names(expr: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let (mut metrics, mut labels) = (BTreeSet::new(), BTreeSet::new());
    let chars: Vec<char> = expr.chars().collect();
    let word_at = |i: usize| -> String { chars[i..].iter().take_while(|c| ident(**c)).collect() };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if ident(c) && (i == 0 || !ident(chars[i - 1])) {
            let w = word_at(i);
            let after: String = chars[i + w.len()..].iter().collect();
            let after = after.trim_start();
            if w.starts_with("qoeprobe_") {
                metrics.insert(w.clone());
            } else if (w == "by" || w == "without") && after.starts_with('(') {
                let inside = &after[1..after.find(')').unwrap_or(after.len())];
                labels.extend(inside.split(',').map(|l| l.trim().to_string()));
            } else if w == "label_values" && after.starts_with('(') {
                let inside = &after[1..after.rfind(')').unwrap_or(after.len())];
                if let Some((_, label)) = inside.rsplit_once(',') {
                    labels.insert(label.trim().to_string());
                }
            }
            i += w.len();
            continue;
        }
        if c == '{' {
            let end = chars[i..]
                .iter()
                .position(|c| *c == '}')
                .map_or(chars.len(), |p| i + p);
            let inside: String = chars[i + 1..end].iter().collect();
            for m in inside.split(',') {
                let name: String = m.trim().chars().take_while(|c| ident(*c)).collect();
                if !name.is_empty() {
                    labels.insert(name);
                }
            }
            i = end + 1;
            continue;
        }
        if c == '"' {
            // Skip string literals (label values, regexes).
            let end = chars[i + 1..]
                .iter()
                .position(|c| *c == '"')
                .map_or(chars.len(), |p| i + 1 + p);
            i = end + 1;
            continue;
        }
        i += 1;
    }
    (metrics, labels)
}

/// The series names (`qoeprobe_x_total`, `qoeprobe_h_bucket`, ...) and the label
/// names of a `/metrics` scrape: from the samples, and from the `# TYPE` lines (so a
/// family with no sample yet still counts).
pub fn scrape_names(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut series, mut labels) = (BTreeSet::new(), BTreeSet::new());
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            let (Some(name), Some(kind)) = (it.next(), it.next()) else {
                continue;
            };
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            series.extend(suffixes.iter().map(|s| format!("{name}{s}")));
        } else if !line.starts_with('#') && !line.is_empty() {
            let name_end = line.find(['{', ' ']).unwrap_or(line.len());
            series.insert(line[..name_end].to_string());
            if line[name_end..].starts_with('{') {
                labels.extend(label_names(&line[name_end + 1..]));
            }
        }
    }
    (series, labels)
}

/// The label names of a sample's label set, from just after its `{` (values are
/// quoted, with `\\`, `\"` and `\n` escapes).
fn label_names(mut rest: &str) -> Vec<String> {
    let mut names = Vec::new();
    while let Some((name, after)) = rest.split_once("=\"") {
        names.push(name.trim_start_matches(',').trim().to_string());
        let mut escaped = false;
        let end = after.char_indices().find(|&(_, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        });
        let Some((end, _)) = end else { break };
        rest = &after[end + 1..];
        if rest.starts_with('}') {
            break;
        }
    }
    names
}
