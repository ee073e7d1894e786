//! The generated objects: they survive a JSON round trip through k8s-openapi's types,
//! carry the completion index into `--shard`, and get privileges only for the lab.

use super::objects::*;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::ConfigMap;
use platform::DriverKind;

fn spec(driver: DriverKind) -> Spec<'static> {
    Spec {
        name: object_name("Paper Network_small"),
        campaign_toml: "name = \"x\"\n",
        driver,
        vm_mib: 2048.0,
        shards: 8,
        hosts_start_at_unix_ns: None,
        parallelism: 3,
        image: "registry.example/qoeprobe:1",
        pvc: "results",
        namespace: Some("lab"),
    }
}

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    v: &T,
) -> serde_json::Value {
    let json = serde_json::to_value(v).unwrap();
    let back: T = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(&back, v);
    json
}

#[test]
fn names_are_dns_labels() {
    assert_eq!(
        object_name("Paper Network_small"),
        "qoeprobe-paper-network-small"
    );
    assert_eq!(object_name("!!"), "qoeprobe-campaign");
    let long = object_name(&"a".repeat(100));
    assert!(long.len() + "-merge".len() <= 52, "{long}");
}

#[test]
fn indexed_job_round_trips_and_maps_the_index_to_the_shard() {
    let s = spec(DriverKind::Emulated);
    let j = round_trip(&shard_job(&s));
    assert_eq!(j["apiVersion"], "batch/v1");
    assert_eq!(j["kind"], "Job");
    assert_eq!(j["metadata"]["namespace"], "lab");
    let spec = &j["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(spec["completions"], 8);
    assert_eq!(spec["parallelism"], 3);
    let c = &spec["template"]["spec"]["containers"][0];
    assert_eq!(
        c["env"][0]["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    );
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "run",
            "/campaign/campaign.toml",
            "--shard",
            "$(JOB_COMPLETION_INDEX)/8",
            "--out",
            "/results/shards/$(JOB_COMPLETION_INDEX)",
            "--resume",
            "--long",
            "--quiet"
        ]
    );
    let vols = &spec["template"]["spec"]["volumes"];
    assert_eq!(vols[0]["configMap"]["name"], "qoeprobe-paper-network-small");
    assert_eq!(vols[1]["persistentVolumeClaim"]["claimName"], "results");
    let cm = round_trip(&config_map(&s));
    assert_eq!(cm["data"]["campaign.toml"], "name = \"x\"\n");
    let _: ConfigMap = serde_json::from_value(cm).unwrap();
}

#[test]
fn only_the_lab_is_privileged() {
    for (driver, privileged, cpu, memory) in [
        (DriverKind::Lab, true, "2", "4608Mi"),
        (DriverKind::Emulated, false, "1", "512Mi"),
        (DriverKind::Exec, false, "1", "512Mi"),
    ] {
        let j = round_trip(&shard_job(&spec(driver)));
        let c = &j["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["securityContext"]["privileged"], privileged, "{driver:?}");
        assert_eq!(c["resources"]["requests"]["cpu"], cpu, "{driver:?}");
        assert_eq!(c["resources"]["requests"]["memory"], memory, "{driver:?}");
        if !privileged {
            assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
        }
    }
}

#[test]
fn merge_job_lists_every_shard() {
    let j: Job = serde_json::from_value(round_trip(&merge_job(&spec(DriverKind::Lab)))).unwrap();
    let c = &j.spec.unwrap().template.spec.unwrap().containers[0];
    let args = c.args.clone().unwrap();
    assert_eq!(args[..2], ["merge", "/results/merged"]);
    assert_eq!(args.len(), 2 + 8 + 1);
    assert_eq!(args[9], "/results/shards/7");
    assert_eq!(c.security_context.as_ref().unwrap().privileged, Some(false));
}

#[test]
fn hosts_job_maps_the_index_to_the_host_and_runs_every_pod_at_once() {
    let s = Spec {
        hosts_start_at_unix_ns: Some(1_796_180_400_250_000_000),
        ..spec(DriverKind::Exec)
    };
    let j = round_trip(&hosts_job(&s, 1_796_180_400_250_000_000));
    let spec_ = &j["spec"];
    assert_eq!(spec_["completionMode"], "Indexed");
    assert_eq!(
        (spec_["completions"].clone(), spec_["parallelism"].clone()),
        (8.into(), 8.into())
    );
    assert_eq!(spec_["backoffLimitPerIndex"], 0, "a host is not retried");
    let c = &spec_["template"]["spec"]["containers"][0];
    assert_eq!(c["securityContext"]["privileged"], false);
    let args: Vec<&str> = c["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "run",
            "/campaign/campaign.toml",
            "--host",
            "$(JOB_COMPLETION_INDEX)/8",
            "--start-at",
            "1796180400.250000000",
            "--rendezvous",
            "/results/hosts-1796180400/rendezvous",
            "--out",
            "/results/hosts-1796180400/$(JOB_COMPLETION_INDEX)",
            "--long",
            "--quiet"
        ]
    );
    let m: Job = serde_json::from_value(round_trip(&merge_job(&s))).unwrap();
    let args = m.spec.unwrap().template.spec.unwrap().containers[0]
        .args
        .clone()
        .unwrap();
    assert_eq!(args.len(), 2 + 8 + 1);
    assert_eq!(args[2], "/results/hosts-1796180400/0");
    assert_eq!(args[9], "/results/hosts-1796180400/7");
}
