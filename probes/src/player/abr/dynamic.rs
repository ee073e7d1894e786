//! dash.js's "dynamic" ABR strategy (its default): the throughput rule at low buffer,
//! BOLA at high buffer.
//!
//! Source: dash.js `AbrController` with `abr.ABRStrategy = "abrDynamic"`: BOLA is used
//! once the buffer reaches the stable buffer time (18 s) and the throughput rule again
//! once it falls below half of it (9 s). Sabre's `Dynamic` class is the same idea with
//! a single 10 s threshold.
//!
//! - Starts with the [`ThroughputRule`] (dash.js defaults, see `throughput.rs`).
//! - Switches to [`Bola`] (BOLA-BASIC defaults, see `bola.rs`) when
//!   `buffer_s >= bola_above_s` (default 18 s).
//! - Switches back to the throughput rule when `buffer_s < throughput_below_s`
//!   (default 9 s); in between the current choice is kept (hysteresis).
//! - Both sub-algorithms learn from every download, whichever is in charge; the one in
//!   charge decides (including BOLA's pacing delay).
//! - Small buffers: decisions are taken with at most `max_buffer_s - segment_duration_s`
//!   buffered (the highest level at which another segment still fits), so when that
//!   level is below `bola_above_s` (which includes every max buffer below 18 s) both
//!   thresholds are multiplied by `(max_buffer_s - segment_duration_s) / bola_above_s`:
//!   BOLA takes over when the buffer is as full as a request allows and hands back
//!   below half of that. If a segment does not fit at all (`max_buffer_s <=
//!   segment_duration_s`) the factor is `max_buffer_s / bola_above_s`; a max buffer
//!   that is not finite and positive disables the scaling.

use super::bola::Bola;
use super::throughput::ThroughputRule;
use super::{Abr, AbrDecision, AbrInput, DownloadSample, non_negative};

/// dash.js's dynamic strategy (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Dynamic {
    /// Buffer level (s) at or above which BOLA takes over (default 18 s).
    pub bola_above_s: f64,
    /// Buffer level (s) below which the throughput rule takes back over (default 9 s).
    pub throughput_below_s: f64,
    throughput: ThroughputRule,
    bola: Bola,
    using_bola: bool,
}

impl Dynamic {
    /// dash.js's switch-to-BOLA threshold (its stable buffer time), seconds.
    pub const DEFAULT_BOLA_ABOVE_S: f64 = 18.0;
    /// dash.js's switch-back threshold (half the stable buffer time), seconds.
    pub const DEFAULT_THROUGHPUT_BELOW_S: f64 = 9.0;

    /// A dynamic strategy over the given sub-algorithms and thresholds, starting with
    /// the throughput rule.
    pub fn new(
        throughput: ThroughputRule,
        bola: Bola,
        bola_above_s: f64,
        throughput_below_s: f64,
    ) -> Self {
        Self {
            bola_above_s,
            throughput_below_s,
            throughput,
            bola,
            using_bola: false,
        }
    }

    /// The `(bola_above, throughput_below)` thresholds in seconds in effect for
    /// `input` (scaled down for small buffers, see the module documentation).
    pub fn thresholds(&self, input: &AbrInput<'_>) -> (f64, f64) {
        let (above, below) = (self.bola_above_s, self.throughput_below_s);
        let max_buffer = non_negative(input.max_buffer_s);
        if max_buffer <= 0.0 || above.is_nan() || above <= 0.0 {
            return (above, below);
        }
        let fits = max_buffer - non_negative(input.segment_duration_s);
        let reachable = if fits > 0.0 { fits } else { max_buffer };
        if reachable >= above {
            return (above, below);
        }
        let k = reachable / above;
        (above * k, below * k)
    }

    /// Whether BOLA is currently in charge.
    pub fn using_bola(&self) -> bool {
        self.using_bola
    }

    /// The throughput rule.
    pub fn throughput(&self) -> &ThroughputRule {
        &self.throughput
    }

    /// The BOLA instance.
    pub fn bola(&self) -> &Bola {
        &self.bola
    }
}

impl Default for Dynamic {
    /// dash.js defaults: throughput rule and BOLA defaults, thresholds 18 s / 9 s.
    fn default() -> Self {
        Self::new(
            ThroughputRule::default(),
            Bola::default(),
            Self::DEFAULT_BOLA_ABOVE_S,
            Self::DEFAULT_THROUGHPUT_BELOW_S,
        )
    }
}

impl Abr for Dynamic {
    fn name(&self) -> String {
        "dynamic".to_string()
    }

    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision {
        let (above, below) = self.thresholds(input);
        let buffer = non_negative(input.buffer_s);
        if self.using_bola {
            if buffer < below {
                self.using_bola = false;
            }
        } else if buffer >= above {
            self.using_bola = true;
        }
        if self.using_bola {
            self.bola.decide(input)
        } else {
            self.throughput.decide(input)
        }
    }

