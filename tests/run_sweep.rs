//! `qoeprobe run` on sweeps: the expected duration (of the runs left, with
//! `--resume`) is printed before anything starts, a campaign over an hour needs
//! `--long`, and a `[matrix]` campaign on the emulated driver runs every cell with
//! its own mode and link and gets the study's figures and statements in its report.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn qoeprobe() -> Command {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let mut c = Command::new(exe);
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QOEPROBE_FIXTURES", exe);
    c
}

#[test]
fn the_full_sweep_does_not_start_without_long() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("sweep");
    let res = qoeprobe()
        .args(["run", "scenarios/paper-network.toml", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(!res.status.success(), "it started: {stderr}");
    assert!(
        stderr.contains("expected duration: about 39 h 11 min for 720 run(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("does not start without --long"), "{stderr}");
    assert!(
        !dir.exists(),
        "the refused campaign wrote {}",
        dir.display()
    );
    // A selection under an hour starts without the flag (here: refused later,
    // because the lab driver needs root and QEMU, or runs; either way it passed
    // the duration check and said so).
    let res = qoeprobe()
        .args([
            "run",
            "scenarios/paper-network.toml",
            "--only",
            "nope/none",
            "--out",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        stderr.contains("--only nope/none: matches nothing"),
        "{stderr}"
    );
}

const SWEEP: &str = r#"
name = "sweep-emulated"
runs = 2
seed = 3
warmup_s = 1
cooldown_s = 1

[migration]
driver = "emulated"

[migration.emulated]
memory_mb = 16
working_set_mb = 4
dirty_rate_mb_s = 0.5
disk_mb = 16

[[application]]
name = "game"
service = "game"
[application.game]
cmdrate = 66

[matrix]
mode = ["live", "block"]
[matrix.migration]
rate_mbit = [1000, 100]
loss_pct = [0, 5]
"#;

fn read(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn an_emulated_matrix_runs_every_cell_with_its_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let out = tmp.path().join("out");
    let res = qoeprobe()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "qoeprobe run failed: {stderr}");
    assert!(stderr.contains("expected duration: about"), "{stderr}");
    let mut cells = 0;
    for mode in ["live", "block"] {
        for rate in [1000, 100] {
            for drop in [0, 5] {
                let cell = format!("{mode}-r{rate}-drop{drop}");
                for k in 1..=2 {
                    let dir = out.join("game").join(&cell).join(format!("run-{k}"));
                    let info = read(&dir.join("run.json"));
                    assert_eq!(info["mode"], mode, "{cell}");
                    assert_eq!(info["conditions"]["migration"]["rate_mbit"], rate as f64);
                    assert_eq!(info["conditions"]["migration"]["loss_pct"], drop as f64);
                    let s = read(&dir.join("summary.json"));
                    assert_eq!(s["migration"]["outcome"], "completed", "{cell}: {s}");
                }
                cells += 1;
            }
        }
    }
    assert_eq!(cells, 8);
    // Resumed, nothing is left to do, and the estimate says so.
    let res = qoeprobe()
        .arg("run")
        .arg(&file)
        .args(["--resume", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{stderr}");
    assert!(
        stderr.contains("expected duration: about 0 s for 0 run(s)"),
        "{stderr}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for part in [
        "The study's section 5",
        "Fig. 3: total time, tiny, 0 % drop, by rate and mode",
        "Fig. 4: preoperation, 0 % drop, by rate",
        "Fig. 5: postoperation, 1000 Mbit/s, by drop rate",
        "live migration is faster than block migration",
    ] {
        assert!(html.contains(part), "report.html lacks {part:?}");
    }
}
