//! BBA-0, the buffer-based algorithm of Huang, Johari, McKeown, Trunnell and Watson,
//! "A Buffer-Based Approach to Rate Adaptation: Evidence from a Large Video Streaming
//! Service", ACM SIGCOMM 2014 (Algorithm 1, "Video Rate Adaptation Algorithm").
//!
//! The rate map `f(B)` of the buffer level `B` is `R_min` up to the reservoir `r`,
//! `R_max` from `r + cu` (reservoir plus cushion) on, and linear in between:
//! `f(B) = R_min + (R_max - R_min) (B - r) / cu`. With `Rate_prev` the previous rate,
//! `Rate+` the next higher rate (`R_max` if already there) and `Rate-` the next lower
//! (`R_min` if already there), the paper's pseudo-code is, verbatim:
//!
//! ```text
//! if B <= r:              Rate_next = R_min
//! elif B >= r + cu:       Rate_next = R_max
//! elif f(B) >= Rate+:     Rate_next = max{R_i : R_i < f(B)}
//! elif f(B) <= Rate-:     Rate_next = min{R_i : R_i > f(B)}
//! else:                   Rate_next = Rate_prev
//! ```
//!
//! so the rate only moves when `f(B)` crosses the next rate up or down (hysteresis).
//!
//! Parameters and defaults. The paper uses a 240 s buffer with a 90 s reservoir, a
//! 126 s cushion and a 24 s (10 %) upper reservoir; here the defaults are scaled to
//! the session's maximum buffer `max_buffer_s` and segment duration `d`:
//!
//! - reservoir `r = max(2 d, 10 % of max_buffer_s)` ([`Bba::reservoir_s`] overrides);
//! - upper reservoir = 10 % of `max_buffer_s`;
//! - cushion `cu = max_buffer_s - r - upper reservoir` ([`Bba::cushion_s`] overrides),
//!   floored at 0 (a zero cushion makes the map a step at `r`).
//!
//! `Rate_prev` is [`AbrInput::last_quality`] (the lowest rate before the first segment).
//! Decision delay is always 0: the session's maximum buffer paces requests.

use super::{Abr, AbrDecision, AbrInput, DownloadSample, non_negative, top_quality};

/// BBA-0 (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bba {
    /// Reservoir in seconds; `None` = `max(2 x segment duration, 10 % of max buffer)`.
    pub reservoir_s: Option<f64>,
    /// Cushion in seconds; `None` = max buffer - reservoir - 10 % of max buffer.
    pub cushion_s: Option<f64>,
}

impl Bba {
    /// Reservoir floor in segments (default reservoir).
    pub const RESERVOIR_SEGMENTS: f64 = 2.0;
    /// Reservoir floor as a fraction of the maximum buffer (default reservoir).
    pub const RESERVOIR_FRACTION: f64 = 0.1;
    /// Upper reservoir as a fraction of the maximum buffer (default cushion).
    pub const UPPER_RESERVOIR_FRACTION: f64 = 0.1;

    /// BBA-0 with a fixed reservoir and cushion, in seconds.
    pub fn new(reservoir_s: f64, cushion_s: f64) -> Self {
        Self {
            reservoir_s: Some(reservoir_s),
            cushion_s: Some(cushion_s),
        }
    }

    /// The `(reservoir, cushion)` in seconds used for `input`.
    pub fn zones(&self, input: &AbrInput<'_>) -> (f64, f64) {
        let max_buffer = non_negative(input.max_buffer_s);
        let reservoir = match self.reservoir_s {
            Some(r) => non_negative(r),
            None => (Self::RESERVOIR_SEGMENTS * non_negative(input.segment_duration_s))
                .max(Self::RESERVOIR_FRACTION * max_buffer),
        };
        let cushion = match self.cushion_s {
            Some(c) => non_negative(c),
            None => {
                non_negative(max_buffer - reservoir - Self::UPPER_RESERVOIR_FRACTION * max_buffer)
            }
        };
        (reservoir, cushion)
    }

