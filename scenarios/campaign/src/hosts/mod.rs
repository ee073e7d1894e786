//! Many client hosts, one migration (docs/scale-out.md): `qoeprobe run FILE --host K/N
//! --start-at TIME --rendezvous DIR`. Host 0 is the **migration host**: it starts the
//! service, drives the migration and records the phases (with the reachability
//! prober), and runs no probe. Hosts 1 to N-1 are **client hosts**: they run the
//! campaign's probes, client `j` (0-based) of an application's `clients` on host
//! `1 + j mod (N-1)`, against the endpoint host 0 announces.
//!
//! The hosts meet in a shared folder ([`rendezvous`]): for every run, host 0 writes the
//! service's endpoint and the run's wall-clock start (the first run at `--start-at`,
//! later ones a lead after their service is up) before its warm-up, and the run's end
//! after its cool-down; the client hosts start their probes at that start and stop
//! them at that end. Every host writes its own results folder;
//! [`merge`](crate::merge) makes them one run folder per run, the clients' events
//! moved onto host 0's run clock by the difference of the wall anchors.

pub(crate) mod rendezvous;

use crate::scenario::Campaign;
use crate::shard::{Shard, parse_k_of_n};
use platform::DriverKind;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Host `index` of `count`: 0 is the migration host, the others are client hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostRole {
    /// This host, `0..count`.
    pub index: u32,
    /// How many hosts take part (the migration host and at least one client host).
    pub count: u32,
}

impl HostRole {
    /// Host `index` of `count`; `Err` says what is wrong.
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count < 2 {
            return Err(format!(
                "--host K/{count}: N counts the migration host and at least one client host, so it must be at least 2"
            ));
        }
        if index >= count {
            return Err(format!(
                "--host {index}/{count}: K counts from 0 (the migration host), so it must be below N (0 to {})",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }

    /// Whether this is the migration host (host 0).
    pub fn is_migration(&self) -> bool {
        self.index == 0
    }

    /// Whether client `j` (0-based) of an application runs on this host.
    pub fn runs_client(&self, j: u32) -> bool {
        !self.is_migration()
            && Shard {
                index: self.index - 1,
                count: self.count - 1,
            }
            .owns(j as usize)
    }
}

impl fmt::Display for HostRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for HostRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = parse_k_of_n(s, "--host")?;
        Self::new(k, n)
    }
}

/// How a host takes part in a campaign of several hosts.
#[derive(Debug, Clone)]
pub struct HostMode {
    /// Which host this is.
    pub role: HostRole,
    /// The shared start (`--start-at`), unix ns: the first run's warm-up begins then.
    pub start_at_unix_ns: u64,
    /// The folder every host reads and writes (`--rendezvous`).
    pub rendezvous: PathBuf,
    /// Time between the migration host's announcement of a run and its start (the
    /// client hosts must see the announcement in it; a shared file system may show a
    /// new file seconds late).
    pub lead: Duration,
}

/// What a host writes beside each of its runs (`host.json`): when the run was
/// announced to start and when this host started it, on this host's wall clock. The
/// merge checks these against its skew tolerance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunHostFacts {
    /// This host.
    pub host: HostRole,
    /// This host's name.
    pub hostname: Option<String>,
    /// The run's announced start (the migration host's wall clock), unix ns.
    pub run_start_unix_ns: u64,
    /// When this host started the run's warm-up (its wall clock), unix ns.
    pub started_unix_ns: u64,
    /// Client hosts: when host 0 wrote the announcement (host 0's clock), unix ns.
    pub announced_unix_ns: Option<u64>,
    /// Client hosts: when this host read it (this host's clock), unix ns. Earlier than
    /// `announced_unix_ns` means this host's clock is behind host 0's by at least the
    /// difference.
    pub seen_unix_ns: Option<u64>,
}

impl RunHostFacts {
    /// How late this host started the run after its announced start, ms (negative:
    /// early).
    pub fn start_offset_ms(&self) -> f64 {
        (self.started_unix_ns as i128 - self.run_start_unix_ns as i128) as f64 / 1e6
    }

    /// How far this host's clock is at least behind host 0's, ms (0 when nothing shows
    /// it).
    pub fn behind_ms(&self) -> f64 {
        match (self.announced_unix_ns, self.seen_unix_ns) {
            (Some(a), Some(s)) if s < a => (a - s) as f64 / 1e6,
            _ => 0.0,
        }
    }
}

/// Whether `campaign` can run on `count` hosts (`Err` says why not): every
/// application has a client for every client host, and the client hosts reach the
/// service: not the lab's (it lives in its node's network namespaces), the emulated
/// driver's only when every host runs on one machine (`same_machine`: it listens on
/// the loopback).
pub fn check_campaign(campaign: &Campaign, count: u32, same_machine: bool) -> Result<(), String> {
    match campaign.migration.driver {
        DriverKind::Lab => {
            return Err("the lab driver's service lives in its node's network namespaces, which other hosts do not reach: run the lab's clients on its node (`clients` in the file), or use a driver whose service has an address the client hosts reach (exec, libvirt, openstack)".into());
        }
        DriverKind::Emulated if !same_machine => {
            return Err("the emulated driver's service listens on the loopback of host 0's machine: put every host on one machine (Slurm: --hosts-per-node at least --hosts), or use a driver whose service has an address the client hosts reach (exec, libvirt, openstack)".into());
        }
        _ => {}
    }
    let hosts = count.saturating_sub(1);
    for a in &campaign.applications {
        if a.clients < hosts {
            return Err(format!(
                "application `{}` has clients = {} but there are {hosts} client hosts: a client host would run no probe of it; set `clients` to at least {hosts} (they are spread over the client hosts)",
                a.name.get_ref(),
                a.clients
            ));
        }
    }
    Ok(())
}

/// The host's name (`/proc/sys/kernel/hostname`).
pub(crate) fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
}

/// Sleeps until the wall-clock time `unix_ns` (returns at once when it has passed).
pub(crate) async fn sleep_until_unix(unix_ns: u64) {
    let now = record::clock::unix_now_ns();
    if unix_ns > now {
        tokio::time::sleep(Duration::from_nanos(unix_ns - now)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_spreads_clients() {
        assert_eq!(
            "2/3".parse::<HostRole>(),
            Ok(HostRole { index: 2, count: 3 })
        );
        assert!(
            "0/1"
                .parse::<HostRole>()
                .unwrap_err()
                .contains("at least 2")
        );
        assert!("3/3".parse::<HostRole>().unwrap_err().contains("below N"));
        assert!("x".parse::<HostRole>().unwrap_err().contains("--host"));
        // 5 clients over hosts 1..3: every client on exactly one client host.
        let hosts: Vec<HostRole> = (0..4).map(|k| HostRole::new(k, 4).unwrap()).collect();
        for j in 0..5 {
            let on: Vec<u32> = hosts
                .iter()
                .filter(|h| h.runs_client(j))
                .map(|h| h.index)
                .collect();
            assert_eq!(on, vec![1 + j % 3], "client {j}");
        }
    }
}
