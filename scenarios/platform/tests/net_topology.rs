//! Root-only: topology primitives (namespaces, veth, bridge, tap, routes,
//! pinned TCP), teardown on success, on drop after a panic, and clear errors
//! on bad input. Fails (does not skip) when not root.

mod net_util;

use net_util::*;
use platform::net::{self, DelayBackend, LinkCondition, NetError, ShapedLinkSpec, Topology};

fn read_sysctl(ns: &str, key: &str) -> String {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    in_ns(ns, move || {
        std::fs::read_to_string(path).expect("read sysctl")
    })
    .trim()
    .to_string()
}

#[test]
fn bridge_tap_routes_and_pinned_tcp() {
    let _g = root_serial();
    let topo = Topology::new().expect("topology");
    let id = topo.run_id().to_string();
    let lab = topo.namespace("lab").expect("lab namespace");
    let client = topo.namespace("client").expect("client namespace");
    assert_eq!(lab, format!("qp-{id}-lab"));
    assert_eq!(
        read_sysctl(&lab, "net.ipv4.tcp_congestion_control"),
        "cubic"
    );
    assert!(read_sysctl(&lab, "net.ipv4.tcp_rmem").ends_with(&(64u64 << 20).to_string()));
    let reg = topo.registry();
    let br = reg.link_name("br").unwrap();
    let tap = reg.link_name("tap0").unwrap();
    topo.bridge(&lab, &br).expect("bridge");
    topo.tap(&lab, &tap).expect("tap");
    topo.set_master(&lab, &tap, &br).expect("enslave tap");
    topo.address(&lab, &br, "10.92.0.1/24")
        .expect("bridge address");
    let (ca, cb) = (reg.link_name("ca").unwrap(), reg.link_name("cb").unwrap());
    topo.veth(&client, &ca, &lab, &cb).expect("veth");
    topo.address(&client, &ca, "10.93.0.2/24").unwrap();
    topo.address(&lab, &cb, "10.93.0.1/24").unwrap();
    topo.route(&client, &["10.92.0.0/24", "via", "10.93.0.1"])
        .expect("route");
    topo.sysctl(&lab, &[("net.ipv4.ip_forward", "1")])
        .expect("sysctl");
    // The client reaches the bridge's address through the route.
    let echo = udp_echo(&lab, "10.92.0.1");
    let rtts = udp_rtts(&client, echo, 5, std::time::Duration::from_millis(1));
    assert_eq!(rtts.len(), 5, "bridge address reachable via the route");
    // A process started inside a namespace is registered and killed on teardown.
    let mut sleep = std::process::Command::new("sleep");
    sleep.arg("600");
    let pid = topo.spawn_in(&lab, sleep).expect("spawn in namespace");
    let pids = std::process::Command::new("ip")
        .args(["netns", "pids", &lab])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&pids.stdout).contains(&pid.to_string()));
    topo.teardown().expect("teardown");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "child killed"
    );
    assert_nothing_left(&id);
}

#[test]
fn panic_tears_everything_down() {
    let _g = root_serial();
    let id = std::sync::Mutex::new(String::new());
    let r = std::panic::catch_unwind(|| {
        let (topo, a, b) = two_namespaces();
        *id.lock().unwrap() = topo.run_id().to_string();
        let _l = topo
            .shaped_link(&ShapedLinkSpec {
                name: "p".into(),
                a_ns: a,
                b_ns: b,
                a_addr: None,
                b_addr: None,
                condition: LinkCondition {
                    rate_mbit: Some(10.0),
                    delay_ms: Some(5.0),
                    loss_pct: Some(1.0),
                },
                delay: DelayBackend::Auto,
            })
            .expect("link");
        panic!("boom in the middle of a run");
    });
    assert!(r.is_err());
    assert_nothing_left(&id.lock().unwrap());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let _g = root_serial();
    let (topo, a, b) = two_namespaces();
    let id = topo.run_id().to_string();
    assert!(matches!(
        topo.namespace("Bad Name"),
        Err(NetError::InvalidName { .. })
    ));
    assert!(matches!(
        Topology::with_run_id(Some("toolongid")),
        Err(NetError::InvalidName { .. })
    ));
    let spec = |c: LinkCondition, name: &str| ShapedLinkSpec {
        name: name.into(),
        a_ns: a.clone(),
        b_ns: b.clone(),
        a_addr: None,
        b_addr: None,
        condition: c,
        delay: DelayBackend::Auto,
    };
    let neg = LinkCondition {
        rate_mbit: Some(-5.0),
        ..Default::default()
    };
    let e = topo.shaped_link(&spec(neg, "x")).unwrap_err();
    assert!(e.to_string().contains("rate_mbit"), "{e}");
    assert!(matches!(
        topo.shaped_link(&spec(LinkCondition::NONE, "waytoolong")),
        Err(NetError::InvalidName { .. })
    ));
    // A link built without a relay cannot delay on a kernel without netem.
    let mut l = topo
        .shaped_link(&spec(LinkCondition::NONE, "n"))
        .expect("plain link");
    let delayed = LinkCondition {
        delay_ms: Some(10.0),
        ..Default::default()
    };
    if !net::kernel_has_netem() {
        let e = l.apply(&topo, &delayed).unwrap_err();
        assert!(matches!(e, NetError::NoDelay { .. }), "{e}");
    }
    // Commands that fail say which command, what it printed and what to do.
    let e = topo.address(&a, "qpnosuchdev", "10.1.1.1/24").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("ip -n") && msg.contains("qpnosuchdev"),
        "{msg}"
    );
    topo.teardown().expect("teardown");
    assert_nothing_left(&id);
}
