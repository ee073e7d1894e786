//! The migration host's part in a run of several hosts (crate::hosts): announce the
//! run (endpoint, start) once the service is up, and its end once the cool-down is
//! over or the run stopped early; write `host.json` beside the run.

use super::folder::write_json_atomic;
use crate::hosts::rendezvous::{self, Announce, End};
use crate::hosts::{HostMode, RunHostFacts, hostname};
use crate::scenario::RunId;
use platform::ServiceEndpoint;
use std::path::Path;

/// A migration host's part in a run of several hosts.
pub(crate) struct MigrationHost<'a> {
    /// The hosts' settings.
    pub mode: &'a HostMode,
    /// The campaign's hash (announced, so client hosts check it).
    pub hash: &'a str,
}

/// Announces the run: it starts at `--start-at`, or a lead from now if that is
/// later (the first run's service took longer to start, or a later run). Returns
/// the start (unix ns).
pub(crate) fn announce(
    h: &MigrationHost<'_>,
    id: &RunId,
    endpoint: &ServiceEndpoint,
) -> Result<u64, String> {
    if endpoint.netns.is_some() {
        return Err("the service is reachable only inside this machine's network namespace: several hosts need a driver whose service has an address the client hosts reach (docs/scale-out.md)".into());
    }
    let now = record::clock::unix_now_ns();
    let start = h
        .mode
        .start_at_unix_ns
        .max(now.saturating_add(record::clock::duration_ns(h.mode.lead)));
    rendezvous::announce(
        &h.mode.rendezvous,
        id,
        &Announce {
            campaign_hash: h.hash.to_string(),
            start_at_unix_ns: h.mode.start_at_unix_ns,
            run_start_unix_ns: start,
            announced_unix_ns: now,
            http: endpoint.http,
            game: endpoint.game,
            probe_target: endpoint.probe_target,
        },
    )?;
    Ok(start)
}

/// This host's facts of a run that started its warm-up now, announced for `start`.
pub(crate) fn facts(h: &MigrationHost<'_>, start: u64) -> RunHostFacts {
    RunHostFacts {
        host: h.mode.role,
        hostname: hostname(),
        run_start_unix_ns: start,
        started_unix_ns: record::clock::unix_now_ns(),
        announced_unix_ns: None,
        seen_unix_ns: None,
    }
}

/// Announces the run's end and writes `host.json` into `dir` (when it started).
pub(crate) fn end(
    h: &MigrationHost<'_>,
    id: &RunId,
    incomplete: &Option<String>,
    facts: Option<&RunHostFacts>,
    dir: &Path,
) -> Result<(), String> {
    rendezvous::end(
        &h.mode.rendezvous,
        id,
        &End {
            end_unix_ns: record::clock::unix_now_ns(),
            incomplete_reason: incomplete.clone(),
        },
    )?;
    if let Some(f) = facts {
        let path = dir.join("host.json");
        write_json_atomic(&path, f).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}
