//! The exec driver reads phase markers from its start command's output, ends at the
//! command's `end` marker or exit status, and cancels at the time limit (running the
//! cancel command).

use platform::exec::{CommandLine, ExecConfig, ExecDriver};
use platform::{
    DriverConfig, DriverContext, EventSink, Flavor, MigrationDriver, MigrationRequest, Service,
    ServiceKind,
};
use record::clock::MonotonicClock;
use record::{Copy, Event, EventKind, LinkCondition, MigrationOutcome, Mode};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The commands of a `[migration.exec]` table, as a scenario file writes them.
#[derive(serde::Deserialize)]
struct Commands {
    start: CommandLine,
    cancel: Option<CommandLine>,
}

/// A run of the exec driver with the commands of `exec` (TOML), a time limit and
/// the service at 127.0.0.1:9; the request and the events it records.
fn context(
    exec: &str,
    time_limit_s: f64,
    dir: &Path,
) -> (DriverContext, MigrationRequest, Arc<Mutex<Vec<Event>>>) {
    let c: Commands = toml::from_str(exec).unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let sink: EventSink = Arc::new(move |e| ev.lock().unwrap().push(e));
    let ctx = DriverContext {
        clock: MonotonicClock::start(),
        sink,
        seed: 1,
        run_dir: dir.to_path_buf(),
        driver: DriverConfig::Exec(ExecConfig {
            prepare: None,
            start: c.start,
            poll: None,
            poll_interval: Duration::from_millis(500),
            cancel: c.cancel,
            teardown: None,
            http: Some("127.0.0.1:9".parse().unwrap()),
            game: None,
            probe_target: None,
        }),
        service: Service {
            kind: ServiceKind::File,
            source: None,
            args: Vec::new(),
        },
        flavor: Flavor::Tiny,
        client: LinkCondition::NONE,
        migration: LinkCondition::NONE,
    };
    let request = MigrationRequest {
        mode: Mode::Live,
        copy: Copy::Precopy,
        bandwidth_bps: None,
        downtime_limit: Some(Duration::from_millis(300)),
        time_limit: Duration::from_secs_f64(time_limit_s),
        postcopy_after_passes: Some(1),
        auto_converge: false,
    };
    (ctx, request, events)
}

fn kinds(events: &Mutex<Vec<Event>>) -> Vec<String> {
    events
        .lock()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::to_value(&e.kind).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn markers_become_phase_events() {
    let dir = tempfile::tempdir().unwrap();
    let start = r#"start = "echo QOEPROBE pass n=1 transferred=10 remaining=5; sleep 0.2; echo QOEPROBE paused; sleep 0.1; echo QOEPROBE resumed; echo noise; echo QOEPROBE end completed downtime_ms=80""#;
    let (ctx, request, events) = context(start, 10.0, dir.path());
    let sink = ctx.sink.clone();
    let mut d = ExecDriver::new(ctx).unwrap();
    let ep = d.prepare().await.unwrap();
    assert_eq!(ep.probe_target, "127.0.0.1:9".parse().unwrap());
    let report = d.migrate(&request, sink).await.unwrap();
    assert_eq!(report.outcome, MigrationOutcome::Completed);
    d.teardown().await.unwrap();
    assert_eq!(
        kinds(&events),
        [
            "migration_requested",
            "migration_pass",
            "migration_paused",
            "migration_resumed",
            "migration_end"
        ]
    );
    let ev = events.lock().unwrap();
    let downtime = ev[3].t_ns - ev[2].t_ns;
    assert!(
        (80_000_000..1_000_000_000).contains(&downtime),
        "{downtime}"
    );
    assert!(
        matches!(&ev[4].kind, EventKind::MigrationEnd(e) if e.platform_downtime_ms == Some(80.0))
    );
}

#[tokio::test]
async fn exit_status_decides_without_an_end_marker() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, request, _) = context(r#"start = "echo oops >&2; exit 3""#, 10.0, dir.path());
    let sink = ctx.sink.clone();
    let mut d = ExecDriver::new(ctx).unwrap();
    d.prepare().await.unwrap();
    let r = d.migrate(&request, sink).await.unwrap();
    assert_eq!(r.outcome, MigrationOutcome::Failed);
    let detail = r.detail.unwrap();
    assert!(
        detail.contains("exit status: 3") && detail.contains("oops"),
        "{detail}"
    );
}

#[tokio::test]
async fn the_time_limit_cancels() {
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("cancelled");
    let exec = format!(
        "start = [\"sleep\", \"30\"]\ncancel = \"touch {}\"",
        flag.display()
    );
    let (ctx, request, events) = context(&exec, 0.3, dir.path());
    let sink = ctx.sink.clone();
    let mut d = ExecDriver::new(ctx).unwrap();
    d.prepare().await.unwrap();
    let t0 = std::time::Instant::now();
    let r = d.migrate(&request, sink).await.unwrap();
    assert_eq!(r.outcome, MigrationOutcome::Cancelled);
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    assert!(flag.exists(), "the cancel command ran");
    assert_eq!(
        kinds(&events).last().map(String::as_str),
        Some("migration_end")
    );
    d.teardown().await.unwrap();
}
