//! A lab that boots once per setup (root + QEMU): three repetitions of a cell
//! migrate the same VM back and forth between compute01 and compute02 (the first
//! run boots it, the next two check and reuse it), each run keeps its own folder,
//! capture and migration; a cell with another setup (a bigger flavor) gets a new
//! VM; nothing is left running when the campaign ends. docs/lab.md ("One VM per
//! setup") describes the behaviour.

use campaign::runner::{ProgressMode, RunnerOptions, run_campaign};
use campaign::scenario::parse;
use record::{Event, EventKind, MigrationOutcome, PlatformEvent};
use std::path::Path;

const CAMPAIGN: &str = r#"
name = "lab-reuse"
runs = 3
seed = 5
warmup_s = 2
cooldown_s = 2
reattach_timeout_s = 10

[migration]
driver = "lab"
mode = "live"
copy = "precopy"
flavor = "tiny"
downtime_limit_ms = 300
time_limit_s = 60
settle_s = 1

[[application]]
name = "dash"
service = "dash"
[application.player]
max_buffer_s = 6

[[application]]
name = "game"
service = "game"
flavor = "small"
[application.game]
cmdrate = 66

[[scenario]]
name = "S1"
"#;

fn events(dir: &Path) -> Vec<Event> {
    std::fs::read_to_string(dir.join("timeline.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The lab's `vm_booted` / `vm_reused` note of a run, with the host it ran on.
fn vm_note(ev: &[Event]) -> PlatformEvent {
    let notes: Vec<&PlatformEvent> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PlatformEvent(p) if p.origin == "lab" => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(notes.len(), 1, "one VM note per run: {notes:?}");
    notes[0].clone()
}

fn lab_namespaces() -> Vec<String> {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("qp-lab"))
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repetitions_migrate_one_vm_back_and_forth_and_a_new_setup_boots_a_new_one() {
    if let Err(why) = platform::lab::lab_available() {
        panic!("the lab test needs root and QEMU (run `make test` as root): {why}");
    }
    let before = lab_namespaces();
    let out = tempfile::tempdir().unwrap();
    let campaign = parse(Path::new("lab-reuse.toml"), CAMPAIGN).unwrap();
    let (_tx, rx) = tokio::sync::watch::channel(None);
    let mut opts = RunnerOptions::new(out.path(), rx);
    opts.progress = ProgressMode::Quiet;
    let result = run_campaign(&campaign, opts).await.unwrap();
    assert_eq!(result.runs.len(), 6);
    let mut boot_ids = Vec::new();
    let mut hosts = Vec::new();
    for run in &result.runs {
        let label = format!("{}/run-{}", run.id.application, run.id.run);
        let s = run.summary.as_ref().unwrap();
        assert!(s.complete, "{label}: {:?}", s.incomplete_reason);
        assert_eq!(s.migration.outcome, MigrationOutcome::Completed, "{label}");
        let ev = events(&run.dir);
        let note = vm_note(&ev);
        let want = if run.id.run == 1 {
            "vm_booted"
        } else {
            "vm_reused"
        };
        assert_eq!(note.name, want, "{label}: {note:?}");
        let detail = note.detail.clone().unwrap_or_default();
        let boot = detail
            .split("boot id ")
            .nth(1)
            .and_then(|d| d.split([',', ')']).next())
            .unwrap_or_else(|| panic!("{label}: no boot id in {detail}"))
            .to_string();
        boot_ids.push(boot);
        hosts.push(note.host.clone().unwrap_or_default());
        // Each run has its own capture, closed into its own folder and timeline.
        let caps = ev
            .iter()
            .filter(|e| matches!(e.kind, EventKind::PacketCapture(_)))
            .count();
        assert_eq!(caps, 1, "{label}: one packet_capture per run");
        assert!(run.dir.join("client.pcap").is_file(), "{label}");
        // The probe started afresh in this run, before the migration (its baseline).
        let migration_t = ev
            .iter()
            .find(|e| matches!(e.kind, EventKind::MigrationRequested(_)))
            .map(|e| e.t_ns)
            .unwrap_or_else(|| panic!("{label}: no migration_requested"));
        let started = ev.iter().any(|e| {
            e.t_ns < migration_t
                && matches!(e.kind, EventKind::Startup(_) | EventKind::GameSession(_))
        });
        assert!(
            started,
            "{label}: the probe did not start before the migration"
        );
    }
    // Each application: one VM for its three runs, migrated 01 -> 02, 02 -> 01,
    // 01 -> 02 (runs in plan order: dash 1-3, then game 1-3).
    for app in [0, 3] {
        assert_eq!(boot_ids[app], boot_ids[app + 1]);
        assert_eq!(boot_ids[app + 1], boot_ids[app + 2]);
        assert_eq!(hosts[app..app + 3], ["compute01", "compute02", "compute01"]);
    }
    // game (flavor small) is another setup: another VM.
    assert_ne!(boot_ids[3], boot_ids[0], "another setup boots another VM");
    // Nothing of this campaign is left running.
    assert_eq!(
        lab_namespaces(),
        before,
        "lab namespaces left after the campaign"
    );
}
