//! The "conventional" throughput-based client of TAPAS, as the baseline of PANDA.
//!
//! Sources: De Cicco, Caldaralo, Palmisano, Mascolo, "TAPAS: a Tool for rApid
//! Prototyping of Adaptive Streaming algorithms", ACM VideoNext 2014 (its
//! `ConventionalController`), and the "conventional" client described as the baseline
//! in Li, Zhang, Gahm, Pan, Hu, Begen, Oran, "Probe and Adapt: Rate Adaptation for HTTP
//! Video Streaming At Scale" (PANDA), IEEE JSAC 2014. Its steps:
//!
//! 1. Estimate: each finished segment gives a throughput sample
//!    `x = segment bits / download time`.
//! 2. Smooth: `y <- y + alpha (x - y)` with `alpha` = 0.2 per segment; the first sample
//!    initialises `y = x` (as TAPAS does). TAPAS scales `alpha` by the last download
//!    time (`y <- y - T alpha (y - x)`); the per-segment form is used here so the
//!    filter stays stable for downloads longer than `1 / alpha` = 5 s.
//! 3. Quantise: the highest bitrate `<= (1 - epsilon) y`, safety margin `epsilon` =
//!    0.15 (TAPAS and PANDA). TAPAS adds a dead zone on the way down (it only steps
//!    down when `y` itself is below the current rate); that is not modelled.
//! 4. Schedule: buffering while the buffer is below the target, back-to-back requests;
//!    at or above the target (steady state) the client waits until the buffer is back
//!    at the target, `delay_s = max(0, buffer_s - target)`, which gives one request per
//!    segment duration (TAPAS's idle time `tau - T`). TAPAS fixes the target at 15 s;
//!    here it defaults to `max_buffer_s - segment_duration_s` (the highest level at
//!    which another segment fits) so it follows the session's maximum buffer.
//!
//! Before the first sample: quality 0. Parameters: [`Conventional::alpha`] (0.2),
//! [`Conventional::safety_margin`] (0.15), [`Conventional::target_buffer_s`] (`None`).

use super::{Abr, AbrDecision, AbrInput, DownloadSample, highest_below, non_negative};

/// The TAPAS / PANDA conventional client (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Conventional {
    /// EWMA weight of the newest throughput sample (default 0.2).
    pub alpha: f64,
    /// Safety margin `epsilon`: the rate must be `<= (1 - epsilon) y` (default 0.15).
    pub safety_margin: f64,
    /// Target buffer in seconds; `None` = `max_buffer_s - segment_duration_s`.
    pub target_buffer_s: Option<f64>,
    smoothed_bps: Option<f64>,
}

impl Conventional {
    /// TAPAS's and PANDA's EWMA weight.
    pub const DEFAULT_ALPHA: f64 = 0.2;
    /// TAPAS's and PANDA's safety margin.
    pub const DEFAULT_SAFETY_MARGIN: f64 = 0.15;

    /// A conventional client with the given smoothing weight, safety margin and target
    /// buffer (`None` for `max_buffer_s - segment_duration_s`).
    pub fn new(alpha: f64, safety_margin: f64, target_buffer_s: Option<f64>) -> Self {
        Self {
            alpha,
            safety_margin,
            target_buffer_s,
            smoothed_bps: None,
        }
    }

    /// The smoothed throughput `y` in bit/s, `None` before the first sample.
    pub fn smoothed_bps(&self) -> Option<f64> {
        self.smoothed_bps
    }

    /// The target buffer in seconds for `input`, `None` when it cannot be known (no
    /// explicit target and a maximum buffer that is not finite and positive).
    pub fn target_s(&self, input: &AbrInput<'_>) -> Option<f64> {
        match self.target_buffer_s {
            Some(t) => Some(non_negative(t)),
            None => {
                let max_buffer = non_negative(input.max_buffer_s);
                (max_buffer > 0.0)
                    .then(|| non_negative(max_buffer - non_negative(input.segment_duration_s)))
            }
        }
    }
}

impl Default for Conventional {
    /// alpha 0.2, safety margin 0.15, target = max buffer - one segment.
    fn default() -> Self {
        Self::new(Self::DEFAULT_ALPHA, Self::DEFAULT_SAFETY_MARGIN, None)
    }
}

impl Abr for Conventional {
    fn name(&self) -> String {
        "conventional".to_string()
    }

    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision {
        let quality = match self.smoothed_bps {
            Some(y) => highest_below(
                input.bitrates_bps,
                non_negative(1.0 - self.safety_margin) * y,
            ),
            None => 0,
        };
        let delay_s = self.target_s(input).map_or(0.0, |target| {
            non_negative(non_negative(input.buffer_s) - target)
        });
        AbrDecision { quality, delay_s }
    }

