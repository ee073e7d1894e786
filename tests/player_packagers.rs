//! Real packagers' output played by the emulator from a plain static server
//! (`serve file`) on loopback: ffmpeg's dash muxer (SegmentTimeline, `$Number%05d$`),
//! ffmpeg's hls muxer (fMP4 with an audio rendition, MPEG-TS), Shaka Packager (SegmentBase
//! with sidx, two periods, HLS fMP4 with an EXT-X-MEDIA audio rendition), and live
//! streams that ffmpeg writes in real time (dynamic MPD with refresh, HLS sliding
//! window). Every one plays to the end (VoD) or for its session (live) without a
//! stall or an error. Media come from scripts/make-test-media.sh (ffmpeg, and Shaka
//! Packager from scripts/install-test-tools.sh).

mod dashjs;

use fixtures::file::FileServer;
use probes::player::abr;
use probes::player::http::run_session;
use probes::player::session::{Player, PlayerConfig};
use probes::player::summary::summarize;
use record::clock::{Clock, MonotonicClock};
use record::{EndReason, Event, EventKind, PlayerSummary};
use std::path::Path;
use std::time::Duration;
use tokio::sync::watch;

/// Plays `url` for `duration` (`None`: to the end of the content), `live_delay`
/// behind a live edge (`None`: the manifest's suggestion).
async fn play(
    url: &str,
    duration: Option<Duration>,
    live_delay: Option<Duration>,
) -> (PlayerSummary, Vec<Event>) {
    let clock = MonotonicClock::start();
    let mut cfg = PlayerConfig::new(url::Url::parse(url).unwrap());
    cfg.live_delay = live_delay;
    cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
    cfg.duration = duration.or(Some(Duration::from_secs(120)));
    let client = probes::client::default_client().unwrap();
    let mut player = Player::new(cfg, abr::by_name("dynamic").unwrap(), clock.now());
    let (_tx, rx) = watch::channel(false);
    let mut events = Vec::new();
    run_session(&mut player, &clock, &client, rx, |e| events.push(e)).await;
    if let Some(e) = player.fatal_error() {
        panic!("{url}: {e}");
    }
    (summarize(&events, "probe:player"), events)
}

/// What one VoD media set must give.
struct Vod {
    set: &'static str,
    manifest: &'static str,
    /// Audio in its own segments (an adaptation set or rendition), not muxed.
    separate_audio: bool,
    /// Media segments of video, from the packager's settings (24 s / 2 s).
    video_segments: u64,
}

const VOD: [Vod; 6] = [
    Vod {
        set: "ffmpeg-dash-timeline",
        manifest: "manifest.mpd",
        separate_audio: true,
        video_segments: 12,
    },
    Vod {
        set: "ffmpeg-hls-fmp4",
        manifest: "master.m3u8",
        separate_audio: true,
        video_segments: 12,
    },
    Vod {
        set: "ffmpeg-hls-ts",
        manifest: "master.m3u8",
        separate_audio: false,
        video_segments: 12,
    },
    Vod {
        set: "shaka-base",
        manifest: "manifest.mpd",
        separate_audio: true,
        video_segments: 0,
    },
    Vod {
        set: "shaka-multiperiod",
        manifest: "manifest.mpd",
        separate_audio: true,
        video_segments: 12,
    },
    Vod {
        set: "shaka-hls",
        manifest: "master.m3u8",
        separate_audio: true,
        video_segments: 12,
    },
];

