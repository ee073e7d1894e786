//! Removing leftovers of killed runs (`qoeprobe lab down`).
//!
//! Two passes: first every run folder in the state directory is replayed in
//! reverse (processes killed if their start time still matches, then links,
//! qdiscs, tables, namespaces), then a sweep removes anything else carrying
//! our prefix: namespaces `qp*` (after killing the processes inside them),
//! links `qp*` and nft tables `qoeprobe_*` of the initial namespace. Never
//! touches anything without our prefix.

use super::cmd;
use super::error::Result;
use super::registry::{kill_namespace_pids, remove};
use super::state::{Resource, owner_alive, read_resources, state_root};

/// What [`cleanup_leftovers`] did.
#[derive(Debug, Default, Clone)]
pub struct CleanupReport {
    /// What was removed (or found gone).
    pub removed: Vec<String>,
    /// What could not be removed, with the reason.
    pub failed: Vec<String>,
}

/// Names of our namespaces (`qp*`) that exist now.
pub fn our_namespaces() -> Vec<String> {
    cmd::ip(None, &["netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| n.starts_with("qp"))
        .map(str::to_string)
        .collect()
}

/// Names of our links (`qp*`) in the initial namespace (or `ns`).
pub fn our_links(ns: Option<&str>) -> Vec<String> {
    cmd::ip(ns, &["-o", "link", "show"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .filter(|n| n.starts_with("qp"))
        .collect()
}

/// Our nft tables (`qoeprobe_*`) in the initial namespace (or `ns`), as (family, name).
pub fn our_nft_tables(ns: Option<&str>) -> Vec<(String, String)> {
    cmd::nft(ns, &["list", "tables"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            match (it.next(), it.next(), it.next()) {
                (Some("table"), Some(f), Some(n)) if n.starts_with("qoeprobe_") => {
                    Some((f.to_string(), n.to_string()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Removes every resource of ours left by runs that are gone (see module docs).
/// Needs root. Runs whose owning process is still alive are spared (their
/// state folder, namespaces `qp-<run>-*` and links `qp<run>*`).
pub fn cleanup_leftovers() -> Result<CleanupReport> {
    cmd::require_root()?;
    let mut report = CleanupReport::default();
    let undo = |r: Resource, report: &mut CleanupReport| match remove(&r) {
        Ok(()) => report.removed.push(r.to_string()),
        Err(e) => report.failed.push(format!("{r}: {e}")),
    };
    // Pass 1: the state folders, processes first, then the rest in reverse.
    let root = state_root();
    let mut live: Vec<String> = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(&root) {
        for dir in dirs.flatten().map(|d| d.path()).filter(|p| p.is_dir()) {
            // `lab/` holds the QEMU lab's run folders (QMP sockets, disks), not a run.
            if dir.file_name().is_some_and(|n| n == "lab") {
                continue;
            }
            if owner_alive(&dir) {
                if let Some(id) = dir.file_name().and_then(|n| n.to_str()) {
                    live.push(id.to_string());
                }
                continue;
            }
            let resources = read_resources(&dir);
            let (procs, rest): (Vec<_>, Vec<_>) = resources
                .into_iter()
                .partition(|r| matches!(r, Resource::Process { .. }));
            for r in procs.into_iter().chain(rest.into_iter().rev()) {
                undo(r, &mut report);
            }
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                report
                    .failed
                    .push(format!("state folder {}: {e}", dir.display()));
            }
        }
    }
    // Pass 2: the sweep by prefix.
    let is_live = |name: &str| {
        live.iter().any(|id| {
            name.starts_with(&format!("qp-{id}-")) || name.starts_with(&format!("qp{id}"))
        })
    };
    for ns in our_namespaces().into_iter().filter(|n| !is_live(n)) {
        kill_namespace_pids(&ns);
        undo(Resource::Namespace { name: ns }, &mut report);
    }
    for name in our_links(None).into_iter().filter(|n| !is_live(n)) {
        undo(Resource::Link { ns: None, name }, &mut report);
    }
    for (family, name) in our_nft_tables(None) {
        undo(
            Resource::NftTable {
                ns: None,
                family,
                name,
            },
            &mut report,
        );
    }
    report.removed.sort();
    report.removed.dedup();
    Ok(report)
}
