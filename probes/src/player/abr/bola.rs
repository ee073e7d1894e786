//! BOLA-BASIC: Spiteri, Urgaonkar, Sitaraman, "BOLA: Near-Optimal Bitrate Adaptation
//! for Online Videos", IEEE INFOCOM 2016 (Algorithm 1), with the constants and the
//! pacing of Sabre's `Bola` class (Spiteri's reference simulator, `--abr bola
//! --abr-basic`).
//!
//! With `M` bitrates `R_1 < ... < R_M`, segment duration `p` and segment sizes
//! `S_m` proportional to the bitrates (here `S_m = R_m / R_1`, so `S_1 = 1`):
//!
//! - utilities `v_m = ln(S_m / S_1)` (so `v_1 = 0`);
//! - `gp` (the paper's `gamma p`) = 5 ([`Bola::DEFAULT_GP`], Sabre's `-gp` default);
//! - buffer capacity in segments `Q_max = max_buffer_s / p`;
//! - `V = (Q_max - 1) / (v_M + gp)` (Sabre: `Vp = (buffer_size - p) / (v_M + gp)`),
//!   floored at 0;
//! - with the buffer in segments `Q = buffer_s / p`, choose the `m` maximizing
//!   `(V (v_m + gp) - Q) / S_m` (the lowest index on a tie);
//! - pacing as in Sabre: `delay_s = max(0, buffer_s - V (v_m + gp) p)` for the chosen
//!   `m`. That is positive only when every score is negative, i.e. when the buffer is
//!   above `V (v_M + gp) p = max_buffer_s - p`: BOLA then waits until one segment fits
//!   instead of overfilling (the paper's "do not download" case).
//!
//! A segment duration that is not finite and positive, or an empty ladder, gives
//! quality 0 now.
//!
//! Startup: while `playing == false` and no download has been reported, choose quality
//! 0 (Sabre's BOLA-BASIC first segment is quality 0 too). Sabre's upward-switch check
//! against the throughput estimate (its BOLA-O/BOLA-U variants) and abandonment are
//! not part of BOLA-BASIC and are not modelled.

use super::{Abr, AbrDecision, AbrInput, DownloadSample, non_negative};

/// BOLA-BASIC (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Bola {
    /// The `gamma p` constant added to the utilities (default 5).
    pub gp: f64,
    samples: u64,
    /// The ladder of the last decision and its utilities (computed once per ladder,
    /// not once per segment).
    ladder: Vec<u64>,
    ladder_utilities: Vec<f64>,
}

impl Bola {
    /// Sabre's default `gamma p`.
    pub const DEFAULT_GP: f64 = 5.0;

    /// BOLA-BASIC with the given `gamma p`.
    pub fn new(gp: f64) -> Self {
        Self {
            gp,
            samples: 0,
            ladder: Vec::new(),
            ladder_utilities: Vec::new(),
        }
    }

    /// Utilities `v_m = ln(R_m / R_1)` (a zero bitrate counts as 1 bit/s).
    pub fn utilities(bitrates_bps: &[u64]) -> Vec<f64> {
        let base = bitrates_bps.first().map_or(1.0, |&b| b.max(1) as f64);
        bitrates_bps
            .iter()
            .map(|&b| (b.max(1) as f64 / base).ln())
            .collect()
    }

    /// The control parameter `V` (in segments) for `input`: `(Q_max - 1) / (v_M + gp)`,
    /// floored at 0; 0 for a zero segment duration or an empty ladder.
    pub fn v(&self, input: &AbrInput<'_>) -> f64 {
        self.v_for(input, &Self::utilities(input.bitrates_bps))
    }

    /// [`Bola::v`] with the ladder's utilities given.
    fn v_for(&self, input: &AbrInput<'_>, utilities: &[f64]) -> f64 {
        let segment_s = non_negative(input.segment_duration_s);
        let v_top = utilities.last().copied().unwrap_or(0.0);
        let denominator = v_top + self.gp;
        if segment_s <= 0.0 || !(denominator.is_finite() && denominator > 0.0) {
            return 0.0;
        }
        let q_max = non_negative(input.max_buffer_s) / segment_s;
        non_negative((q_max - 1.0) / denominator)
    }

    /// The score `(V (v_m + gp) - Q) / S_m` of every quality for `input`'s buffer,
    /// `S_m = R_m / R_1`.
    pub fn scores(&self, input: &AbrInput<'_>) -> Vec<f64> {
        let utilities = Self::utilities(input.bitrates_bps);
        self.scores_for(input, &utilities).collect()
    }

