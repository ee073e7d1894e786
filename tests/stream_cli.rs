//! End-to-end tests of `qoeprobe stream` against `qoeprobe serve live` (encoder and
//! relay) and `qoeprobe serve rtsp`, through the real binary: playback without
//! stalls, a SIGSTOPped server, a killed server, reconnects, and bad inputs.
//!
//! Tolerances (stated, generous for a loaded 2-core machine): drops at most 2 % of
//! the frames; a stall's length within 0.6 s of pause - cache; frames rendered at
//! least 70 % of real time. Needs build/media/clip.ts (scripts/make-clip.sh).
#![cfg(feature = "gstreamer")]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

/// A server child process, killed (and reaped) on drop.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("qoeprobe serve starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the server prints its URL");
        let url = line
            .split_once(": ")
            .map(|(_, u)| u.trim().to_string())
            .unwrap_or_default();
        assert!(!url.is_empty(), "no URL from {args:?}: {line:?}");
        Server { child, url }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Server {
    /// SIGTERM (the server removes its ring file), SIGKILL after 3 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .status();
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn clip_ready() -> bool {
    let clip = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("build/media/clip.ts");
    if !clip.exists() {
        let status =
            Command::new(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/make-clip.sh"))
                .status();
        return matches!(status, Ok(s) if s.success());
    }
    true
}

fn json_path(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    dir.join(format!("stream-{name}-{}.json", std::process::id()))
}

/// Starts `qoeprobe stream URL ARGS --json FILE -q` in the background.
fn stream(url: &str, args: &[&str], name: &str) -> (Child, PathBuf) {
    let json = json_path(name);
    let _ = std::fs::remove_file(&json);
    let child = Command::new(BIN)
        .arg("stream")
        .arg(url)
        .args(args)
        .arg("--json")
        .arg(&json)
        .arg("-q")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qoeprobe stream starts");
    (child, json)
}

fn finish(child: Child, json: &PathBuf) -> Value {
    let out = child.wait_with_output().expect("stream ends");
    assert!(
        out.status.success(),
        "stream failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("--json written")).unwrap();
    let _ = std::fs::remove_file(json);
    v
}

fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

fn assert_smooth(v: &Value, secs: f64) {
    assert_eq!(num(v, "stall_count"), 0.0, "stalls: {v:#}");
    let rendered = num(v, "frames_rendered");
    let dropped = num(v, "frames_dropped");
    let played = num(v, "played_ms") / 1000.0;
    assert!(
        rendered >= 0.7 * 25.0 * played.min(secs) - 5.0,
        "{rendered} frames in {played} s"
    );
    assert!(
        dropped <= 0.02 * (rendered + dropped) + 1.0,
        "{dropped} of {rendered} frames dropped"
    );
    assert!(num(v, "avg_bitrate_kbps") > 50.0);
    for k in [
        "stall_total_ms",
        "stall_longest_ms",
        "min_cache_ms",
        "disconnects",
        "reconnects",
    ] {
        assert!(v[k].is_number(), "{k}");
    }
}

#[test]
fn live_encoder_plays_without_stalls() {
    assert!(clip_ready(), "no clip");
    let server = Server::start(&["serve", "live", "--source", "encoder"]);
    let (c, j) = stream(&server.url, &["--cache", "1", "--duration", "6"], "encoder");
    let v = finish(c, &j);
    assert_smooth(&v, 6.0);
    assert_eq!(v["end_reason"], "duration");
    assert!((num(&v, "min_cache_ms") - 1000.0).abs() < 150.0, "{v:#}");
}

#[test]
fn live_relay_plays_without_stalls() {
    assert!(clip_ready(), "no clip");
    let encoder = Server::start(&["serve", "live", "--source", "encoder", "--ring-mib", "0"]);
    let relay = Server::start(&[
        "serve",
        "live",
        "--source",
        "relay",
        "--upstream",
        &encoder.url,
    ]);
    let (c, j) = stream(&relay.url, &["--cache", "1", "--duration", "6"], "relay");
    assert_smooth(&finish(c, &j), 6.0);
}

#[test]
fn rtsp_plays_without_stalls() {
    let server = Server::start(&["serve", "rtsp"]);
    assert!(server.url.starts_with("rtsp://"));
    let (c, j) = stream(&server.url, &["--duration", "6"], "rtsp");
    assert_smooth(&finish(c, &j), 6.0);
}

/// Pauses the server (SIGSTOP) for `pause` s after 4 s of playback with a 2 s cache.
fn paused_server(pause: f64, name: &str) -> Value {
    assert!(clip_ready(), "no clip");
    let server = Server::start(&["serve", "live"]);
    let total = 4.0 + 2.0 + pause + 3.0;
    let (c, j) = stream(
        &server.url,
        &["--cache", "2", "--duration", &total.to_string()],
        name,
    );
    // Startup takes up to 1 s (next keyframe) + 2 s (prefill).
    std::thread::sleep(Duration::from_secs(6));
    server.signal("-STOP");
    std::thread::sleep(Duration::from_secs_f64(pause));
    server.signal("-CONT");
    finish(c, &j)
}

#[test]
fn a_pause_within_the_cache_does_not_stall() {
    let v = paused_server(1.0, "pause1");
    assert_eq!(num(&v, "stall_count"), 0.0, "{v:#}");
    assert!(
        num(&v, "min_cache_ms") < 1500.0,
        "the cache was used: {v:#}"
    );
}

#[test]
fn a_pause_beyond_the_cache_stalls_for_the_difference() {
    let v = paused_server(4.5, "pause45");
    assert_eq!(num(&v, "stall_count"), 1.0, "{v:#}");
    let expected = 4500.0 - 2000.0;
    let got = num(&v, "stall_total_ms");
    assert!(
        (got - expected).abs() <= 600.0,
        "stall {got} ms, expected {expected} +- 600"
    );
    assert_eq!(num(&v, "min_cache_ms"), 0.0);
}

#[test]
fn a_killed_server_is_a_disconnect_and_never_reconnect_ends() {
    assert!(clip_ready(), "no clip");
    let server = Server::start(&["serve", "live", "--ring-mib", "0"]);
    let (c, j) = stream(&server.url, &["--cache", "1", "--duration", "20"], "killed");
    std::thread::sleep(Duration::from_secs(4));
    server.signal("-KILL");
    drop(server);
    let t = Instant::now();
    let v = finish(c, &j);
    assert!(
        t.elapsed() < Duration::from_secs(8),
        "the reader ends after playing out its cache"
    );
    assert_eq!(num(&v, "disconnects"), 1.0, "{v:#}");
    assert_eq!(num(&v, "reconnects"), 0.0);
    assert_eq!(v["end_reason"], "disconnected");
}

#[test]
fn reconnect_always_resumes_when_the_server_returns() {
    assert!(clip_ready(), "no clip");
    let server = Server::start(&["serve", "live", "--ring-mib", "0"]);
    let bind = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/live.ts")
        .to_string();
    let (c, j) = stream(
        &server.url,
        &["--cache", "1", "--reconnect", "always", "--duration", "13"],
        "reconnect",
    );
    std::thread::sleep(Duration::from_secs(4));
    server.signal("-KILL");
    drop(server);
    std::thread::sleep(Duration::from_secs(3));
    let _back = Server::start(&["serve", "live", "--bind", &bind]);
    let v = finish(c, &j);
    assert_eq!(num(&v, "disconnects"), 1.0, "{v:#}");
    assert_eq!(num(&v, "reconnects"), 1.0, "{v:#}");
    assert!(num(&v, "stall_count") >= 1.0);
    let events = v["events"].as_array().unwrap();
    let reconnect_t = events
        .iter()
        .find(|e| e["kind"] == "stream_reconnect")
        .unwrap()["t_ns"]
        .as_f64()
        .unwrap();
    let frames_after = events
        .iter()
        .filter(|e| e["kind"] == "stream_sample" && e["t_ns"].as_f64().unwrap() > reconnect_t + 2e9)
        .filter_map(|e| e["frames_rendered"].as_f64())
        .fold(0.0, f64::max);
    let frames_before = events
        .iter()
        .filter(|e| e["kind"] == "stream_sample" && e["t_ns"].as_f64().unwrap() < reconnect_t)
        .filter_map(|e| e["frames_rendered"].as_f64())
        .fold(0.0, f64::max);
    assert!(
        frames_after > frames_before + 25.0,
        "playback resumed: {frames_before} -> {frames_after}"
    );
}

/// A one-shot HTTP server answering every connection with `response`.
fn canned(response: Vec<u8>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/x", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for s in l.incoming().take(4) {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let _ = s.write_all(&response);
        }
    });
    url
}

