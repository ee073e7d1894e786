//! What reading a campaign yields, wherever it was read from (a results folder:
//! `reader`; a database: `parts`): the judged runs, the problems met, the options, and
//! the two rules both readers share (the order of names, the profiles).

use crate::judge::{self, RunOutcome};
use crate::profile::profiles_from_campaign;
use record::{AppKind, Profile};
use record::{Event, RunInfo, RunSummary};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

/// One complete run, judged.
#[derive(Debug, Clone)]
pub struct LoadedRun {
    /// The run folder.
    pub dir: PathBuf,
    /// Application (folder name).
    pub application: String,
    /// Network scenario (folder name).
    pub scenario: String,
    /// Run number (from `run-<k>`).
    pub run: u32,
    /// `run.json`, when readable.
    pub info: Option<RunInfo>,
    /// `summary.json`.
    pub summary: RunSummary,
    /// The judgement.
    pub outcome: RunOutcome,
    /// The application kind its profile was chosen by.
    pub kind: Option<AppKind>,
    /// The migration window judged (with the profile's cool-down).
    pub window: Option<judge::Window>,
    /// The timeline, kept for the first runs of each cell only.
    pub timeline: Option<Vec<Event>>,
}

/// A campaign's results, read and judged.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// The campaign folder.
    pub root: PathBuf,
    /// `campaign.json`, when present and readable.
    pub campaign: Option<serde_json::Value>,
    /// Applications in campaign order (else alphabetical).
    pub applications: Vec<String>,
    /// Network scenarios in campaign order (else alphabetical).
    pub scenarios: Vec<String>,
    /// The complete runs, by application, scenario and run number.
    pub runs: Vec<LoadedRun>,
    /// Runs left out per (application, scenario): incomplete or unreadable.
    pub skipped: BTreeMap<(String, String), usize>,
    /// Unreadable files.
    pub problems: Vec<Problem>,
    /// Remarks (incomplete runs skipped, profiles taken from campaign.json, ...).
    pub notes: Vec<String>,
}

/// How to read a campaign.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Profiles by application; they win over those in `campaign.json`.
    pub profiles: BTreeMap<String, Profile>,
    /// Timelines kept per cell for the report (the first runs); default 1.
    pub timelines_per_cell: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            profiles: BTreeMap::new(),
            timelines_per_cell: 1,
        }
    }
}

/// Names in the order `campaign.json` lists them under `key` (array of `{name}` or
/// map), then the others alphabetically.
pub(crate) fn ordered(
    campaign: Option<&serde_json::Value>,
    key: &str,
    found: Vec<String>,
) -> Vec<String> {
    let listed: Vec<String> = match campaign.and_then(|c| c.get(key)) {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.get("name").and_then(|n| n.as_str()).map(String::from))
            .collect(),
        Some(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let mut out: Vec<String> = listed.into_iter().filter(|n| found.contains(n)).collect();
    for n in found {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

/// The profiles of a campaign (by application): those of `campaign.json`, overridden by `opts`;
/// `campaign.json`'s errors become problems of `cp`.
pub fn campaign_profiles(
    campaign: Option<&serde_json::Value>,
    cp: &Path,
    opts: &LoadOptions,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, Profile> {
    let mut profiles = BTreeMap::new();
    if let Some(c) = campaign {
        let (p, errors) = profiles_from_campaign(c);
        profiles = p;
        problems.extend(errors.into_iter().map(|reason| Problem {
            path: cp.to_path_buf(),
            reason: format!("{reason}; the default profile was used"),
        }));
    }
    profiles.extend(opts.profiles.clone());
    profiles
}
