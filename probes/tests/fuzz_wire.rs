//! Property harness over the UDP wire formats: the QGT game protocol (client side
//! here, server side in fixtures, run against each other) and STAMP, and the game
//! prober's state machine fed by a hostile server. Properties: the decoders never
//! panic, they round-trip what the other side encodes, and the prober survives any
//! sequence of datagrams with a summary.
//!
//! Cases per property: `PROPTEST_CASES` (default 256; `make fuzz` sets many more).

use fixtures::game::wire as server;
use probes::game::{GameConfig, GameProbe, Protocol, stamp, summarize, wire};
use proptest::prelude::*;
use std::time::Duration;

/// One datagram a hostile server may send.
#[derive(Debug, Clone)]
enum Datagram {
    /// Anything.
    Bytes(Vec<u8>),
    /// A valid WELCOME, echoing the client's nonce or not.
    Welcome {
        echo_nonce: bool,
        session: u64,
        token: u64,
        tick_ns: u32,
        seed: u64,
    },
    /// A valid SNAPSHOT for the current session or another one.
    Snapshot {
        own_session: bool,
        out: server::SnapshotOut,
        echo_last_command: bool,
    },
    /// UNKNOWN_SESSION.
    Unknown { own_session: bool },
    /// A STAMP reflected packet, echoing the last test packet or not.
    Stamp { echo: bool, fields: [u64; 4] },
    /// A valid datagram with one byte changed.
    Mutated(Box<Datagram>, usize, u8),
}

fn snapshot_out() -> impl Strategy<Value = server::SnapshotOut> {
    (
        any::<u64>(),
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(
            |(
                session_id,
                tick,
                snap_seq,
                ack_seq,
                echo_send_ns,
                hold_ns,
                cmd_count,
                state,
                server_ns,
            )| {
                server::SnapshotOut {
                    session_id,
                    tick,
                    snap_seq,
                    ack_seq,
                    echo_send_ns,
                    hold_ns,
                    cmd_count,
                    state,
                    server_ns,
                }
            },
        )
}

fn datagram() -> impl Strategy<Value = Datagram> {
    let leaf = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(Datagram::Bytes),
        (
            any::<bool>(),
            any::<u64>(),
            any::<u64>(),
            any::<u32>(),
            any::<u64>()
        )
            .prop_map(
                |(echo_nonce, session, token, tick_ns, seed)| Datagram::Welcome {
                    echo_nonce,
                    session,
                    token,
                    tick_ns,
                    seed
                }
            ),
        (any::<bool>(), snapshot_out(), any::<bool>()).prop_map(|(own_session, out, echo)| {
            Datagram::Snapshot {
                own_session,
                out,
                echo_last_command: echo,
            }
        }),
        any::<bool>().prop_map(|own_session| Datagram::Unknown { own_session }),
        (any::<bool>(), any::<[u64; 4]>())
            .prop_map(|(echo, fields)| Datagram::Stamp { echo, fields }),
    ];
    leaf.prop_recursive(1, 2, 1, |inner| {
        (inner, any::<usize>(), any::<u8>())
            .prop_map(|(d, at, b)| Datagram::Mutated(Box::new(d), at, b))
    })
}

/// What the hostile server knows of the client, from what the client sent.
#[derive(Debug, Default)]
struct Seen {
    nonce: u64,
    session: u64,
    last_command_send_ns: u64,
    last_stamp: Vec<u8>,
}

fn be64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map_or(0, u64::from_be_bytes)
}

fn render(d: &Datagram, seen: &Seen) -> Vec<u8> {
    match d {
        Datagram::Bytes(b) => b.clone(),
        Datagram::Welcome {
            echo_nonce,
            session,
            token,
            tick_ns,
            seed,
        } => {
            let nonce = if *echo_nonce { seen.nonce } else { seed ^ 1 };
            server::encode_welcome(nonce, *session, *token, *tick_ns, *seed)
        }
        Datagram::Snapshot {
            own_session,
            out,
            echo_last_command,
        } => {
            let mut s = *out;
            if *own_session {
                s.session_id = seen.session;
            }
            if *echo_last_command {
                s.echo_send_ns = seen.last_command_send_ns;
            }
            server::encode_snapshot(&s)
        }
        Datagram::Unknown { own_session } => {
            server::encode_unknown_session(if *own_session { seen.session } else { 7 })
        }
        Datagram::Stamp { echo, fields } => {
            let mut b = vec![0u8; stamp::PACKET_LEN];
            b[0..4].copy_from_slice(&(fields[0] as u32).to_be_bytes());
            b[4..12].copy_from_slice(&fields[1].to_be_bytes());
            b[16..24].copy_from_slice(&fields[2].to_be_bytes());
            if *echo && seen.last_stamp.len() >= 12 {
                b[24..36].copy_from_slice(&seen.last_stamp[..12]);
            } else {
                b[24..32].copy_from_slice(&fields[3].to_be_bytes());
            }
            b
        }
        Datagram::Mutated(inner, at, byte) => {
            let mut b = render(inner, seen);
            if !b.is_empty() {
                let i = at % b.len();
                b[i] = *byte;
            }
            b
        }
    }
}

