//! `qoeprobe run` on the local QEMU lab (root + QEMU): one real live migration per
//! application of scenarios/lab-smoke.toml, with the probes attached from the lab's
//! client namespace. Guards the runner's namespace attachment: a DASH client that
//! cannot reach the guest would give up, a game client would have no session.

use std::process::Command;

#[test]
fn lab_smoke_campaign_runs_real_migrations_with_probes_in_the_client_namespace() {
    if let Err(why) = platform::lab::lab_available() {
        panic!("the lab test needs root and QEMU (run `make test` as root): {why}");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_qoeprobe"))
        .args([
            "run",
            "scenarios/lab-smoke.toml",
            "--runs",
            "1",
            "-q",
            "--out",
        ])
        .arg(dir.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |app: &str| -> serde_json::Value {
        let p = dir.path().join(app).join("dc/run-1/summary.json");
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()
    };
    let dash = read("dash");
    assert_eq!(dash["complete"], true);
    assert_eq!(dash["migration"]["outcome"], "completed");
    let m = &dash["migration"];
    for k in ["preoperation_ms", "downtime_ms", "postoperation_ms"] {
        assert!(m[k].as_f64().is_some_and(|v| v >= 0.0), "{k}: {m}");
    }
    let p = &dash["probes"]["player"];
    assert!(p["segments"].as_u64().unwrap() > 3, "{p}");
    assert_eq!(p["gave_up"], false, "{p}");
    let game = read("game");
    let g = &game["probes"]["game"];
    assert_eq!(g["session_continuous"], true, "{g}");
}
