//! The QGT wire format (docs/protocol/game.md), client side: encodes HELLO and
//! COMMAND, decodes CHALLENGE, WELCOME, SNAPSHOT and UNKNOWN_SESSION. Pure functions on byte
//! slices; never panics on any input. The server side lives, on purpose, in
//! `fixtures/src/game/wire.rs`.

/// The 4-byte magic every QGT datagram starts with.
pub const MAGIC: [u8; 4] = *b"QGT1";
/// Protocol version (2: HELLO carries a cookie, CHALLENGE exists).
pub const VERSION: u8 = 2;
/// Length of a HELLO.
pub const HELLO_LEN: usize = 64;
/// Length of a WELCOME.
pub const WELCOME_LEN: usize = 48;
/// Length of a COMMAND.
pub const COMMAND_LEN: usize = 40;
/// Length of a SNAPSHOT.
pub const SNAPSHOT_LEN: usize = 64;
/// Length of an UNKNOWN_SESSION.
pub const UNKNOWN_SESSION_LEN: usize = 24;
/// Length of a CHALLENGE.
pub const CHALLENGE_LEN: usize = 40;
/// Length of the cookie a CHALLENGE carries and a HELLO echoes.
pub const COOKIE_LEN: usize = 24;
/// The cookie of a first HELLO: none yet.
pub const NO_COOKIE: [u8; COOKIE_LEN] = [0; COOKIE_LEN];

const T_HELLO: u8 = 1;
const T_WELCOME: u8 = 2;
const T_COMMAND: u8 = 3;
const T_SNAPSHOT: u8 = 4;
const T_UNKNOWN: u8 = 5;
const T_CHALLENGE: u8 = 6;

/// A server's answer to HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Welcome {
    /// The client's nonce, echoed.
    pub nonce: u64,
    /// Session id.
    pub session_id: u64,
    /// Token to put in every command.
    pub token: u64,
    /// Server tick interval in ns.
    pub tick_interval_ns: u32,
    /// Seed of the session's state values.
    pub state_seed: u64,
}

/// One server snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Session id.
    pub session_id: u64,
    /// Server tick number.
    pub tick: u64,
    /// Snapshot sequence number within the session.
    pub snap_seq: u32,
    /// Highest command sequence number received.
    pub ack_seq: u32,
    /// Echo of that command's send time (client ns).
    pub echo_send_ns: u64,
    /// Time the server held that command before this snapshot, ns.
    pub hold_ns: u32,
    /// Commands the server received in this session.
    pub cmd_count: u32,
    /// State value (`mix64(seed ^ tick)`).
    pub state: u64,
    /// Server send time, ns since the server started.
    pub server_ns: u64,
}

/// A datagram the client understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMessage {
    /// CHALLENGE: say HELLO again with this cookie.
    Challenge {
        /// The client's nonce, echoed.
        nonce: u64,
        /// The cookie to echo (opaque).
        cookie: [u8; COOKIE_LEN],
    },
    /// WELCOME.
    Welcome(Welcome),
    /// SNAPSHOT.
    Snapshot(Snapshot),
    /// UNKNOWN_SESSION, with the session id the command carried.
    UnknownSession(u64),
}

/// Why a datagram was not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Shorter than a header.
    #[error("short datagram")]
    Short,
    /// Does not start with `QGT1`.
    #[error("bad magic")]
    BadMagic,
    /// Unknown or client-only message type.
    #[error("unexpected message type")]
    BadType,
    /// Known type, wrong length.
    #[error("wrong length for its type")]
    BadLength,
    /// Unsupported version.
    #[error("unsupported version")]
    BadVersion,
}

impl WireError {
    /// A short stable name for records (`short`, `bad_magic`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Short => "short",
            Self::BadMagic => "bad_magic",
            Self::BadType => "bad_type",
            Self::BadLength => "bad_length",
            Self::BadVersion => "bad_version",
        }
    }
}

/// SplitMix64's finalizer: the state function of docs/protocol/game.md.
pub fn mix64(x: u64) -> u64 {
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The state value a session with `seed` has at `tick`.
pub fn state_at(seed: u64, tick: u64) -> u64 {
    mix64(seed ^ tick)
}

fn header(kind: u8, len: usize) -> Vec<u8> {
    let mut b = vec![0u8; len];
    b[..4].copy_from_slice(&MAGIC);
    b[4] = kind;
    b
}

fn be64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

fn be32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(a)
}

/// Encodes a HELLO echoing `cookie` ([`NO_COOKIE`] before any CHALLENGE).
pub fn encode_hello(nonce: u64, cookie: &[u8; COOKIE_LEN]) -> Vec<u8> {
    let mut b = header(T_HELLO, HELLO_LEN);
    b[5] = VERSION;
    b[8..16].copy_from_slice(&nonce.to_be_bytes());
    b[16..16 + COOKIE_LEN].copy_from_slice(cookie);
    b
}

