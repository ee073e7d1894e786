//! Root-only: each link condition measured as applied (rate within 5 %, added
//! delay within 1 ms, loss within a binomial 99.9 % interval), and nothing of
//! the run left afterwards. Fails (does not skip) when not root.

mod net_util;

use net_util::*;
use platform::net::{DelayBackend, LinkCondition, ShapedLink, ShapedLinkSpec, Topology};
use std::time::Duration;

const A_IP: &str = "10.91.0.1";
const B_IP: &str = "10.91.0.2";

fn link(topo: &Topology, a: &str, b: &str, c: LinkCondition) -> ShapedLink {
    topo.shaped_link(&ShapedLinkSpec {
        name: "t".into(),
        a_ns: a.into(),
        b_ns: b.into(),
        a_addr: Some(format!("{A_IP}/24")),
        b_addr: Some(format!("{B_IP}/24")),
        condition: c,
        delay: DelayBackend::Auto,
    })
    .expect("shaped link")
}

fn rate(r: f64) -> LinkCondition {
    LinkCondition {
        rate_mbit: Some(r),
        ..Default::default()
    }
}

fn assert_rate(what: &str, got: f64, rate_mbit: f64) {
    let want = goodput_of(rate_mbit);
    let err = (got - want).abs() / want;
    eprintln!(
        "{what}: {got:.2} Mbit/s goodput, expected {want:.2} ({:.2} %)",
        err * 100.0
    );
    assert!(
        err < 0.05,
        "{what}: {got:.2} Mbit/s is not within 5 % of {want:.2}"
    );
}

#[test]
fn rate_is_applied_both_ways() {
    let _g = root_serial();
    let (topo, a, b) = two_namespaces();
    let id = topo.run_id().to_string();
    let mut l = link(&topo, &a, &b, rate(100.0));
    assert_rate(
        "100 Mbit/s a->b (tbf egress)",
        tcp_goodput(&a, &b, B_IP, 1.0, 3.0),
        100.0,
    );
    assert_rate(
        "100 Mbit/s b->a (ifb ingress)",
        tcp_goodput(&b, &a, A_IP, 1.0, 3.0),
        100.0,
    );
    l.apply(&topo, &rate(10.0)).expect("re-apply");
    assert_rate("10 Mbit/s a->b", tcp_goodput(&a, &b, B_IP, 1.0, 4.0), 10.0);
    topo.teardown().expect("teardown");
    assert_nothing_left(&id);
}

#[test]
fn delay_is_added_within_1ms() {
    let _g = root_serial();
    let (topo, a, b) = two_namespaces();
    let id = topo.run_id().to_string();
    let mut l = link(
        &topo,
        &a,
        &b,
        LinkCondition {
            delay_ms: Some(0.0),
            ..Default::default()
        },
    );
    let echo = udp_echo(&b, B_IP);
    let gap = Duration::from_millis(5);
    let base = median(&udp_rtts(&a, echo, 50, gap));
    for d in [5.0, 25.0, 50.0] {
        l.apply(
            &topo,
            &LinkCondition {
                delay_ms: Some(d),
                ..Default::default()
            },
        )
        .expect("apply delay");
        let rtts = udp_rtts(&a, echo, 100, gap);
        let added = median(&rtts) - base;
        eprintln!(
            "delay {d} ms one way: RTT median {:.3} ms, base {base:.3}, added {added:.3} (want {})",
            median(&rtts),
            2.0 * d
        );
        assert!(
            (added - 2.0 * d).abs() < 1.0,
            "added RTT {added:.3} ms is not within 1 ms of {}",
            2.0 * d
        );
        assert!(
            (mean(&rtts) - base - 2.0 * d).abs() < 1.0,
            "mean RTT off by more than 1 ms"
        );
    }
    topo.teardown().expect("teardown");
    assert_nothing_left(&id);
}

/// Binomial 99.9 % interval (normal approximation, z = 3.29) for `n` trials at `p`.
fn binomial_999(p: f64, n: u32) -> (f64, f64) {
    let half = 3.29 * (p * (1.0 - p) / f64::from(n)).sqrt();
    (p - half, p + half)
}

#[test]
fn loss_fraction_is_within_binomial_bounds() {
    let _g = root_serial();
    let (topo, a, b) = two_namespaces();
    let id = topo.run_id().to_string();
    let mut l = link(&topo, &a, &b, LinkCondition::NONE);
    let n = 20_000;
    // Resolve ARP both ways first (a lost ARP exchange would cost a burst).
    assert_eq!(udp_delivered(&a, &b, B_IP, 100), 100);
    assert_eq!(udp_delivered(&b, &a, A_IP, 100), 100);
    for pct in [1.0, 5.0, 20.0] {
        l.apply(
            &topo,
            &LinkCondition {
                loss_pct: Some(pct),
                ..Default::default()
            },
        )
        .expect("apply loss");
        for (what, from, to, ip) in [("a->b", &a, &b, B_IP), ("b->a", &b, &a, A_IP)] {
            let got = udp_delivered(from, to, ip, n);
            let lost = 1.0 - f64::from(got) / f64::from(n);
            let (lo, hi) = binomial_999(pct / 100.0, n);
            eprintln!(
                "loss {pct} % {what}: {:.3} % lost of {n} (99.9 % interval {:.3}..{:.3})",
                lost * 100.0,
                lo * 100.0,
                hi * 100.0
            );
            assert!(
                lost >= lo && lost <= hi,
                "{what}: loss {lost} outside [{lo}, {hi}]"
            );
        }
    }
    l.apply(&topo, &LinkCondition::NONE).expect("clear");
    assert_eq!(
        udp_delivered(&a, &b, B_IP, 2000),
        2000,
        "no loss after clearing"
    );
    topo.teardown().expect("teardown");
    assert_nothing_left(&id);
}

#[test]
fn all_three_together_through_the_relay() {
    let _g = root_serial();
    let (topo, a, b) = two_namespaces();
    let id = topo.run_id().to_string();
    let c = LinkCondition {
        rate_mbit: Some(50.0),
        delay_ms: Some(10.0),
        loss_pct: Some(2.0),
    };
    let l = link(&topo, &a, &b, c);
    assert!(
        l.relay().is_some(),
        "no netem here: delay goes through the relay"
    );
    let echo = udp_echo(&b, B_IP);
    let rtts = udp_rtts(&a, echo, 100, Duration::from_millis(5));
    eprintln!(
        "combined: RTT median {:.3} ms over {} echoes (some lost)",
        median(&rtts),
        rtts.len()
    );
    assert!(
        (median(&rtts) - 20.0).abs() < 1.0,
        "RTT not 20 ms within 1 ms"
    );
    let n = 20_000;
    let got = udp_delivered(&a, &b, B_IP, n);
    let lost = 1.0 - f64::from(got) / f64::from(n);
    let (lo, hi) = binomial_999(0.02, n);
    assert!(lost >= lo && lost <= hi, "loss {lost} outside [{lo}, {hi}]");
    drop(l);
    drop(topo); // teardown on drop
    assert_nothing_left(&id);
}
