//! The game prober against the real game server (fixtures), in real time: a server
//! paused with SIGSTOP, a server restarted on the same port, loss injected by an
//! in-test relay, garbage on both sides. Tolerances are stated next to each assertion.
//!
//! The server runs as a child process (so it can be SIGSTOPped): this test binary
//! re-executes itself with `QOEPROBE_TEST_GAME_BIND` set, which makes the
//! `game_server_child` test run the server until killed.

use fixtures::game::{GameArgs, GameServer};
use probes::game::{self, GameConfig, GameProbe, Protocol, wire};
use record::clock::MonotonicClock;
use record::{Event, EventKind, GameSummary};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CHILD_ENV: &str = "QOEPROBE_TEST_GAME_BIND";
const TICK_MS: f64 = 1000.0 / 66.0;

#[test]
fn game_server_child() {
    let Ok(bind) = std::env::var(CHILD_ENV) else {
        return;
    };
    let bind: SocketAddr = bind.parse().expect("child bind address");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(fixtures::game::serve_forever(GameArgs {
        bind,
        tick: 66.0,
        rate_limit: 1000.0,
    }))
    .expect("game server");
}

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
}

impl ServerProcess {
    fn spawn(bind: &str) -> Self {
        let exe = std::env::current_exe().expect("test executable");
        let mut child = Command::new(exe)
            .args([
                "--exact",
                "game_server_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, bind)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the game server child");
        let stdout = child.stdout.take().expect("child stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("child printed its address")
                .expect("read child stdout");
            if let Some(i) = line.find("game: udp://") {
                break line[i + "game: udp://".len()..]
                    .trim()
                    .parse()
                    .expect("address");
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Self { child, addr }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(ok.success(), "kill {sig} failed");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(server: SocketAddr, secs: f64) -> GameConfig {
    let mut cfg = GameConfig::new(Protocol::Qgt, server.to_string());
    cfg.duration = Duration::from_secs_f64(secs);
    cfg
}

fn run_probe(server: SocketAddr, cfg: GameConfig) -> (Vec<Event>, GameSummary) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let clock = MonotonicClock::start();
    let events = rt
        .block_on(game::run(
            server,
            cfg,
            &clock,
            |_| {},
            std::future::pending(),
        ))
        .expect("probe runs");
    let summary = game::summarize(&events);
    (events, summary)
}

#[test]
fn sigstop_gives_one_freeze_of_the_pause_and_an_rtt_spike() {
    let server = ServerProcess::spawn("127.0.0.1:0");
    let addr = server.addr;
    let pause = Duration::from_millis(500);
    let pauser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1200));
        server.signal("-STOP");
        std::thread::sleep(pause);
        server.signal("-CONT");
        server
    });
    let (events, s) = run_probe(addr, config(addr, 3.0));
    drop(pauser.join());
    let freezes: Vec<f64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GameFreeze(f) => Some(f.duration_ms),
            _ => None,
        })
        .collect();
    assert_eq!(
        freezes.len(),
        1,
        "exactly one freeze: {freezes:?}; summary {s:#?}"
    );
    // The gap runs from the last snapshot before SIGSTOP to the first after SIGCONT:
    // the pause, plus up to one tick, plus scheduling slack (30 ms).
    let err = (freezes[0] - 500.0).abs();
    assert!(
        err <= TICK_MS + 30.0,
        "freeze {} ms, want 500 ± {:.1}",
        freezes[0],
        TICK_MS + 30.0
    );
    // Commands sent during the pause are answered only after it: an RTT spike.
    let max = s.rtt_max_ms.expect("rtt samples");
    assert!(
        (400.0..=600.0).contains(&max),
        "rtt max {max} ms, want about the pause"
    );
    let p50 = s.rtt_p50_ms.expect("rtt p50");
    assert!(p50 < 20.0, "rtt p50 {p50} ms on loopback");
    assert!(s.session_continuous, "{s:#?}");
    assert!(!s.playable, "a 500 ms freeze is not playable");
    // About 33 ticks (500 ms / 15.15 ms) are skipped by the paused server (± 3).
    assert!(
        (30..=37).contains(&s.ticks_missed),
        "ticks missed {}",
        s.ticks_missed
    );
    assert_eq!(s.loss_up_count, Some(0));
    assert_eq!(s.loss_down_count, Some(0));
}

