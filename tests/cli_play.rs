//! End-to-end tests of `qoeprobe play`, `simulate`, `serve dash` and `schema` as a
//! user runs them: real processes, real sockets, files on disk.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

/// `qoeprobe serve dash` as a child; killed on drop.
struct Server {
    child: Child,
    dash: String,
    hls: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", "dash", "--segment-duration", "1"])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("qoeprobe serve dash starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dash = lines.next().unwrap().unwrap();
    let hls = lines.next().unwrap().unwrap();
    assert!(dash.starts_with("dash: http://127.0.0.1:"), "{dash}");
    assert!(hls.starts_with("hls: http://127.0.0.1:"), "{hls}");
    Server {
        child,
        dash: dash["dash: ".len()..].to_string(),
        hls: hls["hls: ".len()..].to_string(),
    }
}

fn validator(root: &str) -> jsonschema::Validator {
    jsonschema::validator_for(record::schema::schema_for_root(root).as_value())
        .expect("schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match the schema: {errors:#?}"
    );
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn committed_schema_is_current() {
    let generated =
        serde_json::to_string_pretty(&record::schema::json_schema().to_value()).unwrap() + "\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/record-schema.json");
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/record-schema.json is out of date: run `UPDATE_SCHEMA=1 cargo test --test cli_play committed_schema_is_current`"
    );
    let printed = Command::new(BIN).arg("schema").output().unwrap();
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), generated);
}

#[test]
fn play_writes_json_csv_and_events_that_match_the_schema() {
    let s = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let (json, csv, events) = (
        dir.path().join("p.json"),
        dir.path().join("p.csv"),
        dir.path().join("e.jsonl"),
    );
    let out = Command::new(BIN)
        .args(["play", &s.dash, "--duration", "3", "--abr", "bola"])
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--events")
        .arg(&events)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("stalls     0"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "no progress line when not a terminal"
    );
    let doc = read_json(&json);
    assert_valid(&validator("PlayerOutput"), &doc, "play --json");
    for key in [
        "startup_delay_ms",
        "stall_count",
        "stall_total_ms",
        "stall_longest_ms",
        "avg_bitrate_kbps",
        "switch_count",
        "segments",
        "play_time_ms",
        "events",
    ] {
        assert!(doc.get(key).is_some(), "--json lacks {key}");
    }
    let segments = doc["segments"].as_u64().unwrap();
    assert!(segments >= 2);
    // One row per media segment, video and audio (the origin serves both).
    let audio = doc["audio_segments"].as_u64().unwrap();
    assert!(doc["audio"].as_bool().unwrap() && audio >= 2, "{doc}");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count() as u64, segments + audio + 1, "{csv}");
    assert_eq!(
        csv.lines().filter(|l| l.ends_with(",audio")).count() as u64,
        audio
    );
    let ev = validator("Event");
    let lines = std::fs::read_to_string(&events).unwrap();
    let n = lines.lines().count();
    assert_eq!(n, doc["events"].as_array().unwrap().len());
    for line in lines.lines() {
        assert_valid(&ev, &serde_json::from_str(line).unwrap(), "events line");
    }
}

