//! The two GStreamer pipelines of the reader and what their errors mean.
//!
//! - The network pipeline (one per connection): `souphttpsrc` (http/https) or
//!   `rtspsrc` (rtsp) into `parsebin` into an `appsink` that hands every compressed
//!   video frame to the driver as soon as it is complete. It never renders.
//! - The playback pipeline (one per session): `appsrc` into `decodebin` into a
//!   `fakesink` with `sync=true qos=true max-lateness=20ms`, which renders on the
//!   clock and counts frames rendered and dropped like a video sink. The driver
//!   pauses it during a stall, so a stall never turns into late frames.

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;

/// Compressed video formats the reader accepts (audio streams are left unlinked).
const VIDEO_CAPS: &str = "video/x-h264;video/x-h265;video/x-vp8;video/x-vp9;video/mpeg;image/jpeg";

/// Why the reader could not play a stream.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The URL is not http, https or rtsp.
    #[error("{url}: unsupported URL (expected http://, https:// or rtsp://)")]
    BadUrl {
        /// The URL given.
        url: String,
    },
    /// GStreamer or one of its plugins is missing.
    #[error("GStreamer is not usable: {0} (install the packages in scripts/packages.txt)")]
    Gstreamer(String),
    /// The server could not be reached or refused the request.
    #[error("cannot open {url}: {message} (is the server running and the URL right?)")]
    Unreachable {
        /// The URL.
        url: String,
        /// What GStreamer said.
        message: String,
    },
    /// The server answered, but not with a video stream.
    #[error("{url} is not a playable video stream: {message}")]
    NotAStream {
        /// The URL.
        url: String,
        /// What GStreamer said.
        message: String,
    },
    /// No video frame arrived within the start timeout.
    #[error("{url}: no video frame arrived within {secs} s (is it a live video stream?)")]
    NoVideo {
        /// The URL.
        url: String,
        /// The timeout.
        secs: u64,
    },
    /// Decoding or rendering failed.
    #[error("cannot decode {url}: {message}")]
    Decode {
        /// The URL.
        url: String,
        /// What GStreamer said.
        message: String,
    },
}

/// Initializes GStreamer once.
pub fn init() -> Result<(), StreamError> {
    gst::init().map_err(|e| StreamError::Gstreamer(e.to_string()))
}

/// A GStreamer pipeline that is set to NULL when dropped (its threads stop).
#[derive(Debug)]
pub struct Owned(pub gst::Pipeline);

impl Drop for Owned {
    fn drop(&mut self) {
        let _ = self.0.set_state(gst::State::Null);
    }
}

/// One connection: the network pipeline and its appsink.
#[derive(Debug)]
pub struct Network {
    /// The pipeline (set to NULL on drop).
    pub pipeline: Owned,
    /// Where the compressed frames come out.
    pub sink: gst_app::AppSink,
}

/// Builds and starts a network pipeline for `url`.
/// `connect_timeout` bounds the TCP check made first (see `preflight`).
pub fn network(url: &str, connect_timeout: std::time::Duration) -> Result<Network, StreamError> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    let quoted = url.replace('"', "%22");
    let src = match scheme.as_deref() {
        Some("http" | "https") => format!("souphttpsrc location=\"{quoted}\" timeout=0 retries=0"),
        Some("rtsp" | "rtsps" | "rtspt") => format!("rtspsrc location=\"{quoted}\" latency=200"),
        _ => return Err(StreamError::BadUrl { url: url.into() }),
    };
    preflight(url, connect_timeout)?;
    let desc = format!(
        "{src} ! parsebin ! appsink name=frames sync=false max-buffers=0 caps=\"{VIDEO_CAPS}\""
    );
    let pipeline = launch(&desc)?;
    let sink = pipeline
        .0
        .by_name("frames")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .ok_or_else(|| StreamError::Gstreamer("the appsink is missing".into()))?;
    pipeline
        .0
        .set_state(gst::State::Playing)
        .map_err(|_| StreamError::Unreachable {
            url: url.into(),
            message: first_error(&pipeline.0)
                .unwrap_or_else(|| "the pipeline did not start".into()),
        })?;
    Ok(Network { pipeline, sink })
}