proptest! {
    #[test]
    fn decoders_never_panic_on_any_bytes(b in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = wire::decode(&b);
        let _ = wire::decode_command_seq(&b);
        let _ = server::decode(&b);
        let _ = stamp::decode_reflected(&b);
    }

    #[test]
    fn what_one_side_encodes_the_other_decodes(
        nonce in any::<u64>(), cookie in any::<[u8; wire::COOKIE_LEN]>(),
        session in any::<u64>(), token in any::<u64>(),
        seq in any::<u32>(), send_ns in any::<u64>(), tick_ns in any::<u32>(),
        out in snapshot_out(),
    ) {
        prop_assert_eq!(
            server::decode(&wire::encode_hello(nonce, &cookie)),
            Ok(server::ClientMessage::Hello { nonce, cookie })
        );
        prop_assert_eq!(
            server::decode(&wire::encode_command(session, token, seq, send_ns)),
            Ok(server::ClientMessage::Command { session_id: session, token, seq, send_ns })
        );
        prop_assert_eq!(
            wire::decode(&server::encode_welcome(nonce, session, token, tick_ns, send_ns)),
            Ok(wire::ServerMessage::Welcome(wire::Welcome {
                nonce, session_id: session, token, tick_interval_ns: tick_ns, state_seed: send_ns,
            }))
        );
        let decoded = wire::decode(&server::encode_snapshot(&out));
        let Ok(wire::ServerMessage::Snapshot(s)) = decoded else {
            return Err(TestCaseError::fail(format!("{decoded:?}")));
        };
        prop_assert_eq!(
            (s.session_id, s.tick, s.snap_seq, s.ack_seq, s.echo_send_ns, s.hold_ns, s.cmd_count, s.state, s.server_ns),
            (out.session_id, out.tick, out.snap_seq, out.ack_seq, out.echo_send_ns, out.hold_ns, out.cmd_count, out.state, out.server_ns)
        );
        let t = stamp::encode_test(seq, send_ns);
        prop_assert_eq!(t.len(), stamp::PACKET_LEN);
        let r = stamp::decode_reflected(&t).expect("44 bytes decode");
        prop_assert_eq!((r.reflector_seq, r.tx_ntp), (seq, send_ns));
    }

    #[test]
    fn the_game_prober_survives_any_server(
        stamp_protocol in any::<bool>(),
        script in proptest::collection::vec((0u64..40_000_000, datagram()), 0..120),
    ) {
        let protocol = if stamp_protocol { Protocol::Stamp } else { Protocol::Qgt };
        let mut cfg = GameConfig::new(protocol, "127.0.0.1:9");
        cfg.duration = Duration::from_millis(1500);
        let mut p = GameProbe::new(cfg, Duration::ZERO);
        let mut seen = Seen::default();
        let mut now = Duration::ZERO;
        let mut events = Vec::new();
        for (dt, d) in &script {
            now += Duration::from_nanos(*dt);
            p.handle_timeout(now);
            while let Some(tx) = p.poll_transmit(now) {
                match server::decode(&tx) {
                    Ok(server::ClientMessage::Hello { nonce, .. }) => seen.nonce = nonce,
                    Ok(server::ClientMessage::Command { session_id, send_ns, .. }) => {
                        seen.session = session_id;
                        seen.last_command_send_ns = send_ns;
                    }
                    Err(_) => {
                        seen.last_stamp = tx.clone();
                        seen.last_command_send_ns = be64(&tx, 4);
                    }
                }
            }
            p.handle_datagram(now, &render(d, &seen));
            events.extend(std::iter::from_fn(|| p.poll_event()));
        }
        p.finish(now + Duration::from_millis(1), "end of script");
        events.extend(std::iter::from_fn(|| p.poll_event()));
        prop_assert!(p.is_done());
        let s = summarize(&events);
        prop_assert!(serde_json::to_string(&s).is_ok());
    }
}
