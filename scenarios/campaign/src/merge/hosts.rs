//! The folders of a campaign run by several hosts (crate::hosts) made into one: per
//! run, the migration host's run folder (its `run.json`, phases, reachability, driver
//! files) with every client host's probe results added to `summary.json` and their
//! events moved onto the migration host's run clock (by the difference of the run's
//! wall anchors) in `timeline.jsonl`, plus `hosts.json` (which host ran which
//! sessions, and how late each started). The result reads like one host that ran
//! every client.
//!
//! Refused with what is wrong: folders of different campaigns (hash) or start times,
//! a host missing or given twice, a run unfinished on a host, a client session lost or
//! run twice, a host that started a run later than the skew tolerance after its
//! announced start, or whose clock shows behind or ahead of the migration host's by
//! more than it.

use super::{
    MergeError, MergeOptions, MergeReport, Source, check_sources, io, link_tree, list, prepare_out,
    write_head,
};
use crate::hosts::{HostRole, RunHostFacts};
use crate::runner::{is_finished, write_json_atomic};
use record::{Event, RunInfo, RunSummary};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Default skew tolerance (ms): a client event lands on the migration host's timeline
/// at most this far from where it happened, which is small beside the seconds of
/// warm-up and cool-down around the migration window the verdicts judge.
pub(super) const DEFAULT_MAX_SKEW_MS: f64 = 500.0;

/// The `hosts` facts in a host's `campaign.json`.
#[derive(serde::Deserialize)]
struct HostsHead {
    index: u32,
    count: u32,
    start_at_unix_ns: u64,
    sessions: BTreeMap<String, Vec<String>>,
}

struct Host<'a> {
    src: &'a Source,
    head: HostsHead,
}

impl Host<'_> {
    fn role(&self) -> String {
        format!("host {}/{}", self.head.index, self.head.count)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, MergeError> {
    let text = userfile::read_to_string(path, userfile::limit::RECORD).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| MergeError::Folder {
        path: path.to_path_buf(),
        reason: format!("not readable by this version: {e}"),
    })
}

fn read_events(path: &Path) -> Result<Vec<Event>, MergeError> {
    let text = userfile::read_to_string(path, userfile::limit::TIMELINE).map_err(io(path))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| MergeError::Folder {
                path: path.to_path_buf(),
                reason: format!("line {}: not an event: {e}", i + 1),
            })
        })
        .collect()
}

/// The hosts by index, checked: one campaign, one start time, every host once.
fn hosts_by_index<'a>(sources: &'a [Source]) -> Result<Vec<Host<'a>>, MergeError> {
    let mut hosts = Vec::new();
    for s in sources {
        let head = match s.head.get("hosts") {
            Some(h) if !h.is_null() => {
                serde_json::from_value::<HostsHead>(h.clone()).map_err(|e| MergeError::Folder {
                    path: s.dir.clone(),
                    reason: format!("campaign.json: bad `hosts`: {e}"),
                })?
            }
            _ => {
                return Err(MergeError::Mismatch(format!(
                    "{} holds {}, not a host's part: merge the folders of one `run --host K/N` campaign alone",
                    s.dir.display(),
                    s.part()
                )));
            }
        };
        hosts.push(Host { src: s, head });
    }
    let first = &hosts[0];
    for h in &hosts[1..] {
        if h.head.start_at_unix_ns != first.head.start_at_unix_ns {
            return Err(MergeError::Mismatch(format!(
                "different start times: {} was started with --start-at {} but {} with {} (unix ns): the hosts did not run one migration together",
                first.src.dir.display(),
                first.head.start_at_unix_ns,
                h.src.dir.display(),
                h.head.start_at_unix_ns
            )));
        }
        if h.head.count != first.head.count {
            return Err(MergeError::Mismatch(format!(
                "{} is {} but {} is {}: merge the hosts of one run",
                first.src.dir.display(),
                first.role(),
                h.src.dir.display(),
                h.role()
            )));
        }
    }
    let count = first.head.count;
    hosts.sort_by_key(|h| h.head.index);
    for w in hosts.windows(2) {
        if w[0].head.index == w[1].head.index {
            return Err(MergeError::Mismatch(format!(
                "{} and {} are both {}: give each host's folder once",
                w[0].src.dir.display(),
                w[1].src.dir.display(),
                w[0].role()
            )));
        }
    }
    let given: BTreeSet<u32> = hosts.iter().map(|h| h.head.index).collect();
    let absent: Vec<String> = (0..count)
        .filter(|k| !given.contains(k))
        .map(|k| {
            if k == 0 {
                format!("0/{count} (the migration host)")
            } else {
                format!("{k}/{count}")
            }
        })
        .collect();
    if !absent.is_empty() {
        return Err(MergeError::Incomplete(format!(
            "host(s) not given: {}; give every host's folder (`run --host K/{count} --out DIR`)",
            absent.join(", ")
        )));
    }
    Ok(hosts)
}

