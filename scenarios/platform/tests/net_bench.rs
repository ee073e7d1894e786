//! Benchmark of the delay relay (root, ~1 minute, run on purpose):
//!
//! ```text
//! cargo test -p platform --release --test net_bench -- --ignored --nocapture
//! ```
//!
//! Side by side in one run: kernel `tbf` alone at 1000 Mbit/s; `tbf` + the
//! relay with 0 ms; `tbf` + the relay with 50 ms one way. For each: TCP
//! goodput (cubic), and the delay error as seen by UDP echoes (idle and during
//! the transfer) and by the relay's own lateness counters. Results go to
//! docs/performance.md.

mod net_util;

use net_util::*;
use platform::net::{DelayBackend, LinkCondition, ShapedLinkSpec, Topology};
use std::time::Duration;

fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

struct Row {
    setup: String,
    goodput: f64,
    idle: (f64, f64),
    loaded: (f64, f64),
    relay: Option<(f64, f64, u64)>,
}

fn measure(setup: &str, relay: bool, delay_ms: f64) -> Row {
    let topo = Topology::new().expect("topology");
    let a = topo.namespace("a").unwrap();
    let b = topo.namespace("b").unwrap();
    let l = topo
        .shaped_link(&ShapedLinkSpec {
            name: "bn".into(),
            a_ns: a.clone(),
            b_ns: b.clone(),
            a_addr: Some("10.95.0.1/24".into()),
            b_addr: Some("10.95.0.2/24".into()),
            condition: LinkCondition {
                rate_mbit: Some(1000.0),
                delay_ms: relay.then_some(delay_ms),
                loss_pct: None,
            },
            delay: DelayBackend::Auto,
        })
        .expect("link");
    let echo = udp_echo(&b, "10.95.0.2");
    let want = 2.0 * delay_ms;
    udp_rtts(&a, echo, 3, Duration::from_millis(1)); // ARP resolved before measuring
    // Idle RTT error: 200 echoes, 10 ms apart (the unshaped base is ~0.1 ms).
    let idle: Vec<f64> = udp_rtts(&a, echo, 200, Duration::from_millis(10))
        .iter()
        .map(|r| (r - want).abs())
        .collect();
    // Echoes during the bulk transfer.
    let a2 = a.clone();
    let pinger = std::thread::spawn(move || udp_rtts(&a2, echo, 300, Duration::from_millis(20)));
    let goodput = tcp_goodput(&a, &b, "10.95.0.2", 3.0, 8.0);
    let loaded: Vec<f64> = pinger
        .join()
        .unwrap()
        .iter()
        .map(|r| (r - want).abs())
        .collect();
    let relay_stats = l.relay().map(|r| {
        let s = r.total();
        (
            s.lateness_mean_ms(),
            s.lateness_quantile_ms(0.99),
            s.send_errors + s.dropped_queue_full,
        )
    });
    drop(l);
    topo.teardown().expect("teardown");
    Row {
        setup: setup.into(),
        goodput,
        idle: (mean(&idle), quantile(&idle, 0.99)),
        loaded: (mean(&loaded), quantile(&loaded, 0.99)),
        relay: relay_stats,
    }
}

#[test]
#[ignore = "benchmark: cargo test -p platform --release --test net_bench -- --ignored --nocapture"]
fn relay_benchmark() {
    let _g = root_serial();
    let rows = [
        measure("kernel tbf 1000 Mbit/s alone", false, 0.0),
        measure("tbf 1000 Mbit/s + relay 0 ms", true, 0.0),
        measure("tbf 1000 Mbit/s + relay 50 ms one way", true, 50.0),
    ];
    println!(
        "| setup | TCP goodput Mbit/s (cubic) | RTT error idle mean / p99 ms | RTT error under load mean / p99 ms | relay lateness mean / p99 ms | relay drops |"
    );
    println!("|---|---|---|---|---|---|");
    for r in &rows {
        let relay = r
            .relay
            .map(|(m, p, d)| (format!("{m:.3} / {p:.3}"), d.to_string()))
            .unwrap_or(("-".into(), "-".into()));
        println!(
            "| {} | {:.1} | {:.3} / {:.3} | {:.3} / {:.3} | {} | {} |",
            r.setup, r.goodput, r.idle.0, r.idle.1, r.loaded.0, r.loaded.1, relay.0, relay.1
        );
    }
}
