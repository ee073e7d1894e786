//! `qoeprobe k8s job FILE --shards N --image IMAGE --pvc CLAIM`: a campaign as a
//! Kubernetes Indexed Job (docs/scale-out.md). Writes `DIR/{configmap.json, job.json,
//! merge-job.json, apply.sh}` (default DIR: results/<campaign>/k8s): the objects are
//! built from k8s-openapi's types (`objects`). Not run on a cluster here: there is
//! none on the machines this was written on.

mod objects;
#[cfg(test)]
mod tests;

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `qoeprobe k8s`.
#[derive(Debug, clap::Subcommand)]
pub enum K8sCommand {
    /// Write a campaign as an Indexed Job (one pod per shard) and its merge Job.
    Job(JobArgs),
}

/// `qoeprobe k8s job`.
#[derive(Debug, clap::Args)]
pub struct JobArgs {
    /// The campaign: a scenario file (TOML, docs/scenario-file.md).
    pub file: PathBuf,
    /// Completions: the campaign is split into this many shards.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10000), required_unless_present = "hosts", conflicts_with = "hosts")]
    pub shards: Option<u32>,
    /// Instead of shards: run the campaign once on N pods, pod 0 migrating, the others
    /// running its clients (docs/scale-out.md, "Many client hosts, one migration").
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(2..=10000), requires = "start_at")]
    pub hosts: Option<u32>,
    /// With --hosts: the shared start (RFC 3339 or unix seconds); apply the objects
    /// early enough for every pod to be running by then.
    #[arg(long, value_name = "TIME", requires = "hosts")]
    pub start_at: Option<crate::cli::start_at::StartAt>,
    /// Container image with `qoeprobe` on its PATH.
    #[arg(long)]
    pub image: String,
    /// PersistentVolumeClaim (ReadWriteMany) that receives the results.
    #[arg(long, value_name = "CLAIM", default_value = "qoeprobe-results")]
    pub pvc: String,
    /// Pods at a time (default: all shards).
    #[arg(long, value_name = "P")]
    pub parallelism: Option<u32>,
    /// Namespace of the objects.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Folder for the objects (default: results/<campaign name>/k8s).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `qoeprobe k8s`.
pub async fn run(cmd: K8sCommand) -> anyhow::Result<ExitCode> {
    let K8sCommand::Job(args) = cmd;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let campaign = campaign::scenario::parse(&args.file, &text)?;
    let plan = campaign.plan(None, None).map_err(anyhow::Error::msg)?;
    let shards = match (args.shards, args.hosts) {
        (Some(n), _) if n as usize > plan.len() => bail!(
            "--shards {n}: the campaign has only {} run(s); give at most that many shards",
            plan.len()
        ),
        (Some(n), _) => n,
        (None, Some(n)) => {
            // Pods are separate machines to the network: the service must have an
            // address the other pods reach.
            campaign::hosts::check_campaign(&campaign, n, false).map_err(anyhow::Error::msg)?;
            n
        }
        (None, None) => bail!("give --shards N or --hosts N"),
    };
    let hosts_start = args.start_at.map(|t| t.unix_ns());
    let spec = objects::Spec {
        name: objects::object_name(campaign.name.get_ref()),
        campaign_toml: &text,
        driver: campaign.migration.driver,
        vm_mib: campaign.migration.flavor.memory_mib(),
        shards,
        hosts_start_at_unix_ns: hosts_start,
        parallelism: args.parallelism.unwrap_or(shards).max(1),
        image: &args.image,
        pvc: &args.pvc,
        namespace: args.namespace.as_deref(),
    };
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| campaign::runner::default_out(&campaign).join("k8s"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_json(&dir.join("configmap.json"), &objects::config_map(&spec))?;
    let job = match hosts_start {
        Some(t) => objects::hosts_job(&spec, t),
        None => objects::shard_job(&spec),
    };
    write_json(&dir.join("job.json"), &job)?;
    write_json(&dir.join("merge-job.json"), &objects::merge_job(&spec))?;
    let ns = args
        .namespace
        .as_deref()
        .map_or(String::new(), |n| format!(" -n {n}"));
    let apply = format!(
        "#!/bin/sh\n# The shards, then the merge once every index has ended (the claim {pvc} must exist, ReadWriteMany).\nset -eu\ncd \"$(dirname \"$0\")\"\nkubectl{ns} apply -f configmap.json -f job.json\nkubectl{ns} wait --for=jsonpath='{{.status.completionTime}}' --timeout=-1s job/{name} || kubectl{ns} wait --for=condition=failed --timeout=0 job/{name}\nkubectl{ns} apply -f merge-job.json\nkubectl{ns} wait --for=condition=complete --timeout=-1s job/{name}-merge\nkubectl{ns} logs job/{name}-merge\n",
        pvc = args.pvc,
        name = spec.name,
    );
    let apply_path = dir.join("apply.sh");
    std::fs::write(&apply_path, apply)
        .with_context(|| format!("cannot write {}", apply_path.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&apply_path, std::fs::Permissions::from_mode(0o755))?;
    }
    eprintln!(
        "k8s: {} run(s) in {} {}, driver {}; objects in {} (apply with apply.sh)",
        plan.len(),
        shards,
        if hosts_start.is_some() {
            "hosts (pod 0 migrates)"
        } else {
            "shard(s)"
        },
        campaign.migration.driver.name(),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}
