//! RFC 8762 STAMP, unauthenticated mode, sender side: the 44-byte Session-Sender test
//! packet and the reflected packet's fields we use (layout in docs/protocol/game.md,
//! "STAMP mode", and RFC 8762 section 4.2). Pure functions; never panics on any input.

/// Length of an unauthenticated STAMP test packet (sender and reflector alike).
pub const PACKET_LEN: usize = 44;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET_S: u64 = 2_208_988_800;

/// Converts nanoseconds since the Unix epoch to a 64-bit NTP timestamp.
pub fn unix_ns_to_ntp(unix_ns: u64) -> u64 {
    let secs = unix_ns / 1_000_000_000 + NTP_UNIX_OFFSET_S;
    let nanos = unix_ns % 1_000_000_000;
    let frac = (nanos << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Converts a 64-bit NTP timestamp to nanoseconds since the NTP epoch.
pub fn ntp_to_ns(ntp: u64) -> u64 {
    let secs = ntp >> 32;
    let frac = ntp & 0xffff_ffff;
    secs.saturating_mul(1_000_000_000)
        .saturating_add((frac * 1_000_000_000) >> 32)
}

/// Encodes a Session-Sender test packet: sequence number, NTP timestamp, error
/// estimate (S=1 synchronized: no; scale 0, multiplier 1), the rest zero.
pub fn encode_test(seq: u32, ntp_timestamp: u64) -> Vec<u8> {
    let mut b = vec![0u8; PACKET_LEN];
    b[0..4].copy_from_slice(&seq.to_be_bytes());
    b[4..12].copy_from_slice(&ntp_timestamp.to_be_bytes());
    // Error estimate: S=0 (not synchronized), Z=0 (NTP format), scale 0, multiplier 1.
    b[12..14].copy_from_slice(&1u16.to_be_bytes());
    b
}

/// The fields of a reflected packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reflected {
    /// The reflector's own sequence number.
    pub reflector_seq: u32,
    /// Reflector transmit timestamp (NTP).
    pub tx_ntp: u64,
    /// Reflector receive timestamp (NTP).
    pub rx_ntp: u64,
    /// The sender's sequence number, echoed.
    pub sender_seq: u32,
    /// The sender's timestamp, echoed.
    pub sender_ntp: u64,
}

/// Decodes a reflected packet (at least 44 bytes; longer packets carry padding or TLVs).
pub fn decode_reflected(b: &[u8]) -> Option<Reflected> {
    if b.len() < PACKET_LEN {
        return None;
    }
    let u32_at = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let u64_at = |at: usize| (u64::from(u32_at(at)) << 32) | u64::from(u32_at(at + 4));
    Some(Reflected {
        reflector_seq: u32_at(0),
        tx_ntp: u64_at(4),
        rx_ntp: u64_at(16),
        sender_seq: u32_at(24),
        sender_ntp: u64_at(28),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_round_trip_is_sub_nanosecond() {
        let unix_ns = 1_700_000_000_123_456_789u64;
        let ntp = unix_ns_to_ntp(unix_ns);
        let back = ntp_to_ns(ntp) - NTP_UNIX_OFFSET_S * 1_000_000_000;
        assert!(back.abs_diff(unix_ns) <= 1, "{back} vs {unix_ns}");
    }

    #[test]
    fn reflected_layout() {
        let mut b = vec![0u8; 44];
        b[0..4].copy_from_slice(&5u32.to_be_bytes());
        b[24..28].copy_from_slice(&9u32.to_be_bytes());
        b[28..36].copy_from_slice(&77u64.to_be_bytes());
        let r = decode_reflected(&b).expect("44 bytes decode");
        assert_eq!((r.reflector_seq, r.sender_seq, r.sender_ntp), (5, 9, 77));
        assert!(decode_reflected(&b[..43]).is_none());
        assert_eq!(encode_test(3, 1).len(), PACKET_LEN);
    }
}
