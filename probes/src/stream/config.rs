//! The reader's settings and the actions its core asks the driver for.

use std::time::Duration;

/// Default stall threshold: 100 ms, two and a half frames at 25 fps.
pub const DEFAULT_STALL_THRESHOLD: Duration = Duration::from_millis(100);

/// What the reader does after losing the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ReconnectPolicy {
    /// Never (MPlayer): play out the cache, then end.
    Never,
    /// Reconnect until the session ends.
    Always,
}

impl ReconnectPolicy {
    /// `never` or `always`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconnectPolicy::Never => "never",
            ReconnectPolicy::Always => "always",
        }
    }
}

/// Settings of one reader session.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// The stream URL (recorded only).
    pub url: String,
    /// Event source name (`probe:stream`).
    pub source: String,
    /// Media to prefill before playback starts (0 = no cache).
    pub cache: Duration,
    /// What to do after a disconnect.
    pub reconnect: ReconnectPolicy,
    /// An underrun becomes a recorded stall once it lasts this long; shorter ones
    /// (a frame a few ms late) are counted as `short_underruns`.
    pub stall_threshold: Duration,
    /// Period of `stream_sample` events.
    pub sample_interval: Duration,
    /// Delay between connection attempts with `reconnect = always`.
    pub reconnect_interval: Duration,
}

impl StreamConfig {
    /// Defaults: stall threshold 100 ms, samples every 250 ms, reconnect attempts
    /// every second.
    pub fn new(url: &str, cache: Duration, reconnect: ReconnectPolicy) -> Self {
        StreamConfig {
            url: url.to_string(),
            source: crate::record::probe_source("stream"),
            cache,
            reconnect,
            stall_threshold: DEFAULT_STALL_THRESHOLD,
            sample_interval: Duration::from_millis(250),
            reconnect_interval: Duration::from_secs(1),
        }
    }
}

/// What the driver must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open a connection (at start and for each reconnect attempt).
    Connect,
    /// Start or resume rendering.
    Play,
    /// Freeze rendering (a stall).
    Pause,
    /// The session is over: tear everything down.
    Stop,
}
