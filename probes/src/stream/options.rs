//! The stream reader's options: one type for the `stream` flags and the scenario
//! file's `[application.stream]` table, validated once while it is read
//! (docs/stream.md, docs/scenario-file.md). The differences are explicit: a scenario
//! file names the probe and the stream's path on the service (`name`, `path`), the
//! command line takes the URL and a duration; the stall threshold is written in
//! milliseconds in a file (`stall_threshold_ms`) and in seconds on the command line
//! (`--stall-threshold`), as it always was.

use super::config::{ReconnectPolicy, StreamConfig};
use crate::values::{Millis, PositiveSecs, Secs};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Stream reader options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct StreamOptions {
    /// Probe name in the results (scenario files only; default `stream`).
    #[serde(default = "default_name")]
    #[cfg_attr(feature = "clap", arg(skip = default_name()))]
    pub name: String,
    /// Path of the stream on the live service (scenario files only; the command line
    /// takes a URL).
    #[serde(default = "default_path")]
    #[cfg_attr(feature = "clap", arg(skip = default_path()))]
    pub path: String,
    /// Seconds of media to prefill before playback starts, like MPlayer's -cache
    /// (0 = no cache). A later underrun is a stall until data arrives again.
    #[serde(default = "no_cache")]
    #[cfg_attr(
        feature = "clap",
        arg(long = "cache", value_name = "SECS", default_value_t = no_cache())
    )]
    pub cache_s: Secs,
    /// What to do when the connection is lost.
    #[serde(default = "default_reconnect")]
    #[cfg_attr(
        feature = "clap",
        arg(long, value_enum, value_name = "POLICY", default_value_t = default_reconnect())
    )]
    pub reconnect: ReconnectPolicy,
    /// An underrun counts as a stall once playback has been frozen this long, in
    /// seconds; shorter ones are reported as short underruns.
    #[serde(default = "default_stall")]
    #[cfg_attr(
        feature = "clap",
        arg(
            long = "stall-threshold",
            value_name = "SECS",
            default_value = "0.1",
            value_parser = millis_from_secs
        )
    )]
    pub stall_threshold_ms: Millis,
    /// Fail if no video frame arrives within this long after the start, in seconds.
    #[serde(default = "default_start_timeout")]
    #[cfg_attr(
        feature = "clap",
        arg(long = "start-timeout", value_name = "SECS", default_value_t = default_start_timeout())
    )]
    pub start_timeout_s: PositiveSecs,
}

fn default_name() -> String {
    "stream".into()
}
fn default_path() -> String {
    "/live.ts".into()
}
fn no_cache() -> Secs {
    Secs(0.0)
}
fn default_reconnect() -> ReconnectPolicy {
    ReconnectPolicy::Never
}
fn default_stall() -> Millis {
    Millis(100.0)
}
fn default_start_timeout() -> PositiveSecs {
    PositiveSecs(10.0)
}

/// `--stall-threshold SECS` as milliseconds.
#[cfg(feature = "clap")]
fn millis_from_secs(s: &str) -> Result<Millis, String> {
    let secs: Secs = s.parse()?;
    Millis::new(secs.get() * 1000.0)
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            name: default_name(),
            path: default_path(),
            cache_s: no_cache(),
            reconnect: default_reconnect(),
            stall_threshold_ms: default_stall(),
            start_timeout_s: default_start_timeout(),
        }
    }
}

impl StreamOptions {
    /// The reader core's settings for `url`, recording events as `source`.
    pub fn config(&self, url: &str, source: String) -> StreamConfig {
        let mut cfg = StreamConfig::new(url, self.cache_s.duration(), self.reconnect);
        cfg.source = source;
        cfg.stall_threshold = self.stall_threshold_ms.duration();
        cfg
    }

    /// How long the reader waits for its first frame.
    pub fn start_timeout(&self) -> Duration {
        self.start_timeout_s.duration()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_checked_once() {
        let o: StreamOptions =
            toml::from_str("cache_s = 2\nreconnect = \"always\"\nstall_threshold_ms = 50").unwrap();
        let cfg = o.config("http://h/live.ts", "probe:s".into());
        assert_eq!(cfg.cache, Duration::from_secs(2));
        assert_eq!(cfg.reconnect, ReconnectPolicy::Always);
        assert_eq!(cfg.stall_threshold, Duration::from_millis(50));
        assert!(toml::from_str::<StreamOptions>("reconnect = \"sometimes\"").is_err());
    }
}
