//! The download checker against the real file service (fixtures), in real time:
//! resume after a reset, corrupt bodies, mid-body stalls, 404, refused connections,
//! throughput intervals. Faults are asked of the file service in the query string.

use fixtures::file::FileServer;
use probes::download::{self, DownloadConfig};
use record::clock::MonotonicClock;
use record::{DownloadOutcome, DownloadSummary, Event, EventKind};
use std::io::{Read, Write};
use std::time::Duration;

async fn server() -> FileServer {
    FileServer::start("127.0.0.1:0".parse().expect("addr"), None)
        .await
        .expect("file server")
}

async fn fetch(cfg: DownloadConfig) -> (Vec<Event>, DownloadSummary) {
    let clock = MonotonicClock::start();
    let events = download::run(cfg, &clock, |_| {}, std::future::pending())
        .await
        .expect("runs");
    let s = download::summarize(&events);
    (events, s)
}

fn cfg(url: String) -> DownloadConfig {
    let mut c = DownloadConfig::new(url);
    c.backoff_base = Duration::from_millis(50);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_mid_body_resumes_with_range_and_verifies() {
    let srv = server().await;
    let (events, s) = fetch(cfg(format!("{}/gen/4M?reset_at=1000000", srv.url()))).await;
    assert_eq!(s.outcome, DownloadOutcome::Completed, "{s:#?}");
    assert_eq!(
        (s.bytes, s.attempts, s.resumes, s.errors),
        (4 << 20, 2, 1, 1),
        "{s:#?}"
    );
    assert!(!s.restarted_from_zero);
    assert_eq!(
        (s.sha256_ok, s.size_ok),
        (Some(true), Some(true)),
        "published checksum used"
    );
    let second = events.iter().find_map(|e| match &e.kind {
        EventKind::DownloadAttempt(a) if a.attempt == 2 => Some(a.clone()),
        _ => None,
    });
    let second = second.expect("a second attempt");
    assert_eq!(
        second.range_start,
        Some(1_000_000),
        "resumed exactly where the reset cut"
    );
    assert_eq!(second.if_range.as_deref(), Some("\"gen-4194304\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_client_restarts_from_zero() {
    let srv = server().await;
    let mut c = cfg(format!("{}/gen/2M?reset_at=1000000", srv.url()));
    c.resume = false;
    let (_, s) = fetch(c).await;
    // The reset hits again on the second full attempt: the naive client never gets past it.
    assert_eq!(s.outcome, DownloadOutcome::Failed, "{s:#?}");
    assert!(s.restarted_from_zero);
    assert_eq!((s.attempts, s.resumes), (5, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_body_is_detected() {
    let srv = server().await;
    let (_, s) = fetch(cfg(format!("{}/gen/1M?corrupt_at=500000", srv.url()))).await;
    assert_eq!(s.outcome, DownloadOutcome::Corrupt, "{s:#?}");
    assert_eq!((s.sha256_ok, s.size_ok), (Some(false), Some(true)));
    // The same file with the right checksum given explicitly and a wrong size.
    let mut c = cfg(format!("{}/gen/1M", srv.url()));
    c.expected_size = Some(1_000_000);
    let (_, s) = fetch(c).await;
    assert_eq!(
        (s.outcome, s.size_ok, s.sha256_ok),
        (DownloadOutcome::Corrupt, Some(false), Some(true))
    );
    let mut c = cfg(format!("{}/gen/1M", srv.url()));
    c.expected_sha256 = Some([7u8; 32]);
    let (_, s) = fetch(c).await;
    assert_eq!(
        (s.outcome, s.sha256_ok),
        (DownloadOutcome::Corrupt, Some(false))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stall_mid_body_is_recorded_with_its_length() {
    let srv = server().await;
    let (events, s) = fetch(cfg(format!(
        "{}/gen/2M?stall_at=1000000&stall_ms=1500",
        srv.url()
    )))
    .await;
    assert_eq!(s.outcome, DownloadOutcome::Completed, "{s:#?}");
    assert_eq!(s.stall_count, 1, "{s:#?}");
    // From the last byte before to the first byte after: the 1.5 s pause, -150 ms
    // (the bytes before it may reach the client late on a loaded machine) / +100 ms.
    assert!(
        (1350.0..=1600.0).contains(&s.stall_longest_ms),
        "stall {} ms",
        s.stall_longest_ms
    );
    let start = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::DownloadStallStart(_)));
    let EventKind::DownloadStallStart(st) = &start.expect("stall start").kind else {
        unreachable!()
    };
    let detected_after = start.map_or(0, |e| e.t_ns) - st.since_ns;
    // Detected by timer one stall threshold (1 s) after the last byte (± 20 ms).
    assert!(
        (detected_after as f64 / 1e6 - 1000.0).abs() < 20.0,
        "{detected_after} ns"
    );
    assert_eq!(
        s.errors, 0,
        "a stall shorter than the timeout is not an error"
    );

    let (_, s) = fetch(cfg(format!(
        "{}/gen/1M?stall_at=500000&stall_ms=400",
        srv.url()
    )))
    .await;
    assert_eq!(s.stall_count, 0, "400 ms is under the 1 s threshold");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_is_cut_into_100ms_intervals() {
    let srv = server().await;
    let (events, s) = fetch(cfg(format!("{}/gen/1M?rate_kbps=8000", srv.url()))).await;
    assert_eq!(s.outcome, DownloadOutcome::Completed);
    let intervals: Vec<f64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DownloadProgress(p) if p.interval_ms == 100.0 => Some(p.throughput_kbps),
            _ => None,
        })
        .collect();
    // 1 MiB at 8 Mbit/s takes about 1.05 s: 10 full intervals, a few more when the
    // machine is loaded (the first bytes come late).
    assert!((9..=14).contains(&intervals.len()), "{intervals:?}");
    // The pacing holds: never faster than 8 Mbit/s on average, not much slower either.
    assert!(
        (5000.0..=8400.0).contains(&s.throughput_kbps),
        "mean {} kbit/s",
        s.throughput_kbps
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_and_refused_give_clear_errors() {
    let srv = server().await;
    let (_, s) = fetch(cfg(format!("{}/nothing-here", srv.url()))).await;
    assert_eq!(
        (s.outcome, s.attempts),
        (DownloadOutcome::Failed, 1),
        "a 404 is not retried"
    );
    let reason = s.reason.unwrap_or_default();
    assert!(
        reason.contains("HTTP 404") && reason.contains("check the URL"),
        "{reason}"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut c = cfg(format!("http://127.0.0.1:{port}/x"));
    c.max_attempts = 2;
    let (_, s) = fetch(c).await;
    assert_eq!(
        (s.outcome, s.attempts, s.errors),
        (DownloadOutcome::Failed, 2, 2)
    );
    let reason = s.reason.unwrap_or_default();
    assert!(
        reason.contains("gave up after 2 attempts") && reason.contains("refused"),
        "{reason}"
    );

    let clock = MonotonicClock::start();
    let err = download::run(
        DownloadConfig::new("ftp://example.invalid/"),
        &clock,
        |_| {},
        std::future::pending(),
    )
    .await
    .expect_err("ftp is refused up front");
    assert!(
        err.to_string().contains("give an http:// or https:// URL"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_is_refused() {
    let dir = std::env::temp_dir().join(format!("qoeprobe-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("a.bin"), b"hello").expect("file");
    let srv = FileServer::start("127.0.0.1:0".parse().expect("addr"), Some(dir.clone()))
        .await
        .expect("server");
    let addr = srv.addr();
    let status = move |path: &'static str| {
        let mut t = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            t,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut s = String::new();
        let _ = t.read_to_string(&mut s);
        s.split(' ').nth(1).unwrap_or("").to_string()
    };
    let results = tokio::task::spawn_blocking(move || {
        [
            "/a.bin",
            "/../../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/a.bin/../../x",
            "/nope",
        ]
        .map(status)
    })
    .await
    .expect("requests");
    assert_eq!(
        results,
        ["200", "403", "403", "403", "404"].map(String::from)
    );
    let (_, s) = fetch(cfg(format!("{}/a.bin", srv.url()))).await;
    assert_eq!(
        (s.outcome, s.bytes, s.sha256_ok),
        (DownloadOutcome::Completed, 5, Some(true))
    );
    let _ = std::fs::remove_dir_all(dir);
}
