//! The format-independent manifest model (see the parent module).

use std::sync::Arc;
use std::time::Duration;
use url::Url;

pub use super::template::{NumberTemplate, expand_identifier, expand_number};

/// `dash` or `hls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// MPEG-DASH MPD.
    Dash,
    /// HLS master or media playlist.
    Hls,
}

impl ManifestFormat {
    /// `"dash"` or `"hls"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ManifestFormat::Dash => "dash",
            ManifestFormat::Hls => "hls",
        }
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// DASH or HLS.
    pub format: ManifestFormat,
    /// Where it was fetched from (after redirects): the base for relative URLs and
    /// the URL to reload for live.
    pub url: Url,
    /// Dynamic MPD, or HLS media playlist without `#EXT-X-ENDLIST`.
    pub live: bool,
    /// Live: how often to reload (DASH `minimumUpdatePeriod`; HLS target duration).
    /// `None` = never reload.
    pub refresh_interval: Option<Duration>,
    /// VoD: presentation duration, if known.
    pub duration: Option<Duration>,
    /// DASH live: `availabilityStartTime` in ms since the Unix epoch.
    pub availability_start_unix_ms: Option<i64>,
    /// Live: how far behind the live edge to start (DASH
    /// `suggestedPresentationDelay`, HLS three target durations), if announced.
    pub live_delay: Option<Duration>,
    /// Periods in presentation order (HLS: exactly one).
    pub periods: Vec<Period>,
}

/// The two kinds of media the player fetches, each into its own buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Video (the ladder the ABR chooses from).
    Video,
    /// Audio: a DASH audio adaptation set or an HLS `EXT-X-MEDIA` audio rendition.
    Audio,
}

/// One period.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    /// Period id, if any.
    pub id: Option<String>,
    /// Start on the presentation timeline, in seconds.
    pub start_s: f64,
    /// Duration in seconds, if known (last period of a live presentation: `None`).
    pub duration_s: Option<f64>,
    /// Video representations sorted by bandwidth, lowest first. Never empty.
    pub video: Vec<Representation>,
    /// Representations of the audio the player plays alongside the video (one
    /// adaptation set or rendition group), lowest bandwidth first; empty when the
    /// audio, if any, is muxed into the video segments.
    pub audio: Vec<Representation>,
}

impl Period {
    /// The representations of one kind.
    pub fn reps(&self, kind: MediaKind) -> &[Representation] {
        match kind {
            MediaKind::Video => &self.video,
            MediaKind::Audio => &self.audio,
        }
    }

    /// The representations of one kind, mutable.
    pub fn reps_mut(&mut self, kind: MediaKind) -> &mut Vec<Representation> {
        match kind {
            MediaKind::Video => &mut self.video,
            MediaKind::Audio => &mut self.audio,
        }
    }
}

/// The highest bandwidth a representation may announce, bit/s (1 Tbit/s): above
/// it a manifest is refused, since a segment's nominal size would be beyond any
/// link (an MPD with `bandwidth="18446744073709551615"` asks exabytes per segment).
pub const MAX_BANDWIDTH_BPS: u64 = 1_000_000_000_000;

/// One representation (DASH Representation, HLS variant stream or rendition).
#[derive(Debug, Clone, PartialEq)]
pub struct Representation {
    /// DASH `@id`, or the HLS variant's URI.
    pub id: String,
    /// Announced bandwidth in bit/s.
    pub bandwidth_bps: u64,
    /// Width in pixels, if announced.
    pub width: Option<u32>,
    /// Height in pixels, if announced.
    pub height: Option<u32>,
    /// Codecs string, if announced.
    pub codecs: Option<String>,
    /// Initialization segment, if any.
    pub init: Option<Resource>,
    /// The media segments.
    pub segments: SegmentIndex,
}

/// A URL plus an optional byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Absolute URL.
    pub url: Url,
    /// Byte range, if only part of the resource is wanted.
    pub range: Option<ByteRange>,
}

/// An inclusive byte range `first..=last`, as in an HTTP `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte offset.
    pub first: u64,
    /// Last byte offset (inclusive).
    pub last: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.last.saturating_sub(self.first) + 1
    }

    /// Always false: a range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The HTTP header value, `bytes=first-last`.
    pub fn header_value(&self) -> String {
        format!("bytes={}-{}", self.first, self.last)
    }
}

