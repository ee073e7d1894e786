//! The GStreamer adapter: receives and decodes a live stream and drives the
//! [`StreamCore`] with the real clock. Blocking (GStreamer runs its own threads);
//! call it from a blocking thread. Every pipeline is set to NULL when it is dropped,
//! on success, error and panic alike.
//!
//! Errors before the first video frame end the session with a [`StreamError`]
//! (unreachable server, not a stream, no video); after it, a lost connection is a
//! `stream_disconnect` event and the reconnect policy decides.

use super::core::{Action, StreamConfig, StreamCore};
pub use super::pipeline::StreamError;
use super::pipeline::{self, Network, Playback, classify, frame_stats};
use crate::clock::Clock;
use crate::record::{DisconnectCause, Event, StreamEndReason};
use gstreamer as gst;
use gstreamer::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Longest wait for a frame before the core is looked at again.
const TICK: Duration = Duration::from_millis(20);
/// How often the renderer's counters are read.
const STATS_EVERY: Duration = Duration::from_millis(250);

/// What to play and how.
#[derive(Debug, Clone)]
pub struct ReaderOptions {
    /// The core's settings (URL, cache, reconnect policy, ...).
    pub config: StreamConfig,
    /// Stop after this long (`None`: until the stream ends or `stop` is set).
    pub duration: Option<Duration>,
    /// Fail if no video frame arrives within this long after the start.
    pub start_timeout: Duration,
}

/// Plays the stream until the duration, the end of the stream (reconnect `never`) or
/// `stop`; hands every event to `on_event` as it happens.
pub fn run(
    opts: &ReaderOptions,
    clock: &dyn Clock,
    stop: &AtomicBool,
    mut on_event: impl FnMut(Event),
) -> Result<(), StreamError> {
    pipeline::init()?;
    let url = opts.config.url.clone();
    let started = clock.now();
    let play = pipeline::playback()?;
    let mut core = StreamCore::new(opts.config.clone(), started);
    let mut net: Option<Network> = None;
    let mut feeder = Feeder::default();
    let mut frames = FrameCounter::default();
    let mut next_stats = started;
    loop {
        let now = clock.now();
        if stop.load(Ordering::Relaxed) {
            core.finish(now, StreamEndReason::Stopped);
        } else if opts.duration.is_some_and(|d| now >= started + d) {
            core.finish(now, StreamEndReason::Duration);
        }
        core.handle_timeout(now);
        let mut stopping = false;
        while let Some(a) = core.poll_action() {
            match a {
                Action::Connect => {
                    match pipeline::network(&url, connect_timeout(core.has_data())) {
                        Ok(n) => net = Some(n),
                        Err(e) if !core.has_data() => return Err(e),
                        Err(e) => core.on_disconnect(now, DisconnectCause::Error, &e.to_string()),
                    }
                }
                Action::Play | Action::Pause => {
                    // The renderer's counters restart on state changes: read them first.
                    let (r, d) = frames.read(&play.sink);
                    core.on_frame_stats(r, d);
                    let state = if a == Action::Play {
                        gst::State::Playing
                    } else {
                        gst::State::Paused
                    };
                    let _ = play.pipeline.0.set_state(state);
                }
                Action::Stop => stopping = true,
            }
        }
        while let Some(e) = core.poll_event() {
            on_event(e);
        }
        if stopping {
            return Ok(());
        }
        if let Some(lost) = net
            .as_ref()
            .and_then(|n| connection_lost(&url, n, core.has_data()))
        {
            net = None;
            match lost {
                Lost::Fatal(e) => return Err(e),
                Lost::Disconnect(cause, msg) => core.on_disconnect(now, cause, &msg),
            }
            continue;
        }
        check_playback(&url, &play)?;
        if !core.has_data() && now >= started + opts.start_timeout {
            return Err(StreamError::NoVideo {
                url,
                secs: opts.start_timeout.as_secs(),
            });
        }
        if now >= next_stats {
            let (rendered, dropped) = frames.read(&play.sink);
            core.on_frame_stats(rendered, dropped);
            next_stats = now + STATS_EVERY;
        }
        let wait = core
            .poll_timeout()
            .map_or(TICK, |t| t.saturating_sub(now))
            .min(TICK);
        match &net {
            Some(n) => {
                if let Some(sample) = n
                    .sink
                    .try_pull_sample(gst::ClockTime::from_nseconds(wait.as_nanos() as u64))
                {
                    feeder.feed(&mut core, &play, clock.now(), &sample);
                }
            }
            None => std::thread::sleep(wait),
        }
    }
}

