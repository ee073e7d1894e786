//! Helpers shared by the root-only network tests: a root check that FAILS
//! (never skips), a lock so measurements do not share the 2 CPUs, traffic
//! generators run inside namespaces (TCP bulk, UDP echo, UDP counting) and
//! "nothing of this run is left" assertions.
#![allow(dead_code)]

use platform::net::{self, Topology};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

/// Fails the test unless root, then takes the measurement lock.
pub fn root_serial() -> MutexGuard<'static, ()> {
    assert!(
        net::require_root().is_ok(),
        "network-condition tests need root (namespaces, qdiscs, nft); run them as root (CI does)"
    );
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on a thread that entered namespace `ns` (sockets made there stay there).
pub fn in_ns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let ns = ns.to_string();
    std::thread::spawn(move || {
        net::enter_namespace(&ns).expect("enter namespace");
        f()
    })
    .join()
    .expect("thread in namespace")
}

/// Bulk TCP from `from_ns` to `to_ns` (`to_ip`) for `secs`; returns goodput in
/// Mbit/s measured at the receiver after `warmup` seconds.
pub fn tcp_goodput(from_ns: &str, to_ns: &str, to_ip: &str, warmup: f64, secs: f64) -> f64 {
    let listener = in_ns(to_ns, {
        let ip = to_ip.to_string();
        move || TcpListener::bind((ip.as_str(), 0)).expect("bind")
    });
    let addr = listener.local_addr().unwrap();
    let stream = in_ns(from_ns, move || TcpStream::connect(addr).expect("connect"));
    let total = Duration::from_secs_f64(warmup + secs);
    let sender = std::thread::spawn(move || {
        let mut s = stream;
        let buf = vec![0x5au8; 1 << 16];
        let start = Instant::now();
        while start.elapsed() < total {
            if s.write_all(&buf).is_err() {
                break;
            }
        }
    });
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let start = Instant::now();
    let mut counted = 0u64;
    let mut t0 = None;
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let now = start.elapsed().as_secs_f64();
        if now >= warmup {
            if t0.is_none() {
                t0 = Some(Instant::now());
            } else {
                counted += n as u64;
            }
        }
        if now >= warmup + secs {
            break;
        }
    }
    let elapsed = t0.map(|t| t.elapsed().as_secs_f64()).unwrap_or(1.0);
    drop(conn);
    let _ = sender.join();
    counted as f64 * 8.0 / elapsed / 1e6
}

/// Expected TCP goodput over a link shaped at `rate_mbit` on Ethernet frames
/// (1448 payload bytes in a 1514-byte frame with timestamps).
pub fn goodput_of(rate_mbit: f64) -> f64 {
    rate_mbit * 1448.0 / 1514.0
}

/// UDP echo server in `ns` on `ip`; returns its address (runs until the process ends).
pub fn udp_echo(ns: &str, ip: &str) -> SocketAddr {
    let ip = ip.to_string();
    let sock = in_ns(ns, move || UdpSocket::bind((ip.as_str(), 0)).expect("bind"));
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let _ = sock.send_to(&buf[..n], from);
        }
    });
    addr
}

/// `count` round trips, one every `gap`, from `ns` to `echo`; RTTs in ms (lost ones skipped).
pub fn udp_rtts(ns: &str, echo: SocketAddr, count: usize, gap: Duration) -> Vec<f64> {
    let sock = in_ns(ns, || UdpSocket::bind("0.0.0.0:0").expect("bind"));
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut rtts = Vec::new();
    let mut buf = [0u8; 64];
    for i in 0..count as u64 {
        let t = Instant::now();
        sock.send_to(&i.to_be_bytes(), echo).unwrap();
        while let Ok((n, _)) = sock.recv_from(&mut buf) {
            if n == 8 && buf[..8] == i.to_be_bytes() {
                rtts.push(t.elapsed().as_secs_f64() * 1000.0);
                break;
            }
        }
        std::thread::sleep(gap);
    }
    rtts
}

/// Median of a sample.
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Mean of a sample.
pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// 32 MiB receive buffer, so a descheduled reader (2 shared CPUs) drops nothing.
pub fn big_rcvbuf(s: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let v: libc::c_int = 32 << 20;
    // SAFETY: setsockopt with a live c_int and its size.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "SO_RCVBUFFORCE");
}

/// Sends `n` datagrams from `from_ns` to `to_ns`/`to_ip`, paced; returns how many arrived.
pub fn udp_delivered(from_ns: &str, to_ns: &str, to_ip: &str, n: u32) -> u32 {
    let ip = to_ip.to_string();
    let rx = in_ns(to_ns, move || {
        UdpSocket::bind((ip.as_str(), 0)).expect("bind")
    });
    let addr = rx.local_addr().unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let counter = std::thread::spawn(move || {
        let mut got = 0u32;
        let mut buf = [0u8; 2048];
        while rx.recv_from(&mut buf).is_ok() {
            got += 1;
        }
        got
    });
    let tx = in_ns(from_ns, || UdpSocket::bind("0.0.0.0:0").expect("bind"));
    for i in 0..n {
        tx.send_to(&i.to_be_bytes(), addr).unwrap();
        // 10 per ms: the receiving veth's backlog (1000 frames) must not
        // overflow when softirq processing waits for a busy CPU.
        if i % 10 == 9 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    counter.join().unwrap()
}

/// Asserts that nothing named for run `run_id` is left: namespaces, links in
/// the initial namespace, nft tables, state folder.
pub fn assert_nothing_left(run_id: &str) {
    let ns: Vec<_> = net::our_namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&format!("qp-{run_id}-")))
        .collect();
    assert!(ns.is_empty(), "namespaces left: {ns:?}");
    let links: Vec<_> = net::our_links(None)
        .into_iter()
        .filter(|n| n.starts_with(&format!("qp{run_id}")))
        .collect();
    assert!(links.is_empty(), "links left: {links:?}");
    let tables: Vec<_> = net::our_nft_tables(None)
        .into_iter()
        .filter(|(_, n)| n.contains(run_id))
        .collect();
    assert!(tables.is_empty(), "nft tables left: {tables:?}");
    assert!(
        !net::state_root().join(run_id).exists(),
        "state folder left"
    );
}

/// Two namespaces `a`/`b` of a new topology.
pub fn two_namespaces() -> (Topology, String, String) {
    let topo = Topology::new().expect("topology");
    let a = topo.namespace("a").expect("namespace a");
    let b = topo.namespace("b").expect("namespace b");
    (topo, a, b)
}