#[test]
fn restarted_server_is_detected_as_session_lost() {
    let first = ServerProcess::spawn("127.0.0.1:0");
    let addr = first.addr;
    let restarter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        drop(first);
        ServerProcess::spawn(&addr.to_string())
    });
    let (events, s) = run_probe(addr, config(addr, 3.0));
    let _second = restarter.join().expect("restart");
    let reasons: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GameSessionLost(l) => Some(l.reason.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["unknown_session".to_string()], "{s:#?}");
    assert!(!s.session_continuous);
    assert_eq!(s.sessions, 2, "a new session after the restart");
    assert!(!s.playable);
    let after = events
        .iter()
        .rev()
        .take_while(|e| !matches!(e.kind, EventKind::GameSession(_)));
    let snaps_after = after
        .filter(|e| matches!(e.kind, EventKind::GameSnapshot(_)))
        .count();
    assert!(
        snaps_after > 50,
        "snapshots flow again in the new session: {snaps_after}"
    );
}

/// A UDP relay that drops every `up_every`-th command and every `down_every`-th
/// snapshot, recording the sequence numbers it dropped.
struct LossRelay {
    addr: SocketAddr,
    dropped_cmds: Arc<Mutex<Vec<u32>>>,
    dropped_snaps: Arc<Mutex<Vec<u32>>>,
    stop: Arc<AtomicBool>,
}

impl LossRelay {
    fn start(server: SocketAddr, up_every: u32, down_every: u32) -> Self {
        let front = UdpSocket::bind("127.0.0.1:0").expect("relay front");
        let back = UdpSocket::bind("127.0.0.1:0").expect("relay back");
        back.connect(server).expect("relay connect");
        for s in [&front, &back] {
            s.set_read_timeout(Some(Duration::from_millis(50)))
                .expect("timeout");
        }
        let addr = front.local_addr().expect("addr");
        let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let dropped_cmds: Arc<Mutex<Vec<u32>>> = Arc::default();
        let dropped_snaps: Arc<Mutex<Vec<u32>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (front2, back2) = (
            front.try_clone().expect("clone"),
            back.try_clone().expect("clone"),
        );
        let (c1, c2, d1, d2, s1, s2) = (
            client.clone(),
            client,
            dropped_cmds.clone(),
            dropped_snaps.clone(),
            stop.clone(),
            stop.clone(),
        );
        std::thread::spawn(move || {
            let (mut buf, mut n_cmd) = ([0u8; 2048], 0u32);
            while !s1.load(Ordering::Relaxed) {
                let Ok((n, from)) = front.recv_from(&mut buf) else {
                    continue;
                };
                *c1.lock().expect("lock") = Some(from);
                if let Some(seq) = wire::decode_command_seq(&buf[..n]) {
                    n_cmd += 1;
                    if n_cmd % up_every == 0 {
                        d1.lock().expect("lock").push(seq);
                        continue;
                    }
                }
                let _ = back.send(&buf[..n]);
            }
        });
        std::thread::spawn(move || {
            let (mut buf, mut n_snap) = ([0u8; 2048], 0u32);
            while !s2.load(Ordering::Relaxed) {
                let Ok(n) = back2.recv(&mut buf) else {
                    continue;
                };
                if let Ok(wire::ServerMessage::Snapshot(s)) = wire::decode(&buf[..n]) {
                    n_snap += 1;
                    if n_snap % down_every == 0 {
                        d2.lock().expect("lock").push(s.snap_seq);
                        continue;
                    }
                }
                if let Some(c) = *c2.lock().expect("lock") {
                    let _ = front2.send_to(&buf[..n], c);
                }
            }
        });
        Self {
            addr,
            dropped_cmds,
            dropped_snaps,
            stop,
        }
    }
}

