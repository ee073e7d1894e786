//! Hostile and unusual files around the command line, as a user (or an attacker)
//! sets them up: outputs that are devices, symlinks or standard output; inputs that
//! are FIFOs; a standard output that is closed or full; absurd values in a results
//! folder. Every case must end, with a clear message, and replace nothing.
//!
//! The device-node test needs root (`mknod`) and makes its own node in a temporary
//! folder; nothing here touches the real `/dev/null`.

mod common;

use common::run_bounded;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

const MPD: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT20S">
 <Period><AdaptationSet contentType="video" mimeType="video/mp4">
  <SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="2" startNumber="1"/>
  <Representation id="v0" bandwidth="1000000"/>
 </AdaptationSet></Period></MPD>"#;

/// A manifest and a trace for `simulate` in `dir`.
fn sim_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let m = dir.join("m.mpd");
    std::fs::write(&m, MPD).unwrap();
    let t = dir.join("t.csv");
    std::fs::write(&t, "duration_ms,kbps\n1000,8000\n").unwrap();
    (m, t)
}

fn simulate(dir: &Path, extra: &[&str]) -> Output {
    let (m, t) = sim_inputs(dir);
    let mut c = Command::new(BIN);
    c.args(["simulate", "--manifest", m.to_str().unwrap()])
        .args(["--trace", t.to_str().unwrap(), "--abr", "fixed:0"])
        .args(extra);
    run_bounded(c, Duration::from_secs(60))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn simulate_writes_json_through_a_symlink_and_keeps_the_link() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("real.json");
    std::fs::write(&target, "old").unwrap();
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = simulate(d.path(), &["--json", link.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = std::fs::symlink_metadata(&link).unwrap();
    assert!(
        m.file_type().is_symlink(),
        "--json replaced the symlink by a regular file"
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(doc["probe"], "player");
}

#[test]
fn root_simulate_json_to_a_device_node_writes_through_it() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test needs root: it creates its own null device node with mknod"
    );
    let d = tempfile::tempdir().unwrap();
    let dev = d.path().join("null");
    let st = Command::new("mknod")
        .args([dev.to_str().unwrap(), "c", "1", "3"])
        .status()
        .unwrap();
    assert!(st.success(), "mknod failed");
    let out = simulate(
        d.path(),
        &[
            "--json",
            dev.to_str().unwrap(),
            "--csv",
            dev.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let m = std::fs::symlink_metadata(&dev).unwrap();
    assert!(
        m.file_type().is_char_device(),
        "the device node was replaced by a regular file: {m:?}"
    );
}

#[test]
fn a_dash_sends_one_output_to_stdout_and_the_summary_to_stderr() {
    let d = tempfile::tempdir().unwrap();
    let out = simulate(d.path(), &["--json", "-"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout holds only the JSON");
    assert_eq!(doc["probe"], "player");
    assert!(
        text(&out.stderr).contains("session"),
        "{}",
        text(&out.stderr)
    );
    assert!(!d.path().join("-").exists(), "no file named `-`");
    let out = simulate(d.path(), &["--json", "-", "--csv", "-"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("--json and --csv would both write to standard output"),
        "{}",
        text(&out.stderr)
    );
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success(), "mkfifo {} failed", p.display());
}

#[test]
fn a_fifo_as_trace_manifest_or_campaign_file_is_refused_at_once() {
    let d = tempfile::tempdir().unwrap();
    let (m, t) = sim_inputs(d.path());
    let fifo = d.path().join("in.fifo");
    mkfifo(&fifo);
    for (manifest, trace) in [(&m, &fifo), (&fifo, &t)] {
        let mut c = Command::new(BIN);
        c.args(["simulate", "--manifest", manifest.to_str().unwrap()])
            .args(["--trace", trace.to_str().unwrap()]);
        let out = run_bounded(c, Duration::from_secs(30));
        assert!(!out.status.success());
        let err = text(&out.stderr);
        assert!(
            err.contains("is a FIFO (named pipe), not a regular file"),
            "{err}"
        );
    }
    let mut c = Command::new(BIN);
    c.args(["run", fifo.to_str().unwrap()]);
    let out = run_bounded(c, Duration::from_secs(30));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot read scenario file") && err.contains("FIFO"),
        "{err}"
    );
}

#[test]
fn a_fifo_as_a_runs_timeline_is_reported_and_the_rest_analysed() {
    let d = tempfile::tempdir().unwrap();
    let c = d.path().join("c");
    analysis::synth::write_campaign(&c, &analysis::synth::SynthSpec::table2(1)).unwrap();
    let tl = c.join("download/S1/run-1/timeline.jsonl");
    std::fs::remove_file(&tl).unwrap();
    mkfifo(&tl);
    let mut cmd = Command::new(BIN);
    cmd.args(["report", c.to_str().unwrap(), "-o", "-"]);
    let out = run_bounded(cmd, Duration::from_secs(120));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("<html"),
        "the report is on stdout"
    );
    assert!(text(&out.stderr).contains("FIFO"), "{}", text(&out.stderr));
}

#[test]
fn a_closed_or_full_stdout_ends_with_a_status_not_a_panic() {
    // A reader that has gone (`qoeprobe schema | head -c1`): quietly 141.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut c = Command::new(BIN);
    c.arg("schema");
    c.stdout(writer).stderr(Stdio::piped()).stdin(Stdio::null());
    let out = c.output().unwrap();
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(err.is_empty(), "a closed pipe is not reported: {err}");
    // A full device (`> /dev/full`): one line and exit 1.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = Command::new(BIN)
        .arg("schema")
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("Error: cannot write to standard output: No space left on device"),
        "{err}"
    );
}

/// Ring files in /dev/shm named after `pid` (how rings were named before they
/// became unnamed files).
fn named_rings(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("qoeprobe-live-{pid}-");
    std::fs::read_dir("/dev/shm")
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// `serve live` (encoder, default 16 MiB ring), once it has said where it listens.
fn serve_live() -> std::process::Child {
    let clip = Path::new(env!("CARGO_MANIFEST_DIR")).join("build/media/clip.ts");
    assert!(
        clip.exists(),
        "needs {} (scripts/make-clip.sh, run by make test)",
        clip.display()
    );
    let mut child = Command::new(BIN)
        .args(["serve", "live", "--bind", "127.0.0.1:0", "--clip"])
        .arg(&clip)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert!(line.starts_with("live: http://"), "{line}");
    child
}

#[test]
fn serve_live_leaves_no_ring_in_dev_shm_after_kill_9() {
    let mut child = serve_live();
    let pid = child.id();
    child.kill().unwrap(); // SIGKILL, as the emulated driver stops its services
    child.wait().unwrap();
    let left = named_rings(pid);
    for p in &left {
        let _ = std::fs::remove_file(p);
    }
    assert!(left.is_empty(), "ring files left in /dev/shm: {left:?}");
}

#[test]
fn serve_live_removes_the_rings_of_dead_servers() {
    let dead = {
        let mut c = Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    };
    let stale = PathBuf::from(format!("/dev/shm/qoeprobe-live-{dead}-0.ts"));
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let mut child = serve_live();
    let removed = !stale.exists();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&stale);
    assert!(
        removed,
        "{} of a dead server was not removed",
        stale.display()
    );
}

#[test]
fn a_campaign_with_a_full_stderr_still_finishes_and_writes_its_results() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let campaign = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/emulated-smoke.toml");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let mut c = Command::new(BIN);
    c.arg("run")
        .arg(&campaign)
        .args(["--only", "download", "--runs", "1", "--out"])
        .arg(&out);
    c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(full);
    let pid_status = {
        let child = c.spawn().unwrap();
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut child = child;
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(s) => s.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                panic!("the campaign did not finish within 180 s");
            }
        }
    };
    assert_eq!(
        pid_status.code(),
        Some(0),
        "the progress line on a full stderr must not stop the campaign"
    );
    assert!(
        out.join("table.md").exists(),
        "the campaign wrote its table"
    );
}