/// What the check of one run found on one host.
struct Part {
    info: RunInfo,
    summary: RunSummary,
    facts: Option<RunHostFacts>,
}

fn read_part(dir: &Path) -> Result<Part, MergeError> {
    let facts = dir.join("host.json");
    Ok(Part {
        info: read_json(&dir.join("run.json"))?,
        summary: read_json(&dir.join("summary.json"))?,
        facts: facts.is_file().then(|| read_json(&facts)).transpose()?,
    })
}

/// Checks one run's parts (host 0's first): every session once, every host within
/// the skew tolerance. Problems are added to `problems`.
fn check_run(
    key: &str,
    hosts: &[Host<'_>],
    parts: &[Part],
    max_skew_ms: f64,
    problems: &mut Vec<String>,
) {
    let app = key.split('/').next().unwrap_or_default();
    let expected: BTreeSet<&String> = hosts[0]
        .head
        .sessions
        .get(app)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let mut seen: BTreeMap<&String, Vec<u32>> = BTreeMap::new();
    for (h, p) in hosts.iter().zip(parts).skip(1) {
        for name in p.summary.probes.keys() {
            seen.entry(name).or_default().push(h.head.index);
        }
    }
    for (name, on) in &seen {
        if on.len() > 1 {
            problems.push(format!("{key}: session `{name}` ran on hosts {on:?}"));
        } else if !expected.contains(name) {
            problems.push(format!(
                "{key}: session `{name}` (host {}) is not one of the campaign's",
                on[0]
            ));
        }
    }
    for name in expected.iter().filter(|n| !seen.contains_key(*n)) {
        problems.push(format!("{key}: session `{name}` is on no host"));
    }
    let anchor0 = parts[0].info.wall_anchor_unix_ns;
    for (h, p) in hosts.iter().zip(parts) {
        let Some(f) = &p.facts else {
            problems.push(format!(
                "{key}: {} wrote no host.json (the run did not start there)",
                h.role()
            ));
            continue;
        };
        let late = f.start_offset_ms();
        if late.abs() > max_skew_ms {
            problems.push(format!(
                "{key}: {} started {late:.0} ms after the announced start",
                h.role()
            ));
        }
        let behind = f.behind_ms();
        if behind > max_skew_ms {
            problems.push(format!(
                "{key}: {}'s clock is at least {behind:.0} ms behind host 0's (it read the announcement before host 0 wrote it)",
                h.role()
            ));
        }
        if p.info.wall_anchor_unix_ns < anchor0 {
            problems.push(format!(
                "{key}: {} started its run clock {:.0} ms before host 0 started the run: its clock is ahead of host 0's",
                h.role(),
                (anchor0 - p.info.wall_anchor_unix_ns) as f64 / 1e6
            ));
        }
    }
}

/// Writes one merged run folder.
fn write_run(
    out: &Path,
    key: &str,
    hosts: &[Host<'_>],
    parts: Vec<Part>,
) -> Result<(), MergeError> {
    let dir0 = hosts[0].src.dir.join(key);
    let to = out.join(key);
    link_tree(&dir0, &to, &["summary.json", "timeline.jsonl", "host.json"])?;
    let anchor0 = parts[0].info.wall_anchor_unix_ns;
    let mut events = read_events(&dir0.join("timeline.jsonl"))?;
    let mut summary: Option<RunSummary> = None;
    let mut table = Vec::new();
    for (h, p) in hosts.iter().zip(parts) {
        // The check refused a client anchor before host 0's.
        let offset = p.info.wall_anchor_unix_ns.saturating_sub(anchor0);
        let facts = p.facts;
        let sessions: Vec<String> = p.summary.probes.keys().cloned().collect();
        match summary.as_mut() {
            None => summary = Some(p.summary),
            Some(s) => {
                let from = h.src.dir.join(key).join("timeline.jsonl");
                events.extend(read_events(&from)?.into_iter().map(|e| e.shifted(offset)));
                s.probes.extend(p.summary.probes);
            }
        }
        table.push(serde_json::json!({
            "host": HostRole { index: h.head.index, count: h.head.count },
            "hostname": facts.as_ref().and_then(|f| f.hostname.clone()),
            "dir": h.src.dir.join(key).display().to_string(),
            "clock_offset_ns": offset,
            "start_offset_ms": facts.as_ref().map(RunHostFacts::start_offset_ms),
            "behind_ms": facts.as_ref().map(RunHostFacts::behind_ms),
            "sessions": sessions,
        }));
    }
    events.sort_by_key(|e| e.t_ns);
    let mut text = Vec::new();
    for e in &events {
        serde_json::to_writer(&mut text, e).map_err(|e| MergeError::Folder {
            path: to.clone(),
            reason: format!("an event could not be encoded: {e}"),
        })?;
        text.push(b'\n');
    }
    let path = to.join("timeline.jsonl");
    userfile::write(&path, &text).map_err(io(&path))?;
    let path = to.join("summary.json");
    write_json_atomic(&path, &summary).map_err(io(&path))?;
    let path = to.join("hosts.json");
    write_json_atomic(&path, &table).map_err(io(&path))
}

/// Merges the folders of the hosts of one campaign into `out`.
pub(super) fn merge(
    out: &Path,
    sources: &[Source],
    opts: &MergeOptions,
) -> Result<MergeReport, MergeError> {
    let hosts = hosts_by_index(sources)?;
    let plan = check_sources(sources)?;
    let (mut missing, mut chosen) = (Vec::new(), Vec::new());
    for key in &plan {
        let absent: Vec<String> = hosts
            .iter()
            .filter(|h| !is_finished(&h.src.dir.join(key)))
            .map(|h| format!("{key} on {}", h.role()))
            .collect();
        if absent.is_empty() {
            chosen.push(key);
        } else {
            missing.extend(absent);
        }
    }
    if !missing.is_empty() && !opts.allow_missing {
        return Err(MergeError::Incomplete(format!(
            "{} run part(s) not finished: {}; a run counts when every host finished it: run the campaign again (or pass --allow-missing to leave those runs out)",
            missing.len(),
            list(&missing)
        )));
    }
    let mut problems = Vec::new();
    let mut all_parts = Vec::new();
    for key in &chosen {
        let parts = hosts
            .iter()
            .map(|h| read_part(&h.src.dir.join(key)))
            .collect::<Result<Vec<_>, _>>()?;
        check_run(key, &hosts, &parts, opts.max_skew_ms, &mut problems);
        all_parts.push(parts);
    }
    if !problems.is_empty() {
        return Err(MergeError::Incomplete(format!(
            "{} problem(s): {}; the skew tolerance is {} ms (--max-skew-ms): synchronise the hosts' clocks (NTP) and give them a later --start-at",
            problems.len(),
            list(&problems),
            opts.max_skew_ms
        )));
    }
    prepare_out(out)?;
    for (key, parts) in chosen.iter().zip(all_parts) {
        write_run(out, key, &hosts, parts)?;
    }
    let merged_from = hosts
        .iter()
        .map(|h| {
            serde_json::json!({
                "dir": h.src.dir.display().to_string(),
                "host_role": HostRole { index: h.head.index, count: h.head.count },
                "host": h.src.head.get("host").cloned().unwrap_or(Value::Null),
                "runs": chosen.len(),
            })
        })
        .collect();
    let heads: Vec<&Value> = hosts.iter().map(|h| &h.src.head).collect();
    write_head(out, &heads, merged_from)?;
    Ok(MergeReport {
        runs: chosen.iter().map(|k| (*k).clone()).collect(),
        missing,
        sources: hosts
            .iter()
            .map(|h| (h.src.dir.clone(), h.role(), chosen.len()))
            .collect(),
    })
}
