//! Lab: links with delay and loss (the network module's relay and nft rules on the
//! lab's links). A client link of 50 ms one way + 1 % loss gives a client -> guest
//! RTT of 100 ms; a live migration across a migration link of 100 Mbit/s and 100 ms
//! one way (the study's Scenario II) completes with ordered phases.
//! Needs root and QEMU: fails with the reason when they are missing.

mod lab_common;

use lab_common::*;
use platform::MigrationDriver;
use platform::lab::Service;
use platform::lab::{init, network};
use platform::net::LinkCondition;
use platform::net::netns;
use record::MigrationOutcome;
use record::{Copy, Mode};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Median TCP connect time (SYN -> SYN-ACK) from namespace `ns` to `addr`, of `n`
/// connects after one warm-up (ARP).
async fn connect_rtt(ns: &str, addr: SocketAddr, n: usize) -> Duration {
    let mut v = netns::run_in(ns, move || async move {
        let mut v = Vec::new();
        for i in 0..=n {
            let t0 = Instant::now();
            let s = tokio::time::timeout(
                Duration::from_secs(10),
                tokio::net::TcpStream::connect(addr),
            )
            .await
            .expect("connect timed out")
            .expect("connect");
            let dt = t0.elapsed();
            drop(s);
            if i > 0 {
                v.push(dt);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        v
    })
    .await
    .expect("connects in the client namespace");
    v.sort();
    eprintln!("connect times {v:?}");
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_and_loss_on_lab_links() {
    let _g = lab_lock().await;
    let (mut d, _clock) = driver(vec![Service::Dash], |c| {
        c.client_link = LinkCondition {
            rate_mbit: None,
            delay_ms: Some(50.0),
            loss_pct: Some(1.0),
        };
        c.migration_link = LinkCondition {
            rate_mbit: Some(100.0),
            delay_ms: Some(100.0),
            loss_pct: None,
        };
    });
    d.prepare().await.expect("prepare");
    let s = d.session().expect("session");
    let id = s.id().to_string();
    let topo = s.network();
    assert!(topo.client_link().unwrap().relay().is_some());
    assert!(topo.migration_link().unwrap().relay().is_some());
    let http = SocketAddr::from((network::GUEST_IP, init::DASH_PORT));
    let rtt = connect_rtt(&s.client_ns(), http, 20).await;
    eprintln!("client -> guest RTT (median of 20 connects): {rtt:?}");
    let want = Duration::from_millis(100);
    assert!(
        rtt.abs_diff(want) <= Duration::from_millis(5),
        "RTT {rtt:?}, expected 100 ms +- 5 ms"
    );

    let (sink, events) = sink();
    let t0 = Instant::now();
    let report = d
        .migrate(&request(Mode::Live, Copy::Precopy, 120), sink)
        .await
        .expect("migrate");
    let st = d.last_stats().unwrap().clone();
    eprintln!(
        "migration over 100 Mbit/s + 100 ms took {:?}: {st:#?}",
        t0.elapsed()
    );
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
    let s = d.session().unwrap();
    let relay = s
        .network()
        .migration_link()
        .unwrap()
        .relay()
        .unwrap()
        .total();
    eprintln!(
        "migration relay: {} packets, {} bytes, max lateness {} us",
        relay.packets,
        relay.bytes,
        relay.lateness_max_ns / 1000
    );
    assert!(
        relay.bytes > 1_000_000,
        "the migration did not cross the relay"
    );
    // The guest on compute02 is reached through the same delayed client link.
    let rtt2 = connect_rtt(&s.client_ns(), http, 10).await;
    eprintln!("client -> guest RTT after the migration: {rtt2:?}");
    assert!(rtt2.abs_diff(want) <= Duration::from_millis(5), "{rtt2:?}");
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
}
