//! The Kubernetes objects of a campaign, built from k8s-openapi's types (so every
//! field name and type is the API's): a ConfigMap with the scenario file, an Indexed
//! Job (`JOB_COMPLETION_INDEX` -> `--shard`) and the merge Job.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, EnvVar, EnvVarSource, ObjectFieldSelector,
    PersistentVolumeClaimVolumeSource, PodSpec, PodTemplateSpec, ResourceRequirements,
    SecurityContext, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use platform::DriverKind;
use std::collections::BTreeMap;

/// Where the campaign file is mounted in the pods.
pub const CAMPAIGN_DIR: &str = "/campaign";
/// Where the results volume is mounted in the pods.
pub const RESULTS_DIR: &str = "/results";

/// What the objects are made of.
pub struct Spec<'a> {
    /// Base name of the objects (a DNS-1123 label, see [`object_name`]).
    pub name: String,
    /// The scenario file's text.
    pub campaign_toml: &'a str,
    /// Its driver: the lab needs privileges, platform drivers do not.
    pub driver: DriverKind,
    /// Memory of the flavor's VM in MiB (the lab's pod requests it).
    pub vm_mib: f64,
    /// Shards (completions), or hosts with `hosts`.
    pub shards: u32,
    /// The campaign run once by `shards` hosts (`run --host`) starting at this time
    /// (unix ns), instead of shards.
    pub hosts_start_at_unix_ns: Option<u64>,
    /// Pods at a time.
    pub parallelism: u32,
    /// The container image holding `qoeprobe` on its PATH.
    pub image: &'a str,
    /// The PersistentVolumeClaim (ReadWriteMany) the results go to.
    pub pvc: &'a str,
    /// Namespace of the objects, if not the default.
    pub namespace: Option<&'a str>,
}

/// A DNS-1123 label from a campaign name: lowercase alphanumerics and `-`, at most
/// 52 characters (a Job's pods add a suffix to it).
pub fn object_name(campaign: &str) -> String {
    let mut s: String = campaign
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(52 - "qoeprobe-".len() - "-merge".len());
    let s = s.trim_matches('-');
    format!("qoeprobe-{}", if s.is_empty() { "campaign" } else { s })
}

fn meta(spec: &Spec<'_>, name: String) -> ObjectMeta {
    ObjectMeta {
        name: Some(name),
        namespace: spec.namespace.map(String::from),
        labels: Some(BTreeMap::from([
            ("app.kubernetes.io/name".into(), "qoeprobe".into()),
            ("app.kubernetes.io/instance".into(), spec.name.clone()),
        ])),
        ..Default::default()
    }
}

/// The ConfigMap holding the scenario file (`campaign.toml`).
pub fn config_map(spec: &Spec<'_>) -> ConfigMap {
    ConfigMap {
        metadata: meta(spec, spec.name.clone()),
        data: Some(BTreeMap::from([(
            "campaign.toml".into(),
            spec.campaign_toml.to_string(),
        )])),
        ..Default::default()
    }
}

