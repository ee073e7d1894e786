//! Player flags shared by `play` and `simulate`, and the session configuration they
//! build.

use anyhow::{Context, bail};
use probes::player::abr::{self, Abr};
use probes::player::retry::RetryPolicy;
use probes::player::session::PlayerConfig;
use std::time::Duration;
use url::Url;

/// Player settings.
#[derive(Debug, Clone, clap::Args)]
pub struct PlayerOpts {
    /// ABR algorithm: throughput, bba, bola, dynamic (dash.js default), conventional,
    /// fixed:<index>.
    #[arg(long, default_value = "dynamic")]
    pub abr: String,
    /// Retry policy: dashjs (dash.js 5.2.1: a request plus 3 retries, then the server
    /// is blocklisted and playback stays stalled) or persistent (backoff until
    /// --give-up-after, then the session ends).
    #[arg(long, default_value = "dashjs", value_parser = ["dashjs", "persistent"])]
    pub retry: String,
    /// Persistent retry: give up on a request after this many seconds of failures.
    #[arg(long, default_value_t = 120.0, value_name = "SECS")]
    pub give_up_after: f64,
    /// Maximum buffer in seconds (no request while the next segment would overfill it).
    #[arg(long, default_value_t = 20.0, value_name = "SECS")]
    pub max_buffer: f64,
    /// Buffer needed to start playback, seconds (0 = first segment).
    #[arg(long, default_value_t = 0.0, value_name = "SECS")]
    pub startup_threshold: f64,
    /// Buffer needed to resume after a stall, seconds (0 = first segment).
    #[arg(long, default_value_t = 0.0, value_name = "SECS")]
    pub resume_threshold: f64,
    /// Live: start this many seconds behind the live edge (default: the manifest's
    /// suggestion, else 3 segments).
    #[arg(long, value_name = "SECS")]
    pub live_delay: Option<f64>,
    /// Stop after this many seconds of session time (default: end of content; with
    /// --retry dashjs a session that gave up stays stalled until this or Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,
}

/// Checks a seconds value given on the command line.
pub fn secs(flag: &str, v: f64) -> anyhow::Result<Duration> {
    if !(v >= 0.0 && v.is_finite() && v < 1e9) {
        bail!("--{flag} {v}: expected a number of seconds >= 0");
    }
    Ok(Duration::from_secs_f64(v))
}

impl PlayerOpts {
    /// The ABR algorithm, or a clear error naming the valid ones.
    pub fn abr(&self) -> anyhow::Result<Box<dyn Abr>> {
        Ok(abr::by_name(&self.abr)?)
    }

    /// The session configuration for `url`.
    pub fn config(&self, url: Url, wall_anchor_unix_ns: u64) -> anyhow::Result<PlayerConfig> {
        let give_up = secs("give-up-after", self.give_up_after)?;
        let retry = RetryPolicy::by_name(&self.retry, give_up)
            .with_context(|| format!("--retry {}: expected dashjs or persistent", self.retry))?;
        let mut cfg = PlayerConfig::new(url);
        cfg.retry = retry;
        cfg.max_buffer = secs("max-buffer", self.max_buffer)?;
        if cfg.max_buffer.is_zero() {
            bail!("--max-buffer must be > 0 seconds");
        }
        cfg.startup_threshold = secs("startup-threshold", self.startup_threshold)?;
        cfg.resume_threshold = secs("resume-threshold", self.resume_threshold)?;
        cfg.live_delay = self.live_delay.map(|v| secs("live-delay", v)).transpose()?;
        cfg.duration = self.duration.map(|v| secs("duration", v)).transpose()?;
        cfg.wall_anchor_unix_ns = wall_anchor_unix_ns;
        Ok(cfg)
    }
}

/// Parses a manifest URL given on the command line.
pub fn parse_url(s: &str) -> anyhow::Result<Url> {
    let url = Url::parse(s).map_err(|e| {
        anyhow::anyhow!(
            "{s:?} is not a valid URL ({e}); give the http:// or https:// URL of an MPD or M3U8"
        )
    })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => bail!("{s}: unsupported scheme {other:?}; give an http:// or https:// URL"),
    }
}
