//! Reading a run for the database: its three files are hashed first, and only a run
//! whose hash the database does not hold already is parsed, split into events and
//! judged (a reload of a loaded folder then costs one read and one SHA-256 per run).

use analysis::export::{RawRun, RunPlace};
use analysis::timeline::Timeline;
use record::Profile;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A run's key in the database: (application, scenario, run).
pub(crate) type RunKey = (String, String, i32);

/// The key of the run at `place`.
pub(crate) fn key_of(place: &RunPlace) -> RunKey {
    (
        place.application.clone(),
        place.scenario.clone(),
        i32::try_from(place.run).unwrap_or(i32::MAX),
    )
}

/// One event line.
pub(crate) struct EventRow {
    pub seq: i32,
    pub t_ns: u64,
    pub source: String,
    pub kind: String,
    pub line: String,
}

#[derive(serde::Deserialize)]
struct Head {
    t_ns: u64,
    source: String,
    kind: String,
}

/// One run, read and judged, ready to write.
pub(crate) struct RunRow {
    pub raw: RawRun,
    pub sha: String,
    pub info_text: Option<String>,
    pub summary_text: Option<String>,
    pub events: Vec<EventRow>,
    pub verdict: Option<analysis::RunOutcome>,
    pub kind: Option<record::AppKind>,
    pub problems: Vec<String>,
}

/// A run as the reader hands it to the writer.
pub(crate) enum Prepared {
    /// The database holds it with this content already.
    Unchanged,
    /// New or changed: to write.
    Row(Box<RunRow>),
}

fn read_text(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// SHA-256 (hex) of a run's content: run.json, summary.json (absent: empty) and the
/// timeline, separated by NUL bytes.
fn content_sha(info: Option<&str>, summary: Option<&str>, timeline: &str) -> String {
    let mut h = Sha256::new();
    for part in [info, summary] {
        h.update(part.unwrap_or("").as_bytes());
        h.update([0]);
    }
    h.update(timeline.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes the run at `place`; when its hash is not `known`, reads, splits and judges it.
fn prepare(place: RunPlace, known: Option<&str>, profiles: &BTreeMap<String, Profile>) -> Prepared {
    let info_file = read_text(&place.dir.join("run.json"));
    let summary_file = read_text(&place.dir.join("summary.json"));
    let timeline = read_text(&place.dir.join("timeline.jsonl")).unwrap_or_default();
    let sha = content_sha(info_file.as_deref(), summary_file.as_deref(), &timeline);
    if known == Some(sha.as_str()) {
        return Prepared::Unchanged;
    }
    let raw = RawRun::read(&place);
    let mut problems: Vec<String> = raw
        .problems
        .iter()
        .map(|p| format!("{}: {}", p.path.display(), p.reason))
        .collect();
    // The JSON columns hold only what parsed.
    let info_text = raw.info.as_ref().and(info_file);
    let summary_text = raw.summary.as_ref().and(summary_file);
    let mut events = Vec::new();
    let mut bad = 0usize;
    for (i, line) in timeline.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Head>(line) {
            Ok(head) => events.push(EventRow {
                seq: i32::try_from(i + 1).unwrap_or(i32::MAX),
                t_ns: head.t_ns,
                source: head.source,
                kind: head.kind,
                line: line.to_string(),
            }),
            Err(_) => bad += 1,
        }
    }
    if bad > 0 {
        problems.push(format!(
            "{}: {bad} line(s) that are not events left out",
            raw.timeline_path().display()
        ));
    }
    let (verdict, kind) = match &raw.summary {
        Some(s) if s.complete => {
            let profile = profiles.get(&raw.application).cloned().unwrap_or_default();
            let typed = Timeline::parse(&timeline).events;
            (
                Some(analysis::judge(s, &typed, &profile)),
                analysis::judge::application_kind(s, &profile),
            )
        }
        _ => (None, None),
    };
    Prepared::Row(Box::new(RunRow {
        raw,
        sha,
        info_text,
        summary_text,
        events,
        verdict,
        kind,
        problems,
    }))
}

/// Prepares a batch of runs on all cores (at most 8 threads), in order.
pub(crate) fn prepare_batch(
    batch: Vec<RunPlace>,
    known: &HashMap<RunKey, (i64, String)>,
    profiles: &BTreeMap<String, Profile>,
) -> Vec<Prepared> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = batch.len().div_ceil(threads).max(1);
    let mut batch = batch;
    let mut parts = Vec::new();
    while !batch.is_empty() {
        let rest = batch.split_off(chunk.min(batch.len()));
        parts.push(std::mem::replace(&mut batch, rest));
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|p| {
                s.spawn(move || {
                    p.into_iter()
                        .map(|place| {
                            let sha = known.get(&key_of(&place)).map(|(_, sha)| sha.as_str());
                            prepare(place, sha, profiles)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
