//! Which binary wrote a campaign folder: `campaign.json`'s `tool` (this start's
//! qoeprobe version and commit) and `starts` (every start of the campaign in this
//! folder, oldest first). `--resume` keeps the earlier starts, so a campaign finished
//! by another build says so instead of naming only the last one.

use serde_json::{Value, json};
use std::path::Path;

/// This start's tool: name, version and, when the caller knows it, the commit it was
/// built from.
pub fn tool(commit: Option<&str>) -> Value {
    let mut t = json!({ "name": "qoeprobe", "version": env!("CARGO_PKG_VERSION") });
    if let (Some(c), Some(o)) = (commit, t.as_object_mut()) {
        o.insert("commit".into(), c.into());
    }
    t
}

/// The starts to record: the earlier ones of the folder's `campaign.json` when
/// resuming (none otherwise, or when it has none or cannot be read), then this one.
pub fn starts(out: &Path, resume: bool, tool: &Value, now_unix_ns: u64) -> Vec<Value> {
    let mut all = if resume { earlier(out) } else { Vec::new() };
    all.push(json!({ "tool": tool, "started_unix_ns": now_unix_ns }));
    all
}

fn earlier(out: &Path) -> Vec<Value> {
    let Ok(text) = userfile::read_to_string(&out.join("campaign.json"), userfile::limit::RECORD)
    else {
        return Vec::new();
    };
    let Ok(old) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    of_head(&old)
}

/// The starts a `campaign.json` records: its `starts`, or, for one written before
/// `starts` existed, its one known start (its `tool`, at `written_unix_ns`).
pub(crate) fn of_head(head: &Value) -> Vec<Value> {
    match head.get("starts").and_then(Value::as_array) {
        Some(list) => list.clone(),
        None => head
            .get("tool")
            .map(|t| vec![json!({ "tool": t, "started_unix_ns": head.get("written_unix_ns") })])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_keeps_the_earlier_starts_and_a_new_campaign_does_not() {
        let d = tempfile::tempdir().unwrap();
        let first = tool(Some("aaaa"));
        let s1 = starts(d.path(), true, &first, 1);
        assert_eq!(s1.len(), 1, "no campaign.json yet: only this start");
        std::fs::write(
            d.path().join("campaign.json"),
            json!({ "tool": first, "starts": s1 }).to_string(),
        )
        .unwrap();
        let second = tool(Some("bbbb"));
        let s2 = starts(d.path(), true, &second, 2);
        assert_eq!(s2.len(), 2);
        assert_eq!(s2[0]["tool"]["commit"], "aaaa");
        assert_eq!(s2[1]["tool"]["commit"], "bbbb");
        assert_eq!(s2[1]["started_unix_ns"], 2);
        assert_eq!(starts(d.path(), false, &second, 3).len(), 1);
    }

    #[test]
    fn a_folder_from_before_starts_counts_its_tool_once() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("campaign.json"),
            json!({ "tool": { "name": "qoeprobe", "version": "0.1.0" }, "written_unix_ns": 7 })
                .to_string(),
        )
        .unwrap();
        let s = starts(d.path(), true, &tool(None), 9);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["started_unix_ns"], 7);
        assert!(s[1]["tool"].get("commit").is_none());
    }

    #[test]
    fn an_unreadable_campaign_json_is_not_an_error() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("campaign.json"), "not json").unwrap();
        assert_eq!(starts(d.path(), true, &tool(None), 1).len(), 1);
    }
}
