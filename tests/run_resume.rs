//! `qoeprobe run --resume` after SIGTERM and SIGKILL: the interrupted run is written
//! `complete: false` with its reason, the killed one is redone, the finished ones are
//! kept, and the campaign ends with every run exactly once.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CAMPAIGN: &str = r#"
name = "resume"
runs = 4
warmup_s = 0.5
cooldown_s = 0.3

[migration]
driver = "emulated"
downtime_limit_ms = 300
time_limit_s = 30
[migration.emulated]
memory_mb = 16
working_set_mb = 1
reattach_ms = 20

[[application]]
name = "game"
service = "game"
[application.game]
cmdrate = 30

[[scenario]]
name = "s"
[scenario.migration]
rate_mbit = 100
"#;

fn spawn(file: &Path, out: &Path, resume: bool) -> Child {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--quiet");
    if resume {
        cmd.arg("--resume");
    }
    cmd.env("QOEPROBE_FIXTURES", exe)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn run_dir(out: &Path, k: u32) -> PathBuf {
    out.join("game").join("s").join(format!("run-{k}"))
}

fn summary(out: &Path, k: u32) -> Option<Value> {
    let text = std::fs::read_to_string(run_dir(out, k).join("summary.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// Waits until run `k` has started its migration.
fn wait_for_migration(out: &Path, k: u32, child: &mut Child) {
    let t0 = Instant::now();
    loop {
        let tl =
            std::fs::read_to_string(run_dir(out, k).join("timeline.jsonl")).unwrap_or_default();
        if tl.contains("\"migration_requested\"") {
            return;
        }
        if let Ok(Some(s)) = child.try_wait() {
            panic!("qoeprobe exited early: {s}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "run-{k} never started its migration"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pids of `pid`'s children (all threads).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let text = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, sig) };
}

#[test]
fn resume_after_sigterm_and_sigkill_completes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    std::fs::write(&file, CAMPAIGN).unwrap();
    let out = dir.path().join("out");

    // SIGTERM during run 2: run 1 finished, run 2 written incomplete with the reason.
    let mut child = spawn(&file, &out, false);
    wait_for_migration(&out, 2, &mut child);
    signal(&child, libc::SIGTERM);
    let res = child.wait_with_output().unwrap();
    assert_eq!(
        res.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    assert_eq!(summary(&out, 1).unwrap()["complete"], true);
    let s2 = summary(&out, 2).expect("the interrupted run has a summary");
    assert_eq!(s2["complete"], false);
    assert_eq!(s2["incomplete_reason"], "interrupted by SIGTERM");
    assert!(!run_dir(&out, 3).exists());
    let run1_before = std::fs::read_to_string(run_dir(&out, 1).join("summary.json")).unwrap();

    // SIGKILL during run 3 of the resumed campaign: nothing is finalized.
    let mut child = spawn(&file, &out, true);
    wait_for_migration(&out, 3, &mut child);
    let service = children(child.id());
    assert!(!service.is_empty(), "the service runs as a child process");
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    let t0 = Instant::now();
    while service.iter().any(|&p| alive(p)) && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !service.iter().any(|&p| alive(p)),
        "the service process died with the runner"
    );
    assert_eq!(
        summary(&out, 2).unwrap()["complete"],
        true,
        "run 2 was redone"
    );
    assert!(summary(&out, 3).is_none(), "a killed run has no summary");

    // Resume again: the campaign completes.
    let res = spawn(&file, &out, true).wait_with_output().unwrap();
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let runs: Vec<_> = std::fs::read_dir(out.join("game").join("s"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(runs.len(), 4, "{runs:?}");
    for k in 1..=4 {
        let s = summary(&out, k).unwrap();
        assert_eq!(s["complete"], true, "run {k}: {s}");
        assert_eq!(s["run"], k);
        assert_eq!(s["migration"]["outcome"], "completed");
        let tl = std::fs::read_to_string(run_dir(&out, k).join("timeline.jsonl")).unwrap();
        assert_eq!(
            tl.matches("\"migration_requested\"").count(),
            1,
            "run {k}: one migration"
        );
        assert_eq!(
            tl.matches("\"phase\":\"setup\"").count(),
            1,
            "run {k}: one attempt in the timeline"
        );
    }
    let run1_after = std::fs::read_to_string(run_dir(&out, 1).join("summary.json")).unwrap();
    assert_eq!(run1_before, run1_after, "a finished run is not redone");

    // campaign.json names the binary of each of the three starts, oldest first.
    let campaign: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("campaign.json")).unwrap()).unwrap();
    let version = Command::new(env!("CARGO_BIN_EXE_qoeprobe"))
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    let commit = campaign["tool"]["commit"].as_str().unwrap();
    assert!(
        version.contains(&format!("(commit {commit})")),
        "{version} / {commit}"
    );
    let starts = campaign["starts"].as_array().unwrap();
    assert_eq!(starts.len(), 3, "{campaign}");
    assert!(starts.iter().all(|s| s["tool"]["commit"] == commit));
    let times: Vec<u64> = starts
        .iter()
        .map(|s| s["started_unix_ns"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
}
