//! Shards of a campaign: `qoeprobe run FILE --shard K/N` runs the runs whose position
//! in the campaign's plan (applications x scenarios x repetitions, in file order) is
//! `K` modulo `N` (0-based: `0/N` to `N-1/N`, like `SLURM_ARRAY_TASK_ID` with
//! `--array=0-N-1` and Kubernetes' `JOB_COMPLETION_INDEX`). The rule reads nothing but
//! the resolved campaign, so the same file and `N` give the same split on any machine;
//! round-robin spreads every cell over the shards, so shards take about equally long.
//!
//! Every results folder names its campaign by [`campaign_hash`] (SHA-256 of the
//! resolved campaign and its plan) and lists its plan, so that [`merge`](crate::merge)
//! can check that shards belong together and that no run is missing or doubled.

use crate::scenario::{Campaign, RunId};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u32,
    /// How many shards the campaign is split into.
    pub count: u32,
}

impl Shard {
    /// Shard `index` of `count`; `Err` says what is wrong.
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 {
            return Err("the shard count N must be at least 1".into());
        }
        if index >= count {
            return Err(format!(
                "shard {index}/{count}: K counts from 0, so it must be below N (0 to {})",
                count - 1
            ));
        }
        Ok(Self { index, count })
    }

    /// Whether the run at `position` in the campaign's plan belongs to this shard.
    pub fn owns(&self, position: usize) -> bool {
        position % self.count as usize == self.index as usize
    }

    /// The runs of `plan` this shard runs, in plan order.
    pub fn select(&self, plan: Vec<RunId>) -> Vec<RunId> {
        plan.into_iter()
            .enumerate()
            .filter(|(i, _)| self.owns(*i))
            .map(|(_, r)| r)
            .collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// `K/N` of an option `flag` (`--shard`, `--host`): the two numbers, or what to give.
pub(crate) fn parse_k_of_n(s: &str, flag: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{flag} {s:?}: give K/N, e.g. 0/4 (K counts from 0 to N-1)");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k = k.trim().parse::<u32>().map_err(|_| bad())?;
    let n = n.trim().parse::<u32>().map_err(|_| bad())?;
    Ok((k, n))
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = parse_k_of_n(s, "--shard")?;
        Self::new(k, n)
    }
}

/// A run's place in a results folder and in a plan: `application/scenario/run-k`.
pub fn run_key(id: &RunId) -> String {
    format!("{}/{}/run-{}", id.application, id.scenario, id.run)
}

/// The campaign's identity: SHA-256 (hex) of the resolved campaign (as
/// `campaign.json` holds it: comments and layout of the file do not count) and of its
/// plan (so `--runs` and `--only` count). Shards merge only when it is equal.
pub fn campaign_hash(campaign: &Campaign, plan: &[RunId]) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(campaign).unwrap_or_default());
    for id in plan {
        h.update([0]);
        h.update(run_key(id).as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(n: u32) -> Vec<RunId> {
        (1..=n)
            .map(|run| RunId {
                application: "a".into(),
                scenario: "s".into(),
                run,
            })
            .collect()
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        assert!("4/4".parse::<Shard>().unwrap_err().contains("below N"));
        assert!("1/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("x".parse::<Shard>().unwrap_err().contains("give K/N"));
        assert!("-1/2".parse::<Shard>().is_err());
    }

    #[test]
    fn every_run_in_exactly_one_shard() {
        for n in 1..=7 {
            let mut seen = Vec::new();
            for k in 0..n {
                seen.extend(Shard::new(k, n).unwrap().select(plan(23)));
            }
            seen.sort_by_key(|r| r.run);
            assert_eq!(seen, plan(23), "N = {n}");
        }
    }
}
