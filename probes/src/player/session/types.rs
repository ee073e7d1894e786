//! The session's configuration, inputs, outputs and internal bookkeeping types.

use super::super::manifest::{ByteRange, ManifestError, SegmentRef};
use super::super::retry::RetryPolicy;
use crate::record::RequestType;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use url::Url;

/// Session settings. Defaults follow dash.js where it has one (see docs/player.md).
#[derive(Debug, Clone)]
pub struct PlayerConfig {
    /// Manifest URL (MPD or HLS master/media playlist).
    pub url: Url,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Maximum buffer: no media request is sent while it would overfill (20 s, the
    /// study's player).
    pub max_buffer: Duration,
    /// Buffer needed to start playback (0 = the first segment).
    pub startup_threshold: Duration,
    /// Buffer needed to resume after a stall (0 = the first segment).
    pub resume_threshold: Duration,
    /// Session length; `None` = until the content ends (VoD) or `stop`.
    pub duration: Option<Duration>,
    /// Timeout of a manifest or playlist request (dash.js: 10 s).
    pub manifest_timeout: Duration,
    /// Timeout of any other request (dash.js: 20 s).
    pub segment_timeout: Duration,
    /// Live: distance behind the live edge to start at; `None` = the manifest's
    /// suggestion, else three segment durations.
    pub live_delay: Option<Duration>,
    /// Wall clock (ns since the Unix epoch) at `now` = 0, to place live segments.
    pub wall_anchor_unix_ns: u64,
    /// The `source` of the events (`probe:player`).
    pub source: String,
}

impl PlayerConfig {
    /// Defaults for playing `url`.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            retry: RetryPolicy::dashjs(),
            max_buffer: Duration::from_secs(20),
            startup_threshold: Duration::ZERO,
            resume_threshold: Duration::ZERO,
            duration: None,
            manifest_timeout: super::super::retry::DASHJS_MANIFEST_TIMEOUT,
            segment_timeout: super::super::retry::DASHJS_FRAGMENT_TIMEOUT,
            live_delay: None,
            wall_anchor_unix_ns: 0,
            source: crate::record::probe_source("player"),
        }
    }
}

/// A request the adapter must send.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Identifies the request in later inputs.
    pub id: u64,
    /// What it fetches.
    pub request_type: RequestType,
    /// The absolute URL's text: built without the URL parser for templated segments
    /// (thousands per session), parsed only by the adapter that sends it
    /// ([`Request::parse_url`]).
    pub url: Arc<str>,
    /// Byte range, if any (send `Range: bytes=first-last`).
    pub range: Option<ByteRange>,
    /// Expected body size when the manifest tells it (media of byte-range segments).
    pub expected_bytes: Option<u64>,
    /// Media: the size the announced bandwidth implies (bandwidth x duration / 8),
    /// used by the simulator when no byte range gives the exact size.
    pub nominal_bytes: Option<u64>,
}

impl Request {
    /// The URL, parsed (it is always valid: the core builds it from parsed URLs).
    pub fn parse_url(&self) -> Result<Url, url::ParseError> {
        Url::parse(&self.url)
    }
}

/// What the core asks the adapter to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this request now and report its progress.
    Send(Request),
    /// Cancel this request; report nothing more about it.
    Abort(u64),
}

/// How a request attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Could not connect (refused, unreachable, DNS).
    Connect,
    /// Connection reset or closed before a response.
    Reset,
    /// The core's timeout fired.
    Timeout,
    /// The server answered with a non-2xx status.
    Status(u16),
    /// The body ended before its announced length.
    Truncated,
    /// The response was unusable (unparseable playlist or index).
    Invalid,
}

impl FailureKind {
    /// Name used in `request_error` events.
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureKind::Connect => "connect",
            FailureKind::Reset => "reset",
            FailureKind::Timeout => "timeout",
            FailureKind::Status(_) => "status",
            FailureKind::Truncated => "truncated",
            FailureKind::Invalid => "invalid",
        }
    }

    /// Whether the failure means the network path (not the server) failed.
    pub fn is_transport(&self) -> bool {
        matches!(
            self,
            FailureKind::Connect
                | FailureKind::Reset
                | FailureKind::Timeout
                | FailureKind::Truncated
        )
    }
}

/// Why a session could not play at all.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum PlayerError {
    /// The manifest was fetched but cannot be played.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The manifest could not be fetched.
    #[error(
        "cannot load {url}: {detail} (after {attempts} attempts); {}",
        unreachable_hint(url)
    )]
    Unreachable {
        /// Manifest URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        detail: String,
    },
}

/// What to check when a manifest cannot be loaded: a local file is not a server.
fn unreachable_hint(url: &str) -> &'static str {
    if url.starts_with("file:") {
        "check that the file exists and is readable"
    } else {
        "check the URL and that the server is up"
    }
}

/// What a request is for. `track` indexes the session's tracks (0 = video).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Job {
    Manifest {
        refresh: bool,
    },
    Playlist {
        track: usize,
        period: usize,
        quality: usize,
        url: Url,
        refresh: bool,
    },
    Index {
        track: usize,
        period: usize,
        quality: usize,
    },
    Init {
        track: usize,
        key: String,
        url: Url,
        range: Option<ByteRange>,
    },
    Media {
        track: usize,
        period: usize,
        quality: usize,
        segment: SegmentRef,
    },
}

impl Job {
    pub(crate) fn request_type(&self) -> RequestType {
        match self {
            Job::Manifest { .. } => RequestType::Manifest,
            Job::Playlist { .. } => RequestType::Playlist,
            Job::Index { .. } => RequestType::Index,
            Job::Init { .. } => RequestType::Init,
            Job::Media { .. } => RequestType::Media,
        }
    }

    /// The track the job fetches for (`None` for the manifest).
    pub(crate) fn track(&self) -> Option<usize> {
        match self {
            Job::Manifest { .. } => None,
            Job::Playlist { track, .. }
            | Job::Index { track, .. }
            | Job::Init { track, .. }
            | Job::Media { track, .. } => Some(*track),
        }
    }
}

/// A request job with its retry state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attempt {
    pub job: Job,
    /// 1-based attempt number of the next send.
    pub attempt: u32,
    pub first_failure_ns: Option<u64>,
}

/// A slot: idle, waiting for a time, or busy with a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Slot {
    Idle {
        since_ns: u64,
    },
    /// At `at_ns`: send `attempt` if given, else plan again.
    Waiting {
        at_ns: u64,
        attempt: Option<Attempt>,
    },
    Busy {
        id: u64,
    },
}

/// Transport failures since the service was last reachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outage {
    /// First failure.
    pub since_ns: u64,
    /// Failed attempts since.
    pub failed: u32,
    /// Whether a connection was opened since.
    pub new_connection: bool,
}

/// What the adapter saw of a response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// HTTP status.
    pub status: u16,
    /// `Content-Length`, if given.
    pub content_length: Option<u64>,
    /// `HTTP/1.1`, `HTTP/2`, ..., if known.
    pub http_version: Option<&'static str>,
}

/// Which slot a request occupies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotId {
    /// The media slot of a track.
    Track(usize),
    /// The live refresh slot.
    Refresh,
}

/// A request on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Inflight {
    pub req: Request,
    pub attempt: Attempt,
    pub slot: SlotId,
    pub t_scheduled_ns: u64,
    pub t_request_ns: u64,
    pub t_response_ns: Option<u64>,
    pub status: u16,
    pub content_length: Option<u64>,
    pub http_version: Option<&'static str>,
    pub received: u64,
    pub body: Option<Vec<u8>>,
    pub deadline_ns: u64,
}
