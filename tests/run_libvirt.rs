//! `qoeprobe run` with `driver = "libvirt"` on two real libvirt daemons of this
//! machine (root, libvirtd, QEMU under TCG; the testbed of
//! docs/libvirt-driver.md): a DASH player and a game client attached from the
//! testbed's client namespace while the domain is live-migrated and back, the phases
//! from libvirt's events.

use platform::lab::init::{GuestConfig, Service};
use platform::lab::{Flavor, lab_available};
use platform::libvirt::testbed::{Testbed, TestbedOptions};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

#[test]
fn libvirt_campaign_migrates_a_real_domain_with_probes_attached() {
    if let Err(why) = lab_available() {
        panic!("the libvirt test needs root and QEMU (run `make test` as root): {why}");
    }
    let id = Testbed::free_id('r');
    let tb = Testbed::start(&id, &TestbedOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let image = Testbed::image().unwrap_or_else(|e| panic!("{e}"));
    let name = format!("qp-lv{id}-vm");
    let guest = GuestConfig {
        ip: tb.guest_ip(),
        prefix: 24,
        services: vec![Service::Dash, Service::Game],
        dirty: (32, 16.0),
        upstream: None,
    };
    let spec = tb.domain_spec(
        &name,
        &image,
        guest,
        Flavor::by_name("lab.tiny").unwrap(),
        None,
    );
    let boot_id = tb
        .create_domain(0, &spec, Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libvirt.toml");
    let ip = tb.guest_ip();
    std::fs::write(
        &file,
        format!(
            r#"name = "libvirt-test"
runs = 2
warmup_s = 6
cooldown_s = 4
[migration]
driver = "libvirt"
time_limit_s = 120
[migration.libvirt]
source_uri = "{src}"
destination_uri = "{dst}"
domain = "{name}"
migrate_uri = "{m1}"
migrate_uri_back = "{m0}"
http = "{ip}:8080"
game = "{ip}:27015"
netns = "{ns}"
[[application]]
name = "dash"
service = "dash"
[application.player]
max_buffer_s = 20
[[scenario]]
name = "dc"
"#,
            src = tb.uri(0),
            dst = tb.uri(1),
            m1 = tb.migrate_uri(1),
            m0 = tb.migrate_uri(0),
            ns = tb.client_ns(),
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_qoeprobe"))
        .args(["run", "-q", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (k, host) in [(1, 1), (2, 0)] {
        let run = out.join(format!("dash/dc/run-{k}"));
        let s: Value =
            serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
        assert_eq!(s["complete"], true, "run {k}: {s}");
        let m = &s["migration"];
        assert_eq!(m["driver"], "libvirt");
        assert_eq!(m["outcome"], "completed", "run {k}: {m}");
        for key in ["preoperation_ms", "downtime_ms", "postoperation_ms"] {
            assert!(
                m[key].as_f64().is_some_and(|v| v >= 0.0),
                "run {k} {key}: {m}"
            );
        }
        assert!(m["platform_downtime_ms"].as_f64().is_some(), "{m}");
        let p = &s["probes"]["player"];
        assert!(p["segments"].as_u64().unwrap() > 3, "run {k}: {p}");
        assert_eq!(p["gave_up"], false, "run {k}: {p}");
        let timeline = std::fs::read_to_string(run.join("timeline.jsonl")).unwrap();
        assert!(timeline.contains(r#""origin":"libvirt:SUSPENDED_MIGRATED""#));
        assert!(timeline.contains(r#""origin":"libvirt:RESUMED_MIGRATED""#));
        // Run 1 moved the domain to compute02, run 2 back to compute01.
        if k == 2 {
            assert_eq!(tb.running(host).unwrap(), vec![name.to_string()]);
        }
    }
    let ns = tb.client_ns();
    let now = platform::lab::http_get(&ns, (ip, 8000).into(), "/boot_id", Duration::from_secs(5));
    let now = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(now)
        .unwrap();
    assert_eq!(now, boot_id, "the guest rebooted");
}