    fn on_download(&mut self, sample: &DownloadSample) {
        let Some(x) = sample.throughput_bps().filter(|x| x.is_finite()) else {
            return;
        };
        let alpha = if self.alpha.is_finite() {
            self.alpha.clamp(0.0, 1.0)
        } else {
            Self::DEFAULT_ALPHA
        };
        self.smoothed_bps = Some(match self.smoothed_bps {
            None => x,
            Some(y) => y + alpha * (x - y),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u64; 6] = [300_000, 750_000, 1_500_000, 3_000_000, 5_000_000, 8_000_000];

    fn input(buffer_s: f64) -> AbrInput<'static> {
        AbrInput {
            now_s: 0.0,
            buffer_s,
            max_buffer_s: 30.0,
            segment_duration_s: 4.0,
            bitrates_bps: &LADDER,
            last_quality: None,
            playing: true,
        }
    }

    /// A segment downloaded at `mbps` Mbit/s over 2 s.
    fn sample(mbps: f64) -> DownloadSample {
        DownloadSample {
            bytes: (mbps * 1e6 * 2.0 / 8.0) as u64,
            duration_s: 2.0,
            latency_s: 0.05,
            quality: 0,
            segment_duration_s: 4.0,
        }
    }

    #[test]
    fn quality_zero_before_any_sample() {
        let mut c = Conventional::default();
        assert_eq!(c.decide(&input(0.0)), AbrDecision::now(0));
    }

    #[test]
    fn smoothing_after_three_samples() {
        // x = 4, 2, 3 Mbit/s: y1 = 4; y2 = 4 + 0.2 (2 - 4) = 3.6;
        // y3 = 3.6 + 0.2 (3 - 3.6) = 3.48 Mbit/s.
        // Rate: 0.85 x 3.48 = 2.958 Mbit/s -> 1500 kbit/s (index 2).
        let mut c = Conventional::default();
        c.on_download(&sample(4.0));
        assert_eq!(c.smoothed_bps(), Some(4e6));
        // 0.85 x 4 = 3.4 -> 3000 (index 3).
        assert_eq!(c.decide(&input(0.0)).quality, 3);
        c.on_download(&sample(2.0));
        assert!((c.smoothed_bps().unwrap() - 3.6e6).abs() < 1e-6);
        c.on_download(&sample(3.0));
        assert!((c.smoothed_bps().unwrap() - 3.48e6).abs() < 1e-6);
        assert_eq!(c.decide(&input(10.0)), AbrDecision::now(2));
    }

    #[test]
    fn waits_above_the_target_buffer() {
        // max buffer 30 s, segment 4 s: target 26 s.
        let mut c = Conventional::default();
        c.on_download(&sample(4.0));
        assert_eq!(c.target_s(&input(0.0)), Some(26.0));
        assert_eq!(c.decide(&input(20.0)).delay_s, 0.0);
        assert_eq!(c.decide(&input(26.0)).delay_s, 0.0);
        let d = c.decide(&input(28.0));
        assert_eq!(d.quality, 3);
        assert!((d.delay_s - 2.0).abs() < 1e-12);
        // Explicit target (TAPAS's 15 s).
        c.target_buffer_s = Some(15.0);
        assert!((c.decide(&input(20.0)).delay_s - 5.0).abs() < 1e-12);
    }

    #[test]
    fn custom_parameters() {
        // alpha 0.5, epsilon 0: y = 4, then 4 + 0.5 (2 - 4) = 3 -> 3000 (index 3).
        let mut c = Conventional::new(0.5, 0.0, None);
        c.on_download(&sample(4.0));
        c.on_download(&sample(2.0));
        assert_eq!(c.smoothed_bps(), Some(3e6));
        assert_eq!(c.decide(&input(0.0)).quality, 3);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut c = Conventional::default();
        c.on_download(&DownloadSample {
            bytes: 1000,
            duration_s: 0.0,
            latency_s: 0.0,
            quality: 0,
            segment_duration_s: 4.0,
        });
        assert_eq!(c.smoothed_bps(), None);
        c.on_download(&sample(4.0));
        let nan = AbrInput {
            buffer_s: f64::NAN,
            max_buffer_s: f64::NAN,
            segment_duration_s: f64::NAN,
            ..input(0.0)
        };
        assert_eq!(c.decide(&nan), AbrDecision::now(3));
        let empty = AbrInput {
            bitrates_bps: &[],
            ..input(0.0)
        };
        assert_eq!(c.decide(&empty), AbrDecision::now(0));
        assert_eq!(c.name(), "conventional");
    }
}
