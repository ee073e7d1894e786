//! `clients.json` of a run merged from several hosts (`qoeprobe merge` of `run --host`
//! folders): per probe of the run's application, what all its clients saw together
//! (analysis::clients): sessions, stalls and distributions over every client of every
//! host, and the spread of the hosts' starts. Sessions that could not run (no
//! summary) are not counted: their errors are in `summary.json`.

use super::output::{Output, write_json};
use analysis::clients::{ClientsSummary, HostSessions, merge_clients};
use anyhow::Context;
use campaign::hosts::HostRole;
use record::{ProbeSummary, RunInfo, RunSummary};
use std::collections::BTreeMap;
use std::path::Path;

/// A host's entry in a merged run's `hosts.json`.
#[derive(serde::Deserialize)]
struct HostEntry {
    host: HostRole,
    hostname: Option<String>,
    clock_offset_ns: u64,
    sessions: Vec<String>,
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = userfile::read_to_string(path, userfile::limit::RECORD)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not readable", path.display()))
}

/// The probe a session belongs to: `game` of `game#2`.
fn probe_of(session: &str) -> &str {
    session.split_once('#').map_or(session, |(p, _)| p)
}

/// Writes `run_dir/clients.json` when the run was merged from hosts (it has a
/// `hosts.json`); does nothing for other runs.
pub fn write(run_dir: &Path) -> anyhow::Result<()> {
    let hosts_path = run_dir.join("hosts.json");
    if !hosts_path.is_file() {
        return Ok(());
    }
    let hosts: Vec<HostEntry> = read(&hosts_path)?;
    let summary: RunSummary = read(&run_dir.join("summary.json"))?;
    let info: RunInfo = read(&run_dir.join("run.json"))?;
    let mut probes: BTreeMap<&str, Vec<HostSessions>> = BTreeMap::new();
    for h in &hosts {
        let mut mine: BTreeMap<&str, Vec<ProbeSummary>> = BTreeMap::new();
        for name in &h.sessions {
            if let Some(s) = summary.probes.get(name).and_then(|p| p.summary()) {
                mine.entry(probe_of(name)).or_default().push(s.clone());
            }
        }
        for (probe, sessions) in mine {
            probes.entry(probe).or_default().push(HostSessions {
                name: format!(
                    "host {}{}",
                    h.host,
                    h.hostname
                        .as_deref()
                        .map_or(String::new(), |n| format!(" ({n})"))
                ),
                wall_anchor_unix_ns: Some(info.wall_anchor_unix_ns + h.clock_offset_ns),
                sessions,
            });
        }
    }
    let merged: BTreeMap<&str, ClientsSummary> = probes
        .into_iter()
        .filter_map(|(probe, hosts)| merge_clients(&hosts).ok().map(|m| (probe, m)))
        .collect();
    write_json(&Output::File(run_dir.join("clients.json")), &merged)
}