fn run_stream(url: &str) -> Output {
    Command::new(BIN)
        .args(["stream", url, "--duration", "20", "-q"])
        .output()
        .expect("runs")
}

fn assert_clear_error(out: &Output, words: &[&str]) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(err.starts_with("Error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        words.iter().any(|w| err.contains(w)),
        "{err} should say one of {words:?}"
    );
}

#[test]
fn bad_inputs_are_clear_errors() {
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = run_stream(&format!("http://{closed}/live.ts"));
    assert_clear_error(&out, &["cannot open"]);
    let out = run_stream(&format!("rtsp://{closed}/live"));
    assert_clear_error(&out, &["cannot open"]);
    let out = run_stream("ftp://example.invalid/x");
    assert_clear_error(&out, &["unsupported URL"]);
    let html = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 44\r\n\r\n<html><body>not a stream here</body></html>\n".to_vec();
    let out = run_stream(&canned(html));
    assert_clear_error(&out, &["not a playable video stream", "no video frame"]);
    let not_found = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec();
    let out = run_stream(&canned(not_found));
    assert_clear_error(&out, &["cannot open", "Not Found"]);
    let mut garbage = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\n\r\n".to_vec();
    let mut x: u32 = 12345;
    garbage.extend((0..200_000).map(|_| {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (x >> 16) as u8
    }));
    let out = run_stream(&canned(garbage));
    assert_clear_error(&out, &["not a playable video stream", "no video frame"]);
}