    fn on_download(&mut self, sample: &DownloadSample) {
        self.throughput.on_download(sample);
        self.bola.on_download(sample);
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
            max_buffer_s: 60.0,
            segment_duration_s: 4.0,
            bitrates_bps: &LADDER,
            last_quality: None,
            playing: true,
        }
    }

    /// A 4 s segment at 3 Mbit/s downloaded in 1 s (12 Mbit/s).
    fn sample() -> DownloadSample {
        DownloadSample {
            bytes: 1_500_000,
            duration_s: 1.0,
            latency_s: 0.05,
            quality: 3,
            segment_duration_s: 4.0,
        }
    }

    fn assert_scores(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-5, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn switches_at_18_up_and_below_9_down() {
        let mut dynamic = Dynamic::default();
        dynamic.on_download(&sample());
        // (buffer, BOLA in charge afterwards)
        let steps = [
            (0.0, false),
            (10.0, false),
            (17.9, false),
            (18.0, true), // >= 18 s: BOLA
            (25.0, true),
            (12.0, true), // 9 <= buffer < 18: keeps BOLA
            (9.0, true),  // not below 9 s yet
            (8.9, false), // < 9 s: throughput
            (12.0, false),
            (17.99, false), // keeps the throughput rule below 18 s
            (18.5, true),
        ];
        for (buffer, bola) in steps {
            dynamic.decide(&input(buffer));
            assert_eq!(dynamic.using_bola(), bola, "at {buffer} s");
        }
    }

    #[test]
    fn the_one_in_charge_decides() {
        // Both sub-algorithms see the same samples; compare with standalone ones.
        let mut dynamic = Dynamic::default();
        let mut tput = ThroughputRule::default();
        let mut bola = Bola::default();
        for _ in 0..3 {
            dynamic.on_download(&sample());
            tput.on_download(&sample());
            bola.on_download(&sample());
        }
        // 12 Mbit/s x 0.9 = 10.8 -> top (5); BOLA at 10 s would also be computed, but
        // the throughput rule is in charge.
        assert_eq!(dynamic.decide(&input(10.0)), tput.decide(&input(10.0)));
        assert_eq!(dynamic.decide(&input(10.0)).quality, 5);
        // At 20 s BOLA decides. max 60 s, segment 4 s: Q_max = 15,
        // V = 14 / (ln(8000/300) + 5) = 1.690124; Q = 5: scores
        // (V (v_m + 5) - 5) / S_m = [3.450622, 1.999707, 1.234154, 0.734228, 0.492338, 0.3375]
        // -> index 0.
        assert_scores(
            &bola.scores(&input(20.0)),
            &[3.450622, 1.999707, 1.234154, 0.734228, 0.492338, 0.3375],
        );
        let d = dynamic.decide(&input(20.0));
        assert_eq!(d, bola.decide(&input(20.0)));
        assert_eq!(d, AbrDecision::now(0));
        // Full buffer: BOLA's pacing delay comes through (60 - 56 = 4 s at the top).
        let full = dynamic.decide(&input(60.0));
        assert_eq!(full.quality, 5);
        assert!((full.delay_s - 4.0).abs() < 1e-9);
        assert_eq!(dynamic.throughput().estimate_bps(), tput.estimate_bps());
        assert_eq!(dynamic.bola(), &bola);
    }

    #[test]
    fn thresholds_scale_with_a_small_max_buffer() {
        let dynamic = Dynamic::default();
        assert_eq!(dynamic.thresholds(&input(0.0)), (18.0, 9.0));
        // max 22 s, segment 4 s: 18 s still reachable, no scaling.
        let ok = AbrInput {
            max_buffer_s: 22.0,
            ..input(0.0)
        };
        assert_eq!(dynamic.thresholds(&ok), (18.0, 9.0));
        // max 12 s, segment 2 s: reachable 10 s -> (10, 5).
        let small = AbrInput {
            max_buffer_s: 12.0,
            segment_duration_s: 2.0,
            ..input(0.0)
        };
        let (a, b) = dynamic.thresholds(&small);
        assert!(
            (a - 10.0).abs() < 1e-12 && (b - 5.0).abs() < 1e-12,
            "{a} {b}"
        );
        // max 3 s, segment 4 s: nothing fits, factor 3/18 -> (3, 1.5).
        let tiny = AbrInput {
            max_buffer_s: 3.0,
            ..input(0.0)
        };
        let (a, b) = dynamic.thresholds(&tiny);
        assert!(
            (a - 3.0).abs() < 1e-12 && (b - 1.5).abs() < 1e-12,
            "{a} {b}"
        );
        // Invalid max buffer: unscaled.
        let nan = AbrInput {
            max_buffer_s: f64::NAN,
            ..input(0.0)
        };
        assert_eq!(dynamic.thresholds(&nan), (18.0, 9.0));

        // Switching with the scaled thresholds.
        let mut dynamic = Dynamic::default();
        let at = |buffer_s| AbrInput {
            buffer_s,
            ..small.clone()
        };
        dynamic.decide(&at(9.9));
        assert!(!dynamic.using_bola());
        dynamic.decide(&at(10.0));
        assert!(dynamic.using_bola());
        dynamic.decide(&at(5.0));
        assert!(dynamic.using_bola());
        dynamic.decide(&at(4.9));
        assert!(!dynamic.using_bola());
    }

    #[test]
    fn custom_thresholds_and_degenerate_inputs() {
        let mut dynamic = Dynamic::new(ThroughputRule::default(), Bola::default(), 6.0, 3.0);
        dynamic.decide(&input(6.0));
        assert!(dynamic.using_bola());
        dynamic.decide(&input(f64::NAN)); // NaN buffer counts as empty
        assert!(!dynamic.using_bola());
        let empty = AbrInput {
            bitrates_bps: &[],
            ..input(30.0)
        };
        assert_eq!(dynamic.decide(&empty), AbrDecision::now(0));
        assert_eq!(dynamic.name(), "dynamic");
    }
}
