//! `qoeprobe demo` end to end, on the emulated driver (forced with the hidden
//! `--driver emulated`) and reduced to the relay application (one run per scenario), so that it stays well under two minutes: it says which driver and why,
//! writes the run folders, `table.md` and `report.html` into `--out`, and prints the
//! table and where the report is. Needs build/media/clip.ts (scripts/make-clip.sh).
#![cfg(feature = "gstreamer")]

use std::path::{Path, PathBuf};
use std::process::Command;

fn clip_ready(root: &Path) -> bool {
    if root.join("build/media/clip.ts").exists() {
        return true;
    }
    Command::new(root.join("scripts/make-clip.sh"))
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn demo_on_the_emulated_driver_writes_table_and_report() {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(clip_ready(&root), "no clip: run scripts/make-clip.sh");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let res = Command::new(exe)
        .args(["demo", "--driver", "emulated", "--runs", "1"])
        .args(["--only", "stream-relay/*", "--quiet", "--out"])
        .arg(&out)
        .current_dir(&root)
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&res.stdout);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "demo failed: {stdout}\n{stderr}");
    assert!(
        stdout.contains("demo: driver emulated: chosen with --driver emulated"),
        "{stdout}"
    );
    assert!(stdout.contains("2 runs"), "{stdout}");
    // The printed table is the Markdown table of table.md.
    assert!(stdout.contains("| application | S1 | S2 |"), "{stdout}");
    assert!(stdout.contains("| stream-relay |"), "{stdout}");
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(table.contains("| stream-relay |"), "{table}");
    let report = out.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<svg"), "the report has no plot");
    assert!(
        stdout.contains(&format!("demo: report {}", report.display())),
        "{stdout}"
    );
    for scen in ["S1", "S2"] {
        let s = out
            .join("stream-relay")
            .join(scen)
            .join("run-1/summary.json");
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&s).unwrap()).unwrap();
        assert_eq!(v["probes"]["stream"]["probe"], "stream", "{v}");
        assert_eq!(v["migration"]["outcome"], "completed", "{v}");
    }
}

#[test]
fn demo_refuses_a_bad_selection() {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let dir = tempfile::tempdir().unwrap();
    let res = Command::new(exe)
        .args(["demo", "--driver", "emulated", "--only", "nope", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!res.status.success());
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        stderr.contains("Error: --only nope: matches nothing"),
        "{stderr}"
    );
}
