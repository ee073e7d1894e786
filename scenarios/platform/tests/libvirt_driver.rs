//! The libvirt driver against two real libvirt daemons on this machine (root,
//! libvirtd, QEMU under TCG): phases from libvirt's events checked against QEMU's
//! own STOP/RESUME timestamps, migrating back, post-copy, block copy, abort at the
//! time limit, and the errors for a wrong URI or domain.

mod libvirt_common;

use libvirt_common::*;
use platform::MigrationDriver;
use platform::lab::init::Service;
use platform::libvirt::testbed::TestbedOptions;
use record::{Copy, Mode};
use record::{EventKind, MigrationOutcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libvirt_live_migration_is_timed_from_libvirt_events_and_goes_back() {
    let _l = lock().await;
    let bed = tokio::task::spawn_blocking(|| {
        bed(
            't',
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
    let id = bed.tb.id().to_string();
    drop(bed);
    assert_gone(&id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libvirt_never_ending_migration_is_aborted_and_cancel_and_errors_are_clear() {
    let _l = lock().await;
    let bed = tokio::task::spawn_blocking(|| {
        bed(
            't',
            vec![Service::Game, Service::Dirty],
            None,
            TestbedOptions::default(),
        )
    })
    .await
    .unwrap();
    let (mut d, _) = driver(bed.config());
    d.prepare().await.unwrap();
    // 32 MiB rewritten at 16 MiB/s cannot converge at 1 MiB/s (8 Mbit/s).
    let mut req = request(Mode::Live, Copy::Precopy, 5);
    req.bandwidth_bps = Some(8_000_000);
    let (s, events) = sink();
    let r = d.migrate(&req, s).await.unwrap();
    assert_eq!(r.outcome, MigrationOutcome::Cancelled, "{r:?}");
    let detail = r.detail.unwrap();
    assert!(
        detail.starts_with("never-ending: cancelled at the time limit (5 s) after"),
        "{detail}"
    );
    assert!(first(&events.lock().unwrap(), "migration_paused").is_none());
    assert_eq!(bed.tb.running(0).unwrap(), vec![bed.name.clone()]);
    assert!(bed.tb.running(1).unwrap().is_empty());
    assert_eq!(bed.boot_id_now().await, bed.boot_id);
    // Ctrl-C: the runner drops the migration and calls cancel (virDomainAbortJob).
    let mut long = req.clone();
    long.time_limit = std::time::Duration::from_secs(600);
    let (s, _) = sink();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), d.migrate(&long, s)).await;
    d.cancel().await.unwrap();
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !bed.tb.running(1).unwrap().is_empty() && std::time::Instant::now() < until {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        bed.tb.running(1).unwrap().is_empty(),
        "the destination kept the domain"
    );
    assert_eq!(bed.tb.running(0).unwrap(), vec![bed.name.clone()]);
    d.teardown().await.unwrap();
    // Misconfigurations.
    let mut wrong = bed.config();
    wrong.domain = platform::libvirt::DomainRef::parse("qp-nope");
    let (mut d, _) = driver(wrong);
    let e = d.prepare().await.unwrap_err().to_string();
    assert!(
        e.contains("no domain `qp-nope` on") && e.contains("virsh -c"),
        "{e}"
    );
    let mut gone = bed.config();
    gone.destination_uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock".into();
    let (mut d, _) = driver(gone);
    let e = d.prepare().await.unwrap_err().to_string();
    assert!(
        e.contains(
            "cannot connect to libvirt at qemu+unix:///system?socket=/nonexistent/libvirt-sock"
        ),
        "{e}"
    );
    let id = bed.tb.id().to_string();
    drop(bed);
    assert_gone(&id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn libvirt_block_migration_copies_the_disk_and_post_copy_switches() {
    let _l = lock().await;
    let bed = tokio::task::spawn_blocking(|| {
        bed(
            't',
            vec![Service::Dash],
            Some(64),
            TestbedOptions::default(),
        )
    })
    .await
    .unwrap();
    let (mut d, _) = driver(bed.config());
    d.prepare().await.unwrap();
    let (s, _) = sink();
    let r = d
        .migrate(&request(Mode::Block, Copy::Precopy, 120), s)
        .await
        .unwrap();
    assert_eq!(r.outcome, MigrationOutcome::Completed, "{r:?}");
    let st = d.last_stats().unwrap().clone();
    // The whole 64 MiB disk went over the migration link (NBD mirror).
    assert!(st.disk_bytes.unwrap_or(0) >= 64 << 20, "{st:?}");
    assert!(st.transferred >= st.disk_bytes.unwrap(), "{st:?}");
    assert_eq!(bed.boot_id_now().await, bed.boot_id);
    // Back with the disk again, switching to post-copy at once.
    let mut req = request(Mode::Block, Copy::Postcopy, 120);
    req.postcopy_after_passes = Some(0);
    // QEMU switches only while more than bandwidth x downtime limit is left: on an
    // unshaped link an idle guest is below that from the start and completes in
    // pre-copy. 8 MiB/s x 300 ms = 2.4 MiB, well under the first pass.
    req.bandwidth_bps = Some(64_000_000);
    let (s, events) = sink();
    let r = d.migrate(&req, s).await.unwrap();
    assert_eq!(r.outcome, MigrationOutcome::Completed, "{r:?}");
    let st = d.last_stats().unwrap().clone();
    assert!(st.postcopy_t.is_some(), "{st:?}");
    let ev = events.lock().unwrap().clone();
    let EventKind::MigrationResumed(res) = &first(&ev, "migration_resumed").unwrap().kind else {
        unreachable!()
    };
    assert_eq!(res.origin, "libvirt:RESUMED_POSTCOPY", "{ev:#?}");
    assert_eq!(bed.tb.running(0).unwrap(), vec![bed.name.clone()]);
    assert_eq!(bed.boot_id_now().await, bed.boot_id);
    d.teardown().await.unwrap();
    let id = bed.tb.id().to_string();
    drop(bed);
    assert_gone(&id);
}
