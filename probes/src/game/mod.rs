//! The UDP game-tick prober: measures what a player of a (migrated) game server
//! notices, with qoeprobe's own game protocol (docs/protocol/game.md) or RFC 8762
//! STAMP toward any session reflector. Metric definitions: docs/game.md.
//!
//! [`core`] is the sans-IO state machine, [`summary`] the pure aggregation of its
//! events, [`udp`] the tokio adapter. [`wire`] and [`stamp`] encode and decode.

pub mod core;
mod options;
mod receive;
pub mod stamp;
pub mod summary;
pub mod udp;
pub mod wire;

pub use core::{GameConfig, GameProbe, Protocol};
pub use options::GameOptions;
pub use summary::summarize;
pub use udp::{GameError, resolve, run};
