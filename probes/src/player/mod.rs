//! The DASH/HLS player emulator.
//!
//! - [`manifest`]: DASH and HLS parsing into one model;
//! - [`abr`]: adaptive bitrate algorithms;
//! - [`buffer`]: the playback buffer (Sabre semantics);
//! - [`retry`]: retry policies;
//! - [`session`]: the sans-IO session state machine that ties them together;
//! - [`summary`]: the session summary, a pure function of its events;
//! - [`http`]: the tokio + reqwest adapter that drives a session with real requests;
//! - [`sim`]: the same session on a virtual clock against a throughput trace;
//! - [`PlayerOptions`]: the options shared by `qoeprobe play` and scenario files.

pub mod abr;
pub mod buffer;
pub mod http;
pub mod manifest;
mod options;
pub mod retry;
pub mod session;
pub mod sim;
pub mod summary;

pub use options::{AbrName, PlayerOptions, RetryName};
