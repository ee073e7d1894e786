//! Event payloads and the summary of the DASH/HLS player emulator.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a request fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// The MPD or the HLS master playlist.
    Manifest,
    /// An HLS media playlist.
    Playlist,
    /// A segment index (sidx) of a SegmentBase representation.
    Index,
    /// An initialization segment.
    Init,
    /// A media segment.
    Media,
}

/// Which buffer a request or a stall concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    /// The video track (the ABR ladder).
    Video,
    /// The audio track (DASH audio adaptation set, HLS audio rendition).
    Audio,
}

/// `session_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SessionStart {
    /// The manifest URL played.
    pub url: String,
    /// ABR algorithm name.
    pub abr: String,
    /// Retry policy name.
    pub retry: String,
}

/// One representation as announced by the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RepresentationInfo {
    /// Quality index (0 = lowest bandwidth).
    pub index: usize,
    /// Representation id (DASH) or variant URI (HLS).
    pub id: String,
    /// Announced bandwidth in kbit/s.
    pub bandwidth_kbps: f64,
    /// Frame width, if announced.
    pub width: Option<u32>,
    /// Frame height, if announced.
    pub height: Option<u32>,
}

/// `manifest_loaded`. For an HLS master playlist `live` is not known yet: a second
/// `manifest_loaded` (with no representations) follows when the first media playlist
/// turns out to be live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestLoaded {
    /// Manifest URL.
    pub url: String,
    /// `dash` or `hls`.
    pub format: String,
    /// Live (dynamic MPD / HLS playlist without ENDLIST) or VoD.
    pub live: bool,
    /// Number of periods (always 1 for HLS).
    pub periods: usize,
    /// Video representations of the first period, lowest bandwidth first.
    pub representations: Vec<RepresentationInfo>,
    /// Audio representations of the first period that play in their own buffer
    /// (empty when the audio is muxed into the video or absent).
    #[serde(default)]
    pub audio_representations: Vec<RepresentationInfo>,
    /// Presentation duration for VoD, if known.
    pub duration_ms: Option<f64>,
}

/// `manifest_refresh`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestRefresh {
    /// What was reloaded.
    pub url: String,
    /// Segments known after the reload that were not known before.
    pub new_segments: u64,
}

/// `request`: one completed HTTP request, with the ISO 23009-1 Annex D HTTPRequest
/// timing (`trequest`, `tresponse`, `tfinish`, all `t_ns`-based).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestRecord {
    /// What was fetched.
    #[serde(rename = "type")]
    pub request_type: RequestType,
    /// Track the request is for (`null` for the manifest).
    #[serde(default)]
    pub media_type: Option<MediaType>,
    /// URL requested.
    pub url: String,
    /// Byte range requested (`first-last`, inclusive), if any.
    pub range: Option<String>,
    /// HTTP status code.
    pub status: u16,
    /// When the core wanted the request sent (its timer or triggering input).
    pub tscheduled_ns: u64,
    /// When the request was sent.
    pub trequest_ns: u64,
    /// When the response headers arrived.
    pub tresponse_ns: u64,
    /// When the last byte arrived.
    pub tfinish_ns: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// bytes x 8 / (tfinish - trequest), in kbit/s.
    pub throughput_kbps: f64,
    /// Attempt number of this request (1 = first try).
    pub attempt: u32,
    /// Media segments: quality index.
    pub quality: Option<usize>,
    /// Media segments: announced bandwidth of that quality in kbit/s.
    pub bitrate_kbps: Option<f64>,
    /// Media segments: segment number (DASH `$Number$`, HLS media sequence).
    pub number: Option<u64>,
    /// Media segments: presentation start in ms.
    pub media_start_ms: Option<f64>,
    /// Media segments: duration in ms.
    pub media_duration_ms: Option<f64>,
    /// Level in ms of the request's track buffer (the video buffer for the manifest)
    /// right after this request completed.
    pub buffer_ms: f64,
    /// HTTP version of the response (`HTTP/1.1`, `HTTP/2`), when the adapter knows
    /// it (`null` in the simulator).
    #[serde(default)]
    pub http_version: Option<String>,
}

/// `connection`: the HTTP client opened a new connection (TCP, plus TLS for HTTPS).
/// Under HTTP/2 one connection carries many requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Connection {
    /// Connections opened so far in this session, this one included.
    pub total: u64,
}

/// `request_error`: one failed attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestError {
    /// What was being fetched.
    #[serde(rename = "type")]
    pub request_type: RequestType,
    /// Track (`null` for the manifest).
    #[serde(default)]
    pub media_type: Option<MediaType>,
    /// URL requested.
    pub url: String,
    /// Attempt number (1 = first try).
    pub attempt: u32,
    /// `timeout`, `connect`, `reset`, `status`, `truncated`, `invalid`.
    pub error: String,
    /// HTTP status, when the error is one.
    pub status: Option<u16>,
    /// Human-readable detail.
    pub detail: String,
    /// Buffer level in ms when the attempt failed.
    pub buffer_ms: f64,
}

/// `retry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Retry {
    /// What will be fetched again.
    #[serde(rename = "type")]
    pub request_type: RequestType,
    /// Track (`null` for the manifest).
    #[serde(default)]
    pub media_type: Option<MediaType>,
    /// URL.
    pub url: String,
    /// The attempt about to be made.
    pub attempt: u32,
    /// Wait before it, in ms.
    pub delay_ms: f64,
}

/// `reconnect`: a request succeeded after one or more transport errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Reconnect {
    /// URL of the request that got through.
    pub url: String,
    /// Time since the first of the failures, in ms.
    pub outage_ms: f64,
    /// Failed attempts in between.
    pub failed_attempts: u32,
    /// Whether the client opened a new connection since the first failure (`false`
    /// when, e.g., an HTTP/2 connection survived and only its streams failed).
    #[serde(default)]
    pub new_connection: bool,
}

