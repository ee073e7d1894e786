//! Lab: block migration, a never-ending migration, post-copy vs pre-copy.
//! Needs root and QEMU: fails with the reason when they are missing.

mod lab_common;

use lab_common::*;
use platform::MigrationDriver;
use platform::lab::Service;
use record::{Copy, Mode};
use record::{EventKind, MigrationOutcome};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_migration_copies_the_disk() {
    let _g = lab_lock().await;
    let (mut d, _clock) = driver(vec![], |_| {});
    d.prepare().await.expect("prepare");
    let s = d.session().unwrap();
    let (id, src_disk) = (s.id().to_string(), s.active_disk().unwrap().to_path_buf());
    let (sink, events) = sink();
    let report = d
        .migrate(&request(Mode::Block, Copy::Precopy, 120), sink)
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
    let s = d.session().unwrap();
    let dst_disk = s.active_disk().unwrap().to_path_buf();
    assert_ne!(src_disk, dst_disk);
    let disk_len = std::fs::metadata(&src_disk).unwrap().len();
    assert_eq!(st.disk_bytes, Some(disk_len), "disk bytes");
    assert!(
        std::fs::read(&src_disk).unwrap() == std::fs::read(&dst_disk).unwrap(),
        "destination disk differs"
    );
    let ev = events.lock().unwrap().clone();
    let end = ev
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::MigrationEnd(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    assert!(end.transferred_bytes.unwrap() >= disk_len, "{end:?}");
    assert!(t_of(&ev, "migration_paused") <= t_of(&ev, "migration_resumed"));
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirtying_guest_never_converges_and_is_cancelled() {
    let _g = lab_lock().await;
    let (mut d, _clock) = driver(vec![Service::Dirty], |c| c.dirty = (48, 64.0));
    d.prepare().await.expect("prepare");
    let s = d.session().unwrap();
    let (id, pid, boot_id) = (
        s.id().to_string(),
        s.active_pid().unwrap(),
        s.boot_id_at_boot().to_string(),
    );
    let mut req = request(Mode::Live, Copy::Precopy, 20);
    req.bandwidth_bps = Some(100_000_000);
    let (sink, events) = sink();
    let report = d.migrate(&req, sink).await.expect("migrate");
    let st = d.last_stats().unwrap().clone();
    eprintln!("{st:#?}");
    assert_eq!(
        report.outcome,
        MigrationOutcome::Cancelled,
        "{:?}",
        report.detail
    );
    assert!(
        report
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("never-ending"),
        "{report:?}"
    );
    let ev = events.lock().unwrap().clone();
    let end = ev
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::MigrationEnd(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(end.outcome, MigrationOutcome::Cancelled);
    assert!(end.remaining_bytes.unwrap() > 0, "{end:?}");
    assert!(st.passes >= 2, "{st:?}");
    assert!(t_of(&ev, "migration_paused").is_none() && t_of(&ev, "migration_resumed").is_none());
    let ended = t_of(&ev, "migration_end").unwrap() - t_of(&ev, "migration_requested").unwrap();
    assert!(
        ended >= Duration::from_secs(20) && ended < Duration::from_secs(35),
        "{ended:?}"
    );
    // The source keeps serving: same QEMU, same guest, answers.
    let s = d.session().unwrap();
    assert_eq!(s.active_pid(), Some(pid));
    assert_eq!(s.boot_id().await.expect("source still serves"), boot_id);
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postcopy_has_shorter_downtime_than_precopy() {
    let _g = lab_lock().await;
    // An idle guest serving DASH: its pre-copy converges at once, so the two
    // downtimes compare the copy modes, not the dirty rate.
    let (mut d, _clock) = driver(vec![Service::Dash], |c| {
        c.migration_link.rate_mbit = Some(100.0)
    });
    d.prepare().await.expect("prepare");
    let id = d.session().unwrap().id().to_string();
    let boot_id = d.session().unwrap().boot_id_at_boot().to_string();
    let mut req = request(Mode::Live, Copy::Precopy, 120);
    req.downtime_limit = Some(Duration::from_millis(1000));
    let (sink1, _) = sink();
    let pre = d.migrate(&req, sink1).await.expect("pre-copy");
    assert_eq!(pre.outcome, MigrationOutcome::Completed, "{:?}", pre.detail);
    let pre_st = d.last_stats().unwrap().clone();
    req.copy = Copy::Postcopy;
    // An idle guest converges at the start of pass 2: ask for post-copy during pass 1.
    req.postcopy_after_passes = Some(0);
    let (sink2, events) = sink();
    let post = d.migrate(&req, sink2).await.expect("post-copy");
    let post_st = d.last_stats().unwrap().clone();
    eprintln!("pre-copy {pre_st:#?}\npost-copy {post_st:#?}");
    assert_eq!(
        post.outcome,
        MigrationOutcome::Completed,
        "{:?}",
        post.detail
    );
    assert!(post_st.postcopy_t.is_some(), "post-copy never started");
    assert!(
        post_st.postcopy_t <= post_st.paused_t,
        "post-copy requested after the source paused: {post_st:?}"
    );
    let (pre_dt, post_dt) = (pre_st.downtime().unwrap(), post_st.downtime().unwrap());
    assert!(
        post_dt < pre_dt,
        "post-copy downtime {post_dt:?} not below pre-copy {pre_dt:?}"
    );
    let ev = events.lock().unwrap().clone();
    assert!(t_of(&ev, "migration_paused") <= t_of(&ev, "migration_resumed"));
    let s = d.session().unwrap();
    let mut got = s.boot_id().await;
    if got.as_ref().map(|b| b != &boot_id).unwrap_or(true) {
        let serial = std::fs::read_dir(s.run_dir())
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "serial"))
            .map(|e| {
                (
                    e.path(),
                    std::fs::read_to_string(e.path()).unwrap_or_default(),
                )
            })
            .collect::<Vec<_>>();
        eprintln!("first try: {got:?}; serial logs: {serial:#?}");
        tokio::time::sleep(Duration::from_secs(5)).await;
        got = s.boot_id().await;
    }
    assert_eq!(got.expect("boot id after post-copy"), boot_id);
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
}
