//! Event payloads and the summary of the download checker (`qoeprobe download`).
//! Metric definitions: docs/download.md.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `download_attempt`: an HTTP request is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadAttempt {
    /// URL.
    pub url: String,
    /// Attempt number (1 = first).
    pub attempt: u32,
    /// First byte asked for with `Range: bytes=N-` (`null`: the whole file).
    pub range_start: Option<u64>,
    /// The `If-Range` validator sent (the ETag of the first response).
    pub if_range: Option<String>,
}

/// `download_response`: a response head arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadResponse {
    /// Attempt number.
    pub attempt: u32,
    /// HTTP status.
    pub status: u16,
    /// Offset of the first body byte in the file (0 for a 200).
    pub offset: u64,
    /// Full size of the file, when the response says it.
    pub total_size: Option<u64>,
    /// ETag.
    pub etag: Option<String>,
    /// `true` when this response starts the file over although bytes were already
    /// received (the server ignored the range, or the file changed).
    pub restarted_from_zero: bool,
}

/// `download_progress`: one throughput interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadProgress {
    /// Interval length in ms (100).
    pub interval_ms: f64,
    /// Bytes received in the interval.
    pub bytes: u64,
    /// Bytes of the file held after the interval.
    pub total_bytes: u64,
    /// bytes x 8 / interval, in kbit/s.
    pub throughput_kbps: f64,
}

/// `download_stall_start`: no byte for the stall threshold; `t_ns` is when that was
/// noticed (last byte + threshold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadStallStart {
    /// When the last byte before the stall arrived (the stall's start), ns.
    pub since_ns: u64,
    /// Bytes held.
    pub bytes: u64,
}

/// `download_stall_end`: bytes flow again (or the download ended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadStallEnd {
    /// Start of the stall (last byte before it), ns.
    pub start_ns: u64,
    /// Length: last byte before to first byte after, ms.
    pub duration_ms: f64,
    /// `true` when closed by the end of the download, not by data.
    pub unresolved: bool,
}

/// `download_error`: an attempt failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadError {
    /// Attempt number.
    pub attempt: u32,
    /// `connect`, `reset`, `timeout`, `status`, `bad_range`, `changed`, `invalid`.
    pub error: String,
    /// HTTP status, when the error is one.
    pub status: Option<u16>,
    /// What happened, for a human.
    pub detail: String,
    /// Another attempt follows.
    pub will_retry: bool,
    /// Wait before it, ms.
    pub delay_ms: f64,
}

/// How a download ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DownloadOutcome {
    /// All bytes arrived and every known check passed.
    Completed,
    /// All bytes arrived but the checksum or the size is wrong.
    Corrupt,
    /// The download did not finish (attempts exhausted, fatal status, interrupted).
    Failed,
}

/// `download_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadEnd {
    /// Outcome.
    pub outcome: DownloadOutcome,
    /// Bytes of the file received.
    pub bytes: u64,
    /// SHA-256 of the bytes received, hex.
    pub sha256: String,
    /// The SHA-256 expected (`--sha256`, or published by the server), hex.
    pub expected_sha256: Option<String>,
    /// Whether the checksum matched (`null`: nothing to compare with).
    pub sha256_ok: Option<bool>,
    /// The size expected (`--size`, or announced by the server).
    pub expected_size: Option<u64>,
    /// Whether the size matched (`null`: nothing to compare with).
    pub size_ok: Option<bool>,
    /// Why, for a failure.
    pub reason: Option<String>,
}

/// Summary of a download: a pure function of its events (`probes::download::summarize`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DownloadSummary {
    /// `completed`, `corrupt` or `failed` (`failed` also when the run has no end event).
    pub outcome: DownloadOutcome,
    /// URL.
    pub url: String,
    /// Bytes of the file received.
    pub bytes: u64,
    /// First attempt to end, ms.
    pub duration_ms: f64,
    /// bytes x 8 / duration, kbit/s.
    pub throughput_kbps: f64,
    /// Lowest 100 ms interval throughput while the download ran, kbit/s.
    pub throughput_min_interval_kbps: f64,
    /// Highest 100 ms interval throughput, kbit/s.
    pub throughput_max_interval_kbps: f64,
    /// HTTP requests made.
    pub attempts: u32,
    /// Attempts that continued from a byte offset > 0 with a 206.
    pub resumes: u32,
    /// Some attempt started the file over after bytes had been received.
    pub restarted_from_zero: bool,
    /// Failed attempts.
    pub errors: u32,
    /// Stalls (no byte for the stall threshold).
    pub stall_count: u64,
    /// Sum of stall lengths, ms.
    pub stall_total_ms: f64,
    /// Longest stall, ms.
    pub stall_longest_ms: f64,
    /// SHA-256 of the bytes received, hex.
    pub sha256: Option<String>,
    /// Checksum matched (`null`: nothing to compare with).
    pub sha256_ok: Option<bool>,
    /// Size matched (`null`: nothing to compare with).
    pub size_ok: Option<bool>,
    /// Why it failed, if it did.
    pub reason: Option<String>,
}
