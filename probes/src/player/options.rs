//! The player's options: one type for the `play` and `simulate` flags and the
//! scenario file's `[application.player]` table, validated once while it is read
//! (docs/player.md, docs/scenario-file.md). The one difference is explicit: a
//! scenario file names the probe and the manifest's path on the service (`name`,
//! `path`); the command line takes the manifest's URL instead.

use super::abr::{self, Abr, UnknownAbr};
use super::retry::RetryPolicy;
use super::session::PlayerConfig;
use crate::values::{Mib, PositiveSecs, Secs};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use url::Url;

/// An ABR algorithm name the player knows: `throughput`, `bba`, `bola`, `dynamic`,
/// `conventional` or `fixed:<index>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AbrName(String);

impl AbrName {
    /// A new instance of the algorithm.
    pub fn build(&self) -> Box<dyn Abr> {
        // Checked when the name was read.
        abr::by_name(&self.0).unwrap_or_else(|_| Box::new(abr::fixed::Fixed::new(0)))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for AbrName {
    fn default() -> Self {
        AbrName("dynamic".into())
    }
}

impl FromStr for AbrName {
    type Err = UnknownAbr;
    fn from_str(s: &str) -> Result<Self, UnknownAbr> {
        abr::by_name(s).map(|_| AbrName(s.to_string()))
    }
}

impl TryFrom<String> for AbrName {
    type Error = UnknownAbr;
    fn try_from(s: String) -> Result<Self, UnknownAbr> {
        s.parse()
    }
}

impl From<AbrName> for String {
    fn from(a: AbrName) -> String {
        a.0
    }
}

impl fmt::Display for AbrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The player's retry policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum RetryName {
    /// dash.js 5.2.1: the request plus 3 retries, then the server is blocklisted and
    /// playback stays stalled.
    #[default]
    Dashjs,
    /// Backoff until the give-up time (`--give-up-after`, `give_up_after_s`).
    Persistent,
}

/// Player options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct PlayerOptions {
    /// Probe name in the results (scenario files only; default `player`).
    #[serde(default = "default_name")]
    #[cfg_attr(feature = "clap", arg(skip = default_name()))]
    pub name: String,
    /// Manifest path on the HTTP service (scenario files only; the command line takes
    /// a URL).
    #[serde(default = "default_path")]
    #[cfg_attr(feature = "clap", arg(skip = default_path()))]
    pub path: String,
    /// ABR algorithm: throughput, bba, bola, dynamic (dash.js default), conventional,
    /// fixed:<index>.
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(long, default_value = "dynamic"))]
    pub abr: AbrName,
    /// Retry policy: dashjs (dash.js 5.2.1: a request plus 3 retries, then the server
    /// is blocklisted and playback stays stalled) or persistent (backoff until
    /// --give-up-after, then the session ends).
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = RetryName::Dashjs))]
    pub retry: RetryName,
    /// Persistent retry: give up on a request after this many seconds of failures.
    #[serde(default = "default_give_up")]
    #[cfg_attr(
        feature = "clap",
        arg(long = "give-up-after", default_value_t = default_give_up(), value_name = "SECS")
    )]
    pub give_up_after_s: PositiveSecs,
    /// Maximum buffer in seconds (no request while the next segment would overfill it).
    #[serde(default = "default_max_buffer")]
    #[cfg_attr(
        feature = "clap",
        arg(long = "max-buffer", default_value_t = default_max_buffer(), value_name = "SECS")
    )]
    pub max_buffer_s: PositiveSecs,
    /// Buffer needed to start playback, seconds (default 0: the first segment).
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(long = "startup-threshold", value_name = "SECS"))]
    pub startup_threshold_s: Option<Secs>,
    /// Buffer needed to resume after a stall, seconds (default 0: the first segment).
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(long = "resume-threshold", value_name = "SECS"))]
    pub resume_threshold_s: Option<Secs>,
    /// Live: start this many seconds behind the live edge (default: the manifest's
    /// suggestion, else 3 segments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "clap", arg(long = "live-delay", value_name = "SECS"))]
    pub live_delay_s: Option<Secs>,
    /// The service speaks HTTPS (`service_args = ["--tls"]`; scenario files only, the
    /// command line takes a URL): connect with `https://`, HTTP/2 by ALPN, accepting
    /// its self-signed certificate.
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(skip))]
    pub tls: bool,
    /// Largest manifest, playlist or index body read whole, MiB (media segments are
    /// counted, never kept); a larger body is an error that names the limit.
    #[serde(default = "default_max_body")]
    #[cfg_attr(
        feature = "clap",
        arg(long = "max-body", default_value_t = default_max_body(), value_name = "MIB")
    )]
    pub max_body_mib: Mib,
}

