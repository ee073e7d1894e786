//! The hosts job of `qoeprobe slurm --hosts N`: one job of N tasks whose one job
//! step starts them together, task `K` as `qoeprobe run --host K/N` with one
//! `--start-at`, then the merge of their folders (docs/scale-out.md).

use super::{Job, common, path};

/// The hosts job: `shards` tasks of one job step (they start together), task `K` as
/// `--host K/N` with one `--start-at` computed when the job starts; then the merge.
pub(super) fn hosts_script(job: &Job<'_>) -> String {
    let n = job.shards;
    let mut s = common(job, &format!("qoeprobe-{}-hosts", job.name), "hosts.log");
    // `common` asks for one task: this job has one per host.
    s = s.replace("#SBATCH --ntasks=1\n", "");
    let nodes = n.div_ceil(job.hosts_per_node);
    s.push_str(&format!("#SBATCH --ntasks={n}\n#SBATCH --nodes={nodes}\n"));
    if job.hosts_per_node > 1 {
        // Hosts sharing a node share its cores: the probes are light (about 2,000
        // real-time players fit in one core), so hold one core per node, not per
        // task (Slurm spreads the tasks over the nodes in blocks).
        s.push_str("#SBATCH --overcommit\n");
    } else {
        s.push_str("#SBATCH --ntasks-per-node=1\n#SBATCH --cpus-per-task=1\n");
    }
    if let Some(t) = job.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    let hosts = job.out.join("hosts");
    s.push_str(&format!(
        "set -u\n# One start for every host, late enough for every task of the step to be up;\n# the folders are named by it, so a second attempt does not meet the first one's.\nstart=$(( $(date +%s) + {} ))\nhosts={}/\"$start\"\nmkdir -p \"$hosts\"\n",
        job.start_lead_s,
        path(&hosts)
    ));
    s.push_str(&format!(
        "srun --kill-on-bad-exit=0 sh -c 'exec \"$0\" run \"$1\" --host \"$SLURM_PROCID/{n}\" --start-at \"$2\" --rendezvous \"$3/rendezvous\" --out \"$3/$SLURM_PROCID\" --long --quiet' {} {} \"$start\" \"$hosts\" || echo \"a host failed: the merge lists what is missing\"\n",
        path(job.exe),
        path(&job.out.join("slurm").join("campaign.toml")),
    ));
    s.push_str(&format!(
        "set --\nk=0\nwhile [ \"$k\" -lt {n} ]; do set -- \"$@\" \"$hosts/$k\"; k=$((k + 1)); done\nexec {} merge {} \"$@\" --quiet\n",
        path(job.exe),
        path(&job.out.join("merged")),
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::super::tests::job;
    use super::*;
    use platform::DriverKind;

    #[test]
    fn procid_becomes_the_host_and_every_host_is_merged() {
        let s = hosts_script(&job(DriverKind::Exec));
        assert!(s.contains(
            "#SBATCH --ntasks=4\n#SBATCH --nodes=4\n#SBATCH --ntasks-per-node=1\n#SBATCH --cpus-per-task=1\n"
        ));
        assert_eq!(s.matches("--ntasks=").count(), 1, "{s}");
        assert!(!s.contains("--overcommit"));
        assert!(s.contains("start=$(( $(date +%s) + 30 ))\nhosts='/shared/r/hosts'/\"$start\"\n"));
        assert!(s.contains(
            "srun --kill-on-bad-exit=0 sh -c 'exec \"$0\" run \"$1\" --host \"$SLURM_PROCID/4\" --start-at \"$2\" --rendezvous \"$3/rendezvous\" --out \"$3/$SLURM_PROCID\" --long --quiet' '/opt/q b/qoeprobe' '/shared/r/slurm/campaign.toml' \"$start\" \"$hosts\""
        ));
        assert!(s.ends_with(
            "while [ \"$k\" -lt 4 ]; do set -- \"$@\" \"$hosts/$k\"; k=$((k + 1)); done\nexec '/opt/q b/qoeprobe' merge '/shared/r/merged' \"$@\" --quiet\n"
        ));
        let one_node = hosts_script(&Job {
            hosts_per_node: 8,
            ..job(DriverKind::Emulated)
        });
        assert!(one_node.contains("#SBATCH --ntasks=4\n#SBATCH --nodes=1\n#SBATCH --overcommit\n"));
        assert!(!one_node.contains("--ntasks-per-node"));
    }
}