impl std::fmt::Display for ByteRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// One media segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Segment number: DASH `$Number$` (or startNumber + position), HLS media
    /// sequence number.
    pub number: u64,
    /// Start on the presentation timeline, in seconds.
    pub start_s: f64,
    /// Duration in seconds.
    pub duration_s: f64,
    /// Where to fetch it.
    pub resource: Resource,
}

/// A media segment as the player requests it: a [`Segment`] whose URL is text,
/// shared by the request, its retries and its record.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentRef {
    /// Segment number (as [`Segment::number`]).
    pub number: u64,
    /// Start on the presentation timeline, in seconds.
    pub start_s: f64,
    /// Duration in seconds.
    pub duration_s: f64,
    /// The absolute URL's text (see [`NumberTemplate::url_text`]).
    pub url: Arc<str>,
    /// Byte range, if only part of the resource is wanted.
    pub range: Option<ByteRange>,
}

impl SegmentRef {
    fn of(s: &Segment) -> Self {
        Self {
            number: s.number,
            start_s: s.start_s,
            duration_s: s.duration_s,
            url: s.resource.url.as_str().into(),
            range: s.resource.range,
        }
    }
}

/// How a representation's segments are known.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentIndex {
    /// Every segment listed (SegmentTimeline, SegmentList, HLS media playlist, sidx),
    /// sorted by start time.
    List(Vec<Segment>),
    /// `SegmentTemplate` with `$Number$` and a fixed `@duration`: computed on demand.
    Template(NumberTemplate),
    /// `SegmentBase`: the index (sidx) must be fetched from `resource` first; the
    /// media is in `media` (same URL), at the byte offsets the sidx gives.
    Indexed {
        /// URL and `indexRange` of the sidx.
        index: Resource,
        /// URL of the file holding the media.
        media: Url,
    },
    /// HLS variant whose media playlist has not been loaded yet.
    Playlist(Url),
}

/// Rounding allowed when finding the segment that continues playback from a time.
const SEGMENT_EPS_S: f64 = 1e-3;

/// The index of the first segment of `list` that ends after `t` (see
/// [`Representation::segment_from`]).
fn list_index_from(list: &[Segment], t: f64) -> usize {
    list.partition_point(|s| s.start_s + s.duration_s <= t + SEGMENT_EPS_S)
}

impl Representation {
    /// Whether the segments are known without another request.
    pub fn is_resolved(&self) -> bool {
        matches!(
            self.segments,
            SegmentIndex::List(_) | SegmentIndex::Template(_)
        )
    }

    /// The first segment that ends after presentation time `t` (allowing 1 ms of
    /// rounding), i.e. the segment to fetch to continue playback from `t`.
    pub fn segment_from(&self, t: f64) -> Option<Segment> {
        match &self.segments {
            SegmentIndex::List(list) => list.get(list_index_from(list, t)).cloned(),
            SegmentIndex::Template(tpl) => tpl.segment(tpl.number_at(t + SEGMENT_EPS_S)),
            SegmentIndex::Indexed { .. } | SegmentIndex::Playlist(_) => None,
        }
    }

    /// [`Representation::segment_from`] as a [`SegmentRef`], without parsing a
    /// templated segment's URL.
    pub fn segment_ref_from(&self, t: f64) -> Option<SegmentRef> {
        match &self.segments {
            SegmentIndex::List(list) => list.get(list_index_from(list, t)).map(SegmentRef::of),
            SegmentIndex::Template(tpl) => tpl.segment_ref(tpl.number_at(t + SEGMENT_EPS_S)),
            SegmentIndex::Indexed { .. } | SegmentIndex::Playlist(_) => None,
        }
    }

    /// End of the last known segment on the presentation timeline, if bounded.
    pub fn known_end_s(&self) -> Option<f64> {
        match &self.segments {
            SegmentIndex::List(list) => list.last().map(|s| s.start_s + s.duration_s),
            SegmentIndex::Template(tpl) => tpl
                .count
                .map(|c| tpl.first_start_s + c as f64 * tpl.duration_s),
            _ => None,
        }
    }

    /// A typical segment duration in seconds (the template's, or the longest listed),
    /// used by ABR rules and live-edge placement.
    pub fn nominal_segment_duration_s(&self) -> Option<f64> {
        match &self.segments {
            SegmentIndex::List(list) => list
                .iter()
                .map(|s| s.duration_s)
                .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d)))),
            SegmentIndex::Template(tpl) => Some(tpl.duration_s),
            _ => None,
        }
    }
}
