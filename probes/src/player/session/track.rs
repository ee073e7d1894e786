//! One track of the session: the video, or the audio when it has its own segments.
//! Each track has its own request slot, position, quality decision, ABR instance and
//! HLS playlist state, and its own level in the shared [`Buffer`](super::super::buffer::Buffer)
//! (track index = buffer track index), as dash.js keeps one stream processor and one
//! source buffer per media type.

use super::super::abr::Abr;
use super::super::manifest::MediaKind;
use super::Slot;
use crate::record::MediaType;
use std::collections::HashMap;
use url::Url;

/// The video track's index (always 0; the audio track, if any, is 1).
pub(crate) const VIDEO: usize = 0;

pub(crate) struct Track {
    pub kind: MediaKind,
    pub slot: Slot,
    /// Next presentation time to fetch, once known.
    pub next_pos_s: Option<f64>,
    /// Quality chosen for the segment at `next_pos_s` (decided once per segment).
    pub decided: Option<usize>,
    pub last_quality: Option<usize>,
    /// HLS: `(number, start_s)` of a segment of the previously loaded media playlist.
    pub hls_anchor: Option<(u64, f64)>,
    /// HLS: each quality's media playlist URL (for reloads).
    pub playlist_urls: Vec<Option<Url>>,
    /// HLS: when each quality's media playlist was last loaded.
    pub hls_loaded_ns: HashMap<usize, u64>,
    pub abr: Box<dyn Abr>,
}

impl Track {
    pub fn new(kind: MediaKind, abr: Box<dyn Abr>, since_ns: u64) -> Self {
        Self {
            kind,
            slot: Slot::Idle { since_ns },
            next_pos_s: None,
            decided: None,
            last_quality: None,
            hls_anchor: None,
            playlist_urls: Vec::new(),
            hls_loaded_ns: HashMap::new(),
            abr,
        }
    }

    /// The record's name of this track's kind.
    pub fn media_type(&self) -> MediaType {
        media_type(self.kind)
    }
}

/// The record's name of a media kind.
pub(crate) fn media_type(kind: MediaKind) -> MediaType {
    match kind {
        MediaKind::Video => MediaType::Video,
        MediaKind::Audio => MediaType::Audio,
    }
}
