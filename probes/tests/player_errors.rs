//! Failures over real sockets: HTTP errors, truncated and reset bodies are retried;
//! unusable manifests and unreachable servers are clear errors; nothing panics.

use fixtures::dash::{DashConfig, Origin};
use probes::player::abr;
use probes::player::http::run_session;
use probes::player::manifest::ManifestError;
use probes::player::session::{Player, PlayerConfig, PlayerError};
use probes::player::summary::summarize;
use record::clock::{Clock, MonotonicClock};
use record::{Event, EventKind, PlayerSummary};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

async fn origin() -> Origin {
    fixtures::dash::start(DashConfig {
        segment_duration: Duration::from_secs(1),
        length: Duration::from_secs(60),
        ..DashConfig::default()
    })
    .await
    .unwrap()
}

async fn play(url: &str, secs: u64) -> (PlayerSummary, Vec<Event>, Option<PlayerError>) {
    let clock = MonotonicClock::start();
    let mut cfg = PlayerConfig::new(url::Url::parse(url).unwrap());
    cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
    cfg.duration = Some(Duration::from_secs(secs));
    let mut player = Player::new(cfg, abr::by_name("fixed:0").unwrap(), clock.now());
    let (_tx, rx) = watch::channel(false);
    let mut events = Vec::new();
    let client = probes::client::default_client().unwrap();
    run_session(&mut player, &clock, &client, rx, |e| events.push(e)).await;
    (
        summarize(&events, "probe:player"),
        events,
        player.fatal_error().cloned(),
    )
}

fn errors(events: &[Event]) -> Vec<(String, Option<u16>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::RequestError(r) => Some((r.error.clone(), r.status)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_errors_are_retried_and_playback_continues() {
    for (name, inject) in [("404", 0), ("500", 1), ("truncated", 2), ("reset", 3)] {
        let o = origin().await;
        let f = o.faults();
        match inject {
            0 => f.fail_next("v0/3.m4s", 404, 1),
            1 => f.fail_next("v0/3.m4s", 500, 1),
            2 => f.truncate_next("v0/3.m4s", 1),
            _ => f.reset_next("v0/3.m4s", 1),
        }
        let (s, ev, fatal) = play(&o.dash_url(), 3).await;
        assert!(fatal.is_none(), "{name}");
        let errs = errors(&ev);
        assert_eq!(errs.len(), 1, "{name}: {errs:?}");
        match inject {
            0 => assert_eq!(errs[0], ("status".into(), Some(404))),
            1 => assert_eq!(errs[0], ("status".into(), Some(500))),
            2 => assert_eq!(errs[0].0, "truncated"),
            _ => assert!(errs[0].0 == "reset" || errs[0].0 == "truncated", "{errs:?}"),
        }
        assert_eq!(s.retries, 1, "{name}");
        assert!(!s.gave_up, "{name}");
        assert!(s.segments >= 3, "{name}: {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_500_is_retried() {
    let o = origin().await;
    o.faults().fail_next("manifest.mpd", 500, 2);
    let (s, _, fatal) = play(&o.dash_url(), 2).await;
    assert!(fatal.is_none());
    assert_eq!(s.request_errors, 2);
    assert!(s.segments >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_manifest_is_a_clear_error_after_the_retries() {
    let o = origin().await;
    let url = format!("http://{}/dash/nothing.mpd", o.addr());
    let (s, _, fatal) = play(&url, 10).await;
    let err = fatal.expect("fatal").to_string();
    assert!(
        err.contains("nothing.mpd") && err.contains("404") && err.contains("4 attempts"),
        "{err}"
    );
    // dash.js: the request plus retryAttempts.MPD (3) retries.
    assert_eq!(s.request_errors, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_clear_error() {
    // Bind then drop: the port is closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, ev, fatal) = play(&format!("http://127.0.0.1:{port}/m.mpd"), 10).await;
    let err = fatal.expect("fatal").to_string();
    assert!(err.contains("cannot load"), "{err}");
    assert!(
        errors(&ev).iter().all(|(k, _)| k == "connect"),
        "{:?}",
        errors(&ev)
    );
}

/// Serves one fixed body to every request.
async fn serve_body(body: &'static [u8]) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(head.as_bytes()).await;
                let _ = s.write_all(body).await;
            });
        }
    });
    format!("http://{addr}/manifest.mpd")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_videoless_manifests_are_clear_errors() {
    let url = serve_body(b"\x00\x01garbage \xff\xfe not a manifest").await;
    let (_, _, fatal) = play(&url, 5).await;
    assert!(
        matches!(
            fatal,
            Some(PlayerError::Manifest(ManifestError::NotAManifest { .. }))
        ),
        "{fatal:?}"
    );
    let url = serve_body(b"<?xml version=\"1.0\"?><MPD><Period><Adapt").await;
    let (_, _, fatal) = play(&url, 5).await;
    assert!(matches!(fatal, Some(PlayerError::Manifest(_))), "{fatal:?}");
    let audio_only: &'static [u8] = br#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">
 <Period><AdaptationSet contentType="audio" mimeType="audio/mp4">
  <SegmentTemplate media="a/$Number$.m4s" duration="2" startNumber="1"/>
  <Representation id="a0" bandwidth="64000" codecs="mp4a.40.2"/>
 </AdaptationSet></Period></MPD>"#;
    let url = serve_body(audio_only).await;
    let (_, _, fatal) = play(&url, 5).await;
    assert!(
        matches!(
            fatal,
            Some(PlayerError::Manifest(ManifestError::NoVideo { .. }))
        ),
        "{fatal:?}"
    );
}