    /// [`Bola::scores`] with the ladder's utilities given, without collecting them.
    fn scores_for<'a>(
        &'a self,
        input: &'a AbrInput<'_>,
        utilities: &'a [f64],
    ) -> impl Iterator<Item = f64> + 'a {
        let segment_s = non_negative(input.segment_duration_s);
        let q = if segment_s > 0.0 {
            non_negative(input.buffer_s) / segment_s
        } else {
            0.0
        };
        let v = self.v_for(input, utilities);
        let base = input.bitrates_bps.first().map_or(1.0, |&b| b.max(1) as f64);
        utilities
            .iter()
            .zip(input.bitrates_bps)
            .map(move |(u, &b)| (v * (u + self.gp) - q) / (b.max(1) as f64 / base))
    }
}

impl Default for Bola {
    /// `gamma p` = 5.
    fn default() -> Self {
        Self::new(Self::DEFAULT_GP)
    }
}

impl Abr for Bola {
    fn name(&self) -> String {
        "bola".to_string()
    }

    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision {
        let segment_s = non_negative(input.segment_duration_s);
        if input.bitrates_bps.is_empty()
            || segment_s <= 0.0
            || (!input.playing && self.samples == 0)
        {
            return AbrDecision::now(0);
        }
        if self.ladder != input.bitrates_bps {
            self.ladder = input.bitrates_bps.to_vec();
            self.ladder_utilities = Self::utilities(input.bitrates_bps);
        }
        let utilities = &self.ladder_utilities;
        // The highest score, the lowest index on a tie.
        let (mut quality, mut best) = (0, f64::NAN);
        for (m, s) in self.scores_for(input, utilities).enumerate() {
            if m == 0 || s > best {
                (quality, best) = (m, s);
            }
        }
        let level_s = self.v_for(input, utilities) * (utilities[quality] + self.gp) * segment_s;
        let delay_s = non_negative(non_negative(input.buffer_s) - level_s);
        AbrDecision { quality, delay_s }
    }

    fn on_download(&mut self, _sample: &DownloadSample) {
        self.samples += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const THREE: [u64; 3] = [1_000_000, 2_000_000, 4_000_000];
    const LADDER: [u64; 6] = [300_000, 750_000, 1_500_000, 3_000_000, 5_000_000, 8_000_000];

    /// 3-level ladder 1/2/4 Mbit/s, max buffer 20 s, segment 2 s: Q_max = 10,
    /// v = [0, ln 2, ln 4] = [0, 0.693147, 1.386294], S = [1, 2, 4],
    /// V = 9 / (1.386294 + 5) = 1.409268;
    /// V (v_m + gp) = [7.046341, 8.023171, 9.0] segments.
    fn input(buffer_s: f64) -> AbrInput<'static> {
        AbrInput {
            now_s: 0.0,
            buffer_s,
            max_buffer_s: 20.0,
            segment_duration_s: 2.0,
            bitrates_bps: &THREE,
            last_quality: None,
            playing: true,
        }
    }

