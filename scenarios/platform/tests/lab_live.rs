//! Lab: a real live migration (TCG) with phases from QMP STOP/RESUME.
//! Needs root and QEMU: fails with the reason when they are missing.

mod lab_common;

use lab_common::*;
use platform::MigrationDriver;
use platform::lab::Service;
use record::{Copy, Mode};
use record::{EventKind, MigrationOutcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_migration_has_ordered_phases_and_keeps_the_guest() {
    let _g = lab_lock().await;
    let (mut d, _clock) = driver(vec![Service::Dash], |_| {});
    let ep = d.prepare().await.expect("prepare");
    let s = d.session().expect("session");
    let id = s.id().to_string();
    let boot_id = s.boot_id().await.expect("boot id before");
    assert_eq!(boot_id, s.boot_id_at_boot());
    eprintln!("endpoint {ep:?}, boot {:?}", s.boot_time());
    let (sink, events) = sink();
    let report = d
        .migrate(&request(Mode::Live, Copy::Precopy, 60), sink)
        .await
        .expect("migrate");
    let st = d.last_stats().unwrap().clone();
    eprintln!("{st:#?}");
    assert_eq!(
        report.outcome,
        MigrationOutcome::Completed,
        "{:?}",
        report.detail
    );
    let ev = events.lock().unwrap().clone();
    let req = t_of(&ev, "migration_requested").unwrap();
    let paused = t_of(&ev, "migration_paused").unwrap();
    let resumed = t_of(&ev, "migration_resumed").unwrap();
    let end = t_of(&ev, "migration_end").unwrap();
    assert!(
        req <= paused && paused <= resumed && resumed <= end,
        "{ev:#?}"
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e.kind, EventKind::MigrationPass(_)))
    );
    let s = d.session().unwrap();
    assert_eq!(
        s.boot_id().await.expect("boot id after"),
        boot_id,
        "the guest rebooted"
    );
    // And back: the destination became the source.
    let (sink2, _) = lab_common::sink();
    let back = d
        .migrate(&request(Mode::Live, Copy::Precopy, 60), sink2)
        .await
        .expect("migrate back");
    assert_eq!(
        back.outcome,
        MigrationOutcome::Completed,
        "{:?}",
        back.detail
    );
    let s = d.session().unwrap();
    if let Err(e) = s.boot_id().await {
        for cmd in [
            vec!["-n", &format!("qp-lab{id}-switch"), "link"],
            vec!["-n", &format!("qp-lab{id}-client"), "neigh"],
        ] {
            let out = std::process::Command::new("ip")
                .args(&cmd)
                .output()
                .unwrap();
            eprintln!("ip {cmd:?}:\n{}", String::from_utf8_lossy(&out.stdout));
        }
        let out = std::process::Command::new("bridge")
            .args(["-n", &format!("qp-lab{id}-switch"), "fdb"])
            .output()
            .unwrap();
        eprintln!("fdb:\n{}", String::from_utf8_lossy(&out.stdout));
        panic!("after migrating back: {e}");
    }
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
}
