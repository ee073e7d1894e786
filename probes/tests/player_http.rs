//! The player over real sockets against the DASH/HLS origin fixture on 127.0.0.1:0.
//!
//! Real time is noisy on a loaded 2-core machine, so time-based assertions carry
//! stated tolerances; counts (stalls, errors, retries) are exact.

use fixtures::dash::{Addressing, DashConfig, Origin};
use probes::player::abr;
use probes::player::http::run_session;
use probes::player::retry::RetryPolicy;
use probes::player::session::{Player, PlayerConfig, PlayerError};
use probes::player::summary::summarize;
use record::clock::{Clock, MonotonicClock};
use record::{EndReason, Event, EventKind, MediaType, PlayerSummary, RequestType};
use std::time::Duration;
use tokio::sync::watch;

const SRC: &str = "probe:player";

struct Played {
    events: Vec<Event>,
    summary: PlayerSummary,
    fatal: Option<PlayerError>,
}

async fn origin(f: impl FnOnce(&mut DashConfig)) -> Origin {
    let mut cfg = DashConfig {
        segment_duration: Duration::from_secs(1),
        length: Duration::from_secs(60),
        ..DashConfig::default()
    };
    f(&mut cfg);
    fixtures::dash::start(cfg).await.expect("origin starts")
}

async fn play(url: &str, abr_name: &str, f: impl FnOnce(&mut PlayerConfig)) -> Played {
    let clock = MonotonicClock::start();
    let mut cfg = PlayerConfig::new(url::Url::parse(url).unwrap());
    cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
    cfg.duration = Some(Duration::from_secs(4));
    f(&mut cfg);
    let mut player = Player::new(cfg, abr::by_name(abr_name).unwrap(), clock.now());
    let (_tx, rx) = watch::channel(false);
    let client = probes::client::default_client().unwrap();
    let mut events = Vec::new();
    run_session(&mut player, &clock, &client, rx, |e| events.push(e)).await;
    Played {
        summary: summarize(&events, SRC),
        fatal: player.fatal_error().cloned(),
        events,
    }
}

fn assert_clean(p: &Played, min_segments: u64) {
    let s = &p.summary;
    assert!(p.fatal.is_none(), "{:?}", p.fatal);
    assert_eq!(s.stall_count, 0, "{s:?}");
    assert_eq!(s.request_errors, 0, "{s:?}");
    assert!(s.segments >= min_segments, "{} segments: {s:?}", s.segments);
    assert!(s.startup_delay_ms.is_some_and(|d| d < 1500.0), "{s:?}");
}

