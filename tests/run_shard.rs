//! `qoeprobe run --shard K/N` and `qoeprobe merge` end to end on the emulated driver:
//! three shards (one of them killed with SIGKILL mid-run and resumed) merge into a
//! folder whose table equals the unsharded run's, with every run exactly once and the
//! same seed per run; a missing shard, a shard given twice and shards of another
//! campaign are refused with what is wrong.

mod common;
use common::{json, ok, verdicts};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// Two applications whose verdicts do not hang on timing noise: the game freezes for
// the whole 1.5 s downtime (impaired by the game profile's freeze limit), the
// download of 2 MB completes through it (clean).

fn qoeprobe() -> Command {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let mut cmd = Command::new(exe);
    cmd.env("QOEPROBE_FIXTURES", exe);
    cmd
}

fn run(file: &Path, out: &Path, shard: Option<&str>, resume: bool) -> Command {
    let mut cmd = qoeprobe();
    cmd.arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .arg("--quiet");
    if let Some(s) = shard {
        cmd.args(["--shard", s]);
    }
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

/// Every `app/s/run-k` folder under `dir` holding a summary.
fn runs_in(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for app in ["game", "download"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(app).join("s")) {
            for e in rd.flatten() {
                if e.path().join("summary.json").is_file() {
                    out.push(format!("{app}/s/{}", e.file_name().to_string_lossy()));
                }
            }
        }
    }
    out.sort();
    out
}

/// Waits until some run folder under `out` has started its migration; returns it.
fn wait_for_migration(out: &Path, child: &mut Child) -> PathBuf {
    let t0 = Instant::now();
    loop {
        for app in ["game", "download"] {
            for k in 1..=3 {
                let d = out.join(app).join("s").join(format!("run-{k}"));
                let tl = std::fs::read_to_string(d.join("timeline.jsonl")).unwrap_or_default();
                if tl.contains("\"migration_requested\"") && !d.join("summary.json").exists() {
                    return d;
                }
            }
        }
        if let Ok(Some(s)) = child.try_wait() {
            panic!("qoeprobe exited early: {s}");
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no migration started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn shards_killed_resumed_and_merged_equal_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("c.toml");
    std::fs::write(&file, common::two_app_campaign("shards", 7)).unwrap();
    let whole = tmp.path().join("whole");
    let table_whole = ok(run(&file, &whole, None, false).output().unwrap());
    assert_eq!(runs_in(&whole).len(), 6);

    let shard = |k: u32| tmp.path().join(format!("shard-{k}"));
    // Shard 1 is killed during its first migration and resumed.
    let mut child = run(&file, &shard(1), Some("1/3"), false)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let killed = wait_for_migration(&shard(1), &mut child);
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    assert!(!killed.join("summary.json").exists());
    ok(run(&file, &shard(1), Some("1/3"), true).output().unwrap());
    let tl = std::fs::read_to_string(killed.join("timeline.jsonl")).unwrap();
    assert_eq!(
        tl.matches("\"migration_requested\"").count(),
        1,
        "redone once"
    );
    for k in [0, 2] {
        let stdout = ok(run(&file, &shard(k), Some(&format!("{k}/3")), false)
            .output()
            .unwrap());
        assert!(stdout.is_empty(), "a shard prints no table: {stdout}");
    }
    // Round-robin over the plan (game 1-3, then download 1-3).
    assert_eq!(
        runs_in(&shard(0)),
        ["game/s/run-1", "download/s/run-1"]
            .map(String::from)
            .iter()
            .rev()
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(runs_in(&shard(1)), ["download/s/run-2", "game/s/run-2"]);
    assert_eq!(runs_in(&shard(2)), ["download/s/run-3", "game/s/run-3"]);

    // A missing shard and a doubled run are refused, naming them.
    let err = qoeprobe()
        .arg("merge")
        .arg(tmp.path().join("m0"))
        .arg(shard(0))
        .arg(shard(1))
        .output()
        .unwrap();
    assert_eq!(err.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(
        msg.contains("2 of 6 run(s) missing: game/s/run-3, download/s/run-3"),
        "{msg}"
    );
    assert!(msg.contains("shards not given: 2/3"), "{msg}");
    let err = qoeprobe()
        .arg("merge")
        .arg(tmp.path().join("m1"))
        .args([&shard(0), &shard(1), &shard(2), &whole])
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(
        msg.contains("6 run(s) finished in more than one folder"),
        "{msg}"
    );
    assert!(!tmp.path().join("m1").exists(), "nothing written on error");

    // All three: the same table as the unsharded run, every run once, same seeds.
    let merged = tmp.path().join("merged");
    let table_merged = ok(qoeprobe()
        .arg("merge")
        .arg(&merged)
        .args([shard(0), shard(1), shard(2)])
        .output()
        .unwrap());
    assert_eq!(verdicts(&table_merged), verdicts(&table_whole));
    assert!(table_whole.contains("| game |") && table_whole.contains("| download |"));
    assert_eq!(runs_in(&merged), runs_in(&whole));
    for r in runs_in(&whole) {
        let (a, b) = (
            json(&whole.join(&r).join("run.json")),
            json(&merged.join(&r).join("run.json")),
        );
        assert_eq!(a["seed"], b["seed"], "{r}");
        assert_eq!(
            json(&merged.join(&r).join("summary.json"))["complete"],
            true
        );
    }
    let head = json(&merged.join("campaign.json"));
    assert_eq!(
        head["campaign_hash"],
        json(&whole.join("campaign.json"))["campaign_hash"]
    );
    assert_eq!(head["merged_from"].as_array().unwrap().len(), 3);
    // The merged folder names every start of every shard, in time order: one per
    // shard, and one more for the shard that was killed and resumed.
    let starts: Vec<u64> = head["starts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["started_unix_ns"].as_u64().unwrap())
        .collect();
    assert_eq!(starts.len(), 4, "{head}");
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
    let table_cmd = ok(qoeprobe().arg("table").arg(&merged).output().unwrap());
    assert_eq!(table_cmd, table_merged);
    assert!(merged.join("report.html").is_file());

    // Another campaign (other seed) does not merge with these shards; nor does
    // resuming a shard folder as another shard.
    let other_file = tmp.path().join("o.toml");
    std::fs::write(&other_file, common::two_app_campaign("shards", 8)).unwrap();
    let other = tmp.path().join("other");
    ok(run(&other_file, &other, Some("2/3"), false)
        .output()
        .unwrap());
    let err = qoeprobe()
        .arg("merge")
        .arg(tmp.path().join("m2"))
        .args([shard(0), shard(1), other])
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(
        msg.contains("shards merge only when they ran the same resolved campaign"),
        "{msg}"
    );
    let err = run(&file, &shard(0), Some("1/3"), true).output().unwrap();
    let msg = String::from_utf8_lossy(&err.stderr);
    assert_eq!(err.status.code(), Some(1), "{msg}");
    assert!(
        msg.contains("holds shard 0/3") && msg.contains("this is shard 1/3"),
        "{msg}"
    );
}
