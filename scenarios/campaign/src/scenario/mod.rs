//! Scenario files: TOML campaigns (docs/scenario-file.md). A campaign names its
//! applications (service + probes + tolerance profile), its network scenarios (per
//! link: rate, one-way delay, loss), the migration settings, repetitions, warm-up,
//! cool-down and seed.
//!
//! [`load`] reads and checks a file; every error names `file:line:column`, the key
//! and what is valid ([`ScenarioError`]). This module only parses and checks: it
//! never starts anything.

mod axes;
mod drivers;
mod error;
mod matrix;
mod platform_checks;
mod platforms;
mod types;
mod validate;

pub use axes::{LinkAxes, MAX_CELLS, Matrix};
pub use drivers::{EmulatedOverrides, EmulatedSettings, ExecSettings};
pub use error::ScenarioError;
pub use platforms::{BlockCopyKind, LibvirtSettings, OpenStackSettings};
pub use types::{Application, Campaign, Link, MigrationSettings, NetScenario};

use std::path::Path;

/// Reads and checks a campaign file.
pub fn load(path: &Path) -> Result<Campaign, ScenarioError> {
    let src = userfile::read_to_string(path, userfile::limit::SCENARIO).map_err(|source| {
        ScenarioError::Read {
            path: path.to_path_buf(),
            source,
        }
    })?;
    parse(path, &src)
}

/// Parses and checks a campaign given as text (`path` is only used in messages).
pub fn parse(path: &Path, src: &str) -> Result<Campaign, ScenarioError> {
    let mut campaign: Campaign =
        toml::from_str(src).map_err(|e| ScenarioError::from_toml(path, src, &e))?;
    if let Some(m) = &campaign.matrix {
        campaign.scenarios = matrix::expand(m, &campaign.scenarios, path, src)?;
    }
    validate::check(&campaign, path, src)?;
    Ok(campaign)
}

/// The most runs one campaign may plan (applications x scenarios x repetitions).
/// Every run is a real migration of at least a few seconds and writes its own
/// folder: 100,000 runs are already weeks of measurement, and the plan of that many
/// holds a few megabytes. A larger campaign is split with `--only`.
pub const MAX_RUNS: u64 = 100_000;

impl Campaign {
    /// Every application x scenario x run of the campaign, in order, with `runs`
    /// overriding the file's repetitions and `only` (`APP`, `APP/SCENARIO`, `*` as
    /// a wildcard on either side) selecting cells.
    ///
    /// Refuses, before allocating anything, a plan with no run (`runs = 0`) or with
    /// more than [`MAX_RUNS`] runs in all.
    pub fn plan(&self, runs: Option<u32>, only: Option<&str>) -> Result<Vec<RunId>, String> {
        let from_flag = runs.is_some();
        let runs = runs.unwrap_or(self.runs);
        let what = if from_flag { "--runs" } else { "runs" };
        if runs == 0 {
            return Err(format!(
                "{what} = 0: nothing to run; give at least 1 repetition"
            ));
        }
        let (app_pat, scen_pat) = match only {
            None => ("*", "*"),
            Some(s) => match s.split_once('/') {
                Some((a, b)) => (a, b),
                None => (s, "*"),
            },
        };
        let apps = self
            .applications
            .iter()
            .filter(|a| matches(app_pat, a.name.get_ref()))
            .count() as u64;
        let scens = self
            .scenarios
            .iter()
            .filter(|s| matches(scen_pat, s.name.get_ref()))
            .count() as u64;
        let total = apps * scens * u64::from(runs);
        if total > MAX_RUNS {
            return Err(format!(
                "{what} = {runs}: {apps} application(s) x {scens} scenario(s) x {runs} repetition(s) = {total} runs, more than a campaign may hold ({MAX_RUNS}); lower {what} or split the campaign with --only"
            ));
        }
        let mut out = Vec::with_capacity(total as usize);
        for app in &self.applications {
            if !matches(app_pat, app.name.get_ref()) {
                continue;
            }
            for scen in &self.scenarios {
                if !matches(scen_pat, scen.name.get_ref()) {
                    continue;
                }
                for k in 1..=runs {
                    out.push(RunId {
                        application: app.name.get_ref().clone(),
                        scenario: scen.name.get_ref().clone(),
                        run: k,
                    });
                }
            }
        }
        if out.is_empty() && only.is_some() {
            let apps: Vec<&str> = self
                .applications
                .iter()
                .map(|a| a.name.get_ref().as_str())
                .collect();
            let scens: Vec<&str> = self
                .scenarios
                .iter()
                .map(|s| s.name.get_ref().as_str())
                .collect();
            return Err(format!(
                "--only {}: matches nothing; applications are {}, scenarios are {} (give APP or APP/SCENARIO, `*` matches any)",
                only.unwrap_or_default(),
                apps.join(", "),
                scens.join(", ")
            ));
        }
        Ok(out)
    }

    /// The application named `name`.
    pub fn application(&self, name: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.name.get_ref() == name)
    }

    /// The network scenario named `name`.
    pub fn scenario(&self, name: &str) -> Option<&NetScenario> {
        self.scenarios.iter().find(|s| s.name.get_ref() == name)
    }

    /// The flavor of a run of `app` in `scen`: a scenario's (or a matrix cell's)
    /// wins; else the application's own, else the campaign's.
    pub fn run_flavor(&self, app: &Application, scen: &NetScenario) -> platform::Flavor {
        match scen.flavor {
            Some(f) => f,
            None => app.flavor.unwrap_or(self.migration.flavor),
        }
    }

    /// Each application's tolerance profile, by application name.
    pub fn profiles(&self) -> std::collections::BTreeMap<String, record::Profile> {
        self.applications
            .iter()
            .map(|a| (a.name.get_ref().clone(), a.profile.clone()))
            .collect()
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    pattern == "*" || pattern == name
}

/// One run of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct RunId {
    /// Application name.
    pub application: String,
    /// Network scenario name.
    pub scenario: String,
    /// Repetition, 1-based.
    pub run: u32,
}

impl RunId {
    /// `application/scenario/run-k`.
    pub fn rel_dir(&self) -> std::path::PathBuf {
        Path::new(&self.application)
            .join(&self.scenario)
            .join(format!("run-{}", self.run))
    }

    /// This run's seed: the campaign seed mixed with the names and the repetition,
    /// stable across versions and platforms.
    pub fn seed(&self, campaign_seed: u64) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self
            .application
            .bytes()
            .chain([0])
            .chain(self.scenario.bytes())
            .chain([0])
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        record::seed::splitmix(campaign_seed ^ h ^ u64::from(self.run).rotate_left(32))
    }
}
