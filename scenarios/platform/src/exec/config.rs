//! The exec driver's settings: its commands and the service's addresses
//! (docs/exec-driver.md).

use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

/// A command: an argument list, or one string run with `sh -c`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CommandLine {
    /// `sh -c STRING`.
    Shell(String),
    /// Program and arguments.
    Argv(Vec<String>),
}

impl<'de> serde::Deserialize<'de> for CommandLine {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CommandLine;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a command: a string (run with sh -c) or an array of strings (program and arguments)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CommandLine, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("the command is empty"));
                }
                Ok(CommandLine::Shell(v.to_string()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<CommandLine, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                if v.is_empty() {
                    return Err(serde::de::Error::custom(
                        "the command is empty: give at least the program",
                    ));
                }
                Ok(CommandLine::Argv(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The exec driver's commands and addresses (docs/exec-driver.md).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecConfig {
    /// Starts the service once per run (optional); runs until it exits.
    pub prepare: Option<CommandLine>,
    /// Starts the migration; its output lines carry the phase markers.
    pub start: CommandLine,
    /// Run every `poll_interval` while the migration runs; its lines carry markers.
    pub poll: Option<CommandLine>,
    /// Poll interval.
    pub poll_interval: Duration,
    /// Cancels the migration.
    pub cancel: Option<CommandLine>,
    /// Run once at the end of each run (optional).
    pub teardown: Option<CommandLine>,
    /// HTTP service address, for player and download probes.
    pub http: Option<SocketAddr>,
    /// UDP game service address.
    pub game: Option<SocketAddr>,
    /// TCP address the reachability prober connects to (default: `http`).
    pub probe_target: Option<SocketAddr>,
}