    /// The rate map `f(B)` in bit/s for buffer `buffer_s`, `bitrates_bps` ascending and
    /// non-empty, reservoir and cushion in seconds.
    pub fn rate_map_bps(
        bitrates_bps: &[u64],
        reservoir_s: f64,
        cushion_s: f64,
        buffer_s: f64,
    ) -> f64 {
        let (Some(&min), Some(&max)) = (bitrates_bps.first(), bitrates_bps.last()) else {
            return 0.0;
        };
        let (min, max) = (min as f64, max as f64);
        if buffer_s <= reservoir_s {
            min
        } else if buffer_s >= reservoir_s + cushion_s {
            max
        } else {
            min + (max - min) * (buffer_s - reservoir_s) / cushion_s
        }
    }
}

impl Abr for Bba {
    fn name(&self) -> String {
        "bba".to_string()
    }

    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision {
        let rates = input.bitrates_bps;
        let top = top_quality(rates);
        if rates.is_empty() {
            return AbrDecision::now(0);
        }
        let (r, cu) = self.zones(input);
        let buffer = non_negative(input.buffer_s);
        if buffer <= r {
            return AbrDecision::now(0);
        }
        if buffer >= r + cu {
            return AbrDecision::now(top);
        }
        let prev = input.last_quality.unwrap_or(0).min(top);
        let rate_plus = rates[(prev + 1).min(top)] as f64;
        let rate_minus = rates[prev.saturating_sub(1)] as f64;
        let f = Self::rate_map_bps(rates, r, cu, buffer);
        let quality = if f >= rate_plus {
            // max{R_i : R_i < f(B)}
            rates.iter().rposition(|&b| (b as f64) < f).unwrap_or(0)
        } else if f <= rate_minus {
            // min{R_i : R_i > f(B)}
            rates.iter().position(|&b| (b as f64) > f).unwrap_or(top)
        } else {
            prev
        };
        AbrDecision::now(quality)
    }

