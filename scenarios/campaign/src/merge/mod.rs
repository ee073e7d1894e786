//! `qoeprobe merge OUT DIR...`: the results folders of a campaign's shards (or of any
//! partial runs of one campaign) made into one folder that reads as if the campaign
//! had run on one machine.
//!
//! The folders must name the same campaign (`campaign_hash` in their
//! `campaign.json`, see [`crate::shard`]); every run of the plan must be finished
//! (`summary.json` with `complete: true`) in exactly one of them. Anything else is
//! refused with the list of what is missing or doubled; [`MergeOptions::allow_missing`]
//! writes what there is. Unfinished attempts left in a shard are not copied. Run
//! folders are hard-linked when `OUT` is on the same file system, else copied.

mod hosts;

use crate::runner::{is_finished, starts, write_json_atomic};
use crate::shard::Shard;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How to merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Write the merged folder even when runs are missing (never when doubled).
    pub allow_missing: bool,
    /// Hosts' folders: the most a host may have started a run after its announced
    /// start, or its clock may be seen behind the migration host's, in ms.
    pub max_skew_ms: f64,
}

impl Default for MergeOptions {
    fn default() -> Self {
        Self {
            allow_missing: false,
            max_skew_ms: hosts::DEFAULT_MAX_SKEW_MS,
        }
    }
}

/// What a merge wrote.
#[derive(Debug, Clone)]
pub struct MergeReport {
    /// Runs written into the merged folder (`application/scenario/run-k`).
    pub runs: Vec<String>,
    /// Runs of the plan found in no folder (only with `allow_missing`).
    pub missing: Vec<String>,
    /// The folders merged, with what part each is (`shard 1/3`, `host 2/3`, `whole
    /// campaign`) and how many runs it gave.
    pub sources: Vec<(PathBuf, String, usize)>,
}

/// A merge error: what is wrong, where, what to do.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A folder is not a campaign results folder of this version.
    #[error("{path}: {reason}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The folders are not shards of one campaign.
    #[error("{0}")]
    Mismatch(String),
    /// Runs are missing or doubled.
    #[error("{0}")]
    Incomplete(String),
    /// Writing the merged folder failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

struct Source {
    dir: PathBuf,
    head: Value,
    hash: String,
    shard: Option<Shard>,
}

impl Source {
    /// What part of the campaign the folder holds, for messages.
    fn part(&self) -> String {
        self.shard
            .map_or("whole campaign".into(), |s| format!("shard {s}"))
    }
}

fn read_source(dir: &Path) -> Result<Source, MergeError> {
    let folder = |reason: String| MergeError::Folder {
        path: dir.to_path_buf(),
        reason,
    };
    let path = dir.join("campaign.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        folder(format!(
            "cannot read campaign.json ({e}): give the folders `qoeprobe run --out` wrote"
        ))
    })?;
    let head: Value = serde_json::from_str(&text)
        .map_err(|e| folder(format!("campaign.json is not valid JSON: {e}")))?;
    let hash = head
        .get("campaign_hash")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            folder("campaign.json has no campaign_hash: it was written by an older qoeprobe; rerun it with --resume to add one".into())
        })?
        .to_string();
    let shard = match head.get("shard") {
        None | Some(Value::Null) => None,
        Some(s) => Some(
            serde_json::from_value(s.clone())
                .map_err(|e| folder(format!("campaign.json: bad `shard`: {e}")))?,
        ),
    };
    Ok(Source {
        dir: dir.to_path_buf(),
        head,
        hash,
        shard,
    })
}

/// At most 20 items, then how many more.
fn list(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(20)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > 20 {
        s.push_str(&format!(", and {} more", items.len() - 20));
    }
    s
}

