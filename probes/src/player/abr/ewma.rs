//! The dash.js throughput estimator: two exponentially weighted moving averages.
//!
//! Source: dash.js `ThroughputHistory` / `EwmaThroughputCalculator` (also Shaka's
//! `EwmaBandwidthEstimator` and Sabre's `Ewma` history, which follow the same scheme).
//!
//! - Each sample is weighted by its download duration in seconds `w`; a half-life `h`
//!   gives the per-sample decay `alpha = 0.5^(w / h)`, and
//!   `ewma <- alpha * ewma + (1 - alpha) * sample`, starting from 0.
//! - Zero-bias correction (as dash.js and Shaka do): with `W` the total weight so far,
//!   `estimate = ewma / (1 - 0.5^(W / h))`. One sample thus estimates exactly that
//!   sample; a constant input estimates exactly that constant.
//! - Two averages are kept, a slow one (half-life 8 s) and a fast one (half-life 3 s);
//!   the estimate is the smaller of the two (conservative: it follows drops fast and
//!   rises slowly).
//!
//! Parameters (defaults): slow half-life [`DualEwma::DEFAULT_SLOW_HALF_LIFE_S`] = 8 s,
//! fast half-life [`DualEwma::DEFAULT_FAST_HALF_LIFE_S`] = 3 s. dash.js also keeps a
//! latency estimate; the algorithms here do not use one.

/// One zero-bias-corrected EWMA weighted by seconds.
#[derive(Debug, Clone, PartialEq)]
struct Ewma {
    half_life_s: f64,
    value: f64,
    total_weight_s: f64,
}

impl Ewma {
    fn new(half_life_s: f64) -> Self {
        Self {
            half_life_s,
            value: 0.0,
            total_weight_s: 0.0,
        }
    }

    fn add(&mut self, weight_s: f64, sample: f64) {
        let alpha = 0.5_f64.powf(weight_s / self.half_life_s);
        self.value = alpha * self.value + (1.0 - alpha) * sample;
        self.total_weight_s += weight_s;
    }

    fn estimate(&self) -> Option<f64> {
        let correction = 1.0 - 0.5_f64.powf(self.total_weight_s / self.half_life_s);
        (correction > 0.0 && correction.is_finite()).then(|| self.value / correction)
    }
}

/// The dash.js dual-EWMA throughput estimator (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct DualEwma {
    slow: Ewma,
    fast: Ewma,
}

impl DualEwma {
    /// dash.js's slow half-life, seconds.
    pub const DEFAULT_SLOW_HALF_LIFE_S: f64 = 8.0;
    /// dash.js's fast half-life, seconds.
    pub const DEFAULT_FAST_HALF_LIFE_S: f64 = 3.0;

    /// An estimator with the given half-lives in seconds of download time; a half-life
    /// that is not finite and positive is replaced by its default.
    pub fn new(slow_half_life_s: f64, fast_half_life_s: f64) -> Self {
        let valid = |h: f64, default: f64| if h.is_finite() && h > 0.0 { h } else { default };
        Self {
            slow: Ewma::new(valid(slow_half_life_s, Self::DEFAULT_SLOW_HALF_LIFE_S)),
            fast: Ewma::new(valid(fast_half_life_s, Self::DEFAULT_FAST_HALF_LIFE_S)),
        }
    }

    /// Adds a throughput sample `bps` measured over `duration_s` seconds of download.
    /// Samples with a duration or throughput that is not finite, or a duration that is
    /// not positive, or a negative throughput, are ignored.
    pub fn add(&mut self, duration_s: f64, bps: f64) {
        if !(duration_s.is_finite() && duration_s > 0.0 && bps.is_finite() && bps >= 0.0) {
            return;
        }
        self.slow.add(duration_s, bps);
        self.fast.add(duration_s, bps);
    }

    /// The throughput estimate in bit/s: min(slow, fast) after zero-bias correction;
    /// `None` before the first sample.
    pub fn estimate_bps(&self) -> Option<f64> {
        Some(self.slow_estimate_bps()?.min(self.fast_estimate_bps()?))
    }

    /// The slow average alone (bias-corrected), `None` before the first sample.
    pub fn slow_estimate_bps(&self) -> Option<f64> {
        self.slow.estimate()
    }

    /// The fast average alone (bias-corrected), `None` before the first sample.
    pub fn fast_estimate_bps(&self) -> Option<f64> {
        self.fast.estimate()
    }

    /// Total sample weight so far, seconds of download time.
    pub fn total_weight_s(&self) -> f64 {
        self.slow.total_weight_s
    }
}

