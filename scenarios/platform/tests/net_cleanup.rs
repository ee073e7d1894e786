//! Root-only: a process holding a namespace, qdiscs, an nft table, a delay
//! relay and a child is SIGKILLed; `cleanup_leftovers()` (what `qoeprobe lab
//! down` runs) then leaves no namespace, link, qdisc, nft table or process of
//! ours. The holder is this same test binary re-run with `QP_HOLDER=<run id>`.

mod net_util;

use net_util::*;
use platform::net::{self, DelayBackend, LinkCondition, ShapedLinkSpec, Topology};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Not a test of its own: builds resources and sleeps until killed.
#[test]
#[ignore = "helper process for sigkilled_run_leaves_nothing_after_cleanup"]
fn holder() {
    let Ok(id) = std::env::var("QP_HOLDER") else {
        return;
    };
    let topo = Topology::with_run_id(Some(&id)).expect("topology");
    let a = topo.namespace("a").expect("ns a");
    let b = topo.namespace("b").expect("ns b");
    let _link = topo
        .shaped_link(&ShapedLinkSpec {
            name: "k".into(),
            a_ns: a.clone(),
            b_ns: b,
            a_addr: Some("10.94.0.1/24".into()),
            b_addr: Some("10.94.0.2/24".into()),
            condition: LinkCondition {
                rate_mbit: Some(10.0),
                delay_ms: Some(5.0),
                loss_pct: Some(1.0),
            },
            delay: DelayBackend::Auto,
        })
        .expect("link");
    // A link in the initial namespace too (the sweep must find it by prefix).
    let stray = topo.registry().link_name("root").unwrap();
    Command::new("ip")
        .args(["link", "add", &stray, "type", "ifb"])
        .status()
        .unwrap();
    topo.registry()
        .register(net::Resource::Link {
            ns: None,
            name: stray,
        })
        .unwrap();
    let mut sleeper = Command::new("sleep");
    sleeper.arg("3600");
    topo.spawn_in(&a, sleeper).expect("child");
    println!("READY");
    std::thread::sleep(Duration::from_secs(3600));
}

#[test]
fn sigkilled_run_leaves_nothing_after_cleanup() {
    let _g = root_serial();
    let id = net::new_run_id();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "holder",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("QP_HOLDER", &id)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start holder");
    let state = net::state_root().join(&id);
    let started = Instant::now();
    // Wait until the holder has its child registered (last thing it does).
    loop {
        let recorded = std::fs::read_to_string(state.join("resources.jsonl")).unwrap_or_default();
        if recorded.contains("\"process\"") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "holder never got ready"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ns_a = format!("qp-{id}-a");
    assert!(net::our_namespaces().contains(&ns_a));
    let qdiscs = Command::new("tc")
        .args(["-n", &ns_a, "qdisc", "show"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&qdiscs.stdout).contains("tbf"));
    assert!(!net::our_nft_tables(Some(&ns_a)).is_empty());
    let pids = String::from_utf8(
        Command::new("ip")
            .args(["netns", "pids", &ns_a])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let grandchild: i32 = pids
        .split_whitespace()
        .next()
        .expect("child in namespace")
        .parse()
        .unwrap();

    child.kill().expect("SIGKILL the holder");
    child.wait().unwrap();
    assert!(
        net::our_namespaces()
            .iter()
            .any(|n| n.starts_with(&format!("qp-{id}-"))),
        "resources survive the kill"
    );

    let report = net::cleanup_leftovers().expect("cleanup");
    eprintln!(
        "cleanup removed: {:?}\nfailed: {:?}",
        report.removed, report.failed
    );
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_nothing_left(&id);
    // Killed: gone, or a zombie until init reaps it (its parent was SIGKILLed).
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("gone");
        if state == "gone" || state == "Z" {
            break;
        }
        assert!(
            Instant::now() < until,
            "the holder's child {grandchild} still runs ({state})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // Running it again finds nothing more of that run.
    let again = net::cleanup_leftovers().expect("cleanup again");
    assert!(
        again.removed.iter().all(|r| !r.contains(&id)),
        "{:?}",
        again.removed
    );
}
