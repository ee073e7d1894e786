//! The live stream reader (`qoeprobe stream`): plays an RTSP or HTTP progressive live
//! stream in real time with real decoding and measures what a viewer sees with
//! MPlayer's cache: stalls, cache level, frames rendered and dropped, disconnects,
//! reconnects and the received bitrate.
//!
//! - [`config`]: the settings and the driver actions.
//! - [`core`]: the sans-IO cache/stall model, fed frame arrivals with a `now` (always
//!   built; no GStreamer).
//! - [`summary`]: the summary as a pure function of the events.
//! - `gst` (cargo feature `gstreamer`, on by default): the GStreamer adapter that
//!   receives and decodes the stream and drives the core with the real clock.
//!
//! Nothing here knows about migrations; see docs/stream.md for the metrics.

pub mod config;
pub mod core;
#[cfg(feature = "gstreamer")]
pub mod gst;
#[cfg(feature = "gstreamer")]
pub mod pipeline;
pub mod summary;

pub use self::core::{Action, ReconnectPolicy, StreamConfig, StreamCore};
