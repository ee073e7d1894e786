//! Helpers shared by the end-to-end tests (each test file that needs them says
//! `mod common;`).

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Runs a command with a deadline: a hang (or a spin) fails the test instead of
/// blocking it.
pub fn run_bounded(mut c: Command, limit: Duration) -> Output {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c.spawn().expect("qoeprobe starts");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.expect("qoeprobe ran"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("qoeprobe did not finish within {limit:?}: it hangs or spins");
        }
    }
}

/// A small emulated campaign: a game and a download, one scenario, 3 runs (what the
/// shard and Slurm tests split and merge).
pub fn two_app_campaign(name: &str, seed: u64) -> String {
    client_campaign(name, seed, 3, 1)
}

/// [`two_app_campaign`] with `runs` repetitions and `clients` sessions of each probe.
pub fn client_campaign(name: &str, seed: u64, runs: u32, clients: u32) -> String {
    format!(
        r#"
name = "{name}"
runs = {runs}
seed = {seed}
warmup_s = 0.5
cooldown_s = 0.5

[migration]
driver = "emulated"
downtime_limit_ms = 2000
time_limit_s = 30
[migration.emulated]
memory_mb = 16
working_set_mb = 16
dirty_rate_mb_s = 40
reattach_ms = 20

[[application]]
name = "game"
service = "game"
clients = {clients}
[application.game]
cmdrate = 30

[[application]]
name = "download"
service = "file"
clients = {clients}
[application.download]
path = "/gen/2M"

[[scenario]]
name = "s"
[scenario.migration]
rate_mbit = 100
"#
    )
}
pub mod live;
pub mod prometheus;

/// The standard output of a command that must have succeeded (else its stderr).
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The verdict table without its reasons (they quote measured values, which differ
/// between any two runs of the same campaign).
pub fn verdicts(table: &str) -> &str {
    table.split("\nReasons:").next().unwrap_or(table)
}

/// A JSON file of a results folder.
pub fn json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}
