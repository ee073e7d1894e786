//! Hostile input against the game server (issue 19, item 6): a HELLO flood from many
//! source addresses must not allocate sessions, and a real client must still get one.
//! The sources are loopback addresses (all of 127.0.0.0/8 is local on Linux: no root,
//! no namespace); they never echo a cookie, as a spoofed source cannot.

use fixtures::game::GameServer;
use probes::game::{self, GameConfig, Protocol, wire};
use record::clock::MonotonicClock;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// The server's session table holds 4096 (docs/protocol/game.md).
const TABLE: u64 = 4096;
const SOURCES: usize = 256;
/// HELLOs per source: under the per-source HELLO burst (40), so the rate limit lets
/// every one through and only address validation can stop the flood.
const PER_SOURCE: usize = 30;

fn flood_source(i: usize) -> UdpSocket {
    let ip = Ipv4Addr::new(127, 77, (i / 200) as u8, (i % 200 + 1) as u8);
    UdpSocket::bind((ip, 0)).unwrap_or_else(|e| panic!("bind {ip}: {e}"))
}

#[test]
fn hello_flood_from_many_sources_allocates_nothing_and_a_real_client_still_plays() {
    let server =
        GameServer::start("127.0.0.1:0".parse().expect("addr"), 66.0, 1000.0).expect("server");
    let addr = server.addr();
    let sources: Vec<UdpSocket> = (0..SOURCES).map(flood_source).collect();
    let mut sent = 0u64;
    for round in 0..PER_SOURCE {
        for chunk in sources.chunks(16) {
            for (j, s) in chunk.iter().enumerate() {
                // Half without a cookie, half with a made-up one.
                let mut cookie = wire::NO_COOKIE;
                if round % 2 == 1 {
                    cookie = [(round + j) as u8 | 1; wire::COOKIE_LEN];
                }
                let nonce = (round * SOURCES + j) as u64;
                s.send_to(&wire::encode_hello(nonce, &cookie), addr)
                    .expect("flood send");
                sent += 1;
            }
            // Paced so that the server's socket buffer rarely overflows.
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    // Until the server has handled what reached it (its HELLO counters stop moving).
    let handled = |s: &fixtures::game::GameServerStats| s.challenges + s.hellos + s.refused;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut st = server.stats();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = server.stats();
        if handled(&now) == handled(&st) || Instant::now() > deadline {
            st = now;
            break;
        }
        st = now;
    }
    eprintln!("flood: {sent} HELLOs sent, server counters {st:?}");
    assert_eq!(
        (st.sessions, st.hellos),
        (0, 0),
        "no session for a source that never echoed a cookie: {st:?}"
    );
    assert_eq!(
        st.rate_limited, 0,
        "the flood stayed under the rate limit: {st:?}"
    );
    assert!(
        st.challenges > TABLE,
        "more HELLOs reached the server than it has session slots: {st:?}"
    );

    // No amplification: every answer a flooding source got is a CHALLENGE no larger
    // than its HELLO.
    let probe = &sources[0];
    probe
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut buf = [0u8; 256];
    let mut answers = 0;
    while let Ok(n) = probe.recv(&mut buf) {
        answers += 1;
        assert!(
            n <= wire::HELLO_LEN,
            "answer of {n} bytes to a 64-byte HELLO"
        );
        assert!(matches!(
            wire::decode(&buf[..n]),
            Ok(wire::ServerMessage::Challenge { .. })
        ));
    }
    assert!(
        (1..=PER_SOURCE).contains(&answers),
        "at most one CHALLENGE per HELLO: {answers}"
    );

    // A real client, meanwhile, gets its session and plays.
    let mut cfg = GameConfig::new(Protocol::Qgt, addr.to_string());
    cfg.duration = Duration::from_secs(1);
    cfg.connect_timeout = Duration::from_secs(3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let clock = MonotonicClock::start();
    let events = rt
        .block_on(game::run(addr, cfg, &clock, |_| {}, std::future::pending()))
        .expect("probe runs");
    let s = game::summarize(&events);
    assert_eq!(s.end_reason, "duration", "{s:#?}");
    assert!(s.session_continuous && s.snapshots_received > 30, "{s:#?}");
    // One session (two if a slow handshake repeated its cookie HELLO), all the client's.
    let st = server.stats();
    assert!(st.sessions >= 1 && st.hellos == st.sessions, "{st:?}");
}

#[test]
fn a_cookie_from_one_address_does_not_open_a_session_for_another() {
    let server =
        GameServer::start("127.0.0.1:0".parse().expect("addr"), 66.0, 1000.0).expect("server");
    let addr: SocketAddr = server.addr();
    let (a, b) = (flood_source(0), flood_source(1));
    for s in [&a, &b] {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
    }
    a.send_to(&wire::encode_hello(1, &wire::NO_COOKIE), addr)
        .expect("hello");
    let mut buf = [0u8; 128];
    let n = a.recv(&mut buf).expect("challenge");
    let Ok(wire::ServerMessage::Challenge { nonce: 1, cookie }) = wire::decode(&buf[..n]) else {
        panic!("no challenge: {:?}", &buf[..n])
    };
    // Another source replays it: challenged again, no session.
    b.send_to(&wire::encode_hello(1, &cookie), addr)
        .expect("replay");
    let n = b.recv(&mut buf).expect("answer to the replay");
    assert!(matches!(
        wire::decode(&buf[..n]),
        Ok(wire::ServerMessage::Challenge { .. })
    ));
    // The same source with another nonce: challenged again.
    a.send_to(&wire::encode_hello(2, &cookie), addr)
        .expect("other nonce");
    let n = a.recv(&mut buf).expect("answer");
    assert!(matches!(
        wire::decode(&buf[..n]),
        Ok(wire::ServerMessage::Challenge { nonce: 2, .. })
    ));
    assert_eq!(server.stats().sessions, 0);
    // The rightful owner is welcomed.
    a.send_to(&wire::encode_hello(1, &cookie), addr)
        .expect("hello with cookie");
    let n = a.recv(&mut buf).expect("welcome");
    assert!(matches!(
        wire::decode(&buf[..n]),
        Ok(wire::ServerMessage::Welcome(_))
    ));
    let st = server.stats();
    assert_eq!((st.sessions, st.hellos, st.challenges), (1, 1, 3), "{st:?}");
}
