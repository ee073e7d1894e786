//! `qoeprobe slurm FILE --shards N [--submit]`: a campaign as a Slurm array job (one
//! task per shard, `SLURM_ARRAY_TASK_ID` -> `--shard`) and a merge job that depends on
//! the whole array (docs/scale-out.md). Writes `OUT/slurm/{campaign.toml,
//! array.sbatch, merge.sbatch, submit.sh}`; `--submit` runs the two `sbatch` calls of
//! `submit.sh`. Shards write to `OUT/shards/<K>/`, the merge to `OUT/merged/`: `OUT`
//! must be on a file system every node sees.
//!
//! `qoeprobe slurm FILE --hosts N`: the campaign run once by N hosts (one migration
//! host, N-1 client hosts, `campaign::hosts`) as one job of N tasks (`SLURM_PROCID`
//! -> `--host`), which merges their folders when they have ended: `OUT/slurm/
//! hosts.sbatch`.

mod hosts;

use anyhow::{Context, bail};
use campaign::scenario::Campaign;
use platform::DriverKind;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// `qoeprobe slurm`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign: a scenario file (TOML, docs/scenario-file.md).
    pub file: PathBuf,
    /// Array tasks: the campaign is split into this many shards.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000), required_unless_present = "hosts", conflicts_with = "hosts")]
    pub shards: Option<u32>,
    /// Instead of shards: run the campaign once on N hosts, task 0 migrating, the
    /// others running its clients (docs/scale-out.md, "Many client hosts, one
    /// migration").
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=10000))]
    pub hosts: Option<u32>,
    /// With --hosts: seconds from the job's start to the hosts' shared start (every
    /// task of the job step must be up by then).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=86400), requires = "hosts")]
    pub start_lead: u32,
    /// With --hosts: tasks per node (default 1: every host on its own node).
    #[arg(long, value_name = "P", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10000), requires = "hosts")]
    pub hosts_per_node: u32,
    /// Results folder shared by all nodes (default: results/<campaign name>).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Submit the array and the merge job with sbatch (else only write the scripts).
    #[arg(long)]
    pub submit: bool,
    /// Slurm partition (`--partition`).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit per array task (`--time`, e.g. 02:00:00).
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,
    /// The qoeprobe binary the nodes run (default: this one).
    #[arg(long, value_name = "PATH")]
    pub qoeprobe: Option<PathBuf>,
}

/// What the array tasks run and on what.
struct Job<'a> {
    name: &'a str,
    driver: DriverKind,
    /// Shards, or hosts with `hosts_per_node`.
    shards: u32,
    hosts_per_node: u32,
    start_lead_s: u32,
    exe: &'a Path,
    out: &'a Path,
    partition: Option<&'a str>,
    time: Option<&'a str>,
}

/// Quotes `s` for sh (single quotes).
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn path(p: &Path) -> String {
    sh(&p.display().to_string())
}

/// The `#SBATCH` lines every job has.
fn common(job: &Job<'_>, name: &str, log: &str) -> String {
    let mut s = format!(
        "#!/bin/sh\n#SBATCH --job-name={name}\n#SBATCH --output={}\n#SBATCH --open-mode=append\n#SBATCH --ntasks=1\n",
        job.out.join("slurm").join("logs").join(log).display()
    );
    if let Some(p) = job.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    s
}

/// The array script: one task per shard; `--resume` so that a requeued task finishes
/// its shard instead of redoing it.
fn array_script(job: &Job<'_>) -> String {
    let mut s = common(job, &format!("qoeprobe-{}", job.name), "shard-%a.log");
    s.push_str(&format!(
        "#SBATCH --array=0-{}\n#SBATCH --requeue\n",
        job.shards - 1
    ));
    if let Some(t) = job.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    match job.driver {
        DriverKind::Lab => s.push_str(
            "# The lab driver: one QEMU lab per node (its bridge, namespaces and VMs are the\n\
             # node's), run as root; KVM when the node has /dev/kvm, else TCG (slow: give it\n\
             # the whole node).\n\
             #SBATCH --exclusive\n",
        ),
        DriverKind::Emulated | DriverKind::Exec | DriverKind::Libvirt | DriverKind::Openstack => s
            .push_str(
                "# A platform driver: no root, no VM on the node; the probes and the service\n\
             # (emulated), the platform's client (exec) or its API calls (libvirt,\n\
             # OpenStack) need about one core.\n\
             #SBATCH --cpus-per-task=1\n",
            ),
    }
    s.push_str(&format!(
        "set -eu\nexec {} run {} --shard \"${{SLURM_ARRAY_TASK_ID}}/{}\" --out {}/\"${{SLURM_ARRAY_TASK_ID}}\" --resume --long --quiet\n",
        path(job.exe),
        path(&job.out.join("slurm").join("campaign.toml")),
        job.shards,
        path(&job.out.join("shards")),
    ));
    s
}

/// The merge script: it runs after every array task ended (afterany), so that missing
/// runs are listed rather than the merge never starting.
fn merge_script(job: &Job<'_>) -> String {
    let mut s = common(job, &format!("qoeprobe-{}-merge", job.name), "merge.log");
    s.push_str("#SBATCH --cpus-per-task=1\nset -eu\n");
    s.push_str(&format!(
        "exec {} merge {}",
        path(job.exe),
        path(&job.out.join("merged"))
    ));
    for k in 0..job.shards {
        s.push_str(&format!(
            " {}",
            path(&job.out.join("shards").join(k.to_string()))
        ));
    }
    s.push_str(" --quiet\n");
    s
}

