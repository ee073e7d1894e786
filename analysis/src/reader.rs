//! Reading a campaign's results folder (docs/results.md):
//! `<campaign>/campaign.json` and `<application>/<scenario>/run-<k>/{run.json,
//! timeline.jsonl, summary.json}`.
//!
//! Every run is judged as it is read ([`crate::judge::judge`]); its timeline is
//! dropped afterwards unless it is among the first runs of its cell (kept for the
//! report's per-run plots), so memory stays bounded on large campaigns. Unreadable
//! files become [`Problem`]s with path and reason; incomplete runs are skipped with a
//! note. Nothing here panics on bad input. Runs are read on all cores.

use crate::error::AnalysisError;
pub use crate::loaded::campaign_profiles;
use crate::loaded::ordered;
pub use crate::loaded::{Campaign, LoadOptions, LoadedRun, Problem};
use crate::parts::{RunParts, judged_run};
use crate::timeline::Timeline;
use record::Profile;
use record::{RunInfo, RunSummary};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

fn subdirs(path: &Path) -> Result<Vec<(String, PathBuf)>, AnalysisError> {
    let rd = std::fs::read_dir(path).map_err(|source| AnalysisError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out: Vec<(String, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    out.sort();
    Ok(out)
}

fn run_number(name: &str) -> Option<u32> {
    name.strip_prefix("run-")?.parse().ok()
}

/// The run folders below a campaign folder: (application, scenario, k, path).
pub(crate) fn run_dirs(root: &Path) -> Result<Vec<(String, String, u32, PathBuf)>, AnalysisError> {
    let mut out = Vec::new();
    for (app, app_dir) in subdirs(root)? {
        for (scn, scn_dir) in subdirs(&app_dir).unwrap_or_default() {
            let mut runs: Vec<(u32, PathBuf)> = subdirs(&scn_dir)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(n, p)| Some((run_number(&n)?, p)))
                .collect();
            runs.sort();
            out.extend(
                runs.into_iter()
                    .map(|(k, p)| (app.clone(), scn.clone(), k, p)),
            );
        }
    }
    Ok(out)
}

/// Finds the campaign folder: `dir` itself, or its only campaign subfolder.
pub(crate) fn campaign_root(dir: &Path) -> Result<PathBuf, AnalysisError> {
    match std::fs::metadata(dir) {
        Err(_) => return Err(AnalysisError::Missing(dir.to_path_buf())),
        Ok(m) if !m.is_dir() => return Err(AnalysisError::NotAFolder(dir.to_path_buf())),
        Ok(_) => {}
    }
    if dir.join("campaign.json").is_file() || !run_dirs(dir)?.is_empty() {
        return Ok(dir.to_path_buf());
    }
    let candidates: Vec<(String, PathBuf)> = subdirs(dir)?
        .into_iter()
        .filter(|(_, p)| {
            p.join("campaign.json").is_file() || run_dirs(p).is_ok_and(|r| !r.is_empty())
        })
        .collect();
    match candidates.len() {
        0 => Err(AnalysisError::Empty(dir.to_path_buf())),
        1 => Ok(candidates[0].1.clone()),
        _ => Err(AnalysisError::SeveralCampaigns {
            path: dir.to_path_buf(),
            campaigns: candidates.into_iter().map(|c| c.0).collect(),
        }),
    }
}

enum RunRead {
    Run(Box<LoadedRun>, Vec<Problem>),
    Skipped(Option<Problem>, Option<String>),
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Problem> {
    let text = userfile::read_to_string(path, userfile::limit::RECORD).map_err(|e| Problem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| Problem {
        path: path.to_path_buf(),
        reason: format!("not a valid file of this kind: {e}"),
    })
}

fn read_run(
    (app, scn, k, dir): &(String, String, u32, PathBuf),
    keep_timeline: bool,
    profiles: &BTreeMap<String, Profile>,
) -> RunRead {
    let sp = dir.join("summary.json");
    if !sp.is_file() {
        let note = format!(
            "{}: no summary.json (still running, or interrupted before the runner finalized it): skipped",
            dir.display()
        );
        return RunRead::Skipped(None, Some(note));
    }
    let summary: RunSummary = match read_json(&sp) {
        Ok(s) => s,
        Err(p) => return RunRead::Skipped(Some(p), None),
    };
    if !summary.complete {
        let why = summary
            .incomplete_reason
            .as_deref()
            .unwrap_or("no reason given");
        let note = format!("{}: incomplete run ({why}): skipped", dir.display());
        return RunRead::Skipped(None, Some(note));
    }
    let mut problems = Vec::new();
    let info = match read_json::<RunInfo>(&dir.join("run.json")) {
        Ok(i) => Some(i),
        Err(p) => {
            problems.push(p);
            None
        }
    };
    let tp = dir.join("timeline.jsonl");
    let events = match Timeline::read(&tp) {
        Ok(t) => {
            if !t.bad_lines.is_empty() {
                problems.push(Problem {
                    path: tp.clone(),
                    reason: format!("lines skipped: {}", t.bad_lines.join("; ")),
                });
            }
            t.events
        }
        Err(e) => {
            problems.push(Problem {
                path: tp.clone(),
                reason: format!("{e}; the run was judged on its summary alone"),
            });
            Vec::new()
        }
    };
    let parts = RunParts {
        dir: dir.clone(),
        application: app.clone(),
        scenario: scn.clone(),
        run: *k,
        info,
        summary,
        events,
    };
    RunRead::Run(
        Box::new(judged_run(parts, profiles, keep_timeline)),
        problems,
    )
}

/// Reads and judges the campaign in `dir` (a campaign folder, or a folder holding
/// exactly one). Errors only when there is nothing to read; bad files become
/// [`Campaign::problems`].
pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Campaign, AnalysisError> {
    let root = campaign_root(dir)?;
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let cp = root.join("campaign.json");
    let campaign = if cp.is_file() {
        match read_json::<serde_json::Value>(&cp) {
            Ok(v) => Some(v),
            Err(p) => {
                problems.push(p);
                None
            }
        }
    } else {
        None
    };
    let profiles = campaign_profiles(campaign.as_ref(), &cp, opts, &mut problems);
    let dirs = run_dirs(&root)?;
    if dirs.is_empty() {
        return Err(AnalysisError::Empty(root));
    }
    let mut keep = vec![false; dirs.len()];
    let mut seen: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, d) in dirs.iter().enumerate() {
        let n = seen.entry((&d.0, &d.1)).or_default();
        keep[i] = *n < opts.timelines_per_cell;
        *n += 1;
    }
    let results: Vec<Mutex<Option<RunRead>>> = dirs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(d) = dirs.get(i) else { break };
                    let r = read_run(d, keep[i], &profiles);
                    if let Ok(mut slot) = results[i].lock() {
                        *slot = Some(r);
                    }
                }
            });
        }
    });
    let mut runs = Vec::new();
    let mut skipped: BTreeMap<(String, String), usize> = BTreeMap::new();
    let (mut apps, mut scns) = (Vec::new(), Vec::new());
    for (d, slot) in dirs.iter().zip(results) {
        if !apps.contains(&d.0) {
            apps.push(d.0.clone());
        }
        if !scns.contains(&d.1) {
            scns.push(d.1.clone());
        }
        match slot.into_inner().ok().flatten() {
            Some(RunRead::Run(r, p)) => {
                runs.push(*r);
                problems.extend(p);
            }
            Some(RunRead::Skipped(p, n)) => {
                *skipped.entry((d.0.clone(), d.1.clone())).or_default() += 1;
                problems.extend(p);
                notes.extend(n);
            }
            None => {}
        }
    }
    apps.sort();
    scns.sort();
    Ok(Campaign {
        applications: ordered(campaign.as_ref(), "applications", apps),
        scenarios: ordered(campaign.as_ref(), "scenarios", scns),
        root,
        campaign,
        runs,
        skipped,
        problems,
        notes,
    })
}
