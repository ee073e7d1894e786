//! Reading a capture of the client link: the pcap file `tcpdump` wrote (nanosecond
//! timestamps from the kernel), and what it says about a migration
//! ([`derive`]): the last packet the source guest sent, the first the destination sent,
//! QEMU's self-announce frames, and the first answer to the reachability prober.

use std::net::Ipv4Addr;

/// pcap magic for nanosecond timestamps, as written on a little-endian machine.
const MAGIC_NS_LE: u32 = 0xa1b2_3c4d;
/// pcap magic for microsecond timestamps.
const MAGIC_US_LE: u32 = 0xa1b2_c3d4;
const LINKTYPE_ETHERNET: u32 = 1;
const ETHERTYPE_IPV4: u16 = 0x0800;
/// Reverse ARP: what QEMU's self-announce sends after a migration.
const ETHERTYPE_RARP: u16 = 0x8035;
const PROTO_TCP: u8 = 6;
const TCP_SYN: u8 = 0x02;
const TCP_ACK: u8 = 0x10;
/// SYNs from one port closer than this belong to one connect attempt (the kernel's
/// retries at 1 s and 3 s; the prober gives up after 3 s).
const RETRY_WINDOW_NS: u64 = 3_500_000_000;

/// What a captured frame is, as far as the migration's accounting cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// An IPv4 packet; `tcp` holds (source port, destination port, flags) for TCP.
    Ipv4 {
        /// Source address.
        src: Ipv4Addr,
        /// Destination address.
        dst: Ipv4Addr,
        /// TCP ports and flags, for a TCP segment.
        tcp: Option<(u16, u16, u8)>,
    },
    /// A RARP frame (QEMU's self-announce).
    Rarp,
    /// Anything else.
    Other,
}

/// One captured frame with its kernel timestamp (ns since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet {
    /// Kernel receive timestamp, ns since the Unix epoch.
    pub unix_ns: u64,
    /// What it is.
    pub frame: Frame,
}

/// Parses a pcap file (Ethernet, microsecond or nanosecond timestamps). A file cut
/// short (the capture was stopped mid-write) yields the packets before the cut.
pub fn parse(bytes: &[u8]) -> Result<Vec<Packet>, String> {
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    if bytes.len() < 24 {
        return Err(format!(
            "not a pcap file: {} bytes, shorter than its header",
            bytes.len()
        ));
    }
    let sub = match u32_at(bytes, 0) {
        MAGIC_NS_LE => 1u64,
        MAGIC_US_LE => 1000,
        m => return Err(format!("not a little-endian pcap file (magic {m:#010x})")),
    };
    let link = u32_at(bytes, 20);
    if link != LINKTYPE_ETHERNET {
        return Err(format!("pcap link type {link}, expected Ethernet (1)"));
    }
    let mut out = Vec::new();
    let mut i = 24;
    while i + 16 <= bytes.len() {
        let secs = u64::from(u32_at(bytes, i));
        let frac = u64::from(u32_at(bytes, i + 4));
        let caplen = u32_at(bytes, i + 8) as usize;
        let start = i + 16;
        let Some(data) = bytes.get(start..start + caplen) else {
            break;
        };
        out.push(Packet {
            unix_ns: secs * 1_000_000_000 + frac * sub,
            frame: frame(data),
        });
        i = start + caplen;
    }
    Ok(out)
}

fn frame(d: &[u8]) -> Frame {
    let Some(et) = d.get(12..14).map(|b| u16::from_be_bytes([b[0], b[1]])) else {
        return Frame::Other;
    };
    match et {
        ETHERTYPE_RARP => Frame::Rarp,
        ETHERTYPE_IPV4 => {
            let ip = &d[14..];
            if ip.len() < 20 || ip[0] >> 4 != 4 {
                return Frame::Other;
            }
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let addr = |o: usize| Ipv4Addr::new(ip[o], ip[o + 1], ip[o + 2], ip[o + 3]);
            let tcp = (ip[9] == PROTO_TCP)
                .then(|| ip.get(ihl..ihl + 14))
                .flatten()
                .map(|t| {
                    (
                        u16::from_be_bytes([t[0], t[1]]),
                        u16::from_be_bytes([t[2], t[3]]),
                        t[13],
                    )
                });
            Frame::Ipv4 {
                src: addr(12),
                dst: addr(16),
                tcp,
            }
        }
        _ => Frame::Other,
    }
}

/// What [`derive`] needs to know about the migration and the lab.
#[derive(Debug, Clone, Copy)]
pub struct Marks {
    /// The guest's address.
    pub guest: Ipv4Addr,
    /// The client's address (where the prober runs).
    pub client: Ipv4Addr,
    /// The TCP port the reachability prober connects to.
    pub probe_port: u16,
    /// The source's STOP, ns since the Unix epoch.
    pub paused_unix_ns: u64,
    /// The destination's RESUME, ns since the Unix epoch.
    pub resumed_unix_ns: u64,
    /// The client link's one-way delay, ns.
    pub client_delay_ns: u64,
}

/// What the capture says, in ns since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// The last packet from the guest the source sent: arrived before RESUME + the
    /// link's delay (nothing the destination sent can arrive earlier).
    pub last_source: Option<u64>,
    /// The first packet from the guest the destination sent.
    pub first_destination: Option<u64>,
    /// RARP frames seen after the pause.
    pub announces: Vec<u64>,
    /// The first SYN-ACK from the probed port, arrived at or after RESUME, answering a
    /// SYN the client sent at or after the pause.
    pub first_answered_probe: Option<u64>,
}

