//! `qoeprobe run --host K/N` and `qoeprobe merge` of the hosts' folders end to end on
//! the emulated driver: three processes stand for three hosts (host 0 starts the
//! service and migrates it, hosts 1 and 2 run one client each of every application
//! with `clients = 2`), sharing a `--start-at` and a rendezvous folder. Their merged
//! folder gives the same verdict table as one host running both clients, with every
//! session exactly once, on the host it ran on, its events on host 0's run clock; a
//! missing or doubled host, another campaign, another start time, a late start, a
//! clock seen behind and a lost session are refused with what is wrong, as are a
//! client host given another campaign's or start's announcement and a used rendezvous.

mod common;
use common::{json, ok, verdicts};

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn qoeprobe() -> Command {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let mut cmd = Command::new(exe);
    cmd.env("QOEPROBE_FIXTURES", exe);
    cmd
}

fn edit(p: &Path, f: impl FnOnce(&mut Value)) {
    let mut v = json(p);
    f(&mut v);
    std::fs::write(p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// A copy of the folder `from` at `to`, edited by `f` (a host's folder as a broken
/// host would have written it).
fn copy(from: &Path, to: &Path, f: impl FnOnce(&Path)) -> PathBuf {
    let st = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
    f(to);
    to.to_path_buf()
}

/// `merge` must fail (exit 1) saying `what`, and write nothing.
fn refused(out: &Path, dirs: &[&Path], what: &str) {
    let o = qoeprobe()
        .arg("merge")
        .arg(out)
        .args(dirs)
        .output()
        .unwrap();
    let msg = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{msg}");
    assert!(msg.contains(what), "expected {what:?} in: {msg}");
    assert!(!out.exists(), "nothing written on error");
}

const RUNS: [&str; 2] = ["game/s/run-1", "download/s/run-1"];

#[test]
fn hosts_merged_equal_one_host_running_every_client() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("c.toml");
    std::fs::write(&file, common::client_campaign("hosts", 7, 1, 2)).unwrap();
    let whole = tmp.path().join("whole");
    let table_whole = ok(qoeprobe()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&whole)
        .arg("--quiet")
        .output()
        .unwrap());

    // Three hosts, launched 0.3 s apart, one start 4 s ahead.
    let start = record::clock::unix_now_ns() as f64 / 1e9 + 4.0;
    let host = |k: u32| tmp.path().join(format!("host-{k}"));
    let rendezvous = tmp.path().join("rendezvous");
    let mut children = Vec::new();
    for k in 0..3 {
        children.push(
            qoeprobe()
                .arg("run")
                .arg(&file)
                .args([
                    "--host",
                    &format!("{k}/3"),
                    "--start-at",
                    &format!("{start:.3}"),
                ])
                .arg("--rendezvous")
                .arg(&rendezvous)
                .arg("--out")
                .arg(host(k))
                .arg("--quiet")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let t0 = Instant::now();
    for (k, mut c) in children.into_iter().enumerate() {
        while c.try_wait().unwrap().is_none() {
            if t0.elapsed() > Duration::from_secs(120) {
                let _ = c.kill();
                panic!("host {k} did not finish within 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let stdout = ok(c.wait_with_output().unwrap());
        assert!(stdout.is_empty(), "a host prints no table: {stdout}");
    }

    let merged = tmp.path().join("merged");
    let table_merged = ok(qoeprobe()
        .arg("merge")
        .arg(&merged)
        .args([host(2), host(0), host(1)])
        .output()
        .unwrap());
    assert_eq!(verdicts(&table_merged), verdicts(&table_whole));
    assert!(table_whole.contains("| game |") && table_whole.contains("| download |"));
    let table_cmd = ok(qoeprobe().arg("table").arg(&merged).output().unwrap());
    assert_eq!(table_cmd, table_merged);
    // `export` sees the same columns (every session's metrics) and rows.
    let csv = |d: &Path| {
        ok(qoeprobe()
            .arg("export")
            .arg(d)
            .args(["--format", "csv"])
            .output()
            .unwrap())
    };
    let (csv_merged, csv_whole) = (csv(&merged), csv(&whole));
    assert_eq!(csv_merged.lines().next(), csv_whole.lines().next());
    assert_eq!(csv_merged.lines().count(), csv_whole.lines().count());
    assert!(
        csv_merged.lines().next().unwrap().contains("game#2"),
        "{csv_merged}"
    );

    for r in RUNS {
        let app = r.split('/').next().unwrap();
        let dir = merged.join(r);
        let summary = json(&dir.join("summary.json"));
        assert_eq!(summary["complete"], true, "{r}");
        // Every session once, as one host running both clients has them.
        let names = |s: &Value| -> Vec<String> {
            s["probes"].as_object().unwrap().keys().cloned().collect()
        };
        assert_eq!(names(&summary), [format!("{app}#1"), format!("{app}#2")]);
        assert_eq!(
            names(&summary),
            names(&json(&whole.join(r).join("summary.json")))
        );
        // The phases are host 0's.
        assert_eq!(
            summary["migration"],
            json(&host(0).join(r).join("summary.json"))["migration"]
        );
        assert_eq!(
            json(&dir.join("run.json")),
            json(&host(0).join(r).join("run.json"))
        );
        // What the clients saw together, over both hosts' sessions.
        let clients = &json(&dir.join("clients.json"))[app];
        assert_eq!(
            (clients["hosts"].as_u64(), clients["sessions"].as_u64()),
            (Some(2), Some(2)),
            "{clients}"
        );
        assert_eq!(clients["probe"], app);
        let sum = |field: &str| -> u64 {
            summary["probes"]
                .as_object()
                .unwrap()
                .values()
                .map(|p| p[field].as_u64().unwrap())
                .sum()
        };
        if app == "game" {
            assert_eq!(clients["freeze_count"], sum("freeze_count"), "{clients}");
            assert_eq!(clients["freeze_total_ms"]["n"], 2, "{clients}");
        } else {
            assert_eq!(clients["completed"], 2, "{clients}");
            assert_eq!(clients["stall_count"], sum("stall_count"), "{clients}");
        }
        // Each session on its host: client j on host 1 + j mod 2.
        let hosts = json(&dir.join("hosts.json"));
        for (k, sessions) in [
            (0, vec![]),
            (1, vec![format!("{app}#1")]),
            (2, vec![format!("{app}#2")]),
        ] {
            assert_eq!(hosts[k]["host"]["index"], k, "{r}");
            assert_eq!(hosts[k]["sessions"], serde_json::json!(sessions), "{r}");
        }
        // The clients' events on host 0's clock: each session's first event within
        // 0.5 s after host 0's warm-up began (both start at the announced time).
        let events: Vec<Value> = std::fs::read_to_string(dir.join("timeline.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let t = |e: &Value| e["t_ns"].as_u64().unwrap();
        assert!(events.windows(2).all(|w| t(&w[0]) <= t(&w[1])), "sorted");
        let warmup = events
            .iter()
            .find(|e| e["kind"] == "phase" && e["phase"] == "warmup")
            .map(t)
            .unwrap();
        for j in 1..=2 {
            let source = format!("probe:{app}#{j}");
            let first = events
                .iter()
                .find(|e| e["source"] == *source.as_str())
                .map(t);
            let first = first.unwrap_or_else(|| panic!("{r}: no event of {source}"));
            assert!(
                first >= warmup.saturating_sub(50_000_000) && first < warmup + 500_000_000,
                "{r}: {source} starts at {first} ns, host 0's warm-up at {warmup} ns"
            );
            let own = std::fs::read_to_string(host(j).join(r).join("timeline.jsonl")).unwrap();
            assert_eq!(
                events
                    .iter()
                    .filter(|e| e["source"] == *source.as_str())
                    .count(),
                own.lines().count(),
                "{r}: every event of {source} kept"
            );
        }
    }

    // What is refused, on copies of the hosts' folders edited as a broken host would
    // have left them.
    let m = |n: &str| tmp.path().join(format!("m-{n}"));
    let (h0, h1, h2) = (host(0), host(1), host(2));
    refused(&m("missing"), &[&h0, &h1], "host(s) not given: 2/3");
    refused(&m("no-migration"), &[&h1, &h2], "0/3 (the migration host)");
    let h1b = copy(&h1, &tmp.path().join("h1b"), |_| {});
    refused(&m("twice"), &[&h0, &h1, &h1b, &h2], "are both host 1/3");
    let other = copy(&h2, &tmp.path().join("other"), |d| {
        edit(&d.join("campaign.json"), |v| {
            v["campaign_hash"] = "0123456789abcdef".into()
        })
    });
    refused(&m("other"), &[&h0, &h1, &other], "same resolved campaign");
    let later = copy(&h2, &tmp.path().join("later"), |d| {
        edit(&d.join("campaign.json"), |v| {
            let s = v["hosts"]["start_at_unix_ns"].as_u64().unwrap();
            v["hosts"]["start_at_unix_ns"] = (s + 1_000_000_000).into();
        })
    });
    refused(&m("later"), &[&h0, &h1, &later], "different start times");
    let late = copy(&h2, &tmp.path().join("late"), |d| {
        edit(&d.join("game/s/run-1/host.json"), |v| {
            let s = v["started_unix_ns"].as_u64().unwrap();
            v["started_unix_ns"] = (s + 2_000_000_000).into();
        })
    });
    refused(&m("late"), &[&h0, &h1, &late], "host 2/3 started 20");
    let behind = copy(&h2, &tmp.path().join("behind"), |d| {
        edit(&d.join("game/s/run-1/host.json"), |v| {
            let a = v["announced_unix_ns"].as_u64().unwrap();
            v["seen_unix_ns"] = (a - 1_000_000_000).into();
        })
    });
    refused(
        &m("behind"),
        &[&h0, &h1, &behind],
        "clock is at least 1000 ms behind",
    );
    let lost = copy(&h2, &tmp.path().join("lost"), |d| {
        edit(&d.join("game/s/run-1/summary.json"), |v| {
            v["probes"].as_object_mut().unwrap().clear();
        })
    });
    refused(
        &m("lost"),
        &[&h0, &h1, &lost],
        "session `game#2` is on no host",
    );
    let doubled = copy(&h2, &tmp.path().join("doubled"), |d| {
        let s1 = json(&h1.join("game/s/run-1/summary.json"));
        edit(&d.join("game/s/run-1/summary.json"), |v| {
            v["probes"]["game#1"] = s1["probes"]["game#1"].clone();
        })
    });
    refused(
        &m("doubled"),
        &[&h0, &h1, &doubled],
        "session `game#1` ran on hosts [1, 2]",
    );
    // A client host refuses an announcement of another campaign or another start.
    let hash = json(&whole.join("campaign.json"))["campaign_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let now = record::clock::unix_now_ns();
    for (n, (hash, start_at, what)) in [
        (
            "0123456789abcdef".to_string(),
            now + 5_000_000_000,
            "host 0 runs campaign 0123456789ab",
        ),
        (
            hash,
            now + 6_000_000_000,
            "give every host the same start time",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let rdv = tmp.path().join(format!("rdv-{n}"));
        std::fs::create_dir_all(rdv.join("game/s/run-1")).unwrap();
        let announce = serde_json::json!({
            "campaign_hash": hash, "start_at_unix_ns": start_at,
            "run_start_unix_ns": start_at, "announced_unix_ns": now,
            "http": null, "game": null, "probe_target": "127.0.0.1:9",
        });
        std::fs::write(rdv.join("game/s/run-1/announce.json"), announce.to_string()).unwrap();
        let o = common::run_bounded(
            {
                let mut c = qoeprobe();
                c.arg("run")
                    .arg(&file)
                    .args(["--host", "1/3", "--start-at"]);
                c.arg(format!("{:.3}", (now + 5_000_000_000) as f64 / 1e9));
                c.arg("--rendezvous")
                    .arg(&rdv)
                    .arg("--out")
                    .arg(tmp.path().join(format!("c-{n}")));
                c
            },
            Duration::from_secs(30),
        );
        let msg = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{msg}");
        assert!(msg.contains(what), "expected {what:?} in: {msg}");
    }
    // Host 0 refuses a rendezvous holding an earlier attempt; a campaign whose
    // clients do not cover the client hosts, and an emulated service for hosts on
    // several machines, are refused before anything runs.
    let refused_cmd = |args: &[&str], what: &str| {
        let o = qoeprobe().args(args).arg(&file).output().unwrap();
        let msg = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{msg}");
        assert!(msg.contains(what), "expected {what:?} in: {msg}");
    };
    let (rdv, out) = (rendezvous.display().to_string(), tmp.path().join("again"));
    let out = out.display().to_string();
    let later = format!("{:.3}", record::clock::unix_now_ns() as f64 / 1e9 + 60.0);
    let run = [
        "run",
        "--host",
        "0/3",
        "--start-at",
        &later,
        "--rendezvous",
        &rdv,
        "--out",
        &out,
    ];
    refused_cmd(&run, "is not empty: it holds an earlier attempt");
    let mut four = run;
    four[2] = "0/4";
    refused_cmd(&four, "set `clients` to at least 3");
    refused_cmd(
        &["slurm", "--hosts", "3", "--out", &out],
        "listens on the loopback",
    );
    // A larger tolerance lets the late host through.
    ok(qoeprobe()
        .arg("merge")
        .arg(m("tolerant"))
        .args([&h0, &h1, &late])
        .args(["--max-skew-ms", "3000", "--quiet"])
        .output()
        .unwrap());
}
