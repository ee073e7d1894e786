//! The live stream reader (`qoeprobe stream`): plays an RTSP or HTTP progressive live
//! stream in real time with real decoding and measures what a viewer sees with
//! MPlayer's cache: stalls, cache level, frames rendered and dropped, disconnects,
//! reconnects and the received bitrate.
//!
//! - [`config`]: the settings and the driver actions.
//! - [`core`]: the sans-IO cache/stall model, fed frame arrivals with a `now` (always
//!   built; no GStreamer).
//! - [`summary`]: the summary as a pure function of the events.
//! - [`StreamOptions`]: the options shared by `qoeprobe stream` and scenario files.
//! - [`play`]: the adapter. With the cargo feature `gstreamer` (on by default) it
//!   receives and decodes the stream with GStreamer and drives the core with the real
//!   clock; a build without it says so ([`PlayError::NoGstreamer`]).
//!
//! Nothing here knows about migrations; see docs/stream.md for the metrics.

pub mod config;
pub mod core;
#[cfg(feature = "gstreamer")]
mod gst;
mod options;
#[cfg(feature = "gstreamer")]
mod pipeline;
pub mod summary;

pub use self::core::{Action, ReconnectPolicy, StreamConfig, StreamCore};
pub use options::StreamOptions;
#[cfg(feature = "gstreamer")]
pub use pipeline::StreamError;
pub use summary::summarize;

use crate::clock::Clock;
use crate::record::Event;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Why a reader session could not play.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// GStreamer could not play the stream.
    #[cfg(feature = "gstreamer")]
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// This build has no GStreamer.
    #[error(
        "this qoeprobe was built without GStreamer (cargo feature `gstreamer`), so the stream probe cannot play; rebuild with default features"
    )]
    NoGstreamer,
}

/// Whether this build can play streams (it has the `gstreamer` feature).
pub const HAS_GSTREAMER: bool = cfg!(feature = "gstreamer");

/// Plays the stream of `config` until `duration`, the end of the stream (reconnect
/// `never`) or `stop`, failing if no video frame arrives within `start_timeout`;
/// hands every event to `on_event` as it happens. Blocks: run it on a blocking
/// thread.
pub fn play(
    config: StreamConfig,
    duration: Option<Duration>,
    start_timeout: Duration,
    clock: &dyn Clock,
    stop: &AtomicBool,
    on_event: impl FnMut(Event),
) -> Result<(), PlayError> {
    #[cfg(feature = "gstreamer")]
    {
        let opts = gst::ReaderOptions {
            config,
            duration,
            start_timeout,
        };
        Ok(gst::run(&opts, clock, stop, on_event)?)
    }
    #[cfg(not(feature = "gstreamer"))]
    {
        let _ = (config, duration, start_timeout, clock, stop, on_event);
        Err(PlayError::NoGstreamer)
    }
}
