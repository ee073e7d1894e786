//! The Grafana dashboard (docs/grafana/qoeprobe-campaign.json) names only series and
//! labels that `qoeprobe run --metrics` serves: every PromQL expression in it is
//! checked against a live `/metrics` scrape of a small emulated campaign (no Grafana
//! here; tests/prometheus_live.rs evaluates the same expressions in a real
//! Prometheus). Also: `/metrics` answers the OpenMetrics content type, other paths
//! 404, and a bad or busy address is a clear error.

mod common;

use common::live::{dashboard, dashboard_exprs, promql_names, scrape_names, stalling_campaign};
use common::prometheus::{ChildGuard, free_port, http_get};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

#[test]
fn dashboard_names_only_served_metrics_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, stalling_campaign("metrics-dashboard")).unwrap();
    let target: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let child = Command::new(BIN)
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .args([
            "--metrics",
            &target.to_string(),
            "--metrics-linger",
            "2",
            "-q",
        ])
        .env("QOEPROBE_FIXTURES", BIN)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("qoeprobe run starts");
    let mut child = ChildGuard(child);
    // Scrape until it exits; the last scrape (in the linger) has every run's series.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut last = None;
    let mut other = None;
    while child.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "qoeprobe run did not finish in 180 s"
        );
        if let Ok((200, body)) = http_get(target, "/metrics") {
            last = Some(body);
            other.get_or_insert_with(|| http_get(target, "/nothing").map(|r| r.0));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(child.0.wait().unwrap().success(), "qoeprobe run failed");
    assert_eq!(
        other.map(|r| r.ok()),
        Some(Some(404)),
        "/nothing is not 404"
    );
    let scrape = last.expect("no /metrics scrape succeeded");
    assert!(
        scrape.ends_with("# EOF\n"),
        "not OpenMetrics text: {scrape}"
    );
    let (series, labels) = scrape_names(&scrape);
    assert!(
        series.contains("qoeprobe_player_stalls_total"),
        "{series:?}"
    );
    let mut wrong = Vec::new();
    let exprs = dashboard_exprs(&dashboard());
    assert!(exprs.len() > 10, "{exprs:?}");
    for e in &exprs {
        let (metrics, used) = promql_names(e);
        assert!(!metrics.is_empty(), "no qoeprobe metric in {e}");
        for m in metrics.iter().filter(|m| !series.contains(*m)) {
            wrong.push(format!("metric {m} in {e}"));
        }
        for l in used.iter().filter(|l| !labels.contains(*l)) {
            wrong.push(format!("label {l} in {e}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "not served: {wrong:#?}\nserved: {series:?} {labels:?}"
    );
}

#[test]
fn metrics_address_errors_are_clear() {
    // Busy: the address in the message, and what to do.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args(["game", "127.0.0.1:9", "--duration", "1", "--metrics", &addr])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve metrics on {addr}")) && stderr.contains("in use"),
        "{stderr}"
    );
    // Not an address: clap's message, exit 1 as any bad value.
    let out = Command::new(BIN)
        .args(["game", "127.0.0.1:9", "--metrics", "localhost"])
        .env_remove("QOEPROBE_METRICS")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--metrics") && stderr.contains("localhost"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
