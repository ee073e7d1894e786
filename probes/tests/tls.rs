//! HTTPS over HTTP/1.1 and HTTP/2 against the fixtures' own TLS servers (a
//! self-signed certificate generated at start): the player and the download checker
//! trust it with `--ca` (or skip verification with `--insecure`), refuse it without,
//! and count connections, not requests (HTTP/2 multiplexes one connection).

use fixtures::dash::{DashConfig, Origin};
use fixtures::file::FileServer;
use probes::client::HttpOptions;
use probes::download::{self, DownloadConfig};
use probes::player::abr;
use probes::player::http::run_session;
use probes::player::session::{Player, PlayerConfig, PlayerError};
use probes::player::summary::summarize;
use record::clock::{Clock, MonotonicClock};
use record::{DownloadOutcome, EventKind, PlayerSummary};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::watch;

async fn tls_origin() -> Origin {
    fixtures::dash::start(DashConfig {
        segment_duration: Duration::from_secs(1),
        length: Duration::from_secs(6),
        tls: true,
        ..DashConfig::default()
    })
    .await
    .expect("TLS origin starts")
}

/// Writes the server's certificate to a file, as a user would save the PEM that
/// `serve ... --tls` prints.
fn ca_file(pem: &str, name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("qoeprobe-{name}-{}.pem", std::process::id()));
    std::fs::write(&p, pem).expect("write the certificate");
    p
}

async fn play(
    url: &str,
    http: &HttpOptions,
) -> (PlayerSummary, Vec<EventKind>, Option<PlayerError>) {
    let clock = MonotonicClock::start();
    let mut cfg = PlayerConfig::new(url::Url::parse(url).unwrap());
    cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
    cfg.duration = None;
    let client = http.client().expect("client");
    let mut player = Player::new(cfg, abr::by_name("fixed:0").unwrap(), clock.now());
    let (_tx, rx) = watch::channel(false);
    let mut events = Vec::new();
    run_session(&mut player, &clock, &client, rx, |e| events.push(e)).await;
    let summary = summarize(&events, "probe:player");
    let kinds = events.into_iter().map(|e| e.kind).collect();
    (summary, kinds, player.fatal_error().cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_https_over_http2_and_http1_with_the_servers_certificate() {
    let o = tls_origin().await;
    let cert = o
        .certificate()
        .expect("a certificate")
        .cert_pem()
        .to_string();
    let ca = ca_file(&cert, "origin");
    assert!(o.dash_url().starts_with("https://127.0.0.1:"));
    for (http1_only, version) in [(false, "HTTP/2"), (true, "HTTP/1.1")] {
        let http = HttpOptions {
            ca_files: vec![ca.clone()],
            http1_only,
            ..HttpOptions::default()
        };
        let (s, kinds, fatal) = play(&o.dash_url(), &http).await;
        assert!(fatal.is_none(), "{fatal:?}");
        assert_eq!(s.segments, 6, "{s:?}");
        assert_eq!(s.stall_count, 0, "{s:?}");
        assert_eq!(s.http_version.as_deref(), Some(version), "{s:?}");
        let versions: Vec<&str> = kinds
            .iter()
            .filter_map(|k| match k {
                EventKind::Request(r) => r.http_version.as_deref(),
                _ => None,
            })
            .collect();
        assert!(versions.iter().all(|v| *v == version), "{versions:?}");
        if version == "HTTP/2" {
            // Every request of the session shares one connection.
            assert_eq!(s.connections, 1, "{s:?}");
        } else {
            assert!(s.connections >= 1, "{s:?}");
        }
    }
    // HLS over the same TLS origin.
    let http = HttpOptions {
        ca_files: vec![ca.clone()],
        ..HttpOptions::default()
    };
    let (s, _, fatal) = play(&o.hls_url(), &http).await;
    assert!(fatal.is_none(), "{fatal:?}");
    assert_eq!((s.format.as_str(), s.segments), ("hls", 6), "{s:?}");
    let _ = std::fs::remove_file(ca);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused_and_insecure_accepts_it() {
    let o = tls_origin().await;
    let (_, kinds, fatal) = play(&o.dash_url(), &HttpOptions::default()).await;
    let err = fatal.expect("refused").to_string();
    assert!(err.contains("cannot load"), "{err}");
    let detail = kinds
        .iter()
        .find_map(|k| match k {
            EventKind::RequestError(r) => Some(r.detail.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        detail.to_lowercase().contains("certificate"),
        "the error names the certificate: {detail}"
    );
    let insecure = HttpOptions {
        insecure: true,
        ..HttpOptions::default()
    };
    let (s, _, fatal) = play(&o.dash_url(), &insecure).await;
    assert!(fatal.is_none(), "{fatal:?}");
    assert_eq!(s.segments, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_server_pause_recovers_without_a_new_connection() {
    // The server stops answering for 3 s; the 1 s request timeout cancels the
    // request's HTTP/2 stream, not the connection: the retry goes out on the same
    // connection and the recovery is a `reconnect` without a new connection.
    let o = tls_origin().await;
    let http = HttpOptions {
        insecure: true,
        ..HttpOptions::default()
    };
    let faults = o.faults();
    let pauser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        faults.pause_for(Duration::from_secs(3));
    });
    let clock = MonotonicClock::start();
    let mut cfg = PlayerConfig::new(url::Url::parse(&o.dash_url()).unwrap());
    cfg.duration = Some(Duration::from_secs(8));
    cfg.max_buffer = Duration::from_secs(2);
    cfg.segment_timeout = Duration::from_secs(1);
    let client = http.client().unwrap();
    let mut player = Player::new(cfg, abr::by_name("fixed:0").unwrap(), clock.now());
    let (_tx, rx) = watch::channel(false);
    let mut events = Vec::new();
    run_session(&mut player, &clock, &client, rx, |e| events.push(e)).await;
    pauser.await.unwrap();
    let s = summarize(&events, "probe:player");
    assert!(s.request_errors >= 1, "{s:?}");
    assert_eq!(s.reconnects, 1, "{s:?}");
    assert_eq!(s.connections, 1, "one HTTP/2 connection throughout: {s:?}");
    let reconnect = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Reconnect(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert!(!reconnect.new_connection, "{reconnect:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_https_resumes_over_http2_and_http1() {
    let opts = fixtures::file::FileOptions {
        tls: true,
        ..Default::default()
    };
    let srv = FileServer::start_with("127.0.0.1:0".parse().unwrap(), None, opts)
        .await
        .expect("TLS file server");
    let ca = ca_file(srv.certificate().unwrap().cert_pem(), "file");
    assert!(srv.url().starts_with("https://"));
    for http1_only in [false, true] {
        let http = HttpOptions {
            ca_files: vec![ca.clone()],
            http1_only,
            ..HttpOptions::default()
        };
        let mut cfg = DownloadConfig::new(format!("{}/gen/2M?reset_at=700000", srv.url()));
        cfg.backoff_base = Duration::from_millis(50);
        let clock = MonotonicClock::start();
        let events = download::run_with(cfg, &http, &clock, |_| {}, std::future::pending())
            .await
            .expect("runs");
        let s = download::summarize(&events);
        assert_eq!(s.outcome, DownloadOutcome::Completed, "{s:#?}");
        assert_eq!((s.bytes, s.resumes), (2 << 20, 1), "{s:#?}");
        assert_eq!(s.sha256_ok, Some(true));
    }
    let _ = std::fs::remove_file(ca);
}
