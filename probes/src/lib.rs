//! qoeprobe's probes: deterministic, sans-IO probe cores fed with `now`, the thin
//! tokio adapters that drive them with the real clock, the [`clock`] they read time
//! from and the [`record`] schema every event and summary is written in.
//!
//! Nothing in this crate knows about migrations: a probe measures a service, the
//! `scenarios` crate decides what happens to that service meanwhile.

pub mod client;
pub mod clock;
pub mod download;
pub mod game;
pub mod player;
pub mod record;
pub mod stream;
