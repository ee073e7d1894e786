//! The runner's observers (live metrics, `--postgres`) on a client host of
//! `run --host`: a client host's runs are told to its observers as host 0's are
//! (run started, every event of its own probes, run finished), in one process with
//! two campaigns standing for host 0 and host 1 on the emulated driver.

mod common;

use campaign::hosts::{HostMode, HostRole};
use campaign::runner::{ProgressMode, RunObserver, RunnerOptions, run_campaign};
use campaign::scenario::parse;
use record::{Event, EventKind, RunInfo, RunSummary};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What an observer was told: `planned N`, `started A`, `event A SOURCE`,
/// `finished A complete`.
#[derive(Default)]
struct Notes(Mutex<Vec<String>>);

impl RunObserver for Notes {
    fn planned(&self, _campaign: &str, planned: usize, _skipped: usize) {
        self.0.lock().unwrap().push(format!("planned {planned}"));
    }
    fn run_started(&self, info: &RunInfo) {
        self.0
            .lock()
            .unwrap()
            .push(format!("started {}", info.application));
    }
    fn event(&self, info: &RunInfo, event: &Event) {
        let what = match &event.kind {
            EventKind::GameSession(_) => "game_session",
            EventKind::DownloadEnd(_) => "download_end",
            _ => return,
        };
        self.0
            .lock()
            .unwrap()
            .push(format!("event {} {what}", info.application));
    }
    fn run_finished(&self, info: &RunInfo, summary: &RunSummary) {
        self.0.lock().unwrap().push(format!(
            "finished {} {}",
            info.application, summary.complete
        ));
    }
}

type Interrupt = tokio::sync::watch::Sender<Option<String>>;

fn options(
    out: &Path,
    index: u32,
    start: u64,
    rendezvous: &Path,
) -> (RunnerOptions, Arc<Notes>, Interrupt) {
    let (tx, rx) = tokio::sync::watch::channel(None);
    let mut opts = RunnerOptions::new(out, rx);
    opts.progress = ProgressMode::Quiet;
    opts.host = Some(HostMode {
        role: HostRole::new(index, 2).unwrap(),
        start_at_unix_ns: start,
        rendezvous: rendezvous.to_path_buf(),
        lead: Duration::from_secs(2),
    });
    let notes = Arc::new(Notes::default());
    opts.observers = vec![notes.clone()];
    (opts, notes, tx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_host_tells_its_observers_of_its_runs() {
    // The emulated driver starts `qoeprobe serve`: this package's binary.
    // SAFETY: set once, before any thread of this test reads the environment.
    unsafe { std::env::set_var("QOEPROBE_FIXTURES", env!("CARGO_BIN_EXE_qoeprobe")) };
    let tmp = tempfile::tempdir().unwrap();
    let src = common::client_campaign("observers", 3, 1, 1);
    let campaign = parse(Path::new("observers.toml"), &src).unwrap();
    let start = record::clock::unix_now_ns() + 3_000_000_000;
    let rendezvous = tmp.path().join("rendezvous");
    let (o0, notes0, _i0) = options(&tmp.path().join("host-0"), 0, start, &rendezvous);
    let (o1, notes1, _i1) = options(&tmp.path().join("host-1"), 1, start, &rendezvous);
    let (r0, r1) = tokio::join!(run_campaign(&campaign, o0), run_campaign(&campaign, o1));
    let (r0, r1) = (r0.unwrap(), r1.unwrap());
    assert!(
        r0.failed.is_none() && r1.failed.is_none(),
        "{:?} {:?}",
        r0.failed,
        r1.failed
    );
    let host1 = notes1.0.lock().unwrap().clone();
    // The client host ran both applications' probes: its observer saw each run
    // start, its probe's events and each run finish, complete.
    for (app, ev) in [("game", "game_session"), ("download", "download_end")] {
        for want in [
            format!("started {app}"),
            format!("event {app} {ev}"),
            format!("finished {app} true"),
        ] {
            assert!(
                host1.contains(&want),
                "host 1 was not told {want:?}: {host1:?}"
            );
        }
    }
    assert_eq!(host1[0], "planned 2");
    // Host 0 runs no client here: its observer sees its runs, no probe events.
    let host0 = notes0.0.lock().unwrap().clone();
    assert!(
        host0.contains(&"finished game true".to_string()),
        "{host0:?}"
    );
    assert!(!host0.iter().any(|n| n.starts_with("event ")), "{host0:?}");
}
