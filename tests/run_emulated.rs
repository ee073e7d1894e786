//! `qoeprobe run` end to end on the emulated driver: the contract campaign
//! `scenarios/emulated-smoke.toml` (one run per cell) writes its run folders with the
//! phases, the probe summaries and the expected impairments: the DASH client (20 s
//! buffer) does not stall through the 2 s downtime; the game client sees a freeze of
//! the downtime's length; the download completes intact without restarting.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn read(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn f(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {path} in {v}"))
}

#[test]
fn emulated_smoke_campaign_end_to_end() {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let res = Command::new(exe)
        .args([
            "run",
            "scenarios/emulated-smoke.toml",
            "--runs",
            "1",
            "--out",
        ])
        .arg(out.path())
        .current_dir(root)
        // `qoeprobe serve` has every service the fixtures binary has.
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "qoeprobe run failed: {stderr}");
    assert!(out.path().join("campaign.json").is_file());
    let mut downtimes = Vec::new();
    for app in ["dash", "game", "download"] {
        let dir = out.path().join(app).join("dc").join("run-1");
        for f in ["run.json", "timeline.jsonl", "summary.json"] {
            assert!(dir.join(f).is_file(), "{app}: no {f}");
        }
        let s = read(&dir.join("summary.json"));
        assert_eq!(s["complete"], true, "{app}: {s}");
        let m = &s["migration"];
        assert_eq!(m["outcome"], "completed", "{app}: {m}");
        let (pre, down, post, total) = (
            f(m, "/preoperation_ms"),
            f(m, "/downtime_ms"),
            f(m, "/postoperation_ms"),
            f(m, "/total_ms"),
        );
        // The model: 32 MiB at 100 Mbit/s, then 23.8 MiB stop-and-copy + 20 ms.
        assert!((2500.0..3000.0).contains(&pre), "{app}: preoperation {pre}");
        assert!((1950.0..2200.0).contains(&down), "{app}: downtime {down}");
        assert!((30.0..400.0).contains(&post), "{app}: postoperation {post}");
        assert!(
            (total - (pre + down + post)).abs() < 1.0,
            "{app}: total {total}"
        );
        downtimes.push(down);
        let timeline = std::fs::read_to_string(dir.join("timeline.jsonl")).unwrap();
        for kind in [
            "migration_requested",
            "migration_paused",
            "migration_resumed",
            "network_reattached",
            "migration_end",
            "migration_pass",
        ] {
            assert_eq!(
                timeline
                    .lines()
                    .filter(|l| l.contains(&format!("\"kind\":\"{kind}\"")))
                    .count(),
                1,
                "{app}: {kind} once"
            );
        }
        for line in timeline.lines() {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("{app}: bad line {line}: {e}"));
        }
        let probe = &s["probes"][app_probe(app)];
        assert_eq!(probe["probe"], app_probe(app), "{app}: {probe}");
        match app {
            "dash" => {
                assert_eq!(
                    probe["stall_count"], 0,
                    "a 20 s buffer rides out a 2 s downtime: {probe}"
                );
                assert!(f(probe, "/segments") >= 5.0, "{probe}");
                // The service runs with --tls: HTTPS, HTTP/2, audio and video on one
                // connection.
                assert_eq!(probe["http_version"], "HTTP/2", "{probe}");
                assert_eq!(probe["audio"], true, "{probe}");
                assert!(f(probe, "/audio_segments") >= 5.0, "{probe}");
            }
            "game" => {
                let freeze = f(probe, "/freeze_longest_ms");
                // The migration's freeze (a loaded 2-core machine may add short ones).
                assert!(f(probe, "/freeze_count") >= 1.0, "{probe}");
                // Snapshots stop at the pause and return at reattach (+ one tick).
                assert!(
                    freeze >= down - 20.0 && freeze <= down + post + 150.0,
                    "freeze {freeze} ms vs downtime {down} + {post} ms"
                );
                assert_eq!(probe["session_continuous"], true, "{probe}");
            }
            "download" => {
                assert_eq!(probe["outcome"], "completed", "{probe}");
                assert_eq!(probe["sha256_ok"], true, "{probe}");
                assert_eq!(probe["restarted_from_zero"], false, "{probe}");
                assert!(
                    f(probe, "/stall_longest_ms") >= down - 50.0,
                    "the download stalls through the downtime: {probe}"
                );
            }
            _ => unreachable!(),
        }
        let reach = &s["reachability"];
        assert!(f(reach, "/longest_gap_ms") >= down, "{reach}");
    }
    // Deterministic for a seed: the same model timeline in every cell of this scenario.
    assert!(
        downtimes.iter().all(|d| (d - downtimes[0]).abs() < 50.0),
        "{downtimes:?}"
    );
    for f in ["verdicts.json", "table.md", "report.html"] {
        assert!(out.path().join(f).is_file(), "no {f}: {stderr}");
    }
}

fn app_probe(app: &str) -> &'static str {
    match app {
        "dash" => "player",
        "game" => "game",
        _ => "download",
    }
}