fn count(p: &Played, f: impl Fn(&EventKind) -> bool) -> usize {
    p.events.iter().filter(|e| f(&e.kind)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vod_dash_in_every_addressing_mode() {
    for mode in [
        Addressing::Number,
        Addressing::Time,
        Addressing::List,
        Addressing::Base,
    ] {
        let o = origin(|c| c.addressing = mode).await;
        let p = play(&o.dash_url(), "dynamic", |_| {}).await;
        assert_clean(&p, 4);
        assert_eq!(p.summary.format, "dash");
        assert!(!p.summary.live);
        if mode == Addressing::Base {
            let index = count(
                &p,
                |k| matches!(k, EventKind::Request(r) if r.request_type == RequestType::Index),
            );
            assert!(index >= 1, "SegmentBase needs its sidx");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_period_vod_plays_to_the_end() {
    let o = origin(|c| {
        c.periods = 3;
        c.length = Duration::from_secs(6);
    })
    .await;
    let p = play(&o.dash_url(), "fixed:0", |c| c.duration = None).await;
    assert!(p.fatal.is_none());
    assert_eq!(p.summary.segments, 6);
    assert_eq!(p.summary.end_reason, Some(EndReason::ContentEnd));
    assert_eq!(p.summary.stall_count, 0);
    // Every segment of the content is played: 6 s of media, within 1 ms.
    assert!(
        (p.summary.play_time_ms - 6000.0).abs() < 1.0,
        "{}",
        p.summary.play_time_ms
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_dash_starts_near_the_edge_and_keeps_up() {
    for mode in [Addressing::Number, Addressing::Time] {
        let o = origin(|c| {
            c.live = true;
            c.addressing = mode;
        })
        .await;
        // Let some segments become available.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        let p = play(&o.dash_url(), "throughput", |c| {
            c.duration = Some(Duration::from_secs(5))
        })
        .await;
        assert!(p.summary.live, "{mode:?}");
        assert_clean(&p, 4);
        if mode == Addressing::Time {
            assert!(
                p.summary.segments >= 5,
                "timeline refreshes bring new segments"
            );
            let refreshes = count(&p, |k| matches!(k, EventKind::ManifestRefresh(_)));
            assert!(refreshes >= 2, "{refreshes} refreshes");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_vod_live_and_byte_ranges() {
    let o = origin(|_| {}).await;
    let p = play(&o.hls_url(), "bba", |_| {}).await;
    assert_clean(&p, 4);
    assert_eq!(p.summary.format, "hls");

    let o = origin(|c| c.hls_byterange = true).await;
    let p = play(&o.hls_url(), "bola", |_| {}).await;
    assert_clean(&p, 4);
    let ranged = p
        .events
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Request(r) if r.range.is_some()));
    assert!(ranged, "byte-range segments are requested with Range");

    let o = origin(|c| c.live = true).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let p = play(&o.hls_url(), "conventional", |c| {
        c.duration = Some(Duration::from_secs(5))
    })
    .await;
    assert!(p.summary.live);
    assert_clean(&p, 4);
}

/// When the buffer runs dry if nothing arrives after `t_ns`: for each track, the
/// completion time of its last media segment before `t_ns` plus its level then;
/// playback needs both tracks, so the earlier of the two.
fn dry_at_ns(p: &Played, t_ns: u64) -> u64 {
    [MediaType::Video, MediaType::Audio]
        .into_iter()
        .filter_map(|m| {
            p.events
                .iter()
                .rev()
                .filter(|e| e.t_ns < t_ns)
                .find_map(|e| match &e.kind {
                    EventKind::Request(r)
                        if r.request_type == RequestType::Media && r.media_type == Some(m) =>
                    {
                        Some(e.t_ns + (r.buffer_ms * 1e6) as u64)
                    }
                    _ => None,
                })
        })
        .min()
        .expect("a segment completed before")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_pause_shorter_than_the_buffer_causes_no_stall() {
    let o = origin(|_| {}).await;
    let faults = o.faults();
    let url = o.dash_url();
    let pauser = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2000)).await;
        faults.pause_for(Duration::from_millis(1500));
    });
    // 6 s maximum buffer, 1 s segments: about 5 s buffered when the pause starts.
    let p = play(&url, "fixed:0", |c| {
        c.max_buffer = Duration::from_secs(6);
        c.duration = Some(Duration::from_secs(6));
    })
    .await;
    pauser.await.unwrap();
    assert_eq!(p.summary.stall_count, 0, "{:?}", p.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_pause_longer_than_the_buffer_stalls_as_predicted_with_retries() {
    let o = origin(|_| {}).await;
    let faults = o.faults();
    let url = o.dash_url();
    let pause_at = Duration::from_millis(2000);
    let pause = Duration::from_millis(5000);
    let pauser = tokio::spawn(async move {
        tokio::time::sleep(pause_at).await;
        faults.pause_for(pause);
    });
    // 3 s maximum buffer; a 2 s request timeout makes the held requests fail and retry.
    let p = play(&url, "fixed:0", |c| {
        c.max_buffer = Duration::from_secs(3);
        c.segment_timeout = Duration::from_secs(2);
        c.retry = RetryPolicy::dashjs();
        c.duration = Some(Duration::from_secs(10));
    })
    .await;
    pauser.await.unwrap();
    let s = &p.summary;
    assert_eq!(s.stall_count, 1, "{s:?}");
    assert!(s.request_errors >= 1 && s.retries >= 1, "{s:?}");
    assert!(
        s.reconnects >= 1,
        "the first answer after the timeouts is a reconnect: {s:?}"
    );
    let start = p
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::StallStart(_)))
        .unwrap();
    let end = p
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::StallEnd(_)))
        .unwrap();
    // The stall starts exactly when the buffer of the last completed segments runs out.
    let predicted_start = dry_at_ns(&p, start.t_ns);
    let diff_ms = (start.t_ns as f64 - predicted_start as f64).abs() / 1e6;
    assert!(
        diff_ms < 1.0,
        "stall started {diff_ms} ms off the buffer prediction"
    );
    // It ends when a request gets through after the pause: within the pause end and
    // one retry interval (1 s) plus transfer slack (300 ms) later.
    let pause_end_ms = (pause_at + pause).as_millis() as f64;
    let end_ms = end.t_ns as f64 / 1e6;
    assert!(
        end_ms >= pause_end_ms - 100.0 && end_ms <= pause_end_ms + 1300.0,
        "stall ended at {end_ms} ms, pause ended at {pause_end_ms} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_plays_in_its_own_buffer_and_an_audio_outage_stalls_playback() {
    let o = origin(|_| {}).await;
    let p = play(&o.dash_url(), "fixed:0", |c| {
        c.duration = Some(Duration::from_secs(5))
    })
    .await;
    assert_clean(&p, 4);
    let s = &p.summary;
    assert!(s.audio, "{s:?}");
    assert!(s.audio_segments >= 4, "{s:?}");
    assert!((s.audio_avg_bitrate_kbps - 128.0).abs() < 1e-9, "{s:?}");
    // HLS: the EXT-X-MEDIA rendition.
    let p = play(&o.hls_url(), "fixed:0", |c| {
        c.duration = Some(Duration::from_secs(5))
    })
    .await;
    assert_clean(&p, 4);
    assert!(
        p.summary.audio && p.summary.audio_segments >= 4,
        "{:?}",
        p.summary
    );

    // Audio segment 6 fails five times (persistent backoff 0.5 + 1 + 2 + 4 + 8 s):
    // the audio buffer runs dry while the video buffer is full.
    let o = origin(|_| {}).await;
    o.faults().fail_next("/a0/6.m4s", 503, 5);
    let p = play(&o.dash_url(), "fixed:0", |c| {
        c.max_buffer = Duration::from_secs(4);
        c.retry = RetryPolicy::persistent(Duration::from_secs(60));
        c.duration = Some(Duration::from_secs(14));
    })
    .await;
    let s = &p.summary;
    assert_eq!(
        (s.stall_count, s.audio_stalls, s.video_stalls),
        (1, 1, 0),
        "{s:?}"
    );
    let cause = p.events.iter().find_map(|e| match &e.kind {
        EventKind::StallStart(x) => Some(x.cause),
        _ => None,
    });
    assert_eq!(cause, Some(MediaType::Audio));
}