    fn on_download(&mut self, _sample: &DownloadSample) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u64; 6] = [300_000, 750_000, 1_500_000, 3_000_000, 5_000_000, 8_000_000];

    /// max buffer 60 s, segment 4 s: r = max(8, 6) = 8 s, upper reservoir 6 s,
    /// cu = 60 - 8 - 6 = 46 s; f(B) = 300 + 7700 (B - 8) / 46 kbit/s on (8, 54).
    fn input(buffer_s: f64, last_quality: Option<usize>) -> AbrInput<'static> {
        AbrInput {
            now_s: 0.0,
            buffer_s,
            max_buffer_s: 60.0,
            segment_duration_s: 4.0,
            bitrates_bps: &LADDER,
            last_quality,
            playing: true,
        }
    }

    fn decide(buffer_s: f64, last: Option<usize>) -> usize {
        let d = Bba::default().decide(&input(buffer_s, last));
        assert_eq!(d.delay_s, 0.0);
        d.quality
    }

    #[test]
    fn default_zones_scale_with_the_max_buffer() {
        assert_eq!(Bba::default().zones(&input(0.0, None)), (8.0, 46.0));
        // max buffer 240 s, segment 4 s: r = max(8, 24) = 24, cu = 240 - 24 - 24 = 192.
        let big = AbrInput {
            max_buffer_s: 240.0,
            ..input(0.0, None)
        };
        assert_eq!(Bba::default().zones(&big), (24.0, 192.0));
        // max buffer 10 s, segment 6 s: r = 12, cu = 10 - 12 - 1 < 0 -> 0 (a step).
        let small = AbrInput {
            max_buffer_s: 10.0,
            segment_duration_s: 6.0,
            ..input(0.0, None)
        };
        assert_eq!(Bba::default().zones(&small), (12.0, 0.0));
        assert_eq!(Bba::new(90.0, 126.0).zones(&big), (90.0, 126.0));
    }

    #[test]
    fn below_the_reservoir_is_the_lowest() {
        assert_eq!(decide(0.0, None), 0);
        assert_eq!(decide(7.9, Some(5)), 0);
        assert_eq!(decide(8.0, Some(3)), 0);
    }

    #[test]
    fn above_reservoir_plus_cushion_is_the_highest() {
        assert_eq!(decide(54.0, Some(0)), 5);
        assert_eq!(decide(59.0, None), 5);
    }

    #[test]
    fn linear_map() {
        // B = 31: f = 300 + 7700 x 23/46 = 4150 kbit/s.
        let f = Bba::rate_map_bps(&LADDER, 8.0, 46.0, 31.0);
        assert!((f - 4_150_000.0).abs() < 1e-6);
        assert_eq!(Bba::rate_map_bps(&LADDER, 8.0, 46.0, 8.0), 300_000.0);
        assert_eq!(Bba::rate_map_bps(&LADDER, 8.0, 46.0, 54.0), 8_000_000.0);
        // Zero cushion: a step at the reservoir.
        assert_eq!(Bba::rate_map_bps(&LADDER, 8.0, 0.0, 8.5), 8_000_000.0);
        assert_eq!(Bba::rate_map_bps(&[], 8.0, 46.0, 20.0), 0.0);
    }

    #[test]
    fn up_switch_when_f_reaches_the_next_rate() {
        // B = 31, f = 4150. prev 0 (300): Rate+ = 750 <= f -> max{R_i < 4150} = 3000 (3).
        assert_eq!(decide(31.0, Some(0)), 3);
        assert_eq!(decide(31.0, None), 3);
        // prev 2 (1500): Rate+ = 3000 <= f -> 3.
        assert_eq!(decide(31.0, Some(2)), 3);
    }

    #[test]
    fn hysteresis_keeps_the_previous_rate() {
        // B = 31, f = 4150. prev 3 (3000): Rate+ = 5000 > f, Rate- = 1500 < f -> stay 3.
        assert_eq!(decide(31.0, Some(3)), 3);
        // prev 4 (5000): Rate+ = 8000, Rate- = 3000 -> stay 4.
        assert_eq!(decide(31.0, Some(4)), 4);
        // B = 20: f = 300 + 7700 x 12/46 = 2308.7. prev 2 (1500): Rate+ = 3000 > f,
        // Rate- = 750 < f -> stay 2. prev 3 (3000): Rate- = 1500 < f, Rate+ = 5000 -> stay 3.
        assert_eq!(decide(20.0, Some(2)), 2);
        assert_eq!(decide(20.0, Some(3)), 3);
    }

    #[test]
    fn down_switch_when_f_reaches_the_next_lower_rate() {
        // B = 31, f = 4150. prev 5 (8000): Rate- = 5000 >= f -> min{R_i > 4150} = 5000 (4).
        assert_eq!(decide(31.0, Some(5)), 4);
        // B = 12: f = 300 + 7700 x 4/46 = 969.6. prev 4 (5000): Rate- = 3000 >= f
        // -> min{R_i > 969.6} = 1500 (2).
        assert_eq!(decide(12.0, Some(4)), 2);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let empty = AbrInput {
            bitrates_bps: &[],
            ..input(31.0, Some(3))
        };
        assert_eq!(Bba::default().decide(&empty), AbrDecision::now(0));
        // A previous quality beyond the ladder is taken as the top.
        assert_eq!(decide(31.0, Some(99)), 4);
        assert_eq!(decide(f64::NAN, Some(3)), 0);
        let nan = AbrInput {
            max_buffer_s: f64::NAN,
            segment_duration_s: f64::NAN,
            ..input(5.0, Some(3))
        };
        // r = 0, cu = 0: any positive buffer is at or above r + cu -> top.
        assert_eq!(Bba::default().decide(&nan).quality, 5);
        let one = AbrInput {
            bitrates_bps: &[1_000_000],
            ..input(31.0, Some(0))
        };
        assert_eq!(Bba::default().decide(&one).quality, 0);
        assert_eq!(Bba::default().name(), "bba");
    }
}
