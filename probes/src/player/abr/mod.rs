//! Adaptive bitrate (ABR) algorithms behind one trait, one file per algorithm.
//!
//! The session asks [`Abr::decide`] before each media segment request and reports each
//! finished download through [`Abr::on_download`]. Algorithms are pure: no clock, no
//! I/O; everything they need is in [`AbrInput`] and the samples they were given.
//! Build one by name with [`by_name`] (`throughput`, `bba`, `bola`, `dynamic`,
//! `conventional`, `fixed:<index>`).

pub mod bba;
pub mod bola;
pub mod conventional;
pub mod dynamic;
pub mod ewma;
pub mod fixed;
pub mod throughput;

use thiserror::Error;

/// Everything an ABR algorithm may look at when choosing the next segment's quality.
#[derive(Debug, Clone)]
pub struct AbrInput<'a> {
    /// Seconds since the session started.
    pub now_s: f64,
    /// Buffer level in seconds of media.
    pub buffer_s: f64,
    /// The session's maximum buffer in seconds.
    pub max_buffer_s: f64,
    /// Duration of the segment about to be requested, in seconds.
    pub segment_duration_s: f64,
    /// Announced bitrates in bit/s, ascending (index = quality).
    pub bitrates_bps: &'a [u64],
    /// Quality of the previous media segment, if any.
    pub last_quality: Option<usize>,
    /// Whether playback has started (false during startup and while stalled).
    pub playing: bool,
}

/// An algorithm's choice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AbrDecision {
    /// Quality index to request (clamped by the session to the available range).
    pub quality: usize,
    /// Seconds to wait before sending the request (BOLA's and BBA's pacing); 0 = now.
    pub delay_s: f64,
}

impl AbrDecision {
    /// Request quality `quality` now.
    pub fn now(quality: usize) -> Self {
        Self {
            quality,
            delay_s: 0.0,
        }
    }
}

/// One finished media segment download, as the algorithm learns it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DownloadSample {
    /// Body bytes received.
    pub bytes: u64,
    /// Request sent to last byte, in seconds.
    pub duration_s: f64,
    /// Request sent to first response byte, in seconds.
    pub latency_s: f64,
    /// Quality that was downloaded.
    pub quality: usize,
    /// Media duration of the segment, in seconds.
    pub segment_duration_s: f64,
}

impl DownloadSample {
    /// Measured throughput in bit/s (bytes x 8 / duration), `None` for a zero duration.
    pub fn throughput_bps(&self) -> Option<f64> {
        (self.duration_s > 0.0).then(|| self.bytes as f64 * 8.0 / self.duration_s)
    }
}

/// An adaptive bitrate algorithm.
pub trait Abr: Send {
    /// The name it is selected by.
    fn name(&self) -> String;
    /// Chooses the quality of the next media segment.
    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision;
    /// Learns from a finished media segment download.
    fn on_download(&mut self, sample: &DownloadSample);
}

/// An unknown or malformed ABR name.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error(
    "unknown ABR algorithm {given:?}; valid: throughput, bba, bola, dynamic, conventional, fixed:<index>"
)]
pub struct UnknownAbr {
    /// What was given.
    pub given: String,
}

/// The names [`by_name`] accepts (`fixed` takes `:<index>`).
pub const NAMES: &[&str] = &[
    "throughput",
    "bba",
    "bola",
    "dynamic",
    "conventional",
    "fixed:<index>",
];

/// Builds an algorithm from its name, with its documented defaults.
pub fn by_name(name: &str) -> Result<Box<dyn Abr>, UnknownAbr> {
    let err = || UnknownAbr {
        given: name.to_string(),
    };
    Ok(match name {
        "throughput" => Box::new(throughput::ThroughputRule::default()),
        "bba" => Box::new(bba::Bba::default()),
        "bola" => Box::new(bola::Bola::default()),
        "dynamic" => Box::new(dynamic::Dynamic::default()),
        "conventional" => Box::new(conventional::Conventional::default()),
        other => {
            let index = other
                .strip_prefix("fixed:")
                .and_then(|i| i.parse::<usize>().ok())
                .ok_or_else(err)?;
            Box::new(fixed::Fixed::new(index))
        }
    })
}

/// The highest quality whose bitrate is at most `budget_bps` (0 if none is).
pub fn highest_below(bitrates_bps: &[u64], budget_bps: f64) -> usize {
    bitrates_bps
        .iter()
        .rposition(|&b| b as f64 <= budget_bps)
        .unwrap_or(0)
}

/// `x` if it is finite and positive, else 0 (algorithms take NaN, infinite or negative
/// inputs as "nothing").
pub(crate) fn non_negative(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// The highest valid quality index for `bitrates_bps` (0 when there is none).
pub(crate) fn top_quality(bitrates_bps: &[u64]) -> usize {
    bitrates_bps.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_builds_every_documented_algorithm() {
        for name in [
            "throughput",
            "bba",
            "bola",
            "dynamic",
            "conventional",
            "fixed:0",
            "fixed:3",
        ] {
            let abr = by_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(abr.name(), name);
        }
    }

    #[test]
    fn by_name_rejects_bad_names() {
        for name in [
            "fixed:x", "nope", "fixed:", "fixed", "fixed:-1", "", "BOLA", " bola",
        ] {
            let err = by_name(name)
                .err()
                .unwrap_or_else(|| panic!("{name:?} accepted"));
            assert_eq!(
                err,
                UnknownAbr {
                    given: name.to_string()
                }
            );
        }
    }

    #[test]
    fn highest_below_picks_the_highest_affordable() {
        let ladder = [300_000, 750_000, 1_500_000, 3_000_000, 5_000_000, 8_000_000];
        assert_eq!(highest_below(&ladder, 2_700_000.0), 2);
        assert_eq!(highest_below(&ladder, 3_000_000.0), 3);
        assert_eq!(highest_below(&ladder, 100.0), 0);
        assert_eq!(highest_below(&ladder, f64::NAN), 0);
        assert_eq!(highest_below(&ladder, f64::INFINITY), 5);
        assert_eq!(highest_below(&[], 1e9), 0);
    }

    #[test]
    fn helpers_sanitize() {
        assert_eq!(non_negative(f64::NAN), 0.0);
        assert_eq!(non_negative(-1.0), 0.0);
        assert_eq!(non_negative(f64::INFINITY), 0.0);
        assert_eq!(non_negative(2.5), 2.5);
        assert_eq!(top_quality(&[]), 0);
        assert_eq!(top_quality(&[1, 2, 3]), 2);
    }
}