fn default_name() -> String {
    "player".into()
}
fn default_path() -> String {
    "/dash/manifest.mpd".into()
}
fn default_give_up() -> PositiveSecs {
    PositiveSecs(120.0)
}
fn default_max_buffer() -> PositiveSecs {
    PositiveSecs(20.0)
}
fn default_max_body() -> Mib {
    Mib((crate::client::DEFAULT_MAX_TEXT_BODY >> 20) as f64)
}

impl Default for PlayerOptions {
    fn default() -> Self {
        PlayerOptions {
            name: default_name(),
            path: default_path(),
            abr: AbrName::default(),
            retry: RetryName::default(),
            give_up_after_s: default_give_up(),
            max_buffer_s: default_max_buffer(),
            startup_threshold_s: None,
            resume_threshold_s: None,
            live_delay_s: None,
            tls: false,
            max_body_mib: default_max_body(),
        }
    }
}

impl PlayerOptions {
    /// The HTTP client options `http` with this player's body limit.
    pub fn http_options(&self, http: crate::client::HttpOptions) -> crate::client::HttpOptions {
        crate::client::HttpOptions {
            max_text_body: Some(self.max_body_mib.bytes()),
            ..http
        }
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        match self.retry {
            RetryName::Dashjs => RetryPolicy::dashjs(),
            RetryName::Persistent => RetryPolicy::persistent(self.give_up_after_s.duration()),
        }
    }

    /// The session configuration for `url` (the session runs until the content ends
    /// or it is stopped; set `duration` to end it earlier).
    pub fn config(&self, url: Url, wall_anchor_unix_ns: u64) -> PlayerConfig {
        let mut cfg = PlayerConfig::new(url);
        cfg.retry = self.retry_policy();
        cfg.max_buffer = self.max_buffer_s.duration();
        if let Some(s) = self.startup_threshold_s {
            cfg.startup_threshold = s.duration();
        }
        if let Some(s) = self.resume_threshold_s {
            cfg.resume_threshold = s.duration();
        }
        cfg.live_delay = self.live_delay_s.map(Secs::duration);
        cfg.wall_anchor_unix_ns = wall_anchor_unix_ns;
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_when_read() {
        assert!("fixed:2".parse::<AbrName>().is_ok());
        assert!("bolla".parse::<AbrName>().is_err());
        let o: PlayerOptions = toml::from_str("abr = \"bba\"\nmax_buffer_s = 30").unwrap();
        assert_eq!(o.abr.as_str(), "bba");
        assert_eq!(o.max_buffer_s, PositiveSecs(30.0));
        assert_eq!(o.name, "player");
        assert!(toml::from_str::<PlayerOptions>("abr = \"nope\"").is_err());
        assert!(toml::from_str::<PlayerOptions>("max_buffer_s = 0").is_err());
        assert!(toml::from_str::<PlayerOptions>("max_bufer_s = 1").is_err());
    }

    #[test]
    fn the_config_follows_the_options() {
        let o = PlayerOptions {
            retry: RetryName::Persistent,
            startup_threshold_s: Some(Secs(4.0)),
            ..PlayerOptions::default()
        };
        let cfg = o.config(Url::parse("http://h/m.mpd").unwrap(), 9);
        assert_eq!(cfg.retry.name(), "persistent");
        assert_eq!(cfg.startup_threshold.as_secs(), 4);
        assert_eq!(cfg.wall_anchor_unix_ns, 9);
    }
}