#[test]
fn play_hls_through_the_cli() {
    let s = serve(&[]);
    let out = Command::new(BIN)
        .args(["play", &s.hls, "--duration", "2", "-q"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("(hls VoD"));
}

fn fails_with(args: &[&str], needle: &str) {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("Error: "), "{err}");
    assert!(err.contains(needle), "{args:?}: {err:?} lacks {needle:?}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_gives_clear_errors() {
    fails_with(&["play", "not a url"], "is not a valid URL");
    fails_with(&["play", "ftp://x/m.mpd"], "unsupported scheme");
    fails_with(
        &[
            "play",
            "https://127.0.0.1:9/m.mpd",
            "--ca",
            "/nonexistent/ca.pem",
        ],
        "--ca /nonexistent/ca.pem",
    );
    fails_with(
        &["play", "http://127.0.0.1:9/m.mpd", "--header", "no colon"],
        "expected `Name: value`",
    );
    fails_with(
        &["play", "http://127.0.0.1:9/m.mpd", "--abr", "nope"],
        "valid: throughput, bba",
    );
    fails_with(
        &["play", "http://127.0.0.1:9/m.mpd", "--max-buffer=-3"],
        "max-buffer",
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    fails_with(
        &["play", &format!("http://127.0.0.1:{port}/m.mpd")],
        "cannot load",
    );
    fails_with(
        &[
            "simulate",
            "--manifest",
            "/nonexistent.mpd",
            "--trace",
            "/x",
        ],
        "no such file",
    );
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.mpd");
    std::fs::write(&m, "hello").unwrap();
    let t = dir.path().join("t.csv");
    std::fs::write(&t, "1000,abc\n").unwrap();
    fails_with(
        &[
            "simulate",
            "--manifest",
            m.to_str().unwrap(),
            "--trace",
            t.to_str().unwrap(),
        ],
        "t.csv:1",
    );
    std::fs::write(&t, "1000,5000\n").unwrap();
    fails_with(
        &[
            "simulate",
            "--manifest",
            m.to_str().unwrap(),
            "--trace",
            t.to_str().unwrap(),
            "--outage",
            "x",
        ],
        "AT+DURATION",
    );
    fails_with(
        &[
            "simulate",
            "--manifest",
            m.to_str().unwrap(),
            "--trace",
            t.to_str().unwrap(),
        ],
        "not a DASH MPD or HLS",
    );
}

#[test]
fn simulate_reports_the_outage_stall_in_the_play_schema() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.mpd");
    std::fs::write(
        &m,
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT120S">
 <Period><AdaptationSet contentType="video" mimeType="video/mp4">
  <SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="2" startNumber="1"/>
  <Representation id="v0" bandwidth="1000000"/>
 </AdaptationSet></Period></MPD>"#,
    )
    .unwrap();
    let t = dir.path().join("t.csv");
    std::fs::write(&t, "duration_ms,kbps\n1000,8000\n").unwrap();
    let json = dir.path().join("s.json");
    let out = Command::new(BIN)
        .args([
            "simulate",
            "--manifest",
            m.to_str().unwrap(),
            "--trace",
            t.to_str().unwrap(),
        ])
        .args([
            "--outage",
            "30+25",
            "--abr",
            "fixed:0",
            "--json",
            json.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = read_json(&json);
    assert_valid(&validator("PlayerOutput"), &doc, "simulate --json");
    assert_eq!(doc["stall_count"], 1);
    assert_eq!(doc["end_reason"], "content_end");
}

#[test]
fn cli_definition_is_consistent() {
    use clap::CommandFactory;
    qoeprobe::cli::Cli::command().debug_assert();
}

/// `qoeprobe serve dash --tls` as a child: its HTTPS URLs and the certificate it
/// printed, saved to a file as a user would.
fn serve_tls(dir: &Path) -> (Server, std::path::PathBuf) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "dash",
            "--tls",
            "--segment-duration",
            "1",
            "--length",
            "4",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("qoeprobe serve dash --tls starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = || lines.next().unwrap().unwrap();
    let dash = next();
    let hls = next();
    assert!(dash.starts_with("dash: https://127.0.0.1:"), "{dash}");
    let banner = next();
    assert!(
        banner.starts_with("tls: self-signed certificate for localhost, 127.0.0.1"),
        "{banner}"
    );
    let mut pem = String::new();
    loop {
        let l = next();
        pem.push_str(&l);
        pem.push('\n');
        if l.starts_with("-----END CERTIFICATE") {
            break;
        }
    }
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let server = Server {
        child,
        dash: dash["dash: ".len()..].to_string(),
        hls: hls["hls: ".len()..].to_string(),
    };
    (server, ca)
}

#[test]
fn play_https_with_the_printed_certificate_over_http2_and_http1() {
    let tmp = tempfile::tempdir().unwrap();
    let (s, ca) = serve_tls(tmp.path());
    for (extra, version) in [(None, "HTTP/2"), (Some("--http1"), "HTTP/1.1")] {
        let json = tmp.path().join("out.json");
        let out = Command::new(BIN)
            .args(["play", &s.dash, "--abr", "fixed:0", "-q", "--ca"])
            .arg(&ca)
            .args(["--user-agent", "qoeprobe-test", "--header", "X-Test: 1"])
            .args(extra)
            .arg("--json")
            .arg(&json)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains(&format!("http       {version}")),
            "{stdout}"
        );
        let doc = read_json(&json);
        assert_eq!(doc["http_version"], version, "{doc}");
        assert_eq!(doc["segments"], 4);
        assert_eq!(doc["audio_segments"], 4);
        assert_eq!(doc["stall_count"], 0);
    }
    // Without the certificate: refused, and the error says why.
    fails_with(&["play", &s.hls], "certificate");
    let out = Command::new(BIN)
        .args(["play", &s.hls, "--insecure", "-q"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `play --clients N` shares one connection pool: each session must not count (or
/// wake for) the other sessions' connections. Before, every session saw all N
/// sessions' connections (N x N `connection` events, about 1 GB a second of
/// memory at 10,000 sessions); the pool's connections are reported once instead.
#[test]
fn many_sessions_do_not_count_each_others_connections() {
    let s = serve(&[]);
    let d = tempfile::tempdir().unwrap();
    let json = d.path().join("many.json");
    let out = Command::new(BIN)
        .args(["play", &s.dash, "--clients", "20", "--duration", "3", "-q"])
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = read_json(&json);
    // The pool opens at most one connection per request (a loaded machine lets
    // keep-alive connections idle out between segments, so the count is not one per
    // session): at least one, at most every request the sessions made (segments,
    // plus a manifest and two init segments each, plus failed requests).
    let total = doc["connections"].as_u64().unwrap();
    let summaries = doc["summaries"].as_array().unwrap();
    let field = |s: &serde_json::Value, k: &str| s[k].as_u64().unwrap();
    let requests: u64 = summaries
        .iter()
        .map(|s| field(s, "segments") + field(s, "audio_segments") + field(s, "request_errors") + 3)
        .sum();
    assert!(
        (1..=requests).contains(&total),
        "{total} connections for {requests} requests: {doc}"
    );
    for s in summaries {
        assert_eq!(
            s["connections"], 0,
            "a session counted the pool's connections: {s}"
        );
    }
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("connections (one pool shared by the sessions)")
    );
}
