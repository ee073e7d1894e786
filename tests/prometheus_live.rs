//! Live metrics scraped by a REAL Prometheus server (Debian's `prometheus` package;
//! these tests fail, saying so, when its binary is missing). Each test starts its own
//! Prometheus (own configuration, storage folder and loopback port; a system service
//! on port 9090 is neither used nor disturbed) scraping `qoeprobe --metrics` every
//! second, then checks what Prometheus stored, through its HTTP API, against the
//! files the run wrote: the campaign's progress, the phases it went through and the
//! probes' counters against each run's `summary.json`; `play --clients N` against its
//! `--json`. Every dashboard expression must evaluate in this Prometheus.

mod common;

use common::live::{dashboard, dashboard_exprs, stalling_campaign, substitute};
use common::prometheus::{ChildGuard, Prometheus, free_port};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

fn read(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn num(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {path} in {v}"))
}

/// Equal within float noise (the exposition prints floats in full).
fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() < 1e-6, "{what}: Prometheus {a}, summary {b}");
}

#[test]
fn prometheus_scrapes_a_campaign_live() {
    let name = "metrics-prometheus";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, stalling_campaign(name)).unwrap();
    let target: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prom = Prometheus::start(target);
    prom.wait_target(Duration::from_secs(30));
    let out = dir.path().join("out");
    let mut cmd = Command::new(BIN);
    cmd.arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--metrics", &target.to_string(), "--metrics-linger", "3"])
        .env("QOEPROBE_FIXTURES", BIN);
    let res = common::run_bounded(cmd, Duration::from_secs(180));
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "qoeprobe run failed: {stderr}");
    assert!(
        stderr.contains(&format!("serving metrics at http://{target}/metrics")),
        "{stderr}"
    );
    prom.wait_scraped(Duration::from_secs(10));
    let last = |m: &str| prom.scalar(&format!("last_over_time({m}[10m])"));
    let c = format!("campaign=\"{name}\"");

    // Progress: planned, done (= the complete summaries), none incomplete; and the
    // counter was scraped at 0 before the first run ended (it was live).
    let apps = ["dash", "game", "stream", "download"];
    let summaries: Vec<Value> = apps
        .iter()
        .map(|a| read(&out.join(a).join("s/run-1/summary.json")))
        .collect();
    let complete = summaries.iter().filter(|s| s["complete"] == true).count();
    assert_eq!(complete, 4, "{summaries:?}");
    assert_eq!(last(&format!("qoeprobe_campaign_runs_planned{{{c}}}")), 4.0);
    assert_eq!(
        last(&format!("qoeprobe_campaign_runs_done_total{{{c}}}")),
        complete as f64
    );
    assert_eq!(
        last(&format!("qoeprobe_campaign_runs_incomplete_total{{{c}}}")),
        0.0
    );
    assert_eq!(
        prom.scalar(&format!(
            "min_over_time(qoeprobe_campaign_runs_done_total{{{c}}}[10m])"
        )),
        0.0,
        "no scrape before the first run ended"
    );

    for (app, s) in apps.iter().zip(&summaries) {
        let run = format!("{c},application=\"{app}\",scenario=\"s\",run=\"1\"");
        // Phases: the runner's migration phase was seen live (it lasts about 2.8 s,
        // scraped every second); each migration phase was entered once; the phase
        // durations are the summary's.
        assert_eq!(
            prom.scalar(&format!(
                "max_over_time(qoeprobe_runner_phase{{{run},phase=\"migration\"}}[10m])"
            )),
            1.0,
            "{app}: the migration phase was never scraped"
        );
        assert_eq!(
            prom.scalar(&format!("max_over_time(qoeprobe_run_active{{{run}}}[10m])")),
            1.0
        );
        for phase in ["preoperation", "downtime", "postoperation"] {
            assert_eq!(
                last(&format!(
                    "qoeprobe_migration_phase_entered_total{{{run},phase=\"{phase}\"}}"
                )),
                1.0,
                "{app}: {phase}"
            );
        }
        for phase in ["preoperation", "downtime", "postoperation", "total"] {
            close(
                last(&format!(
                    "qoeprobe_run_migration_phase_seconds{{{run},phase=\"{phase}\"}}"
                )),
                num(s, &format!("/migration/{phase}_ms")) / 1000.0,
                &format!("{app}: {phase}"),
            );
        }
    }

    // The probes' counters, updated live from the events, against the summaries.
    let run = |app: &str, probe: &str| {
        format!("{c},application=\"{app}\",scenario=\"s\",run=\"1\",probe=\"{probe}\"")
    };
    let player = &summaries[0]["probes"]["player"];
    let p = run("dash", "player");
    assert!(
        num(player, "/stall_count") >= 1.0,
        "the player did not stall: {player}"
    );
    assert_eq!(
        last(&format!("qoeprobe_player_stalls_total{{{p}}}")),
        num(player, "/stall_count")
    );
    close(
        last(&format!("qoeprobe_player_stall_seconds_total{{{p}}}")),
        num(player, "/stall_total_ms") / 1000.0,
        "stall seconds",
    );
    assert_eq!(
        last(&format!(
            "qoeprobe_player_stall_duration_seconds_count{{{p}}}"
        )),
        num(player, "/stall_count")
    );
    assert_eq!(
        last(&format!("qoeprobe_player_segments_total{{{p}}}")),
        num(player, "/segments")
    );
    let game = &summaries[1]["probes"]["game"];
    let g = run("game", "game");
    assert!(
        num(game, "/freeze_count") >= 1.0,
        "the game did not freeze: {game}"
    );
    assert_eq!(
        last(&format!("qoeprobe_game_freezes_total{{{g}}}")),
        num(game, "/freeze_count")
    );
    close(
        last(&format!("qoeprobe_game_freeze_seconds_total{{{g}}}")),
        num(game, "/freeze_total_ms") / 1000.0,
        "freeze seconds",
    );
    assert_eq!(
        last(&format!("qoeprobe_game_commands_total{{{g}}}")),
        num(game, "/commands_sent")
    );
    assert_eq!(
        last(&format!("qoeprobe_game_snapshots_total{{{g}}}")),
        num(game, "/snapshots_received")
    );
    // The RTT histogram holds the summary's largest RTT: no sample above it.
    let max_s = num(game, "/rtt_max_ms") / 1000.0;
    let all = last(&format!("qoeprobe_game_rtt_seconds_count{{{g}}}"));
    assert!(all > 0.0);
    let slower = prom.scalar(&format!(
        "last_over_time(qoeprobe_game_rtt_seconds_count{{{g}}}[10m]) - on() last_over_time(qoeprobe_game_rtt_seconds_bucket{{{g},le=\"+Inf\"}}[10m])"
    ));
    assert_eq!(slower, 0.0);
    let max_bucket = prom.scalar(&format!(
        "histogram_quantile(1, last_over_time(qoeprobe_game_rtt_seconds_bucket{{{g}}}[10m]))"
    ));
    assert!(
        max_bucket >= max_s,
        "RTT histogram's top {max_bucket} s below the summary's max {max_s} s"
    );

    let stream = &summaries[2]["probes"]["stream"];
    let st = run("stream", "stream");
    assert!(
        num(stream, "/stall_count") >= 1.0,
        "the stream did not stall: {stream}"
    );
    assert_eq!(
        last(&format!("qoeprobe_stream_stalls_total{{{st}}}")),
        num(stream, "/stall_count")
    );
    close(
        last(&format!("qoeprobe_stream_stall_seconds_total{{{st}}}")),
        num(stream, "/stall_total_ms") / 1000.0,
        "stream stall seconds",
    );
    assert_eq!(
        last(&format!("qoeprobe_stream_reconnects_total{{{st}}}")),
        num(stream, "/reconnects")
    );
    let download = &summaries[3]["probes"]["download"];
    let d = run("download", "download");
    assert_eq!(
        last(&format!("qoeprobe_download_bytes_total{{{d}}}")),
        num(download, "/bytes")
    );
    assert_eq!(
        last(&format!("qoeprobe_download_attempts_total{{{d}}}")),
        num(download, "/attempts")
    );
    assert_eq!(
        last(&format!("qoeprobe_download_stalls_total{{{d}}}")),
        num(download, "/stall_count")
    );

    // What the README shows (run with --nocapture to see it).
    for q in [
        format!("last_over_time(qoeprobe_campaign_runs_done_total{{{c}}}[10m])"),
        format!(
            "last_over_time(qoeprobe_run_migration_phase_seconds{{{c},phase=\"downtime\"}}[10m])"
        ),
        format!("last_over_time(qoeprobe_player_stalls_total{{{c}}}[10m])"),
    ] {
        eprintln!("query: {q}\n{}", prom.query(&q).unwrap());
    }

    // Every expression of the Grafana dashboard is valid PromQL for this
    // Prometheus, and the progress and phase panels have data.
    for e in dashboard_exprs(&dashboard()) {
        let e = substitute(&e, name);
        if e.starts_with("label_values") {
            continue; // Grafana's own function, checked by tests/metrics_dashboard.rs
        }
        prom.query(&e)
            .unwrap_or_else(|err| panic!("dashboard expression rejected: {err}"));
    }
}

