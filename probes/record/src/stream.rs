//! Event payloads and the summary of the live stream reader (`qoeprobe stream`).
//!
//! Times in `*_ms` fields are milliseconds; media positions are the stream's own
//! timeline (continuous across reconnects), starting at 0 with the first frame.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `stream_start`: the reader started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamStart {
    /// The stream URL.
    pub url: String,
    /// The cache to prefill before playback, ms (0 = no cache).
    pub cache_ms: f64,
    /// Underruns shorter than this are not recorded as stalls, ms.
    #[serde(default)]
    pub stall_threshold_ms: f64,
    /// Reconnect policy: `never` (MPlayer) or `always`.
    pub reconnect: String,
}

/// `stream_playing`: the prefill was reached and playback started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamPlaying {
    /// From the reader's start to playback start, ms.
    pub startup_ms: f64,
    /// Media in the cache when playback started, ms.
    pub level_ms: f64,
    /// Codec caps of the video stream (e.g. `video/x-h264`).
    pub codec: String,
}

/// `stream_sample`: the periodic state of the cache, the renderer and the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamSample {
    /// Media in the cache (received, not yet played), ms.
    pub level_ms: f64,
    /// Lowest cache level since the previous sample, ms (measured just before every
    /// frame arrival, so an underrun shows as 0).
    pub min_level_ms: f64,
    /// `level_ms` as a percentage of the cache size (`null` without a cache).
    pub level_percent: Option<f64>,
    /// Frames rendered since playback started (cumulative, from the video sink).
    pub frames_rendered: u64,
    /// Frames dropped by QoS since playback started (cumulative).
    pub frames_dropped: u64,
    /// Underruns shorter than the stall threshold so far (cumulative; not stalls).
    #[serde(default)]
    pub short_underruns: u64,
    /// Video stream bytes received since the previous sample.
    pub bytes: u64,
    /// Received bitrate over the interval, kbit/s.
    pub bitrate_kbps: f64,
    /// `prefill`, `playing`, `stalled` or `ended`.
    pub state: String,
}

/// `stream_stall_start`: playback reached the end of the cache (an underrun).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamStallStart {
    /// Media position where playback froze, ms.
    pub position_ms: f64,
    /// Whether the connection was down when the stall began.
    pub disconnected: bool,
}

/// `stream_stall_end`: data arrived again and playback resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamStallEnd {
    /// Length of the stall, ms.
    pub duration_ms: f64,
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectCause {
    /// The server ended the stream (end of stream).
    EndOfStream,
    /// A network or protocol error.
    Error,
}

/// `stream_disconnect`: the connection to the server was lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamDisconnect {
    /// End of stream or error.
    pub cause: DisconnectCause,
    /// What GStreamer reported.
    pub message: String,
    /// Media left in the cache, ms.
    pub level_ms: f64,
}

/// `stream_reconnect`: data flows again on a new connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamReconnect {
    /// Connection attempts since the disconnect (including the successful one).
    pub attempts: u32,
    /// From the disconnect to the first frame on the new connection, ms.
    pub outage_ms: f64,
}

/// Why the reader stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StreamEndReason {
    /// `--duration` elapsed.
    Duration,
    /// The connection was lost and the reconnect policy is `never`; the cache was
    /// played out.
    Disconnected,
    /// Stopped by the user (Ctrl-C) or the runner.
    Stopped,
}

/// `stream_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamEnd {
    /// Why.
    pub reason: StreamEndReason,
    /// Media played, ms.
    pub played_ms: f64,
}

/// The stream reader's summary: a pure function of its events
/// (`probes::stream::summary::summarize`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StreamSummary {
    /// Stream URL.
    pub url: String,
    /// Cache size, ms.
    pub cache_ms: f64,
    /// Reader start to playback start, ms (`null` if playback never started).
    pub startup_ms: Option<f64>,
    /// Underruns after playback started (stalls).
    pub stall_count: u64,
    /// Total stall time, ms (including a stall still open at the end).
    pub stall_total_ms: f64,
    /// Longest stall, ms.
    pub stall_longest_ms: f64,
    /// Frames rendered.
    pub frames_rendered: u64,
    /// Frames dropped by QoS (late).
    pub frames_dropped: u64,
    /// frames_dropped / (frames_rendered + frames_dropped), 0 without frames.
    pub drop_ratio: f64,
    /// Underruns shorter than the stall threshold (frames a little late; not stalls).
    #[serde(default)]
    pub short_underruns: u64,
    /// Connections lost.
    pub disconnects: u64,
    /// Connections re-established.
    pub reconnects: u64,
    /// Lowest cache level during playback, ms (0 if there was an underrun).
    pub min_cache_ms: f64,
    /// Media played, ms.
    pub played_ms: f64,
    /// Reader start to end, ms.
    pub session_ms: f64,
    /// Video stream bytes received.
    pub bytes: u64,
    /// Average received bitrate over the session, kbit/s.
    pub avg_bitrate_kbps: f64,
    /// Why the reader stopped (`null` if it has not).
    pub end_reason: Option<StreamEndReason>,
}