impl Drop for LossRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[test]
fn loss_injected_by_a_relay_is_counted_exactly() {
    let server =
        GameServer::start("127.0.0.1:0".parse().expect("addr"), 66.0, 1000.0).expect("server");
    let relay = LossRelay::start(server.addr(), 10, 7);
    let (events, s) = run_probe(relay.addr, config(relay.addr, 2.0));
    let (mut max_ack, mut max_snap) = (0u32, 0u32);
    for e in &events {
        if let EventKind::GameSnapshot(g) = &e.kind {
            max_ack = max_ack.max(g.ack_seq.unwrap_or(0));
            max_snap = max_snap.max(g.seq);
        }
    }
    // Only losses the client can know of count: commands up to the highest one the
    // server acknowledged, snapshots below the highest one received.
    let up = relay
        .dropped_cmds
        .lock()
        .expect("lock")
        .iter()
        .filter(|&&q| q <= max_ack)
        .count() as u64;
    let down = relay
        .dropped_snaps
        .lock()
        .expect("lock")
        .iter()
        .filter(|&&q| q < max_snap)
        .count() as u64;
    assert!(
        up >= 10 && down >= 15,
        "the relay dropped enough to count: up {up}, down {down}"
    );
    assert_eq!(s.loss_up_count, Some(up), "{s:#?}");
    assert_eq!(s.loss_down_count, Some(down), "{s:#?}");
    assert_eq!((s.late, s.duplicates, s.freeze_count), (0, 0, 0));
    assert!(s.session_continuous);
}

#[test]
fn garbage_short_and_forged_datagrams_are_ignored_and_counted() {
    // Server side: malformed datagrams and forged commands are counted, not answered.
    let server =
        GameServer::start("127.0.0.1:0".parse().expect("addr"), 66.0, 1000.0).expect("server");
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    for g in [
        &b""[..],
        b"Q",
        b"QGT1",
        b"QGT1\x03short",
        &[0xffu8; 1400][..],
        b"QGT1\x02xxxxxxxxxxxxxxxxx",
    ] {
        sock.send_to(g, server.addr()).expect("send");
    }
    sock.send_to(&wire::encode_hello(7, &wire::NO_COOKIE), server.addr())
        .expect("hello");
    let mut buf = [0u8; 128];
    let (n, _) = sock.recv_from(&mut buf).expect("challenge");
    let Ok(wire::ServerMessage::Challenge { nonce: 7, cookie }) = wire::decode(&buf[..n]) else {
        panic!("no challenge")
    };
    sock.send_to(&wire::encode_hello(7, &cookie), server.addr())
        .expect("hello with the cookie");
    let (n, _) = sock.recv_from(&mut buf).expect("welcome");
    let Ok(wire::ServerMessage::Welcome(w)) = wire::decode(&buf[..n]) else {
        panic!("no welcome")
    };
    sock.send_to(
        &wire::encode_command(w.session_id, w.token ^ 1, 0, 1),
        server.addr(),
    )
    .expect("forged");
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    assert!(
        sock.recv_from(&mut buf).is_err(),
        "no snapshot toward an unproven address"
    );
    let st = server.stats();
    assert_eq!((st.malformed, st.forged, st.snapshots), (6, 1, 0), "{st:?}");

    // Client side: every kind of bad datagram is ignored and counted by the core.
    let mut p = GameProbe::new(config(server.addr(), 1.0), Duration::ZERO);
    let hello = p.poll_transmit(Duration::ZERO).expect("hello");
    assert_eq!(hello.len(), wire::HELLO_LEN);
    let bad: Vec<Vec<u8>> = vec![
        vec![],
        b"QGT".to_vec(),
        vec![0u8; 64],
        b"QGT1\x04".to_vec(),
        wire_welcome(12345, 1), // wrong nonce
        wire_challenge(12345),  // wrong nonce
        snapshot_bytes(99),     // no session yet
        vec![
            b'Q', b'G', b'T', b'1', 5, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    ];
    for (i, b) in bad.iter().enumerate() {
        p.handle_datagram(Duration::from_millis(i as u64), b);
    }
    p.finish(Duration::from_millis(20), "interrupted");
    let events: Vec<Event> = std::iter::from_fn(|| p.poll_event()).collect();
    let s = game::summarize(&events);
    assert_eq!(s.ignored, bad.len() as u64, "{events:#?}");
    assert_eq!(s.sessions, 0);
}

fn wire_welcome(nonce: u64, session: u64) -> Vec<u8> {
    let mut b = vec![0u8; 48];
    b[..6].copy_from_slice(b"QGT1\x02\x02");
    b[8..16].copy_from_slice(&nonce.to_be_bytes());
    b[16..24].copy_from_slice(&session.to_be_bytes());
    b
}

fn wire_challenge(nonce: u64) -> Vec<u8> {
    let mut b = vec![0u8; wire::CHALLENGE_LEN];
    b[..6].copy_from_slice(b"QGT1\x06\x02");
    b[8..16].copy_from_slice(&nonce.to_be_bytes());
    b
}

fn snapshot_bytes(session: u64) -> Vec<u8> {
    let mut b = vec![0u8; 64];
    b[..5].copy_from_slice(b"QGT1\x04");
    b[8..16].copy_from_slice(&session.to_be_bytes());
    b
}

#[test]
fn server_ticks_within_one_millisecond_and_serves_many_clients() {
    let server =
        GameServer::start("127.0.0.1:0".parse().expect("addr"), 66.0, 1000.0).expect("server");
    let addr = server.addr();
    let handles: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || run_probe(addr, config(addr, 1.5)).1))
        .collect();
    for h in handles {
        let s = h.join().expect("client");
        assert!(s.session_continuous && s.freeze_count == 0, "{s:#?}");
        assert!(
            s.snapshots_received >= 90,
            "1.5 s at 66 ticks/s: {}",
            s.snapshots_received
        );
    }
    let st = server.stats();
    assert!(
        st.mean_tick_error_us < 1000.0,
        "mean tick error {} us",
        st.mean_tick_error_us
    );
}