/// Checks that `sources` are parts of one campaign; returns its plan.
fn check_sources(sources: &[Source]) -> Result<Vec<String>, MergeError> {
    let first = &sources[0];
    for s in &sources[1..] {
        if s.hash != first.hash {
            return Err(MergeError::Mismatch(format!(
                "{} is campaign {} but {} is campaign {}: shards merge only when they ran the same resolved campaign (same file, --runs and --only)",
                s.dir.display(),
                &s.hash[..12.min(s.hash.len())],
                first.dir.display(),
                &first.hash[..12.min(first.hash.len())]
            )));
        }
    }
    let counts: BTreeSet<u32> = sources
        .iter()
        .filter_map(|s| s.shard.map(|s| s.count))
        .collect();
    if counts.len() > 1 {
        return Err(MergeError::Mismatch(format!(
            "the folders were split into different shard counts ({}): merge the shards of one split",
            counts
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let mut dirs = BTreeSet::new();
    for s in sources {
        let canon = s.dir.canonicalize().unwrap_or_else(|_| s.dir.clone());
        if !dirs.insert(canon) {
            return Err(MergeError::Mismatch(format!(
                "{} is given twice",
                s.dir.display()
            )));
        }
    }
    let plan = first
        .head
        .get("plan")
        .and_then(Value::as_array)
        .ok_or_else(|| MergeError::Folder {
            path: first.dir.clone(),
            reason: "campaign.json has no plan".into(),
        })?;
    Ok(plan
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect())
}

/// The shards of the split that no folder holds (`2/4, 3/4`), if the folders are shards.
fn absent_shards(sources: &[Source]) -> Vec<String> {
    let Some(count) = sources.iter().find_map(|s| s.shard.map(|s| s.count)) else {
        return Vec::new();
    };
    let given: BTreeSet<u32> = sources
        .iter()
        .filter_map(|s| s.shard.map(|s| s.index))
        .collect();
    if sources.iter().any(|s| s.shard.is_none()) {
        return Vec::new();
    }
    (0..count)
        .filter(|k| !given.contains(k))
        .map(|k| format!("{k}/{count}"))
        .collect()
}

/// Merges the results folders `dirs` into `out` (which must not exist or be empty).
pub fn merge(out: &Path, dirs: &[PathBuf], opts: &MergeOptions) -> Result<MergeReport, MergeError> {
    if dirs.is_empty() {
        return Err(MergeError::Mismatch(
            "no folders to merge: give OUT and one results folder per shard".into(),
        ));
    }
    let sources = dirs
        .iter()
        .map(|d| read_source(d))
        .collect::<Result<Vec<_>, _>>()?;
    if sources
        .iter()
        .any(|s| s.head.get("hosts").is_some_and(|h| !h.is_null()))
    {
        return hosts::merge(out, &sources, opts);
    }
    let plan = check_sources(&sources)?;
    let mut missing = Vec::new();
    let mut doubled = Vec::new();
    let mut chosen = Vec::new();
    for key in &plan {
        let found: Vec<&Source> = sources
            .iter()
            .filter(|s| is_finished(&s.dir.join(key)))
            .collect();
        match found.as_slice() {
            [] => missing.push(key.clone()),
            [one] => chosen.push((key, *one)),
            many => doubled.push(format!(
                "{key} (in {})",
                many.iter()
                    .map(|s| s.dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
        }
    }
    if !doubled.is_empty() || (!missing.is_empty() && !opts.allow_missing) {
        let mut msg = Vec::new();
        if !missing.is_empty() {
            let absent = absent_shards(&sources);
            msg.push(format!(
                "{} of {} run(s) missing: {}{}",
                missing.len(),
                plan.len(),
                list(&missing),
                if absent.is_empty() {
                    String::new()
                } else {
                    format!(" (shards not given: {})", absent.join(", "))
                }
            ));
        }
        if !doubled.is_empty() {
            msg.push(format!(
                "{} run(s) finished in more than one folder: {}",
                doubled.len(),
                list(&doubled)
            ));
        }
        return Err(MergeError::Incomplete(format!(
            "{}; finish the missing runs with `qoeprobe run FILE --shard K/N --resume --out DIR` (or pass --allow-missing), and give every folder once",
            msg.join("; ")
        )));
    }
    write_merged(out, &sources, &chosen)?;
    Ok(MergeReport {
        runs: chosen.iter().map(|(k, _)| (*k).clone()).collect(),
        missing,
        sources: sources
            .iter()
            .map(|s| {
                let n = chosen.iter().filter(|(_, c)| std::ptr::eq(*c, s)).count();
                (s.dir.clone(), s.part(), n)
            })
            .collect(),
    })
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MergeError + '_ {
    move |source| MergeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Refuses an `out` that holds files, then creates it.
fn prepare_out(out: &Path) -> Result<(), MergeError> {
    if out.exists() && std::fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(MergeError::Mismatch(format!(
            "{} exists and is not empty: merge into a new folder",
            out.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(io(out))
}

/// Writes `out/campaign.json`: the first folder's, as one whole campaign (`shard` and
/// `hosts` null), with `merged_from` (one entry per folder) and the `starts` of every
/// folder, in time order (which builds measured the merged runs).
fn write_head(out: &Path, heads: &[&Value], merged_from: Vec<Value>) -> Result<(), MergeError> {
    let mut head = heads.first().map_or(Value::Null, |h| (*h).clone());
    let mut starts: Vec<Value> = heads.iter().flat_map(|h| starts::of_head(h)).collect();
    starts.sort_by_key(|s| s.get("started_unix_ns").and_then(Value::as_u64));
    if let Some(h) = head.as_object_mut() {
        if !starts.is_empty() {
            h.insert("starts".into(), starts.into());
        }
        h.insert("shard".into(), Value::Null);
        if h.contains_key("hosts") {
            h.insert("hosts".into(), Value::Null);
        }
        h.insert(
            "written_unix_ns".into(),
            record::clock::unix_now_ns().into(),
        );
        h.insert("merged_from".into(), merged_from.into());
    }
    let path = out.join("campaign.json");
    write_json_atomic(&path, &head).map_err(io(&path))
}

fn write_merged(
    out: &Path,
    sources: &[Source],
    chosen: &[(&String, &Source)],
) -> Result<(), MergeError> {
    prepare_out(out)?;
    for (key, src) in chosen {
        link_tree(&src.dir.join(key), &out.join(key), &[])?;
    }
    let merged_from = sources
        .iter()
        .map(|s| {
            serde_json::json!({
                "dir": s.dir.display().to_string(),
                "shard": s.shard,
                "host": s.head.get("host").cloned().unwrap_or(Value::Null),
                "runs": chosen.iter().filter(|(_, c)| std::ptr::eq(*c, s)).count(),
            })
        })
        .collect();
    let heads: Vec<&Value> = sources.iter().map(|s| &s.head).collect();
    write_head(out, &heads, merged_from)
}

/// Hard-links (or copies) the files of `from` into `to`, recursively, but for the
/// files named in `skip` at its top.
fn link_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<(), MergeError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for entry in std::fs::read_dir(from).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if skip.iter().any(|s| entry.file_name() == **s) {
            continue;
        }
        if entry.file_type().map_err(io(&src))?.is_dir() {
            link_tree(&src, &dst, &[])?;
        } else if std::fs::hard_link(&src, &dst).is_err() {
            std::fs::copy(&src, &dst).map_err(io(&dst))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_merged_head_lists_every_folders_starts_including_one_from_before_starts() {
        let d = tempfile::tempdir().unwrap();
        let old =
            json!({ "tool": { "name": "qoeprobe", "version": "0.0.9" }, "written_unix_ns": 5 });
        let new = json!({
            "tool": { "name": "qoeprobe", "version": "0.1.0" },
            "starts": [
                { "tool": { "version": "0.1.0" }, "started_unix_ns": 9 },
                { "tool": { "version": "0.1.0" }, "started_unix_ns": 3 },
            ],
        });
        write_head(d.path(), &[&new, &old], Vec::new()).unwrap();
        let head: Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join("campaign.json")).unwrap())
                .unwrap();
        let at: Vec<u64> = head["starts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["started_unix_ns"].as_u64().unwrap())
            .collect();
        assert_eq!(at, [3, 5, 9], "{head}");
        assert_eq!(head["starts"][1]["tool"]["version"], "0.0.9");
    }
}