fn volumes(spec: &Spec<'_>) -> (Vec<Volume>, Vec<VolumeMount>) {
    let volumes = vec![
        Volume {
            name: "campaign".into(),
            config_map: Some(ConfigMapVolumeSource {
                name: spec.name.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        Volume {
            name: "results".into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: spec.pvc.to_string(),
                read_only: None,
            }),
            ..Default::default()
        },
    ];
    let mounts = vec![
        VolumeMount {
            name: "campaign".into(),
            mount_path: CAMPAIGN_DIR.into(),
            read_only: Some(true),
            ..Default::default()
        },
        VolumeMount {
            name: "results".into(),
            mount_path: RESULTS_DIR.into(),
            ..Default::default()
        },
    ];
    (volumes, mounts)
}

fn quantities(cpu: &str, memory_mib: u64) -> BTreeMap<String, Quantity> {
    BTreeMap::from([
        ("cpu".into(), Quantity(cpu.into())),
        ("memory".into(), Quantity(format!("{memory_mib}Mi"))),
    ])
}

/// The security context and resources of a shard's container, per driver.
fn privileges(spec: &Spec<'_>) -> (SecurityContext, ResourceRequirements) {
    match spec.driver {
        // The lab makes its bridge, namespaces, qdiscs and nftables rules inside the
        // pod's network namespace and runs QEMU (KVM via /dev/kvm when the node
        // exposes it, else TCG): root with every capability, i.e. privileged.
        DriverKind::Lab => (
            SecurityContext {
                privileged: Some(true),
                run_as_user: Some(0),
                ..Default::default()
            },
            ResourceRequirements {
                // Two QEMUs (source and destination) of the flavor's memory, plus the
                // probes.
                requests: Some(quantities("2", (2.0 * spec.vm_mib) as u64 + 512)),
                ..Default::default()
            },
        ),
        // Platform drivers need no privilege: the emulated driver is rootless, the exec
        // driver runs the platform's client, libvirt and OpenStack are remote APIs.
        DriverKind::Emulated | DriverKind::Exec | DriverKind::Libvirt | DriverKind::Openstack => (
            SecurityContext {
                privileged: Some(false),
                allow_privilege_escalation: Some(false),
                ..Default::default()
            },
            ResourceRequirements {
                requests: Some(quantities("1", 512)),
                ..Default::default()
            },
        ),
    }
}

fn job(spec: &Spec<'_>, name: String, job_spec: JobSpec) -> Job {
    Job {
        metadata: meta(spec, name),
        spec: Some(job_spec),
        status: None,
    }
}

/// The folder of a hosts campaign on the volume: named by its start, so that a second
/// attempt (a new start) does not meet the first one's rendezvous.
fn hosts_dir(start_at_unix_ns: u64) -> String {
    format!("{RESULTS_DIR}/hosts-{}", start_at_unix_ns / 1_000_000_000)
}

/// The folders the merge Job merges: one per shard, or one per host.
fn parts(spec: &Spec<'_>) -> Vec<String> {
    let base = match spec.hosts_start_at_unix_ns {
        Some(t) => hosts_dir(t),
        None => format!("{RESULTS_DIR}/shards"),
    };
    (0..spec.shards).map(|k| format!("{base}/{k}")).collect()
}

/// An Indexed Job of `spec.shards` pods running `qoeprobe ARGS` (in which
/// `$(JOB_COMPLETION_INDEX)` is the pod's index), retried `retries` times per index.
fn indexed_job(spec: &Spec<'_>, args: Vec<String>, parallelism: u32, retries: i32) -> Job {
    let (volumes, mounts) = volumes(spec);
    let (security, resources) = privileges(spec);
    let container = Container {
        name: "shard".into(),
        image: Some(spec.image.into()),
        // Kubernetes expands $(VAR) of the container's env in args: no shell needed.
        env: Some(vec![EnvVar {
            name: "JOB_COMPLETION_INDEX".into(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    field_path: "metadata.annotations['batch.kubernetes.io/job-completion-index']"
                        .into(),
                    api_version: None,
                }),
                ..Default::default()
            }),
            value: None,
        }]),
        command: Some(vec!["qoeprobe".into()]),
        args: Some(args),
        volume_mounts: Some(mounts),
        security_context: Some(security),
        resources: Some(resources),
        ..Default::default()
    };
    job(
        spec,
        spec.name.clone(),
        JobSpec {
            completion_mode: Some("Indexed".into()),
            completions: Some(spec.shards as i32),
            parallelism: Some(parallelism.min(spec.shards) as i32),
            backoff_limit_per_index: Some(retries),
            max_failed_indexes: Some(spec.shards as i32),
            template: PodTemplateSpec {
                metadata: Some(meta(spec, spec.name.clone())),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    containers: vec![container],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
    )
}

/// The Indexed Job: pod `K` runs `qoeprobe run --shard K/N --resume` into
/// `/results/shards/K`; a failed pod is retried per index and resumes its shard.
pub fn shard_job(spec: &Spec<'_>) -> Job {
    let args = vec![
        "run".into(),
        format!("{CAMPAIGN_DIR}/campaign.toml"),
        "--shard".into(),
        format!("$(JOB_COMPLETION_INDEX)/{}", spec.shards),
        "--out".into(),
        format!("{RESULTS_DIR}/shards/$(JOB_COMPLETION_INDEX)"),
        "--resume".into(),
        // A batch job has no one to confirm a long campaign: the user chose it.
        "--long".into(),
        "--quiet".into(),
    ];
    indexed_job(spec, args, spec.parallelism, 2)
}

/// The hosts' Indexed Job: pod `K` runs `qoeprobe run --host K/N` (pod 0 migrates,
/// the others run the clients) with the shared `--start-at`, all pods at once; a
/// failed pod is not retried (it cannot rejoin a run that went on without it).
pub fn hosts_job(spec: &Spec<'_>, start_at_unix_ns: u64) -> Job {
    let dir = hosts_dir(start_at_unix_ns);
    let args = vec![
        "run".into(),
        format!("{CAMPAIGN_DIR}/campaign.toml"),
        "--host".into(),
        format!("$(JOB_COMPLETION_INDEX)/{}", spec.shards),
        "--start-at".into(),
        format!(
            "{}.{:09}",
            start_at_unix_ns / 1_000_000_000,
            start_at_unix_ns % 1_000_000_000
        ),
        "--rendezvous".into(),
        format!("{dir}/rendezvous"),
        "--out".into(),
        format!("{dir}/$(JOB_COMPLETION_INDEX)"),
        "--long".into(),
        "--quiet".into(),
    ];
    indexed_job(spec, args, spec.shards, 0)
}

/// The merge Job: `qoeprobe merge /results/merged /results/shards/0 ...` (or the
/// hosts' folders); apply it
/// once the Indexed Job has ended (Kubernetes has no dependency between Jobs).
pub fn merge_job(spec: &Spec<'_>) -> Job {
    let (volumes, mounts) = volumes(spec);
    let mut args = vec!["merge".into(), format!("{RESULTS_DIR}/merged")];
    args.extend(parts(spec));
    args.push("--quiet".into());
    let name = format!("{}-merge", spec.name);
    job(
        spec,
        name.clone(),
        JobSpec {
            backoff_limit: Some(0),
            template: PodTemplateSpec {
                metadata: Some(meta(spec, name)),
                spec: Some(PodSpec {
                    restart_policy: Some("Never".into()),
                    containers: vec![Container {
                        name: "merge".into(),
                        image: Some(spec.image.into()),
                        command: Some(vec!["qoeprobe".into()]),
                        args: Some(args),
                        volume_mounts: Some(mounts),
                        security_context: Some(SecurityContext {
                            privileged: Some(false),
                            allow_privilege_escalation: Some(false),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }],
                    volumes: Some(volumes),
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
    )
}
