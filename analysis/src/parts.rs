//! Runs read from somewhere other than a folder (a database): [`RunParts`] judged as
//! the folder reader judges them ([`judged_run`]), and a [`Campaign`] assembled from
//! them ([`from_parts`]).

use crate::judge;
use crate::loaded::{Campaign, LoadOptions, LoadedRun, campaign_profiles, ordered};
use crate::profile::limits;
use record::{AppKind, Event, Profile, RunInfo, RunSummary};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One complete run's contents, read from a folder or elsewhere (a database).
#[derive(Debug, Clone)]
pub struct RunParts {
    /// Where it came from (the run folder, or a name for it).
    pub dir: PathBuf,
    /// Application.
    pub application: String,
    /// Network scenario.
    pub scenario: String,
    /// Run number.
    pub run: u32,
    /// `run.json`, when readable.
    pub info: Option<RunInfo>,
    /// `summary.json` (complete).
    pub summary: RunSummary,
    /// The timeline.
    pub events: Vec<Event>,
}

/// Judges one complete run by its application's profile (the default profile when
/// `profiles` has none); keeps its timeline when `keep_timeline`.
pub fn judged_run(
    parts: RunParts,
    profiles: &BTreeMap<String, Profile>,
    keep_timeline: bool,
) -> LoadedRun {
    let RunParts {
        dir,
        application,
        scenario,
        run,
        info,
        summary,
        events,
    } = parts;
    let profile = profiles.get(&application).cloned().unwrap_or_default();
    let outcome = judge::judge(&summary, &events, &profile);
    let kind = judge::application_kind(&summary, &profile);
    let cooldown = limits(&profile, kind.unwrap_or(AppKind::BufferedVideo)).cooldown_ms;
    let window = judge::Window::of(&summary, &events, cooldown);
    LoadedRun {
        dir,
        application,
        scenario,
        run,
        info,
        summary,
        outcome,
        kind,
        window,
        timeline: keep_timeline.then_some(events),
    }
}

/// A run as [`from_parts`] takes it: complete, or left out with a note.
#[derive(Debug, Clone)]
pub enum RunEntry {
    /// A complete run.
    Complete(Box<RunParts>),
    /// An incomplete or unreadable run, skipped (counted in its cell).
    Skipped {
        /// Application.
        application: String,
        /// Network scenario.
        scenario: String,
        /// Why it was left out.
        note: String,
    },
}

/// A campaign from runs read elsewhere (a database): judged as [`crate::load`] judges a
/// folder, in the order given (application, scenario, run).
pub fn from_parts(
    root: PathBuf,
    campaign: Option<serde_json::Value>,
    entries: Vec<RunEntry>,
    opts: &LoadOptions,
) -> Campaign {
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    let profiles = campaign_profiles(
        campaign.as_ref(),
        &root.join("campaign.json"),
        opts,
        &mut problems,
    );
    let mut runs = Vec::new();
    let mut skipped: BTreeMap<(String, String), usize> = BTreeMap::new();
    let (mut apps, mut scns) = (Vec::new(), Vec::new());
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    for entry in entries {
        let (app, scn) = match &entry {
            RunEntry::Complete(p) => (p.application.clone(), p.scenario.clone()),
            RunEntry::Skipped {
                application,
                scenario,
                ..
            } => (application.clone(), scenario.clone()),
        };
        if !apps.contains(&app) {
            apps.push(app.clone());
        }
        if !scns.contains(&scn) {
            scns.push(scn.clone());
        }
        let n = seen.entry((app.clone(), scn.clone())).or_default();
        let keep = *n < opts.timelines_per_cell;
        *n += 1;
        match entry {
            RunEntry::Complete(p) => runs.push(judged_run(*p, &profiles, keep)),
            RunEntry::Skipped { note, .. } => {
                *skipped.entry((app, scn)).or_default() += 1;
                notes.push(note);
            }
        }
    }
    apps.sort();
    scns.sort();
    Campaign {
        applications: ordered(campaign.as_ref(), "applications", apps),
        scenarios: ordered(campaign.as_ref(), "scenarios", scns),
        root,
        campaign,
        runs,
        skipped,
        problems,
        notes,
    }
}