fn submit_script(job: &Job<'_>) -> String {
    let dir = job.out.join("slurm");
    format!(
        "#!/bin/sh\n# Submits the array, then the merge once every array task has ended.\nset -eu\narray=$(sbatch --parsable {})\narray=${{array%%;*}}\nmerge=$(sbatch --parsable --dependency=afterany:\"$array\" --kill-on-invalid-dep=yes {})\necho \"array job $array, merge job $merge\"\n",
        path(&dir.join("array.sbatch")),
        path(&dir.join("merge.sbatch")),
    )
}

fn write(p: &Path, text: &str, exec: bool) -> anyhow::Result<()> {
    std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
    if exec {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", p.display()))?;
    }
    Ok(())
}

/// Runs `sbatch ARGS`, returns the job id it prints (`--parsable`).
fn sbatch(args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .output()
        .context("cannot run sbatch: install Slurm's client (slurm-client) or leave out --submit and submit OUT/slurm/submit.sh on a login node")?;
    if !out.status.success() {
        bail!(
            "sbatch {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let id = String::from_utf8_lossy(&out.stdout);
    Ok(id.trim().split(';').next().unwrap_or_default().to_string())
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
}

/// Runs `qoeprobe slurm`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let campaign: Campaign = campaign::scenario::load(&args.file)?;
    let plan = campaign.plan(None, None).map_err(anyhow::Error::msg)?;
    let shards = match (args.shards, args.hosts) {
        (Some(n), _) if n as usize > plan.len() => bail!(
            "--shards {n}: the campaign has only {} run(s); give at most that many shards",
            plan.len()
        ),
        (Some(n), _) => n,
        (None, Some(n)) => {
            campaign::hosts::check_campaign(&campaign, n, n <= args.hosts_per_node)
                .map_err(anyhow::Error::msg)?;
            n
        }
        (None, None) => bail!("give --shards N or --hosts N"),
    };
    let out = absolute(
        &args
            .out
            .clone()
            .unwrap_or_else(|| campaign::runner::default_out(&campaign)),
    )?;
    let exe = match &args.qoeprobe {
        Some(p) => absolute(p)?,
        None => {
            std::env::current_exe().context("cannot find this qoeprobe binary: give --qoeprobe")?
        }
    };
    let dir = out.join("slurm");
    std::fs::create_dir_all(dir.join("logs"))
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::copy(&args.file, dir.join("campaign.toml"))
        .with_context(|| format!("cannot copy {} into {}", args.file.display(), dir.display()))?;
    let job = Job {
        name: campaign.name.get_ref(),
        driver: campaign.migration.driver,
        shards,
        hosts_per_node: args.hosts_per_node,
        start_lead_s: args.start_lead,
        exe: &exe,
        out: &out,
        partition: args.partition.as_deref(),
        time: args.time.as_deref(),
    };
    if args.hosts.is_some() {
        let script = dir.join("hosts.sbatch");
        write(&script, &hosts::hosts_script(&job), false)?;
        eprintln!(
            "slurm: {} run(s) on {shards} hosts (task 0 migrates); script {}",
            plan.len(),
            script.display()
        );
        if !args.submit {
            eprintln!("slurm: submit with sbatch {}", script.display());
            return Ok(ExitCode::SUCCESS);
        }
        let id = sbatch(&[&script.display().to_string()])?;
        println!("hosts job {id}");
        eprintln!(
            "slurm: the merged results will be in {} (log in {})",
            out.join("merged").display(),
            dir.join("logs").display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    write(&dir.join("array.sbatch"), &array_script(&job), false)?;
    write(&dir.join("merge.sbatch"), &merge_script(&job), false)?;
    write(&dir.join("submit.sh"), &submit_script(&job), true)?;
    eprintln!(
        "slurm: {} run(s) in {} shard(s); scripts in {}",
        plan.len(),
        shards,
        dir.display()
    );
    if !args.submit {
        eprintln!("slurm: submit with {}", dir.join("submit.sh").display());
        return Ok(ExitCode::SUCCESS);
    }
    let array = sbatch(&[&dir.join("array.sbatch").display().to_string()])?;
    let merge = sbatch(&[
        &format!("--dependency=afterany:{array}"),
        "--kill-on-invalid-dep=yes",
        &dir.join("merge.sbatch").display().to_string(),
    ])?;
    println!("array job {array}, merge job {merge}");
    eprintln!(
        "slurm: the merged results will be in {} (logs in {})",
        out.join("merged").display(),
        dir.join("logs").display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn job(driver: DriverKind) -> Job<'static> {
        Job {
            name: "c",
            driver,
            shards: 4,
            hosts_per_node: 1,
            start_lead_s: 30,
            exe: Path::new("/opt/q b/qoeprobe"),
            out: Path::new("/shared/r"),
            partition: Some("p"),
            time: None,
        }
    }

    #[test]
    fn array_task_id_becomes_the_shard() {
        let s = array_script(&job(DriverKind::Emulated));
        assert!(s.contains("#SBATCH --array=0-3\n"));
        assert!(s.contains("--shard \"${SLURM_ARRAY_TASK_ID}/4\""));
        assert!(s.contains("exec '/opt/q b/qoeprobe' run '/shared/r/slurm/campaign.toml'"));
        assert!(s.contains("--cpus-per-task=1") && !s.contains("--exclusive"));
        assert!(array_script(&job(DriverKind::Lab)).contains("#SBATCH --exclusive\n"));
    }

    #[test]
    fn merge_lists_every_shard() {
        let s = merge_script(&job(DriverKind::Exec));
        assert!(s.contains(
            "merge '/shared/r/merged' '/shared/r/shards/0' '/shared/r/shards/1' '/shared/r/shards/2' '/shared/r/shards/3' --quiet"
        ));
        assert_eq!(sh("a'b"), r"'a'\''b'");
    }
}
