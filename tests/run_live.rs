//! `qoeprobe run` end to end on the emulated driver with the `live` service and the
//! stream probe: a relay of an external encoder (the encoder is a second child that
//! is never paused) writes the stream probe's summary into its run folder and
//! migrates; the encoder inside the service, with its `[application.emulated]`
//! dirty rate, never converges and is cancelled at the time limit while the stream
//! keeps playing from the source. Needs build/media/clip.ts (scripts/make-clip.sh).
#![cfg(feature = "gstreamer")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const CAMPAIGN: &str = r#"
name = "live-e2e"
runs = 1
seed = 3
warmup_s = 3
cooldown_s = 2

[migration]
driver = "emulated"
downtime_limit_ms = 300
time_limit_s = 4

[migration.emulated]
memory_mb = 64
working_set_mb = 8
dirty_rate_mb_s = 1

[[application]]
name = "relay"
service = "live"
source = "relay"
[application.stream]
cache_s = 1

[[application]]
name = "encoder"
service = "live"
[application.stream]
[application.emulated]
# Faster than 1000 Mbit/s copies, more than 300 ms of it: never converges.
dirty_rate_mb_s = 200
working_set_mb = 48

[[scenario]]
name = "lan"
[scenario.migration]
rate_mbit = 1000
"#;

fn clip_ready(root: &Path) -> bool {
    if root.join("build/media/clip.ts").exists() {
        return true;
    }
    Command::new(root.join("scripts/make-clip.sh"))
        .status()
        .is_ok_and(|s| s.success())
}

fn summary(out: &Path, app: &str) -> Value {
    let p = out.join(app).join("lan").join("run-1").join("summary.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn live_relay_and_encoder_inside_on_the_emulated_driver() {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    assert!(clip_ready(&root), "no clip: run scripts/make-clip.sh");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("live.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    let out = dir.path().join("out");
    let res = Command::new(exe)
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(&file)
        .current_dir(&root)
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "qoeprobe run failed: {stderr}");

    let relay = summary(&out, "relay");
    assert_eq!(relay["complete"], true, "{relay}");
    assert_eq!(relay["migration"]["outcome"], "completed", "{relay}");
    let s = &relay["probes"]["stream"];
    assert_eq!(s["probe"], "stream", "{s}");
    assert!(s.get("error").is_none(), "{s}");
    assert_eq!(s["cache_ms"].as_f64(), Some(1000.0), "{s}");
    assert!(s["frames_rendered"].as_u64().unwrap_or(0) > 50, "{s}");
    assert!(s["url"].as_str().unwrap_or("").ends_with("/live.ts"), "{s}");
    let run_dir = out.join("relay/lan/run-1");
    let upstream = std::fs::read_to_string(run_dir.join("upstream.log")).unwrap();
    assert!(upstream.contains("encoder buffer"), "{upstream}");
    let timeline = std::fs::read_to_string(run_dir.join("timeline.jsonl")).unwrap();
    assert!(timeline.contains("\"probe:stream\""), "no stream events");

    let enc = summary(&out, "encoder");
    assert_eq!(enc["migration"]["outcome"], "cancelled", "{enc}");
    let s = &enc["probes"]["stream"];
    assert_eq!(s["cache_ms"].as_f64(), Some(0.0), "{s}");
    assert!(s["frames_rendered"].as_u64().unwrap_or(0) > 50, "{s}");
    assert_eq!(s["disconnects"].as_u64(), Some(0), "{s}");
    assert!(!out.join("encoder/lan/run-1/upstream.log").exists());
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(
        table.contains("| relay |") && table.contains("| encoder |"),
        "{table}"
    );
}