fn assert_clean(what: &str, s: &PlayerSummary) {
    assert_eq!(s.stall_count, 0, "{what}: {s:?}");
    assert_eq!(s.request_errors, 0, "{what}: {s:?}");
    assert!(!s.gave_up, "{what}: {s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vod_from_ffmpeg_and_shaka_packager_plays_to_the_end_without_a_stall() {
    let names: Vec<&str> = VOD.iter().map(|v| v.set).collect();
    dashjs::media(&names);
    let root = dashjs::root().join("build/media");
    let mut runs = Vec::new();
    for v in &VOD {
        let dir = root.join(v.set);
        runs.push(async move {
            let srv = FileServer::start("127.0.0.1:0".parse().unwrap(), Some(dir))
                .await
                .unwrap();
            let url = format!("{}/{}", srv.url(), v.manifest);
            let (s, events) = play(&url, None, None).await;
            (v, s, events)
        });
    }
    for (v, s, events) in futures_util::future::join_all(runs).await {
        let what = v.set;
        assert_clean(what, &s);
        assert_eq!(s.end_reason, Some(EndReason::ContentEnd), "{what}: {s:?}");
        // 24 s of content, played whole (AAC frames make the audio end up to a frame
        // later than the video).
        assert!((s.play_time_ms - 24_000.0).abs() < 100.0, "{what}: {s:?}");
        assert_eq!(s.audio, v.separate_audio, "{what}: {s:?}");
        if v.separate_audio {
            assert!(s.audio_segments >= 1, "{what}: {s:?}");
        }
        if v.video_segments > 0 {
            assert_eq!(s.segments, v.video_segments, "{what}: {s:?}");
        } else {
            // SegmentBase: as many segments as the sidx lists.
            let index = events
                .iter()
                .filter(|e| matches!(&e.kind, EventKind::Request(r) if r.request_type == record::RequestType::Index))
                .count();
            assert!(index >= 1 && s.segments >= 1, "{what}: {s:?}");
        }
        if what == "shaka-multiperiod" {
            let periods = events.iter().find_map(|e| match &e.kind {
                EventKind::ManifestLoaded(m) => Some(m.periods),
                _ => None,
            });
            assert_eq!(periods, Some(2), "{what}");
        }
    }
}

/// ffmpeg writing a live stream in real time into `dir`; killed when dropped
/// (`kill_on_drop`).
fn live_encoder(dir: &Path, hls: bool) -> tokio::process::Child {
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = tokio::process::Command::new("ffmpeg");
    cmd.current_dir(dir)
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-re"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=25:duration=60",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=60",
        ])
        .args([
            "-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "25",
        ])
        .args(["-keyint_min", "25", "-sc_threshold", "0", "-b:v", "300k"])
        .args(["-c:a", "aac", "-b:a", "64k"]);
    if hls {
        cmd.args(["-f", "hls", "-hls_time", "1", "-hls_list_size", "6"])
            .args(["-hls_flags", "delete_segments+temp_file", "index.m3u8"]);
    } else {
        cmd.args(["-f", "dash", "-seg_duration", "1", "-window_size", "10"])
            .args([
                "-extra_window_size",
                "5",
                "-use_template",
                "1",
                "-use_timeline",
                "1",
            ])
            .args([
                "-update_period",
                "2",
                "-adaptation_sets",
                "id=0,streams=v id=1,streams=a",
            ])
            .arg("manifest.mpd");
    }
    cmd.kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start ffmpeg")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_dash_and_hls_written_by_ffmpeg_play_without_a_stall() {
    let tmp = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (hls, manifest) in [(false, "manifest.mpd"), (true, "index.m3u8")] {
        let dir = tmp.path().join(manifest);
        runs.push(async move {
            let encoder = live_encoder(&dir, hls);
            // Let a few segments exist before the player joins.
            let path = dir.join(manifest);
            for _ in 0..100 {
                if path.is_file() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            let srv = FileServer::start("127.0.0.1:0".parse().unwrap(), Some(dir.clone()))
                .await
                .unwrap();
            let url = format!("{}/{manifest}", srv.url());
            // ffmpeg's MPD suggests a 1 s delay with 1 s segments, closer to the edge
            // than a 1 s manifest refresh can keep fed (dash.js would stall there
            // too): play 4 s behind it, as a player configured for that latency.
            let delay = (!hls).then_some(Duration::from_secs(4));
            let (s, events) = play(&url, Some(Duration::from_secs(15)), delay).await;
            drop(encoder);
            (manifest, s, events)
        });
    }
    for (what, s, events) in futures_util::future::join_all(runs).await {
        assert!(s.live, "{what}: {s:?}");
        assert_clean(what, &s);
        assert_eq!(s.end_reason, Some(EndReason::Duration), "{what}: {s:?}");
        let refreshes = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::ManifestRefresh(_)))
            .count();
        assert!(refreshes >= 3, "{what}: {refreshes} reloads");
        // Segments kept coming after the first reload: playback followed the edge.
        assert!(s.segments >= 12, "{what}: {s:?}");
        assert!(s.play_time_ms > 12_000.0, "{what}: {s:?}");
    }
}
