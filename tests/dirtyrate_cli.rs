//! End-to-end tests of `qoeprobe dirtyrate` against writers whose rate is known: the
//! product's own `serve dirty` (memory) and `serve feed` fed at a paced rate (page
//! cache of a ring file), through the real binary.
//!
//! Tolerance: the mean rate within 15 % of the writer's. Why 15 %: the tool counts
//! exact pages, but (a) a page written while the tool scans (debug build: 0.1-0.3 s
//! of scanning per sample on a loaded machine) falls into the next interval, which
//! moves up to rate x scan time between intervals (a few % of a 4-5 s run), (b) the
//! writers pace themselves in 10 ms (`serve dirty`) or 32 ms (this test) steps and
//! are delayed by a loaded 2-core machine, then catch up, and (c) the processes
//! write a few other pages (runtime, stacks). The working set must match the
//! writer's buffer within 12 %: it is a count of distinct pages, immune to (a)-(b).

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_qoeprobe");

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qp-dirtyrate-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A child killed and reaped on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).expect("the --json file")).expect("valid JSON")
}

/// A rate over the whole run (pages / time), from the summary.
fn rate(v: &Value, field: &str) -> f64 {
    v["summary"][field].as_f64().unwrap_or(f64::NAN)
}

/// Distinct MiB within a window of `k` intervals (mean), from the summary.
fn window_mib(v: &Value, k: usize) -> f64 {
    v["summary"]["working_set"][k - 1]["mean_mib"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// What the kernel's own configuration says about soft-dirty bits, when it is
/// readable (`/boot/config-*` or `/proc/config.gz`).
fn kernel_has_soft_dirty() -> Option<bool> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    let text = std::fs::read_to_string(format!("/boot/config-{}", release.trim()))
        .ok()
        .or_else(|| {
            let out = Command::new("zcat").arg("/proc/config.gz").output().ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
        })?;
    Some(text.lines().any(|l| l == "CONFIG_MEM_SOFT_DIRTY=y"))
}

#[test]
fn dirtyrate_measures_serve_dirty_rate_and_working_set() {
    let dir = scratch("dirty");
    let mut dirty = Command::new(BIN)
        .args([
            "serve",
            "dirty",
            "--mb",
            "32",
            "--rate",
            "16",
            "--report-every",
            "0.25",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve dirty starts");
    let pid = dirty.id();
    let mut lines = BufReader::new(dirty.stdout.take().unwrap()).lines();
    let dirty = Killed(dirty);
    // Measure after the first pass: `serve dirty` fills its buffer with the value of
    // pass 0 before pass 0 rewrites it, which a content hash cannot see.
    for line in lines.by_ref() {
        if line.unwrap().contains("(1 passes)") {
            break;
        }
    }
    // Keep reading its reports (a closed pipe would end it).
    std::thread::spawn(move || lines.for_each(drop));
    let json = dir.join("d.json");
    let out = Command::new(BIN)
        .args([
            "dirtyrate",
            "--pid",
            &pid.to_string(),
            "--duration",
            "6",
            "-q",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(dirty);
    let v = read_json(&json);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r = rate(&v, "memory_rate_mib_s");
    assert!(
        (r - 16.0).abs() <= 16.0 * 0.15,
        "memory rate {r} MiB/s\n{stdout}"
    );
    assert!(
        rate(&v, "file_rate_mib_s") < 0.01,
        "serve dirty writes no file\n{stdout}"
    );
    // 3 intervals = 48 MiB written over a 32 MiB buffer: the whole buffer, once.
    let ws = window_mib(&v, 3);
    assert!(
        (ws - 32.0).abs() <= 32.0 * 0.12,
        "3-interval working set {ws} MiB\n{stdout}"
    );
    let all = v["summary"]["distinct_total_mib"].as_f64().unwrap();
    assert!(
        (all - 32.0).abs() <= 32.0 * 0.12,
        "distinct over the run {all} MiB"
    );
    assert!(v["summary"]["rss_mib"]["max"].as_f64().unwrap() >= 32.0);
    // The method is the one the kernel's configuration allows.
    if let Some(sd) = kernel_has_soft_dirty() {
        let m = v["method"].as_str().unwrap();
        assert_eq!(
            m == "soft-dirty",
            sd,
            "method {m}, CONFIG_MEM_SOFT_DIRTY={sd}"
        );
    }
    // At 16 MiB/s into 32 MiB, 1000 Mbit/s converges, 100 Mbit/s (threshold 3.6 MiB)
    // never does.
    let pre = v["precopy"].as_array().unwrap();
    assert_eq!(pre[0]["converges"], true, "{stdout}");
    assert_eq!(pre[1]["converges"], false, "{stdout}");
    assert!(stdout.contains("never converges"), "{stdout}");
    // The calibration of a slow run: at --speed 1 the record predicts what it measured;
    // at --speed 0.1 it is a writer ten times as fast (about 160 MiB/s). On a
    // 200 Mbit/s link (23.8 MiB/s, threshold 7.2 MiB) with 8 MiB of guest RAM, the
    // measured writer converges (a 0.34 s first pass leaves about 5 MiB) and the fast
    // one does not (it outruns the link and rewrites its whole 32 MiB).
    let again = |speed: &str, extra: &[&str]| {
        let out_json = dir.join(format!("from-{speed}-{}.json", extra.len()));
        let out = Command::new(BIN)
            .args(["dirtyrate", "--from"])
            .arg(&json)
            .args(["--speed", speed])
            .args(extra)
            .arg("--json")
            .arg(&out_json)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        read_json(&out_json)
    };
    assert_eq!(again("1", &[])["precopy"], v["precopy"]);
    // `--json -`: the record on standard output, the human summary on standard error.
    let out = Command::new(BIN)
        .args(["dirtyrate", "--from"])
        .arg(&json)
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let on_stdout: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(on_stdout["precopy"], v["precopy"]);
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    assert!(!dir.join("-").exists());
    let link = ["--link-mbit", "200", "--guest-mib", "8"];
    let slow = again("1", &link);
    assert_eq!(slow["precopy"][0]["converges"], true, "{slow}");
    let fast = again("0.1", &link);
    assert_eq!(fast["precopy"][0]["converges"], false, "{fast}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dirtyrate_measures_the_feed_files_page_cache() {
    let dir = scratch("feed");
    let feed = dir.join("feed1.ffm");
    let json = dir.join("f.json");
    let csv = dir.join("f.csv");
    let mut tool = Command::new(BIN)
        .args(["dirtyrate", "--duration", "5", "-q", "--json"])
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .args([
            "--",
            BIN,
            "serve",
            "feed",
            "--max-size",
            "4194304",
            "--file",
        ])
        .arg(&feed)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // 2 MiB/s into the feed's stdin, in 64 KiB writes every 31.25 ms, for 6 s.
    let mut stdin = tool.stdin.take().unwrap();
    let chunk: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8 + 1).collect();
    let start = Instant::now();
    for n in 0..192u32 {
        let mut c = chunk.clone();
        c[..4].copy_from_slice(&n.to_le_bytes()); // every packet differs
        if stdin.write_all(&c).is_err() {
            break; // the tool ended and stopped the feed
        }
        let due = start + Duration::from_micros(31_250 * u64::from(n + 1));
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    drop(stdin);
    let out = tool.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let v = read_json(&json);
    let r = rate(&v, "file_rate_mib_s");
    assert!(
        (r - 2.0).abs() <= 2.0 * 0.15,
        "page cache {r} MiB/s\n{stdout}"
    );
    // A 4 MiB ring written at 2 MiB/s: 3 intervals (6 MiB written) cover all of it.
    // The working set counts the writer's own memory too (its buffers: what it
    // dirtied over the whole run bounds what it adds to any window).
    let own: f64 = v["processes"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["distinct_mib"].as_f64()).sum())
        .unwrap_or(0.0);
    let ws = window_mib(&v, 3);
    assert!(
        ws >= 4.0 * (1.0 - 0.12) && ws <= 4.0 * (1.0 + 0.12) + own,
        "3-interval working set {ws} MiB (own memory {own} MiB)\n{stdout}"
    );
    // The feed file (an inherited stdout redirected to a file may be listed too).
    let files = v["files"].as_array().unwrap();
    let feed = files
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with("feed1.ffm")))
        .unwrap_or_else(|| panic!("no feed file listed\n{stdout}"));
    assert!((feed["max_size_mib"].as_f64().unwrap() - 4.0).abs() < 1e-9);
    // The CSV was written as the run went: a header and one line per interval.
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("t_s,dt_s,processes,memory_mib_s,file_mib_s"));
    assert_eq!(
        csv.lines().count(),
        1 + v["intervals"].as_array().unwrap().len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dirtyrate_soft_dirty_sees_every_write_or_says_why_not() {
    let dir = scratch("sd");
    let json = dir.join("s.json");
    let out = Command::new(BIN)
        .args([
            "dirtyrate",
            "--method",
            "soft-dirty",
            "--duration",
            "3",
            "-q",
            "--json",
        ])
        .arg(&json)
        .args(["--", BIN, "serve", "dirty", "--mb", "64", "--rate", "16"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if kernel_has_soft_dirty() == Some(false) || stderr.contains("does not track soft-dirty") {
        // This kernel lacks soft-dirty bits: a clear error, nothing started.
        assert!(!out.status.success());
        assert!(stderr.contains("CONFIG_MEM_SOFT_DIRTY"), "{stderr}");
        assert!(stderr.contains("--method hash"), "{stderr}");
        assert!(!json.exists());
    } else {
        // Soft-dirty bits see the first pass too (same bytes written again), which
        // hashing cannot: the rate holds from the first interval.
        assert!(out.status.success(), "{stderr}");
        let v = read_json(&json);
        assert_eq!(v["method"], "soft-dirty");
        let first = &v["intervals"][0];
        let r = first["memory_pages"].as_f64().unwrap() * 4096.0
            / 1048576.0
            / first["dt_s"].as_f64().unwrap();
        assert!((r - 16.0).abs() <= 16.0 * 0.15, "first interval {r} MiB/s");
        let r = rate(&v, "memory_rate_mib_s");
        assert!((r - 16.0).abs() <= 16.0 * 0.15, "rate {r} MiB/s");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dirtyrate_bad_input_is_a_clear_error() {
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .arg("dirtyrate")
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run(&["--pid", "4000000", "--duration", "1"]);
    assert!(e.contains("process 4000000 does not exist"), "{e}");
    let e = run(&["--duration", "1", "--", "/nonexistent/encoder"]);
    assert!(e.contains("cannot start `/nonexistent/encoder`"), "{e}");
    let e = run(&["--pid", "1", "--interval", "0"]);
    assert!(e.contains("--interval 0"), "{e}");
    let e = run(&["--interval", "1"]);
    assert!(e.contains("--pid PID or a command"), "{e}");
    let e = run(&["--from", "/nonexistent/d.json"]);
    assert!(e.contains("cannot read /nonexistent/d.json"), "{e}");
    let e = run(&["--from", "/nonexistent/d.json", "--speed", "0"]);
    assert!(e.contains("--speed 0"), "{e}");
}
