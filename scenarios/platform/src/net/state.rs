//! The state directory: what a run created, written down as it is created, so
//! that a run killed with SIGKILL can be cleaned up later by another process.
//!
//! Layout: `$QOEPROBE_STATE_DIR` (default `/run/qoeprobe`) holds one folder per
//! run id with `owner` (PID and start time of the process that made it) and
//! `resources.jsonl` (one [`Resource`] per line, in creation order). This module
//! only records and reads; `registry` and `cleanup` act on it.

use super::error::{NetError, Result};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// One thing of ours in the kernel or the process table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resource {
    /// A network namespace (`ip netns`), `qp-<run>-<role>`.
    Namespace {
        /// Its name.
        name: String,
    },
    /// A network interface (veth end, ifb, bridge, tap) `qp<run>...`.
    Link {
        /// The namespace it lives in (`None`: the initial namespace).
        ns: Option<String>,
        /// Its name.
        name: String,
    },
    /// A qdisc on an interface.
    Qdisc {
        /// The namespace of the interface.
        ns: Option<String>,
        /// The interface.
        dev: String,
        /// `root` or `ingress`.
        parent: String,
    },
    /// An nftables table `qoeprobe_<run>...`.
    NftTable {
        /// The namespace it lives in.
        ns: Option<String>,
        /// Its family (`netdev`, `inet`, ...).
        family: String,
        /// Its name.
        name: String,
    },
    /// A child process.
    Process {
        /// Its PID.
        pid: i32,
        /// Its start time in clock ticks since boot (guards against PID reuse).
        start_ticks: u64,
    },
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = |ns: &Option<String>| {
            ns.as_deref()
                .map(|n| format!(" in {n}"))
                .unwrap_or_default()
        };
        match self {
            Resource::Namespace { name } => write!(f, "namespace {name}"),
            Resource::Link { ns, name } => write!(f, "link {name}{}", at(ns)),
            Resource::Qdisc { ns, dev, parent } => write!(f, "{parent} qdisc on {dev}{}", at(ns)),
            Resource::NftTable { ns, family, name } => {
                write!(f, "nft table {family} {name}{}", at(ns))
            }
            Resource::Process { pid, .. } => write!(f, "process {pid}"),
        }
    }
}

/// Where state folders live: `$QOEPROBE_STATE_DIR` or `/run/qoeprobe`.
pub fn state_root() -> PathBuf {
    std::env::var_os("QOEPROBE_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/run/qoeprobe"))
}

/// The start time of a process in clock ticks since boot, if it exists.
pub fn process_start_ticks(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22; the command name (field 2) may hold spaces, so count after ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> NetError + '_ {
    move |source| NetError::State {
        path: path.to_path_buf(),
        source,
    }
}

/// The state folder of one run.
#[derive(Debug)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Creates `<root>/<run_id>/` and writes the owner file.
    pub fn create(run_id: &str) -> Result<Self> {
        let dir = state_root().join(run_id);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let pid = std::process::id() as i32;
        let owner = format!("{pid} {}\n", process_start_ticks(pid).unwrap_or(0));
        let path = dir.join("owner");
        fs::write(&path, owner).map_err(io_err(&path))?;
        Ok(StateDir { dir })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Appends one resource record (and syncs, so SIGKILL right after keeps it).
    pub fn record(&self, r: &Resource) -> Result<()> {
        let path = self.dir.join("resources.jsonl");
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let line = serde_json::to_string(r).unwrap_or_default();
        writeln!(f, "{line}").map_err(io_err(&path))?;
        f.sync_data().map_err(io_err(&path))
    }

    /// Removes the folder (after a complete teardown).
    pub fn remove(&self) -> Result<()> {
        match fs::remove_dir_all(&self.dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&self.dir)(e)),
            _ => Ok(()),
        }
    }
}

/// Reads the resources a run folder lists, in creation order (bad lines skipped).
pub fn read_resources(dir: &Path) -> Vec<Resource> {
    fs::read_to_string(dir.join("resources.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Whether the process that owns a run folder is still alive.
pub fn owner_alive(dir: &Path) -> bool {
    let Ok(s) = fs::read_to_string(dir.join("owner")) else {
        return false;
    };
    let mut it = s.split_whitespace().filter_map(|x| x.parse::<u64>().ok());
    match (it.next(), it.next()) {
        (Some(pid), Some(start)) => process_start_ticks(pid as i32) == Some(start),
        _ => false,
    }
}
