//! dash.js's ThroughputRule, with its InsufficientBufferRule.
//!
//! Source: dash.js `ThroughputRule` and `InsufficientBufferRule` (`src/streaming/rules/abr/`),
//! with the throughput history of [`DualEwma`] (Sabre's `ThroughputRule` is the same rule).
//!
//! - Throughput estimate `T`: [`DualEwma`] over every finished download (weight = its
//!   download duration), half-lives 8 s and 3 s.
//! - Throughput rule: the highest bitrate `<= safety_factor x T`, safety factor 0.9
//!   (dash.js `bandwidthSafetyFactor`).
//! - InsufficientBufferRule (enabled by default, factor 0.7): while playing, the choice
//!   is capped at the highest bitrate `<= 0.7 x T x buffer_s / segment_duration_s`,
//!   i.e. a segment should download in 70 % of the media time already buffered. dash.js
//!   combines its rules by taking the lowest quality, which is this cap. It uses the raw
//!   estimate `T` (not `0.9 x T`), as dash.js does. It does not apply during startup or
//!   while stalled (`playing == false`), where the buffer is empty by definition.
//! - Before any sample: quality 0 (dash.js starts from its initial bitrate; the lowest is
//!   the conservative, configuration-free choice).
//! - Never delays a request (pacing is the session's maximum buffer). dash.js's latency
//!   correction is not modelled.

use super::ewma::DualEwma;
use super::{Abr, AbrDecision, AbrInput, DownloadSample, highest_below, non_negative};

/// dash.js's throughput rule (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputRule {
    /// Fraction of the estimate the chosen bitrate may use (default 0.9).
    pub safety_factor: f64,
    /// InsufficientBufferRule factor (default `Some(0.7)`); `None` disables the rule.
    pub insufficient_buffer_factor: Option<f64>,
    estimator: DualEwma,
}

impl ThroughputRule {
    /// dash.js's bandwidth safety factor.
    pub const DEFAULT_SAFETY_FACTOR: f64 = 0.9;
    /// dash.js's InsufficientBufferRule safety factor.
    pub const DEFAULT_INSUFFICIENT_BUFFER_FACTOR: f64 = 0.7;

    /// A rule with the given estimator half-lives (seconds), safety factor and
    /// InsufficientBufferRule factor (`None` to disable it).
    pub fn new(
        slow_half_life_s: f64,
        fast_half_life_s: f64,
        safety_factor: f64,
        insufficient_buffer_factor: Option<f64>,
    ) -> Self {
        Self {
            safety_factor,
            insufficient_buffer_factor,
            estimator: DualEwma::new(slow_half_life_s, fast_half_life_s),
        }
    }

    /// The current throughput estimate in bit/s (before the safety factor), `None`
    /// before the first sample.
    pub fn estimate_bps(&self) -> Option<f64> {
        self.estimator.estimate_bps()
    }

    /// The estimator.
    pub fn estimator(&self) -> &DualEwma {
        &self.estimator
    }
}

impl Default for ThroughputRule {
    /// dash.js defaults: half-lives 8 s / 3 s, safety 0.9, InsufficientBufferRule 0.7.
    fn default() -> Self {
        Self::new(
            DualEwma::DEFAULT_SLOW_HALF_LIFE_S,
            DualEwma::DEFAULT_FAST_HALF_LIFE_S,
            Self::DEFAULT_SAFETY_FACTOR,
            Some(Self::DEFAULT_INSUFFICIENT_BUFFER_FACTOR),
        )
    }
}

impl Abr for ThroughputRule {
    fn name(&self) -> String {
        "throughput".to_string()
    }

    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision {
        let Some(estimate) = self.estimate_bps() else {
            return AbrDecision::now(0);
        };
        let mut quality = highest_below(
            input.bitrates_bps,
            non_negative(self.safety_factor) * estimate,
        );
        if let Some(factor) = self.insufficient_buffer_factor
            && input.playing
        {
            let segment_s = non_negative(input.segment_duration_s);
            if segment_s > 0.0 {
                let cap_bps =
                    non_negative(factor) * estimate * non_negative(input.buffer_s) / segment_s;
                quality = quality.min(highest_below(input.bitrates_bps, cap_bps));
            }
        }
        AbrDecision::now(quality)
    }

