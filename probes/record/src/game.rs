//! Event payloads and the summary of the UDP game-tick prober (`qoeprobe game`).
//! Metric definitions: docs/game.md.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `game_session`: a session was established (handshake answered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameSession {
    /// `qgt` or `stamp`.
    pub protocol: String,
    /// The server's address.
    pub server: String,
    /// Session id in hex (`-` in STAMP mode).
    pub session_id: String,
    /// Server tick interval in ns (the send interval in STAMP mode).
    pub tick_interval_ns: u64,
    /// First HELLO sent to WELCOME received, in ms.
    pub handshake_ms: f64,
}

/// `game_command`: a command (or STAMP test packet) left; `t_ns` is the actual send time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameCommand {
    /// Sequence number.
    pub seq: u32,
    /// When it should have left (start + seq / cmdrate), ns since the run's start.
    pub scheduled_ns: u64,
}

/// `game_snapshot`: a snapshot (or STAMP reflected packet) arrived; `t_ns` is its arrival.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameSnapshot {
    /// Snapshot sequence number (QGT) or the reflected sender sequence number (STAMP).
    pub seq: u32,
    /// Server tick number (QGT only).
    pub tick: Option<u64>,
    /// Highest command sequence number the server acknowledged (QGT only).
    pub ack_seq: Option<u32>,
    /// Commands the server received in this session (QGT only).
    pub cmd_count: Option<u32>,
    /// RTT samples, ns: one per command this snapshot acknowledges for the first time
    /// (usually one; more after a pause). STAMP: the packet's own RTT.
    pub rtt_ns: Vec<u64>,
    /// The peer's send time in ns on the peer's clock (for RFC 3550 jitter).
    pub peer_send_ns: Option<u64>,
    /// Sequence number lower than the highest seen.
    pub late: bool,
    /// Sequence number seen before.
    pub duplicate: bool,
}

/// `game_freeze`: no snapshot arrived for longer than the freeze threshold; `t_ns` is
/// the arrival that ended it (or the end of the run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameFreeze {
    /// Arrival of the last snapshot before the gap, ns since the run's start.
    pub start_ns: u64,
    /// Length of the gap in ms.
    pub duration_ms: f64,
    /// Server ticks skipped across the gap (QGT only).
    pub ticks_missed: Option<u64>,
    /// `true` when the run ended inside the gap.
    pub unresolved: bool,
}

/// `game_session_lost`: the server no longer continues the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameSessionLost {
    /// The session id that was lost, hex.
    pub session_id: String,
    /// `unknown_session` (server said so), `foreign_session` or `state_mismatch`.
    pub reason: String,
}

/// `game_ignored`: a datagram was ignored (garbage, short, forged, wrong source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameIgnored {
    /// `short`, `bad_magic`, `bad_type`, `bad_length`, `bad_version`, `wrong_nonce`,
    /// `wrong_source`, `no_session`.
    pub reason: String,
    /// Datagram length.
    pub len: u64,
}

/// `game_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameEnd {
    /// `duration` (ran its time), `no_answer` (handshake timed out) or `interrupted`.
    pub reason: String,
}

/// Summary of a game probe run: a pure function of its events
/// (`probes::game::summarize`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GameSummary {
    /// `qgt` or `stamp`.
    pub protocol: String,
    /// How the run ended (see `game_end`).
    pub end_reason: String,
    /// First to last event, in ms.
    pub duration_ms: f64,
    /// Commands (test packets) sent.
    pub commands_sent: u64,
    /// Snapshots (reflected packets) received, duplicates included.
    pub snapshots_received: u64,
    /// RTT median in ms (`null` without samples).
    pub rtt_p50_ms: Option<f64>,
    /// RTT 95th percentile in ms.
    pub rtt_p95_ms: Option<f64>,
    /// RTT 99th percentile in ms.
    pub rtt_p99_ms: Option<f64>,
    /// RTT maximum in ms.
    pub rtt_max_ms: Option<f64>,
    /// RTT mean in ms.
    pub rtt_mean_ms: Option<f64>,
    /// RFC 3550 interarrival jitter at the end of the run, ms.
    pub jitter_ms: f64,
    /// Mean |IPDV| (difference of consecutive RTTs), ms.
    pub ipdv_mean_ms: f64,
    /// Largest snapshot inter-arrival gap, ms.
    pub gap_max_ms: f64,
    /// Number of freezes.
    pub freeze_count: u64,
    /// Longest freeze, ms (0 without freezes).
    pub freeze_longest_ms: f64,
    /// Sum of freezes, ms.
    pub freeze_total_ms: f64,
    /// Commands lost toward the server (QGT; see docs/game.md).
    pub loss_up_count: Option<u64>,
    /// Commands lost toward the server, % of those the server could have counted.
    pub loss_up_pct: Option<f64>,
    /// Snapshots lost toward the client (QGT).
    pub loss_down_count: Option<u64>,
    /// Snapshots lost toward the client, %.
    pub loss_down_pct: Option<f64>,
    /// Round-trip loss: commands never acknowledged (STAMP: never reflected), %.
    pub loss_round_trip_pct: Option<f64>,
    /// Late (reordered) snapshots.
    pub late: u64,
    /// Duplicate snapshots.
    pub duplicates: u64,
    /// Ignored datagrams.
    pub ignored: u64,
    /// Snapshots whose tick was not the previous tick + 1 (QGT).
    pub tick_jumps: u64,
    /// Ticks skipped in total across those jumps.
    pub ticks_missed: u64,
    /// Sessions established.
    pub sessions: u64,
    /// Sessions lost.
    pub sessions_lost: u64,
    /// Exactly one session for the whole run and it was never lost.
    pub session_continuous: bool,
    /// Playable by the default game profile (docs/verdicts.md): session continuous,
    /// no freeze over 250 ms, RTT p95 under 150 ms.
    pub playable: bool,
    /// Send-time error (actual - scheduled) median, microseconds.
    pub send_error_p50_us: Option<f64>,
    /// Send-time error 99th percentile, microseconds.
    pub send_error_p99_us: Option<f64>,
    /// Send-time error maximum, microseconds.
    pub send_error_max_us: Option<f64>,
    /// Send-time error mean, microseconds.
    pub send_error_mean_us: Option<f64>,
}
