//! Exit statuses that say what happened (docs/exit-codes.md, issue 19 item 11): a
//! session that played nothing exits 1 with a message, and `play --clients N`
//! stopped by a signal exits with that signal's status, and one stopped by its
//! memory limit (`--max-memory-mb`) exits 1 saying so.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Waits for `child` at most `limit` (killed after it).
fn wait_bounded(mut child: Child, limit: Duration) -> Output {
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("qoeprobe did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn simulate(dir: &Path, manifest: &str) -> Output {
    let m = dir.join("m.mpd");
    std::fs::write(&m, manifest).unwrap();
    let t = dir.join("t.csv");
    std::fs::write(&t, "duration_ms,kbps\n1000,8000\n").unwrap();
    let child = Command::new(BIN)
        .args(["simulate", "--abr", "fixed:0", "--manifest"])
        .arg(&m)
        .arg("--trace")
        .arg(&t)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_bounded(child, Duration::from_secs(30))
}

fn mpd(presentation: &str, segment_duration: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="{presentation}">
 <Period><AdaptationSet contentType="video" mimeType="video/mp4">
  <SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="{segment_duration}" startNumber="1"/>
  <Representation id="v0" bandwidth="1000000"/>
 </AdaptationSet></Period></MPD>"#
    )
}

#[test]
fn a_session_that_plays_nothing_exits_1_with_a_message() {
    let d = tempfile::tempdir().unwrap();
    for (presentation, seg) in [("PT0S", "2"), ("-PT5S", "2"), ("PT20S", "0")] {
        let out = simulate(d.path(), &mpd(presentation, seg));
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "duration {presentation}, segments of {seg}: {err}"
        );
        assert!(!err.trim().is_empty(), "exit 1 without a word");
    }
    // A normal session still exits 0.
    let out = simulate(d.path(), &mpd("PT20S", "2"));
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `qoeprobe serve dash` as a child; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn play_clients_stopped_by_sigterm_exits_with_the_signal_status() {
    let mut child = Command::new(BIN)
        .args(["serve", "dash", "--segment-duration", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dash = lines.next().unwrap().unwrap();
    let _server = Server(child);
    let url = dash.strip_prefix("dash: ").unwrap().to_string();
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("clients.json");
    let play = Command::new(BIN)
        .args([
            "play",
            &url,
            "--clients",
            "2",
            "--duration",
            "120",
            "--quiet",
        ])
        .arg("--json")
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let st = Command::new("kill")
        .args(["-TERM", &play.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let out = wait_bounded(play, Duration::from_secs(30));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");
    // The results are written all the same.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["sessions"], 2);
}

#[test]
fn play_clients_over_their_memory_limit_stop_and_report() {
    let mut child = Command::new(BIN)
        .args(["serve", "dash", "--segment-duration", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dash = lines.next().unwrap().unwrap();
    let _server = Server(child);
    let url = dash.strip_prefix("dash: ").unwrap().to_string();
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("clients.json");
    // Any process of this size is over 1 MB: the guard stops the sessions at its
    // first look (half a second), long before their 120 s.
    let play = Command::new(BIN)
        .args([
            "play",
            &url,
            "--clients",
            "2",
            "--duration",
            "120",
            "--quiet",
        ])
        .args(["--max-memory-mb", "1", "--json"])
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(play, Duration::from_secs(30));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("over --max-memory-mb 1: the sessions did not run their course"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // What ran is written all the same.
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["sessions"], 2);
    // Only with --clients.
    let one = Command::new(BIN)
        .args([
            "play",
            &url,
            "--max-memory-mb",
            "100",
            "--duration",
            "1",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(one.status.code(), Some(1));
    assert!(
        stderr(&one).contains("--max-memory-mb applies to --clients"),
        "{}",
        stderr(&one)
    );
}
