//! Manifests, DASH and HLS, parsed into one model the player core plays from.
//!
//! The model is a list of [`Period`]s, each with video [`Representation`]s sorted by
//! bandwidth (index 0 = lowest). A representation's segments are a [`SegmentIndex`]:
//! an explicit list (SegmentTimeline, SegmentList, an HLS media playlist, a parsed
//! sidx), a `$Number$` template computed on demand (so a 10-hour or endless live
//! presentation costs nothing to hold), or a reference that must be fetched first
//! (SegmentBase index range, HLS media playlist not loaded yet).
//!
//! This module never does I/O: parsers take bytes and the URL they came from.

pub mod dash;
pub mod hls;
pub mod model;
pub mod sidx;
mod template;

pub use model::*;

use thiserror::Error;

/// Why a manifest could not be used.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ManifestError {
    /// The bytes are not a manifest of any supported kind.
    #[error(
        "{url}: not a DASH MPD or HLS playlist ({detail}); check that the URL points at a manifest"
    )]
    NotAManifest {
        /// Where the bytes came from.
        url: String,
        /// What was seen.
        detail: String,
    },
    /// The manifest parsed but is malformed or uses something unsupported.
    #[error("{url}: invalid manifest: {detail}")]
    Invalid {
        /// Where the manifest came from.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// The manifest has no video representation to play.
    #[error("{url}: the manifest has no video representation; qoeprobe plays video only")]
    NoVideo {
        /// Where the manifest came from.
        url: String,
    },
}

/// Parses a manifest of either kind, deciding by content (`#EXTM3U` = HLS, `<MPD` =
/// DASH). `now_unix_ms` is the wall clock, used to place a live DASH presentation's
/// segments in time.
pub fn parse(bytes: &[u8], url: &url::Url, now_unix_ms: i64) -> Result<Manifest, ManifestError> {
    let head: Vec<u8> = bytes
        .iter()
        .copied()
        .skip_while(|b| b.is_ascii_whitespace() || *b == 0xEF || *b == 0xBB || *b == 0xBF)
        .take(512)
        .collect();
    let head = String::from_utf8_lossy(&head);
    if head.starts_with("#EXTM3U") {
        hls::parse(bytes, url)
    } else if head.contains("<MPD") || head.starts_with("<?xml") {
        dash::parse(bytes, url, now_unix_ms)
    } else {
        let shown: String = head.chars().take(40).collect();
        Err(ManifestError::NotAManifest {
            url: url.to_string(),
            detail: format!("starts with {shown:?}"),
        })
    }
}
