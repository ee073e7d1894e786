//! The game prober's options: one type for the `game` flags and the scenario file's
//! `[application.game]` table, validated once while it is read (docs/game.md,
//! docs/scenario-file.md). A scenario file also names the probe (`name`); the command
//! line takes the server's address and how long to play.

use super::core::{GameConfig, Protocol};
use crate::values::{Millis, PerSec};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Game options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
pub struct GameOptions {
    /// Probe name in the results (scenario files only; default `game`).
    #[serde(default = "default_name")]
    #[cfg_attr(feature = "clap", arg(skip = default_name()))]
    pub name: String,
    /// Commands (test packets) per second.
    #[serde(default = "default_cmdrate")]
    #[cfg_attr(feature = "clap", arg(long, default_value_t = default_cmdrate()))]
    pub cmdrate: PerSec,
    /// Protocol.
    #[serde(default = "default_protocol")]
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value_t = default_protocol()))]
    pub protocol: Protocol,
    /// A snapshot gap above this is a freeze, in ms (default: max(3 ticks, 100 ms)).
    #[serde(default)]
    #[cfg_attr(feature = "clap", arg(long = "freeze-threshold", value_name = "MS"))]
    pub freeze_threshold_ms: Option<Millis>,
}

fn default_name() -> String {
    "game".into()
}
fn default_cmdrate() -> PerSec {
    PerSec(66.0)
}
fn default_protocol() -> Protocol {
    Protocol::Qgt
}

impl Default for GameOptions {
    fn default() -> Self {
        GameOptions {
            name: default_name(),
            cmdrate: default_cmdrate(),
            protocol: default_protocol(),
            freeze_threshold_ms: None,
        }
    }
}

impl GameOptions {
    /// The prober's configuration against `server` for `duration`, with the run's
    /// wall anchor (also the seed of the session nonce, mixed with the process id).
    pub fn config(&self, server: &str, duration: Duration, wall_anchor_unix_ns: u64) -> GameConfig {
        let mut cfg = GameConfig::new(self.protocol, server.to_string());
        cfg.duration = duration;
        cfg.cmd_interval = Duration::from_secs_f64(1.0 / self.cmdrate.get());
        cfg.freeze_threshold = self.freeze_threshold_ms.map(Millis::duration);
        cfg.wall_anchor_unix_ns = wall_anchor_unix_ns;
        cfg.nonce_seed = wall_anchor_unix_ns ^ u64::from(std::process::id());
        cfg
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_and_checked_once() {
        let o: GameOptions = toml::from_str("protocol = \"stamp\"\ncmdrate = 100").unwrap();
        let cfg = o.config("127.0.0.1:9", Duration::from_secs(3), 5);
        assert_eq!(cfg.protocol, Protocol::Stamp);
        assert_eq!(cfg.cmd_interval, Duration::from_millis(10));
        assert!(toml::from_str::<GameOptions>("cmdrate = 0").is_err());
        assert!(toml::from_str::<GameOptions>("protocol = \"tcp\"").is_err());
    }
}
