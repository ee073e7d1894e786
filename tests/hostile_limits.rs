//! Hostile values that used to make qoeprobe allocate, spin or hang (issue 19 items
//! 2, 3, 7, 8 and 12): each must now end quickly with an error that says what is
//! wrong and which limit or value applies. Every command runs under a deadline: a
//! hang fails the test instead of blocking it.

mod common;

use common::run_bounded;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

const TRACE: &str = "duration_ms,kbps\n1000,8000\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `simulate` of `manifest` (a path or URL) over `trace` with extra flags.
fn simulate(dir: &Path, manifest: &str, trace: &str, extra: &[&str]) -> Output {
    let t = dir.join("t.csv");
    std::fs::write(&t, trace).unwrap();
    let mut c = Command::new(BIN);
    c.args(["simulate", "--manifest", manifest, "--trace"])
        .arg(&t)
        .args(["--abr", "fixed:0", "--quiet"])
        .args(extra);
    run_bounded(c, Duration::from_secs(30))
}

fn file(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn mpd(bandwidth: &str, duration: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="{duration}">
 <Period><AdaptationSet contentType="video" mimeType="video/mp4">
  <SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="2" startNumber="1"/>
  <Representation id="v0" bandwidth="{bandwidth}"/>
 </AdaptationSet></Period></MPD>"#
    )
}

/// An HTTP server on loopback whose every answer is an endless body (no length):
/// a manifest that never ends.
fn endless_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/dash+xml\r\nConnection: close\r\n\r\n<MPD ",
                );
                let chunk = vec![b' '; 64 << 10];
                while s.write_all(&chunk).is_ok() {}
            });
        }
    });
    format!("http://{addr}/manifest.mpd")
}

#[test]
fn an_endless_manifest_is_refused_at_the_body_limit_named_with_its_flag() {
    let d = tempfile::tempdir().unwrap();
    let url = endless_server();
    let out = simulate(d.path(), &url, TRACE, &["--max-body", "1"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("body larger than 1 MiB") && err.contains("--max-body"),
        "{err}"
    );
    // `play` reads manifests the same way (a real-time session, same limit).
    let mut c = Command::new(BIN);
    c.args([
        "play",
        &url,
        "--max-body",
        "1",
        "--quiet",
        "--duration",
        "20",
    ]);
    let out = run_bounded(c, Duration::from_secs(60));
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("body larger than 1 MiB"), "{err}");
}

#[test]
fn a_huge_representation_bandwidth_is_refused_not_simulated() {
    let d = tempfile::tempdir().unwrap();
    let m = file(d.path(), "m.mpd", &mpd("18446744073709551615", "PT20S"));
    let out = simulate(d.path(), &m, TRACE, &["--duration", "10"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("bandwidth 18446744073709551615"), "{err}");
}

#[test]
fn a_microsecond_trace_row_is_refused_with_the_reason() {
    let d = tempfile::tempdir().unwrap();
    let m = file(d.path(), "m.mpd", &mpd("1000000", "PT20S"));
    let out = simulate(
        d.path(),
        &m,
        "duration_ms,kbps\n0.000001,8000\n",
        &["--duration", "10"],
    );
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("duration_ms 0.000001 is out of range"),
        "{err}"
    );
}

#[test]
fn outage_rejections_say_why() {
    let d = tempfile::tempdir().unwrap();
    let m = file(d.path(), "m.mpd", &mpd("1000000", "PT20S"));
    let out = simulate(d.path(), &m, TRACE, &["--outage", "10++5"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "10++5 accepted: {err}");
    assert!(
        err.contains("the duration `+5` is not a plain number"),
        "{err}"
    );
}

#[test]
fn empty_and_garbage_hls_playlists_are_refused_not_played_as_live() {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("empty.m3u8", "#EXTM3U\n"),
        (
            "garbage.m3u8",
            "#EXTM3U\nthis is not a playlist\n\u{1}\u{2}\n",
        ),
    ] {
        let m = file(d.path(), name, text);
        let out = simulate(d.path(), &m, TRACE, &[]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{name}: {err}");
        assert!(err.contains("#EXT-X-TARGETDURATION"), "{name}: {err}");
    }
    let master = file(
        d.path(),
        "master.m3u8",
        "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"en\",URI=\"a.m3u8\"\n",
    );
    let out = simulate(d.path(), &master, TRACE, &[]);
    assert!(!out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_missing_local_playlist_does_not_blame_a_server() {
    let d = tempfile::tempdir().unwrap();
    let master = file(
        d.path(),
        "master.m3u8",
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\nmissing.m3u8\n",
    );
    let out = simulate(d.path(), &master, TRACE, &["--duration", "30"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(!err.contains("server is up"), "{err}");
}

/// A campaign on the emulated driver (rootless) with `runs` as given.
fn campaign(dir: &Path, runs: &str, service_args: &str) -> String {
    file(
        dir,
        "c.toml",
        &format!(
            r#"name = "fix19-limits"
runs = {runs}
warmup_s = 0.2
cooldown_s = 0.2
[migration]
driver = "emulated"
[[application]]
name = "game"
service = "game"
service_args = {service_args}
[application.game]
[[scenario]]
name = "S1"
"#
        ),
    )
}

fn run(dir: &Path, file: &str, extra: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.args(["run", file, "--quiet", "--out"])
        .arg(dir.join("out"))
        .args(extra);
    run_bounded(c, Duration::from_secs(60))
}

#[test]
fn a_billion_runs_is_refused_before_anything_is_planned() {
    let d = tempfile::tempdir().unwrap();
    let f = campaign(d.path(), "1000000000", "[]");
    let out = run(d.path(), &f, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("c.toml:2:") && err.contains("expected 1 to 100000"),
        "{err}"
    );
    let f = campaign(d.path(), "1", "[]");
    let out = run(d.path(), &f, &["--runs", "1000000000"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("more than a campaign may hold (100000)"),
        "{err}"
    );
    assert!(
        !d.path().join("out").exists(),
        "a refused campaign wrote its folder"
    );
}

#[test]
fn runs_zero_is_an_error_not_a_silent_success() {
    let d = tempfile::tempdir().unwrap();
    let f = campaign(d.path(), "0", "[]");
    let out = run(d.path(), &f, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("expected 1 to 100000"), "{err}");
    let f = campaign(d.path(), "1", "[]");
    let out = run(d.path(), &f, &["--runs", "0"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("--runs = 0: nothing to run"), "{err}");
}

#[test]
fn a_service_configuration_error_exits_1_without_suggesting_resume() {
    let d = tempfile::tempdir().unwrap();
    let f = campaign(d.path(), "1", r#"["--no-such-flag"]"#);
    let out = run(d.path(), &f, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("could not be prepared"), "{err}");
    assert!(!err.contains("--resume"), "{err}");
}