impl Default for DualEwma {
    /// dash.js's half-lives: 8 s slow, 3 s fast.
    fn default() -> Self {
        Self::new(
            Self::DEFAULT_SLOW_HALF_LIFE_S,
            Self::DEFAULT_FAST_HALF_LIFE_S,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn no_estimate_before_a_sample() {
        assert_eq!(DualEwma::default().estimate_bps(), None);
    }

    #[test]
    fn one_sample_is_its_own_estimate() {
        // ewma = (1 - a) x; correction = 1 - a; estimate = x, for both half-lives.
        for duration in [0.01, 0.5, 2.0, 30.0] {
            let mut e = DualEwma::default();
            e.add(duration, 3_000_000.0);
            assert!(close(e.slow_estimate_bps().unwrap(), 3e6, 1e-6));
            assert!(close(e.fast_estimate_bps().unwrap(), 3e6, 1e-6));
            assert!(close(e.estimate_bps().unwrap(), 3e6, 1e-6));
        }
    }

    #[test]
    fn constant_input_is_estimated_exactly() {
        let mut e = DualEwma::default();
        for d in [0.3, 1.0, 2.5, 4.0, 0.7] {
            e.add(d, 5e6);
        }
        assert!(close(e.estimate_bps().unwrap(), 5e6, 1e-3));
        assert!(close(e.total_weight_s(), 8.5, 1e-12));
    }

    #[test]
    fn two_samples_by_hand() {
        // Two 1 s samples x1 = 1 Mbit/s then x2 = 2 Mbit/s. With a = 0.5^(1/h):
        //   ewma = (1-a)(a x1 + x2), correction = 1 - a^2 = (1-a)(1+a),
        //   estimate = (a x1 + x2) / (1 + a).
        // slow h = 8: a = 0.917004043 -> 2.917004043 / 1.917004043 = 1.521648 Mbit/s
        // fast h = 3: a = 0.793700526 -> 2.793700526 / 1.793700526 = 1.557507 Mbit/s
        // estimate = min = slow.
        let mut e = DualEwma::default();
        e.add(1.0, 1e6);
        e.add(1.0, 2e6);
        let slow = e.slow_estimate_bps().unwrap();
        let fast = e.fast_estimate_bps().unwrap();
        assert!(close(slow, 1_521_648.0, 1.0), "{slow}");
        assert!(close(fast, 1_557_507.0, 1.0), "{fast}");
        assert_eq!(e.estimate_bps(), Some(slow));
    }

    #[test]
    fn a_drop_is_followed_by_the_fast_average() {
        // x1 = 2 Mbit/s then x2 = 1 Mbit/s, 1 s each:
        // slow: (0.917004 * 2 + 1) / 1.917004 = 1.478352 Mbit/s
        // fast: (0.793701 * 2 + 1) / 1.793701 = 1.442493 Mbit/s -> min = fast.
        let mut e = DualEwma::default();
        e.add(1.0, 2e6);
        e.add(1.0, 1e6);
        let fast = e.fast_estimate_bps().unwrap();
        assert!(close(fast, 1_442_493.0, 1.0), "{fast}");
        assert!(close(e.slow_estimate_bps().unwrap(), 1_478_352.0, 1.0));
        assert_eq!(e.estimate_bps(), Some(fast));
    }

    #[test]
    fn weight_is_the_download_duration() {
        // One 8 s sample of 1 Mbit/s then one 8 s sample of 3 Mbit/s, slow half-life
        // 8 s: a = 0.5, estimate = (0.5 * 1 + 3) / 1.5 = 2.333333 Mbit/s.
        let mut e = DualEwma::new(8.0, 3.0);
        e.add(8.0, 1e6);
        e.add(8.0, 3e6);
        assert!(close(e.slow_estimate_bps().unwrap(), 7e6 / 3.0, 1e-3));
    }

    #[test]
    fn invalid_samples_and_half_lives_are_ignored() {
        let mut e = DualEwma::new(f64::NAN, -1.0);
        assert_eq!(e, DualEwma::default());
        e.add(0.0, 1e6);
        e.add(-1.0, 1e6);
        e.add(f64::NAN, 1e6);
        e.add(1.0, f64::NAN);
        e.add(1.0, f64::INFINITY);
        e.add(1.0, -5.0);
        assert_eq!(e.estimate_bps(), None);
        e.add(1.0, 0.0);
        assert_eq!(e.estimate_bps(), Some(0.0));
    }
}