/// `startup`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Startup {
    /// Session start to playback start, in ms.
    pub delay_ms: f64,
    /// Buffer level when playback started, in ms.
    pub buffer_ms: f64,
}

/// `stall_start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StallStart {
    /// Media position (ms of content played) where playback stopped.
    pub media_ms: f64,
    /// The buffer that ran dry (playback needs every track).
    #[serde(default = "video")]
    pub cause: MediaType,
}

fn video() -> MediaType {
    MediaType::Video
}

/// `stall_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StallEnd {
    /// Length of the stall in ms.
    pub duration_ms: f64,
    /// Buffer level at resume, in ms.
    pub buffer_ms: f64,
    /// `true` when the stall was closed by the end of the session, not by data.
    pub unresolved: bool,
}

/// `switch` (Annex D RepresentationSwitch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Switch {
    /// Track that switched.
    #[serde(default = "video")]
    pub media_type: MediaType,
    /// Previous quality index.
    pub from: usize,
    /// New quality index.
    pub to: usize,
    /// Previous bitrate, kbit/s.
    pub from_kbps: f64,
    /// New bitrate, kbit/s.
    pub to_kbps: f64,
    /// Media time of the first segment at the new quality, in ms.
    pub media_ms: f64,
}

/// `gave_up`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GaveUp {
    /// What could not be fetched.
    #[serde(rename = "type")]
    pub request_type: RequestType,
    /// Track (`null` for the manifest).
    #[serde(default)]
    pub media_type: Option<MediaType>,
    /// URL.
    pub url: String,
    /// Attempts made.
    pub attempts: u32,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The requested duration elapsed.
    Duration,
    /// VoD content played to its end.
    ContentEnd,
    /// The retry policy gave up and the buffer ran out.
    GaveUp,
    /// Stopped from outside (Ctrl-C, runner stop).
    Interrupted,
}

/// `ended`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Ended {
    /// Why.
    pub reason: EndReason,
    /// Content played, in ms.
    pub played_ms: f64,
}

/// The player's summary: a pure function of its events (`player::summary`). These
/// fields are what `qoeprobe play --json` and `simulate --json` write at the top level
/// and what the runner writes under `probes.<name>` in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
pub struct PlayerSummary {
    /// Manifest URL.
    pub url: String,
    /// ABR algorithm.
    pub abr: String,
    /// Retry policy.
    pub retry: String,
    /// `dash` or `hls` (empty if the manifest never loaded).
    pub format: String,
    /// Live or VoD.
    pub live: bool,
    /// Session start to playback start, ms; `null` if playback never started.
    pub startup_delay_ms: Option<f64>,
    /// Rebuffering events after startup.
    pub stall_count: u64,
    /// Total rebuffering time, ms (including a stall still open at the end).
    pub stall_total_ms: f64,
    /// Longest rebuffering, ms.
    pub stall_longest_ms: f64,
    /// stall_total / (play_time + stall_total).
    pub rebuffer_ratio: f64,
    /// Time-average bitrate of the video downloaded, kbit/s (weighted by duration;
    /// announced bitrates, or a segment's size over its duration when none is
    /// announced).
    pub avg_bitrate_kbps: f64,
    /// Sum of |bitrate change| between consecutive video segments, kbit/s.
    pub bitrate_change_sum_kbps: f64,
    /// Video quality switches.
    pub switch_count: u64,
    /// Video media segments downloaded.
    pub segments: u64,
    /// Whether audio played from its own segments and buffer (DASH audio set, HLS
    /// audio rendition); `false` when it is muxed into the video or absent.
    #[serde(default)]
    pub audio: bool,
    /// Audio media segments downloaded.
    #[serde(default)]
    pub audio_segments: u64,
    /// Time-average bitrate of the audio downloaded, kbit/s (as for video; HLS
    /// renditions announce none, so their segments' own bitrate).
    #[serde(default)]
    pub audio_avg_bitrate_kbps: f64,
    /// Stalls that started because the video buffer ran dry.
    #[serde(default)]
    pub video_stalls: u64,
    /// Stalls that started because the audio buffer ran dry.
    #[serde(default)]
    pub audio_stalls: u64,
    /// Content played, ms.
    pub play_time_ms: f64,
    /// Session start to end, ms.
    pub session_ms: f64,
    /// Body bytes received by completed requests.
    pub bytes: u64,
    /// Failed request attempts.
    pub request_errors: u64,
    /// Retries scheduled.
    pub retries: u64,
    /// Recoveries after transport errors (`reconnect` events).
    pub reconnects: u64,
    /// Connections the HTTP client opened (`connection` events; 0 in the simulator).
    #[serde(default)]
    pub connections: u64,
    /// HTTP version of the last response (`HTTP/1.1`, `HTTP/2`), if known.
    #[serde(default)]
    pub http_version: Option<String>,
    /// Whether the player gave up on a request.
    pub gave_up: bool,
    /// Why the session ended (`null` if it has not).
    pub end_reason: Option<EndReason>,
    /// Pensieve's linear QoE summed over segments: bitrate (Mbit/s) - 4.3 x
    /// rebuffering (s) - |bitrate change| (Mbit/s).
    pub qoe_linear: f64,
    /// Media requests: how late each was sent after the core wanted it, ms (p50).
    pub request_lateness_p50_ms: f64,
    /// Same, p99.
    pub request_lateness_p99_ms: f64,
    /// Same, maximum.
    pub request_lateness_max_ms: f64,
}