#[test]
fn prometheus_scrapes_play_clients() {
    let server = Command::new(BIN)
        .args(["serve", "dash", "--segment-duration", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("qoeprobe serve dash starts");
    let mut server = ChildGuard(server);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let url = first
        .strip_prefix("dash: ")
        .unwrap_or_else(|| panic!("serve dash printed {first}"))
        .to_string();
    let target: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prom = Prometheus::start(target);
    prom.wait_target(Duration::from_secs(30));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("play.json");
    let mut cmd = Command::new(BIN);
    cmd.args(["play", &url, "--clients", "3", "--duration", "5", "-q"])
        .arg("--json")
        .arg(&json)
        .args(["--metrics-linger", "3"])
        // The environment variable instead of --metrics.
        .env("QOEPROBE_METRICS", target.to_string());
    let res = common::run_bounded(cmd, Duration::from_secs(90));
    assert!(
        res.status.success(),
        "qoeprobe play failed: {}",
        String::from_utf8_lossy(&res.stderr)
    );
    prom.wait_scraped(Duration::from_secs(10));
    let out = read(&json);
    let u = format!("url=\"{url}\"");
    let sum = |m: &str| prom.scalar(&format!("sum(last_over_time({m}{{{u}}}[10m]))"));
    assert_eq!(
        prom.scalar(&format!(
            "count(last_over_time(qoeprobe_player_segments_total{{{u}}}[10m]))"
        )),
        3.0,
        "one series per client"
    );
    assert_eq!(
        sum("qoeprobe_player_segments_total"),
        num(&out, "/segments")
    );
    let stalls = prom
        .query(&format!(
            "sum(last_over_time(qoeprobe_player_stalls_total{{{u}}}[10m]))"
        ))
        .unwrap();
    let stalls = stalls["result"][0]["value"][1]
        .as_str()
        .map_or(0.0, |v| v.parse().unwrap());
    assert_eq!(stalls, num(&out, "/stalls"));
    for (i, s) in out["summaries"].as_array().unwrap().iter().enumerate() {
        assert_eq!(
            prom.scalar(&format!(
                "last_over_time(qoeprobe_player_segments_total{{{u},client=\"{i}\"}}[10m])"
            )),
            num(s, "/segments"),
            "client {i}"
        );
    }
}