    fn assert_scores(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-5, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn v_and_utilities_by_hand() {
        let bola = Bola::default();
        // ln 2 = 0.693147, ln 4 = 1.386294.
        let ln2 = std::f64::consts::LN_2;
        assert_scores(&Bola::utilities(&THREE), &[0.0, ln2, 2.0 * ln2]);
        assert!((bola.v(&input(0.0)) - 1.409268).abs() < 1e-6);
    }

    #[test]
    fn scores_at_10_s_pick_the_lowest() {
        // Q = 5: [(7.046341 - 5)/1, (8.023171 - 5)/2, (9 - 5)/4] = [2.046341, 1.511585, 1.0].
        let mut bola = Bola::default();
        assert_scores(&bola.scores(&input(10.0)), &[2.046341, 1.511585, 1.0]);
        assert_eq!(bola.decide(&input(10.0)), AbrDecision::now(0));
    }

    #[test]
    fn scores_at_13_s_pick_the_middle() {
        // Q = 6.5: [0.546341, 0.761585, 0.625] -> index 1. (1 beats 0 above
        // Q = V (gp - ln 2) = 6.069 segments, 2 beats 1 above Q = V gp = 7.046.)
        let mut bola = Bola::default();
        assert_scores(&bola.scores(&input(13.0)), &[0.546341, 0.761585, 0.625]);
        assert_eq!(bola.decide(&input(13.0)), AbrDecision::now(1));
    }

    #[test]
    fn scores_at_16_s_pick_the_top() {
        // Q = 8: [-0.953659, 0.011585, 0.25] -> index 2, no delay (level 18 s > 16 s).
        let mut bola = Bola::default();
        assert_scores(&bola.scores(&input(16.0)), &[-0.953659, 0.011585, 0.25]);
        assert_eq!(bola.decide(&input(16.0)), AbrDecision::now(2));
        // Q = 9 = V (v_M + gp): the top's score is 0 and the others negative; no delay.
        assert_eq!(bola.decide(&input(18.0)), AbrDecision::now(2));
    }

    #[test]
    fn full_buffer_waits_until_a_segment_fits() {
        // Q = 10 (buffer full): [-2.953659, -0.988415, -0.25] -> index 2, and
        // delay = 20 - V (v_3 + gp) x 2 = 20 - 18 = 2 s.
        let mut bola = Bola::default();
        assert_scores(&bola.scores(&input(20.0)), &[-2.953659, -0.988415, -0.25]);
        let d = bola.decide(&input(20.0));
        assert_eq!(d.quality, 2);
        assert!((d.delay_s - 2.0).abs() < 1e-9, "{d:?}");
        // 19 s: delay 1 s.
        assert!((bola.decide(&input(19.0)).delay_s - 1.0).abs() < 1e-9);
    }

    #[test]
    fn startup_is_quality_zero() {
        // Not playing and no sample yet: 0 even with a full buffer.
        let mut bola = Bola::default();
        let startup = AbrInput {
            playing: false,
            ..input(16.0)
        };
        assert_eq!(bola.decide(&startup), AbrDecision::now(0));
        // After a download the buffer rule applies even before playback starts.
        bola.on_download(&DownloadSample {
            bytes: 1_000_000,
            duration_s: 1.0,
            latency_s: 0.1,
            quality: 0,
            segment_duration_s: 2.0,
        });
        assert_eq!(bola.decide(&startup), AbrDecision::now(2));
    }

    #[test]
    fn six_level_ladder_ends_at_the_top() {
        // max buffer 30 s, segment 2 s: Q_max = 15, v_M = ln(8000/300) = 3.283414,
        // V = 14 / 8.283414 = 1.690124; the top's level V (v_M + gp) p = 28 s.
        let mut bola = Bola::default();
        let at = |buffer_s| AbrInput {
            bitrates_bps: &LADDER,
            max_buffer_s: 30.0,
            ..input(buffer_s)
        };
        assert!((bola.v(&at(0.0)) - 1.690124).abs() < 1e-6);
        assert_eq!(bola.decide(&at(0.0)).quality, 0);
        let full = bola.decide(&at(30.0));
        assert_eq!(full.quality, 5);
        assert!((full.delay_s - 2.0).abs() < 1e-9);
        // Quality never decreases as the buffer grows.
        let mut last = 0;
        for tenth in 0..=300 {
            let q = bola.decide(&at(f64::from(tenth) / 10.0)).quality;
            assert!(q >= last);
            last = q;
        }
        assert_eq!(last, 5);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let mut bola = Bola::default();
        let empty = AbrInput {
            bitrates_bps: &[],
            ..input(10.0)
        };
        assert_eq!(bola.decide(&empty), AbrDecision::now(0));
        let nan = AbrInput {
            buffer_s: f64::NAN,
            max_buffer_s: f64::NAN,
            segment_duration_s: f64::NAN,
            ..input(10.0)
        };
        assert_eq!(bola.decide(&nan), AbrDecision::now(0));
        let zero = AbrInput {
            segment_duration_s: 0.0,
            ..input(10.0)
        };
        assert_eq!(bola.decide(&zero), AbrDecision::now(0));
        // Max buffer below one segment: V = 0, every score -Q / S_m.
        let tiny = AbrInput {
            max_buffer_s: 1.0,
            ..input(1.0)
        };
        let d = bola.decide(&tiny);
        assert_eq!(d.quality, 2);
        assert!((d.delay_s - 1.0).abs() < 1e-12);
        let zero_rate = AbrInput {
            bitrates_bps: &[0, 1_000_000],
            ..input(10.0)
        };
        assert!(bola.decide(&zero_rate).delay_s.is_finite());
        assert_eq!(Bola::default().name(), "bola");
    }
}