/// Derives the migration's moments from the captured packets (in capture order).
pub fn derive(packets: &[Packet], m: &Marks) -> Derived {
    let split = m.resumed_unix_ns.saturating_add(m.client_delay_ns);
    let mut d = Derived::default();
    // Client port -> time of its attempt's first SYN to the probed port.
    let mut syns: std::collections::HashMap<u16, u64> = std::collections::HashMap::new();
    for p in packets {
        match p.frame {
            Frame::Rarp if p.unix_ns >= m.paused_unix_ns => d.announces.push(p.unix_ns),
            Frame::Ipv4 { src, dst, tcp } => {
                if src == m.client && dst == m.guest {
                    if let Some((sport, dport, flags)) = tcp
                        && dport == m.probe_port
                        && flags & (TCP_SYN | TCP_ACK) == TCP_SYN
                    {
                        // A SYN within the prober's attempt timeout of an earlier one
                        // from the same port is the kernel retrying that attempt: the
                        // attempt was sent at its first SYN.
                        let first = syns.entry(sport).or_insert(p.unix_ns);
                        if p.unix_ns.saturating_sub(*first) > RETRY_WINDOW_NS {
                            *first = p.unix_ns;
                        }
                    }
                    continue;
                }
                if src != m.guest {
                    continue;
                }
                if p.unix_ns < split {
                    d.last_source = Some(p.unix_ns);
                } else if d.first_destination.is_none() {
                    d.first_destination = Some(p.unix_ns);
                }
                if d.first_answered_probe.is_none()
                    && p.unix_ns >= m.resumed_unix_ns
                    && let Some((sport, dport, flags)) = tcp
                    && sport == m.probe_port
                    && flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK
                    && syns.get(&dport).is_some_and(|&t| t >= m.paused_unix_ns)
                {
                    d.first_answered_probe = Some(p.unix_ns);
                }
            }
            _ => {}
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUEST: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
    const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);

    fn ipv4_tcp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, flags: u8) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        let mut ip = vec![0x45, 0, 0, 40, 0, 0, 0, 0, 64, PROTO_TCP, 0, 0];
        ip.extend_from_slice(&src.octets());
        ip.extend_from_slice(&dst.octets());
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&sport.to_be_bytes());
        tcp[2..4].copy_from_slice(&dport.to_be_bytes());
        tcp[13] = flags;
        f.extend(ip);
        f.extend(tcp);
        f
    }

    fn pcap(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [MAGIC_NS_LE, 0x0004_0002, 0, 0, 96, LINKTYPE_ETHERNET] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for (ns, f) in frames {
            let secs = (ns / 1_000_000_000) as u32;
            let frac = (ns % 1_000_000_000) as u32;
            for v in [secs, frac, f.len() as u32, f.len() as u32] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(f);
        }
        b
    }

    #[test]
    fn derives_the_migration_moments_from_a_capture() {
        const S: u64 = 1_000_000_000_000_000_000;
        let ms = |x: u64| S + x * 1_000_000;
        let mut rarp = vec![0u8; 12];
        rarp.extend_from_slice(&ETHERTYPE_RARP.to_be_bytes());
        rarp.extend_from_slice(&[0u8; 28]);
        let frames = vec![
            (ms(0), ipv4_tcp(CLIENT, GUEST, 40000, 8080, TCP_SYN)),
            (
                ms(1),
                ipv4_tcp(GUEST, CLIENT, 8080, 40000, TCP_SYN | TCP_ACK),
            ),
            // A SYN sent before the pause (at 100 ms), answered late: not a reattach.
            (ms(95), ipv4_tcp(CLIENT, GUEST, 40001, 8080, TCP_SYN)),
            (ms(99), ipv4_tcp(GUEST, CLIENT, 8080, 5555, TCP_ACK)),
            (ms(150), ipv4_tcp(CLIENT, GUEST, 40002, 8080, TCP_SYN)),
            // The kernel retries the SYN of port 40001 (sent before the pause).
            (ms(200), ipv4_tcp(CLIENT, GUEST, 40001, 8080, TCP_SYN)),
            (ms(300), rarp.clone()),
            (
                ms(302),
                ipv4_tcp(GUEST, CLIENT, 8080, 40001, TCP_SYN | TCP_ACK),
            ),
            (
                ms(305),
                ipv4_tcp(GUEST, CLIENT, 8080, 40002, TCP_SYN | TCP_ACK),
            ),
            (ms(350), rarp),
        ];
        let mut bytes = pcap(&frames);
        // A record cut short at the end is ignored.
        bytes.extend_from_slice(&[1, 2, 3]);
        let packets = parse(&bytes).unwrap();
        assert_eq!(packets.len(), 10);
        assert_eq!(packets[1].unix_ns, ms(1));
        let d = derive(
            &packets,
            &Marks {
                guest: GUEST,
                client: CLIENT,
                probe_port: 8080,
                paused_unix_ns: ms(100),
                resumed_unix_ns: ms(300),
                client_delay_ns: 0,
            },
        );
        assert_eq!(d.last_source, Some(ms(99)));
        assert_eq!(d.first_destination, Some(ms(302)));
        assert_eq!(d.announces, vec![ms(300), ms(350)]);
        assert_eq!(d.first_answered_probe, Some(ms(305)));
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        assert!(parse(b"short").unwrap_err().contains("not a pcap"));
        assert!(parse(&[0u8; 24]).unwrap_err().contains("magic"));
    }
}
