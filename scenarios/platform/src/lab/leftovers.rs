//! Finding and removing what a lab left behind: QEMU processes named `qp-lab...`,
//! namespaces `qp-lab...` (their taps, bridge, veths, relays' namespaces, qdiscs and
//! nft tables go with them), run folders, and the network module's state folders
//! `lab<id>` (the lab's network is a [`crate::net::Topology`] with run id `lab<id>`). Used by `qoeprobe lab down`, by `lab status` and by the tests that
//! check teardown. Only things named with the lab prefix are touched.

use super::network::PREFIX;
use super::{Result, run_cmd, vm};
use std::path::PathBuf;
use std::time::Duration;

/// What is left of labs right now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Leftovers {
    /// QEMU processes: pid and VM name.
    pub processes: Vec<(i32, String)>,
    /// Namespaces.
    pub namespaces: Vec<String>,
    /// Run folders.
    pub run_dirs: Vec<PathBuf>,
}

impl Leftovers {
    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.processes.is_empty() && self.namespaces.is_empty() && self.run_dirs.is_empty()
    }
}

/// The folder holding per-lab run folders: `$QOEPROBE_STATE_DIR/lab` (default
/// `/run/qoeprobe/lab`).
pub fn state_root() -> PathBuf {
    std::env::var_os("QOEPROBE_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/qoeprobe"))
        .join("lab")
}

/// Lists lab leftovers, only those of lab `id` when given.
pub fn find(id: Option<&str>) -> Leftovers {
    let prefix = match id {
        Some(id) => format!("{PREFIX}{id}-"),
        None => PREFIX.to_string(),
    };
    let mut l = Leftovers::default();
    if let Ok(procs) = std::fs::read_dir("/proc") {
        for p in procs.flatten() {
            let Ok(pid) = p.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) else {
                continue;
            };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            let is_qemu = args.first().is_some_and(|a| a.ends_with(super::QEMU));
            let name = args.iter().skip_while(|a| *a != "-name").nth(1);
            if let Some(name) = name.filter(|n| is_qemu && n.starts_with(&prefix))
                && vm::pid_alive(pid)
            {
                l.processes.push((pid, name.clone()));
            }
        }
    }
    if let Ok(out) = run_cmd("ip", &["netns", "list"], "") {
        l.namespaces = out
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|n| n.starts_with(&prefix))
            .map(str::to_string)
            .collect();
    }
    if let Ok(dirs) = std::fs::read_dir(state_root()) {
        l.run_dirs = dirs
            .flatten()
            .filter(|d| id.is_none_or(|id| d.file_name().to_string_lossy() == id))
            .map(|d| d.path())
            .collect();
    }
    // The network module's state folders of labs: `<net state root>/lab<id>`.
    if let Ok(dirs) = std::fs::read_dir(crate::net::state_root()) {
        l.run_dirs.extend(
            dirs.flatten()
                .filter(|d| {
                    let name = d.file_name().to_string_lossy().into_owned();
                    match id {
                        Some(id) => name == format!("lab{id}"),
                        None => name.len() > 3 && name.starts_with("lab"),
                    }
                })
                .map(|d| d.path()),
        );
    }
    l.processes.sort();
    l.namespaces.sort();
    l.run_dirs.sort();
    l
}

/// Removes lab leftovers (all labs, or lab `id`): kills the QEMUs, deletes the
/// namespaces, removes the run folders. Returns what it removed.
pub fn remove(id: Option<&str>) -> Result<Leftovers> {
    let found = find(id);
    for (pid, _) in &found.processes {
        vm::kill_pid(*pid, Duration::from_secs(2));
    }
    let mut errors = Vec::new();
    for ns in &found.namespaces {
        if let Err(e) = run_cmd("ip", &["netns", "del", ns], "run as root") {
            errors.push(e.to_string());
        }
    }
    for d in &found.run_dirs {
        if let Err(e) = std::fs::remove_dir_all(d) {
            errors.push(format!("cannot remove {}: {e}", d.display()));
        }
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(super::LabError::Failed(format!(
            "lab cleanup incomplete: {}",
            errors.join("; ")
        )))
    }
}
