//! `--start-at TIME`: probe processes standing for client hosts, launched at different
//! moments, start their sessions at one wall-clock time (their `wall_anchor_unix_ns`
//! agree with it within a scheduling tolerance) and merge into one run (player, game
//! and download sessions); a time in the past is refused.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn play_processes_launched_apart_start_together() {
    let mut server = Command::new(BIN)
        .args([
            "serve",
            "dash",
            "--segment-duration",
            "1",
            "--bind",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let dash = lines.next().unwrap().unwrap()["dash: ".len()..].to_string();
    let tmp = tempfile::tempdir().unwrap();
    // Four seconds ahead; the processes are launched 0.6 s apart.
    let start_ns = unix_ns() + 4_000_000_000;
    let start = format!("{:.3}", start_ns as f64 / 1e9);
    let mut children = Vec::new();
    for k in 0..3 {
        children.push(
            Command::new(BIN)
                .args([
                    "play",
                    &dash,
                    "--duration",
                    "2",
                    "--quiet",
                    "--start-at",
                    &start,
                ])
                .arg("--json")
                .arg(tmp.path().join(format!("host-{k}.json")))
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_millis(600));
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let start_ns = (start.parse::<f64>().unwrap() * 1e9) as i128;
    for k in 0..3 {
        let text = std::fs::read_to_string(tmp.path().join(format!("host-{k}.json"))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let anchor = v["wall_anchor_unix_ns"].as_u64().unwrap() as i128;
        // Not before the start; after it by at most a scheduling delay on a loaded
        // machine (the launches were 0.6 s apart, so without --start-at they would
        // differ by that much).
        let lag_ms = (anchor - start_ns) as f64 / 1e6;
        assert!(
            (-1.0..250.0).contains(&lag_ms),
            "host {k}: started {lag_ms:.1} ms after the start time"
        );
        assert!(v["segments"].as_u64().unwrap() > 0, "host {k} played");
    }
    let _ = server.kill();
    let _ = server.wait();

    // The three hosts merged into one run.
    let merged = tmp.path().join("merged.json");
    let out = Command::new(BIN)
        .arg("merge-clients")
        .arg(&merged)
        .args((0..3).map(|k| tmp.path().join(format!("host-{k}.json"))))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(m["hosts"], 3);
    assert_eq!(m["sessions"], 3);
    assert!(m["start_spread_ms"].as_f64().unwrap() < 250.0, "{m}");
    let segs: u64 = (0..3)
        .map(|k| {
            let t = std::fs::read_to_string(tmp.path().join(format!("host-{k}.json"))).unwrap();
            serde_json::from_str::<serde_json::Value>(&t).unwrap()["segments"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(m["segments"], segs);
    assert_eq!(m["startup_delay_ms"]["n"], 3);

    let past = Command::new(BIN)
        .args(["play", &dash, "--start-at", "2020-01-01T00:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(past.status.code(), Some(1));
    let err = String::from_utf8_lossy(&past.stderr);
    assert!(
        err.contains("--start-at is") && err.contains("in the past"),
        "{err}"
    );
}

/// `qoeprobe serve KIND --bind 127.0.0.1:0`: the server and the address its banner
/// gives (`KIND: URL`).
fn serve(kind: &str) -> (std::process::Child, String) {
    let mut server = Command::new(BIN)
        .args(["serve", kind, "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let banner = lines.next().unwrap().unwrap();
    let addr = banner[kind.len() + 2..].to_string();
    (server, addr)
}

#[test]
fn game_and_download_hosts_merge_into_one_run() {
    let (mut game, game_url) = serve("game");
    let (mut file, file_url) = serve("file");
    let tmp = tempfile::tempdir().unwrap();
    let start = format!("{:.3}", (unix_ns() + 2_000_000_000) as f64 / 1e9);
    let json = |probe: &str, k: u32| tmp.path().join(format!("{probe}-{k}.json"));
    let mut children = Vec::new();
    for k in 0..2 {
        let server = game_url.trim_start_matches("udp://");
        let mut g = Command::new(BIN);
        g.args([
            "game",
            server,
            "--duration",
            "1",
            "--quiet",
            "--start-at",
            &start,
        ]);
        let mut d = Command::new(BIN);
        d.args([
            "download",
            &format!("{file_url}gen/1M"),
            "--quiet",
            "--start-at",
            &start,
        ]);
        for (c, probe) in [(&mut g, "game"), (&mut d, "download")] {
            c.arg("--json").arg(json(probe, k)).stdout(Stdio::null());
            children.push(c.spawn().unwrap());
        }
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let _ = (game.kill(), file.kill());
    let _ = (game.wait(), file.wait());
    let merge = |out: &str, files: &[std::path::PathBuf]| {
        Command::new(BIN)
            .arg("merge-clients")
            .arg(tmp.path().join(out))
            .args(files)
            .output()
            .unwrap()
    };
    let read = |p: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    for probe in ["game", "download"] {
        let out = merge(probe, &[json(probe, 0), json(probe, 1)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let m = read(&tmp.path().join(probe));
        assert_eq!(
            (m["probe"].as_str(), m["hosts"].as_u64()),
            (Some(probe), Some(2)),
            "{m}"
        );
        assert_eq!(m["sessions"], 2, "{m}");
        assert!(m["start_spread_ms"].as_f64().unwrap() < 250.0, "{m}");
        let hosts: Vec<serde_json::Value> = (0..2).map(|k| read(&json(probe, k))).collect();
        if probe == "game" {
            let sum: u64 = hosts
                .iter()
                .map(|h| h["freeze_count"].as_u64().unwrap())
                .sum();
            assert_eq!(m["freeze_count"], sum, "{m}");
            assert_eq!(m["rtt_p95_ms"]["n"], 2, "{m}");
        } else {
            assert_eq!(m["completed"], 2, "{m}");
            assert_eq!(m["throughput_kbps"]["n"], 2, "{m}");
        }
    }
    // Sessions of two probes are not one run.
    let out = merge("mixed", &[json("game", 0), json("download", 0)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds sessions of another probe"), "{err}");
}
