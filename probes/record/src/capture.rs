//! `packet_capture`: what a kernel-timestamped capture of the client link saw around
//! a migration. The lab captures the link the probes use (in the client namespace,
//! with `tcpdump`) and derives from the packets when the service's traffic stopped
//! and came back, independently of QEMU's events and of the runner's prober
//! (docs/lab.md, "Phases checked against a packet capture").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `packet_capture`. Every `*_t_ns` is on the run's clock (like an event's `t_ns`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PacketCapture {
    /// The captured interface (the client end of the client link).
    pub interface: String,
    /// Packets captured.
    pub packets: u64,
    /// Packets the kernel dropped before the capture read them (tcpdump's count).
    pub kernel_drops: Option<u64>,
    /// One-way delay of the client link, ms, that splits source from destination
    /// packets: a packet the destination sent cannot arrive before RESUME + this.
    pub client_delay_ms: f64,
    /// The last packet from the guest that the source sent (arrived before RESUME +
    /// the client link's delay).
    pub last_source_t_ns: Option<u64>,
    /// The first packet from the guest that the destination sent (arrived at or after
    /// RESUME + the client link's delay).
    pub first_destination_t_ns: Option<u64>,
    /// QEMU's self-announce frames (RARP) seen on the link after the pause.
    #[serde(default)]
    pub announce_t_ns: Vec<u64>,
    /// The first answer to the runner's reachability probe (a TCP SYN-ACK from the
    /// probed port) whose probe was sent after the pause and that arrived after
    /// RESUME: the capture's "network reattached".
    pub first_answered_probe_t_ns: Option<u64>,
    /// Why the capture could not be taken or read, if so.
    pub error: Option<String>,
}
