//! The libvirt driver against two real libvirt daemons on this machine (root,
//! libvirtd, QEMU under TCG): phases from libvirt's events checked against QEMU's
//! own STOP/RESUME timestamps, migrating back, post-copy, block copy, abort at the
//! time limit, and the errors for a wrong URI or domain.

mod libvirt_common;

use libvirt_common::*;
use probes::record::{EventKind, MigrationOutcome};
use scenarios::lab::init::Service;
use scenarios::migrate::libvirt::testbed::TestbedOptions;
use scenarios::migrate::{Copy, MigrationDriver, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libvirt_live_migration_is_timed_from_libvirt_events_and_goes_back() {
    let _l = lock().await;
    let bed = tokio::task::spawn_blocking(|| {
        bed(
            "t1",
            vec![Service::Dash, Service::Game],
            None,
            TestbedOptions::default(),
        )
    })
    .await
    .unwrap();
    let (mut d, clock) = driver(bed.config());
    let endpoint = d.prepare().await.unwrap();
    assert_eq!(endpoint.netns.as_deref(), Some(bed.tb.client_ns().as_str()));
    let (s, events) = sink();
    let report = d
        .migrate(&request(Mode::Live, Copy::Precopy, 60), s)
        .await
        .unwrap();
    assert_eq!(report.outcome, MigrationOutcome::Completed, "{report:?}");
    let ev = events.lock().unwrap().clone();
    let t = |k: &str| {
        first(&ev, k)
            .unwrap_or_else(|| panic!("no {k} in {ev:#?}"))
            .t()
    };
    let (req, paused, resumed, end) = (
        t("migration_requested"),
        t("migration_paused"),
        t("migration_resumed"),
        t("migration_end"),
    );
    assert!(
        req < paused && paused < resumed && resumed <= end,
        "{ev:#?}"
    );
    let EventKind::MigrationPaused(p) = &first(&ev, "migration_paused").unwrap().kind else {
        unreachable!()
    };
    assert_eq!(p.origin, "libvirt:SUSPENDED_MIGRATED");
    assert!(first(&ev, "migration_pass").is_some(), "no pass: {ev:#?}");
    // libvirt's events agree with QEMU's own timestamps (STOP on the source, RESUME on
    // the destination) within 100 ms: QEMU -> libvirtd -> RPC -> this process.
    let stop = qemu_t(&bed.tb, 0, "STOP", &clock).expect("STOP in compute01's log");
    let resume = qemu_t(&bed.tb, 1, "RESUME", &clock).expect("RESUME in compute02's log");
    assert!(
        diff_ms(paused, stop) < 100.0,
        "paused {paused:?} vs QEMU STOP {stop:?}"
    );
    assert!(
        diff_ms(resumed, resume) < 100.0,
        "resumed {resumed:?} vs QEMU RESUME {resume:?}"
    );
    let stats = d.last_stats().unwrap().clone();
    let downtime_ms = (resumed - paused).as_secs_f64() * 1000.0;
    let platform = stats.platform_downtime_ms.expect("libvirt's downtime");
    assert!(
        (platform - downtime_ms).abs() < 100.0,
        "libvirt downtime {platform} vs {downtime_ms}"
    );
    assert!(stats.transferred > 1 << 20, "{stats:?}");
    assert_eq!(bed.tb.running(1).unwrap(), vec![bed.name.clone()]);
    assert!(bed.tb.running(0).unwrap().is_empty());
    assert_eq!(bed.boot_id_now().await, bed.boot_id, "the guest rebooted");
    // The next migration goes back to compute01.
    let (s2, _) = sink();
    let back = d
        .migrate(&request(Mode::Live, Copy::Precopy, 60), s2)
        .await
        .unwrap();
    assert_eq!(back.outcome, MigrationOutcome::Completed, "{back:?}");
    assert_eq!(bed.tb.running(0).unwrap(), vec![bed.name.clone()]);
    assert_eq!(bed.boot_id_now().await, bed.boot_id);
    d.teardown().await.unwrap();
    drop(bed);
    assert_gone("t1");
}