    fn on_download(&mut self, sample: &DownloadSample) {
        if let Some(bps) = sample.throughput_bps() {
            self.estimator.add(sample.duration_s, bps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u64; 6] = [300_000, 750_000, 1_500_000, 3_000_000, 5_000_000, 8_000_000];

    fn input(buffer_s: f64, playing: bool) -> AbrInput<'static> {
        AbrInput {
            now_s: 0.0,
            buffer_s,
            max_buffer_s: 30.0,
            segment_duration_s: 2.0,
            bitrates_bps: &LADDER,
            last_quality: None,
            playing,
        }
    }

    /// A 2 s segment downloaded at `bps` in 1 s.
    fn sample_at(bps: f64) -> DownloadSample {
        DownloadSample {
            bytes: (bps / 8.0) as u64,
            duration_s: 1.0,
            latency_s: 0.05,
            quality: 0,
            segment_duration_s: 2.0,
        }
    }

    #[test]
    fn quality_zero_before_any_sample() {
        let mut rule = ThroughputRule::default();
        assert_eq!(rule.decide(&input(0.0, false)), AbrDecision::now(0));
        assert_eq!(rule.decide(&input(20.0, true)), AbrDecision::now(0));
    }

    #[test]
    fn constant_three_mbits_picks_1500_kbits() {
        // Estimate 3 Mbit/s exactly; 0.9 x 3 = 2.7 Mbit/s -> 1500 kbit/s (index 2).
        // Buffer 10 s, segment 2 s: the insufficient-buffer cap is 0.7 x 3 x 5 = 10.5
        // Mbit/s, no cap.
        let mut rule = ThroughputRule::default();
        for _ in 0..5 {
            rule.on_download(&sample_at(3e6));
        }
        assert!((rule.estimate_bps().unwrap() - 3e6).abs() < 1e-3);
        assert_eq!(rule.decide(&input(10.0, true)), AbrDecision::now(2));
        // Startup (not playing): no insufficient-buffer cap.
        assert_eq!(rule.decide(&input(0.0, false)), AbrDecision::now(2));
    }

    #[test]
    fn two_samples_use_the_dual_ewma() {
        // 1 Mbit/s then 2 Mbit/s, 1 s each: estimate = min(slow, fast) = slow
        // = (0.917004 x 1 + 2) / 1.917004 = 1.521648 Mbit/s (see ewma.rs);
        // 0.9 x 1.521648 = 1.369483 Mbit/s -> 750 kbit/s (index 1).
        let mut rule = ThroughputRule::default();
        rule.on_download(&sample_at(1e6));
        rule.on_download(&sample_at(2e6));
        assert!((rule.estimate_bps().unwrap() - 1_521_648.0).abs() < 1.0);
        assert_eq!(rule.decide(&input(20.0, true)), AbrDecision::now(1));
    }

    #[test]
    fn insufficient_buffer_rule_caps_when_playing() {
        // Estimate 3 Mbit/s; buffer 1 s, segment 2 s: cap = 0.7 x 3 x 1/2 = 1.05 Mbit/s
        // -> 750 kbit/s (index 1), below the throughput rule's index 2.
        let mut rule = ThroughputRule::default();
        rule.on_download(&sample_at(3e6));
        assert_eq!(rule.decide(&input(1.0, true)), AbrDecision::now(1));
        // Buffer 0.2 s: cap = 0.21 Mbit/s, below every bitrate -> 0.
        assert_eq!(rule.decide(&input(0.2, true)), AbrDecision::now(0));
        // Disabled: back to index 2.
        rule.insufficient_buffer_factor = None;
        assert_eq!(rule.decide(&input(1.0, true)), AbrDecision::now(2));
    }

    #[test]
    fn custom_parameters() {
        // Safety 0.5: 0.5 x 3 = 1.5 Mbit/s -> index 2; safety 1.0 -> 3 Mbit/s -> index 3.
        let mut rule = ThroughputRule::new(8.0, 3.0, 0.5, None);
        rule.on_download(&sample_at(3e6));
        assert_eq!(rule.decide(&input(10.0, true)).quality, 2);
        rule.safety_factor = 1.0;
        assert_eq!(rule.decide(&input(10.0, true)).quality, 3);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut rule = ThroughputRule::default();
        rule.on_download(&DownloadSample {
            bytes: 1000,
            duration_s: 0.0,
            latency_s: 0.0,
            quality: 0,
            segment_duration_s: 2.0,
        });
        assert_eq!(rule.estimate_bps(), None);
        rule.on_download(&sample_at(3e6));
        let mut nan = input(f64::NAN, true);
        nan.segment_duration_s = f64::NAN;
        assert_eq!(rule.decide(&nan).quality, 2);
        nan.segment_duration_s = 0.0;
        assert_eq!(rule.decide(&nan).quality, 2);
        nan.segment_duration_s = 2.0;
        assert_eq!(rule.decide(&nan).quality, 0);
        let empty = AbrInput {
            bitrates_bps: &[],
            ..input(10.0, true)
        };
        assert_eq!(rule.decide(&empty), AbrDecision::now(0));
        assert_eq!(rule.name(), "throughput");
    }
}