/// The independent STAMP reflector, installed by `scripts/install-test-tools.sh`.
fn stamp_suite() -> std::path::PathBuf {
    let bin =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../build/tools/bin/stamp-suite");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/install-test-tools.sh (it installs stamp-suite with cargo install --root build/tools)",
        bin.display()
    );
    bin
}

#[test]
fn stamp_mode_against_the_stamp_suite_reflector() {
    let bin = stamp_suite();
    let port = UdpSocket::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let child = Command::new(bin)
        .args([
            "--is-reflector",
            "--local-addr",
            "127.0.0.1",
            "--local-port",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start stamp-suite");
    let reflector = ServerProcess {
        child,
        addr: ([127, 0, 0, 1], port).into(),
    };
    // Wait until it reflects.
    let probe_sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    probe_sock
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let ready = (0..50).any(|_| {
        let _ = probe_sock.send_to(&game::stamp::encode_test(0, 0), reflector.addr);
        let mut b = [0u8; 256];
        probe_sock.recv_from(&mut b).is_ok()
    });
    assert!(ready, "stamp-suite did not reflect within 5 s");
    let addr = reflector.addr;
    let pauser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        reflector.signal("-STOP");
        std::thread::sleep(Duration::from_millis(300));
        reflector.signal("-CONT");
        reflector
    });
    let mut cfg = GameConfig::new(Protocol::Stamp, addr.to_string());
    cfg.duration = Duration::from_secs(2);
    cfg.wall_anchor_unix_ns = record::clock::unix_now_ns();
    let (_, s) = run_probe(addr, cfg);
    drop(pauser.join());
    assert_eq!(s.protocol, "stamp");
    assert!(s.commands_sent >= 128, "2 s at 66/s: {}", s.commands_sent);
    assert_eq!(s.loss_round_trip_pct, Some(0.0), "{s:#?}");
    assert_eq!(s.ignored, 0, "every reflected packet matched a sent one");
    let p50 = s.rtt_p50_ms.expect("rtt");
    assert!(p50 < 5.0, "rtt p50 {p50} ms on loopback");
    // Paused 300 ms: one freeze of 300 ms ± (one send interval + 30 ms).
    assert_eq!(s.freeze_count, 1, "{s:#?}");
    assert!(
        (s.freeze_longest_ms - 300.0).abs() <= TICK_MS + 30.0,
        "freeze {}",
        s.freeze_longest_ms
    );
    assert!(
        s.rtt_max_ms.expect("max") >= 250.0,
        "the packets held during the pause show it"
    );
}