/// Opens (and closes) a TCP connection to the URL's host first: GStreamer's HTTP
/// source reports a refused connection only as "Internal data stream error".
fn preflight(url: &str, timeout: std::time::Duration) -> Result<(), StreamError> {
    use std::net::{TcpStream, ToSocketAddrs};
    let unreachable = |message: String| StreamError::Unreachable {
        url: url.into(),
        message,
    };
    let parsed = url::Url::parse(url).map_err(|e| StreamError::BadUrl {
        url: format!("{url} ({e})"),
    })?;
    let host = parsed
        .host_str()
        .ok_or_else(|| StreamError::BadUrl { url: url.into() })?;
    let port = parsed.port_or_known_default().unwrap_or(554);
    let addrs = (host.trim_matches(['[', ']']), port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {host}: {e}")))?;
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(format!("cannot connect to {a}: {e}")),
        }
    }
    Err(unreachable(
        last.unwrap_or_else(|| format!("{host} has no address")),
    ))
}

/// The playback pipeline and its ends.
#[derive(Debug)]
pub struct Playback {
    /// The pipeline (set to NULL on drop).
    pub pipeline: Owned,
    /// Where the driver pushes frames.
    pub src: gst_app::AppSrc,
    /// The renderer whose `stats` count frames.
    pub sink: gst::Element,
}

/// Builds the playback pipeline, PAUSED (it prerolls on the first frame).
pub fn playback() -> Result<Playback, StreamError> {
    let pipeline = launch(
        "appsrc name=src format=time is-live=false max-bytes=0 ! decodebin ! \
         fakesink name=render sync=true qos=true max-lateness=20000000",
    )?;
    let src = pipeline
        .0
        .by_name("src")
        .and_then(|e| e.downcast::<gst_app::AppSrc>().ok())
        .ok_or_else(|| StreamError::Gstreamer("the appsrc is missing".into()))?;
    let sink = pipeline
        .0
        .by_name("render")
        .ok_or_else(|| StreamError::Gstreamer("the renderer is missing".into()))?;
    let _ = pipeline.0.set_state(gst::State::Paused);
    Ok(Playback {
        pipeline,
        src,
        sink,
    })
}

/// Frames rendered and dropped so far, from the renderer's `stats`.
pub fn frame_stats(sink: &gst::Element) -> (u64, u64) {
    let stats = sink.property::<gst::Structure>("stats");
    let get = |f: &str| stats.get::<u64>(f).unwrap_or(0);
    (get("rendered"), get("dropped"))
}

fn launch(desc: &str) -> Result<Owned, StreamError> {
    let e = gst::parse::launch(desc)
        .map_err(|e| StreamError::Gstreamer(format!("{e} (pipeline: {desc})")))?;
    e.downcast::<gst::Pipeline>()
        .map(Owned)
        .map_err(|_| StreamError::Gstreamer("not a pipeline".into()))
}

/// The first error message waiting on a pipeline's bus, if any.
pub fn first_error(p: &gst::Pipeline) -> Option<String> {
    let bus = p.bus()?;
    while let Some(m) = bus.pop() {
        if let gst::MessageView::Error(e) = m.view() {
            return Some(e.error().to_string());
        }
    }
    None
}

/// Classifies an error of the network pipeline before any frame arrived.
pub fn classify(url: &str, err: &glib_error::Error, from: &str) -> StreamError {
    let message = format!("{} ({from})", err.message());
    let not_stream = err.matches(gst::StreamError::TypeNotFound)
        || err.matches(gst::StreamError::WrongType)
        || err.matches(gst::StreamError::Demux)
        || err.matches(gst::StreamError::CodecNotFound)
        || err.matches(gst::StreamError::Format);
    if not_stream {
        StreamError::NotAStream {
            url: url.into(),
            message,
        }
    } else {
        StreamError::Unreachable {
            url: url.into(),
            message,
        }
    }
}

/// `glib::Error` without naming the glib crate (gstreamer re-exports it).
pub mod glib_error {
    pub use gstreamer::glib::Error;
}
