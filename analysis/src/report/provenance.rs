//! Which qoeprobe measured a campaign: the `tool` and `starts` of its
//! `campaign.json` (each start's version and commit, and when it started), as one
//! paragraph of the report.

use crate::table::html::esc;
use serde_json::Value;
use std::fmt::Write;

/// "Measured by ..." for the report, or `None` when `campaign.json` names no tool.
pub fn measured_by(campaign: &Value) -> Option<String> {
    let starts: Vec<&Value> = match campaign.get("starts").and_then(Value::as_array) {
        Some(list) if !list.is_empty() => list.iter().collect(),
        _ => vec![campaign],
    };
    let mut parts = Vec::new();
    for s in starts {
        let Some(tool) = s.get("tool").filter(|t| t.is_object()) else {
            continue;
        };
        let mut p = format!(
            "qoeprobe {}",
            tool.get("version").and_then(Value::as_str).unwrap_or("?")
        );
        if let Some(c) = tool.get("commit").and_then(Value::as_str) {
            let _ = write!(p, " (commit {c})");
        }
        let at = s
            .get("started_unix_ns")
            .or_else(|| s.get("written_unix_ns"))
            .and_then(Value::as_u64)
            .and_then(utc);
        if let Some(at) = at {
            let _ = write!(p, ", started {at}");
        }
        parts.push(esc(&p));
    }
    match parts.len() {
        0 => None,
        1 => Some(format!("<p>Measured by {}.</p>\n", parts[0])),
        n => Some(format!(
            "<p>Measured in {n} starts (resumed): {}.</p>\n",
            parts.join("; ")
        )),
    }
}

fn utc(unix_ns: u64) -> Option<String> {
    let t = chrono::DateTime::from_timestamp((unix_ns / 1_000_000_000) as i64, 0)?;
    Some(t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_each_start_with_its_commit_and_time() {
        let c = json!({ "starts": [
            { "tool": { "version": "0.1.0", "commit": "abc" }, "started_unix_ns": 0u64 },
            { "tool": { "version": "0.1.0", "commit": "def<" }, "started_unix_ns": 86_400_000_000_000u64 },
        ]});
        let p = measured_by(&c).unwrap();
        assert!(p.contains("2 starts"), "{p}");
        assert!(
            p.contains("commit abc), started 1970-01-01 00:00:00 UTC"),
            "{p}"
        );
        assert!(p.contains("commit def&lt;), started 1970-01-02"), "{p}");
    }

    #[test]
    fn an_older_campaign_json_gives_its_tool_and_none_gives_nothing() {
        let c =
            json!({ "tool": { "name": "qoeprobe", "version": "0.1.0" }, "written_unix_ns": 0u64 });
        assert_eq!(
            measured_by(&c).unwrap(),
            "<p>Measured by qoeprobe 0.1.0, started 1970-01-01 00:00:00 UTC.</p>\n"
        );
        assert_eq!(measured_by(&json!({ "tool": "qoeprobe synthetic" })), None);
        assert_eq!(measured_by(&json!({})), None);
    }
}
