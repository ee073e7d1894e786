//! Exports of a results folder for other tools (docs/export.md): [`ndjson`]
//! (Elastic Common Schema documents, one per run and per event, for Elasticsearch /
//! OpenSearch `_bulk` or Filebeat) and [`csv`] (one row per run with every phase and
//! summary metric, for pandas or R). Both read every run, incomplete ones included,
//! one at a time (memory stays bounded), through [`Folder::runs`].

pub mod csv;
pub mod ndjson;

use crate::error::AnalysisError;
use crate::reader::{Problem, campaign_root, read_json, run_dirs};
use record::{RunInfo, RunSummary};
use std::path::{Path, PathBuf};

/// One run folder as read for an export: whatever of its files could be read.
#[derive(Debug, Clone)]
pub struct RawRun {
    /// The run folder.
    pub dir: PathBuf,
    /// Application (folder name).
    pub application: String,
    /// Network scenario (folder name).
    pub scenario: String,
    /// Run number (`run-<k>`).
    pub run: u32,
    /// `run.json`, when readable.
    pub info: Option<RunInfo>,
    /// `summary.json`, when present and readable.
    pub summary: Option<RunSummary>,
    /// Files that could not be read.
    pub problems: Vec<Problem>,
}

impl RawRun {
    /// True when `summary.json` says the run finished.
    pub fn complete(&self) -> bool {
        self.summary.as_ref().is_some_and(|s| s.complete)
    }

    /// Why the run is not complete: the summary's reason, or which file is missing.
    pub fn incomplete_reason(&self) -> Option<String> {
        match &self.summary {
            Some(s) if s.complete => None,
            Some(s) => Some(
                s.incomplete_reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".into()),
            ),
            None => Some(
                "no readable summary.json (still running, or interrupted before the runner finalized it)"
                    .into(),
            ),
        }
    }

    /// The wall clock (ns since the Unix epoch) at the run's `t_ns` = 0, from
    /// `run.json`, else from a probe's summary.
    pub fn wall_anchor_unix_ns(&self) -> Option<u64> {
        self.info
            .as_ref()
            .map(|i| i.wall_anchor_unix_ns)
            .or_else(|| {
                self.summary
                    .as_ref()?
                    .probes
                    .values()
                    .find_map(|p| match p {
                        record::ProbeResult::Measured(m) => Some(m.wall_anchor_unix_ns),
                        _ => None,
                    })
            })
    }

    /// The timeline file.
    pub fn timeline_path(&self) -> PathBuf {
        self.dir.join("timeline.jsonl")
    }
}

/// A campaign folder opened for export: its root, `campaign.json` and run folders.
#[derive(Debug, Clone)]
pub struct Folder {
    /// The campaign folder.
    pub root: PathBuf,
    /// `campaign.json`, when present and readable.
    pub campaign: Option<serde_json::Value>,
    /// The campaign's name: `campaign.json` `name`, else the folder's name.
    pub name: String,
    /// Problems met so far (`campaign.json` unreadable).
    pub problems: Vec<Problem>,
    dirs: Vec<(String, String, u32, PathBuf)>,
}

impl Folder {
    /// Opens `dir` (a campaign folder, or a folder holding exactly one).
    pub fn open(dir: &Path) -> Result<Self, AnalysisError> {
        let root = campaign_root(dir)?;
        let dirs = run_dirs(&root)?;
        if dirs.is_empty() {
            return Err(AnalysisError::Empty(root));
        }
        let cp = root.join("campaign.json");
        let mut problems = Vec::new();
        let campaign = if cp.is_file() {
            read_json::<serde_json::Value>(&cp)
                .map_err(|p| problems.push(p))
                .ok()
        } else {
            None
        };
        let name = campaign
            .as_ref()
            .and_then(|c| c.get("name"))
            .and_then(|n| n.as_str())
            .map(String::from)
            .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "campaign".into());
        Ok(Folder {
            root,
            campaign,
            name,
            problems,
            dirs,
        })
    }

    /// How many run folders it holds.
    pub fn len(&self) -> usize {
        self.dirs.len()
    }

    /// True when it holds no run folder (never, once opened).
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty()
    }

    /// Reads the run folders one by one, in (application, scenario, run) order.
    pub fn runs(&self) -> impl Iterator<Item = RawRun> + '_ {
        self.places().map(|p| RawRun::read(&p))
    }

    /// The run folders without reading them, in (application, scenario, run) order.
    pub fn places(&self) -> impl Iterator<Item = RunPlace> + '_ {
        self.dirs.iter().map(|(app, scn, k, dir)| RunPlace {
            application: app.clone(),
            scenario: scn.clone(),
            run: *k,
            dir: dir.clone(),
        })
    }
}

/// Where one run of a campaign folder is: its key and its folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPlace {
    /// Application (folder name).
    pub application: String,
    /// Network scenario (folder name).
    pub scenario: String,
    /// Run number (`run-<k>`).
    pub run: u32,
    /// The run folder.
    pub dir: PathBuf,
}

impl RawRun {
    /// Reads the run folder at `place` (whatever of its files can be read).
    pub fn read(place: &RunPlace) -> RawRun {
        read_raw(&place.application, &place.scenario, place.run, &place.dir)
    }
}

fn read_raw(app: &str, scn: &str, k: u32, dir: &Path) -> RawRun {
    let mut problems = Vec::new();
    let info = read_json::<RunInfo>(&dir.join("run.json"))
        .map_err(|p| problems.push(p))
        .ok();
    let sp = dir.join("summary.json");
    let summary = if sp.is_file() {
        read_json::<RunSummary>(&sp)
            .map_err(|p| problems.push(p))
            .ok()
    } else {
        None
    };
    RawRun {
        dir: dir.to_path_buf(),
        application: app.to_string(),
        scenario: scn.to_string(),
        run: k,
        info,
        summary,
        problems,
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportStats {
    /// Runs written.
    pub runs: usize,
    /// Of which incomplete.
    pub incomplete: usize,
    /// Events written.
    pub events: usize,
    /// Files or lines that could not be read (`path: reason`).
    pub problems: Vec<String>,
}

impl ExportStats {
    fn problem(&mut self, p: &Problem) {
        self.problems
            .push(format!("{}: {}", p.path.display(), p.reason));
    }
}