/// 5 s for the first connection; 1 s while reconnecting, so that a host that does
/// not answer (a paused VM) delays the samples by at most that.
fn connect_timeout(reconnecting: bool) -> Duration {
    Duration::from_secs(if reconnecting { 1 } else { 5 })
}

enum Lost {
    Fatal(StreamError),
    Disconnect(DisconnectCause, String),
}

/// Looks at the network pipeline's bus for an error or the end of the stream.
fn connection_lost(url: &str, n: &Network, had_data: bool) -> Option<Lost> {
    let bus = n.pipeline.0.bus()?;
    while let Some(m) = bus.pop() {
        match m.view() {
            gst::MessageView::Error(e) => {
                let from = m.src().map(|s| s.name().to_string()).unwrap_or_default();
                if !had_data {
                    return Some(Lost::Fatal(classify(url, &e.error(), &from)));
                }
                return Some(Lost::Disconnect(
                    DisconnectCause::Error,
                    format!("{} ({from})", e.error()),
                ));
            }
            gst::MessageView::Eos(_) => {
                if !had_data {
                    return Some(Lost::Fatal(StreamError::NotAStream {
                        url: url.into(),
                        message: "the server ended the response before any video frame".into(),
                    }));
                }
                return Some(Lost::Disconnect(
                    DisconnectCause::EndOfStream,
                    "end of stream".into(),
                ));
            }
            _ => {}
        }
    }
    None
}

/// Fails on a decoding or rendering error.
fn check_playback(url: &str, play: &Playback) -> Result<(), StreamError> {
    if let Some(msg) = pipeline::first_error(&play.pipeline.0) {
        return Err(StreamError::Decode {
            url: url.into(),
            message: msg,
        });
    }
    Ok(())
}

/// Cumulative renderer counters across the resets of basesink's `stats`.
#[derive(Debug, Default)]
struct FrameCounter {
    base: (u64, u64),
    last: (u64, u64),
}

impl FrameCounter {
    fn read(&mut self, sink: &gst::Element) -> (u64, u64) {
        let now = frame_stats(sink);
        if now.0 < self.last.0 || now.1 < self.last.1 {
            self.base = (self.base.0 + self.last.0, self.base.1 + self.last.1);
        }
        self.last = now;
        (self.base.0 + now.0, self.base.1 + now.1)
    }
}

/// Moves frames from the network's appsink into the playback pipeline.
#[derive(Debug, Default)]
struct Feeder {
    caps: Option<gst::Caps>,
    last_pts: Option<Duration>,
}

impl Feeder {
    fn feed(
        &mut self,
        core: &mut StreamCore,
        play: &Playback,
        now: Duration,
        sample: &gst::Sample,
    ) {
        let Some(buffer) = sample.buffer_owned() else {
            return;
        };
        let segment = sample
            .segment()
            .and_then(|s| s.downcast_ref::<gst::ClockTime>());
        let running = |t: Option<gst::ClockTime>| match (t, segment) {
            (Some(t), Some(seg)) => seg.to_running_time(t).or(Some(t)),
            (t, _) => t,
        };
        let pts =
            running(buffer.pts().or(buffer.dts())).map(|t| Duration::from_nanos(t.nseconds()));
        let dts = running(buffer.dts()).map(|t| Duration::from_nanos(t.nseconds()));
        let dur = buffer
            .duration()
            .map(|d| Duration::from_nanos(d.nseconds()));
        let Some(pts) = pts.or_else(|| {
            self.last_pts
                .map(|p| p + dur.unwrap_or(Duration::from_millis(40)))
        }) else {
            return;
        };
        self.last_pts = Some(pts);
        let caps = sample.caps_owned();
        let codec = caps
            .as_ref()
            .and_then(|c| c.structure(0).map(|s| s.name().to_string()))
            .unwrap_or_default();
        if caps.is_some() && caps != self.caps {
            play.src.set_caps(caps.as_ref());
            self.caps = caps;
        }
        let media = core.on_frame(now, pts, dur, buffer.size() as u64, &codec);
        let mut out = buffer;
        {
            let b = out.make_mut();
            b.set_pts(gst::ClockTime::from_nseconds(media.as_nanos() as u64));
            let dts = dts.map(|d| media.saturating_sub(pts.saturating_sub(d)));
            b.set_dts(dts.map(|d| gst::ClockTime::from_nseconds(d.as_nanos() as u64)));
        }
        // A flow error here is the playback pipeline shutting down; its bus says why.
        let _ = play.src.push_buffer(out);
    }
}