/// Encodes a COMMAND.
pub fn encode_command(session_id: u64, token: u64, seq: u32, send_ns: u64) -> Vec<u8> {
    let mut b = header(T_COMMAND, COMMAND_LEN);
    b[8..16].copy_from_slice(&session_id.to_be_bytes());
    b[16..24].copy_from_slice(&token.to_be_bytes());
    b[24..28].copy_from_slice(&seq.to_be_bytes());
    b[32..40].copy_from_slice(&send_ns.to_be_bytes());
    b
}

/// Decodes a COMMAND (used by tests and relays that need the sequence number).
pub fn decode_command_seq(b: &[u8]) -> Option<u32> {
    (b.len() == COMMAND_LEN && b[..4] == MAGIC && b[4] == T_COMMAND).then(|| be32(b, 24))
}

/// Decodes a datagram from the server.
pub fn decode(b: &[u8]) -> Result<ServerMessage, WireError> {
    if b.len() < 5 {
        return Err(WireError::Short);
    }
    if b[..4] != MAGIC {
        return Err(WireError::BadMagic);
    }
    let want = match b[4] {
        T_WELCOME => WELCOME_LEN,
        T_SNAPSHOT => SNAPSHOT_LEN,
        T_UNKNOWN => UNKNOWN_SESSION_LEN,
        T_CHALLENGE => CHALLENGE_LEN,
        _ => return Err(WireError::BadType),
    };
    if b.len() != want {
        return Err(WireError::BadLength);
    }
    Ok(match b[4] {
        T_CHALLENGE => {
            if b[5] != VERSION {
                return Err(WireError::BadVersion);
            }
            let mut cookie = NO_COOKIE;
            cookie.copy_from_slice(&b[16..16 + COOKIE_LEN]);
            ServerMessage::Challenge {
                nonce: be64(b, 8),
                cookie,
            }
        }
        T_WELCOME => {
            if b[5] != VERSION {
                return Err(WireError::BadVersion);
            }
            ServerMessage::Welcome(Welcome {
                nonce: be64(b, 8),
                session_id: be64(b, 16),
                token: be64(b, 24),
                tick_interval_ns: be32(b, 32),
                state_seed: be64(b, 40),
            })
        }
        T_SNAPSHOT => ServerMessage::Snapshot(Snapshot {
            session_id: be64(b, 8),
            tick: be64(b, 16),
            snap_seq: be32(b, 24),
            ack_seq: be32(b, 28),
            echo_send_ns: be64(b, 32),
            hold_ns: be32(b, 40),
            cmd_count: be32(b, 44),
            state: be64(b, 48),
            server_ns: be64(b, 56),
        }),
        _ => ServerMessage::UnknownSession(be64(b, 8)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hello_and_command_layout() {
        let h = encode_hello(0x0102_0304_0506_0708, &[3; COOKIE_LEN]);
        assert_eq!(h.len(), HELLO_LEN);
        assert_eq!(&h[..6], b"QGT1\x01\x02");
        assert_eq!(&h[16..40], &[3; COOKIE_LEN]);
        assert!(h[40..].iter().all(|&b| b == 0), "zero padding");
        let mut c = vec![0u8; CHALLENGE_LEN];
        c[..6].copy_from_slice(b"QGT1\x06\x02");
        c[8..16].copy_from_slice(&9u64.to_be_bytes());
        c[16..40].copy_from_slice(&[4; COOKIE_LEN]);
        assert_eq!(
            decode(&c),
            Ok(ServerMessage::Challenge {
                nonce: 9,
                cookie: [4; COOKIE_LEN]
            })
        );
        c[5] = 1;
        assert_eq!(decode(&c), Err(WireError::BadVersion));
        let c = encode_command(7, 9, 42, 1000);
        assert_eq!(decode_command_seq(&c), Some(42));
        assert_eq!(decode(&c), Err(WireError::BadType));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(b"QG"), Err(WireError::Short));
        assert_eq!(decode(b"XXXX\x04"), Err(WireError::BadMagic));
        assert_eq!(decode(b"QGT1\x04"), Err(WireError::BadLength));
        assert_eq!(decode(b"QGT1\x09"), Err(WireError::BadType));
    }

    #[test]
    fn mix64_reference_value() {
        // SplitMix64 with state 0 yields 0xe220a8397b1dcdaf as first output, i.e.
        // mix64(0x9e3779b97f4a7c15).
        assert_eq!(mix64(0x9e37_79b9_7f4a_7c15), 0xe220_a839_7b1d_cdaf);
    }

    proptest! {
        #[test]
        fn decode_never_panics(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = decode(&b);
            let _ = decode_command_seq(&b);
        }
    }
}
