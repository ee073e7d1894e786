//! Seeds and seeded random streams: SplitMix64, the one generator behind every seeded
//! thing qoeprobe does (a run's `seed` in `run.json` derives from the campaign's, the
//! emulated driver's model and loss pattern, synthetic campaigns). The same seed gives
//! the same stream on every platform and version.

/// One SplitMix64 step: a well-mixed 64-bit value of `x`.
pub fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A seeded stream of random numbers.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

/// SplitMix64's increment (the golden ratio).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

impl Rng {
    /// A stream for `seed` whose first value is `splitmix(seed + GOLDEN)` (one step
    /// past the textbook stream: the emulated driver's model has always drawn so).
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The textbook SplitMix64 stream for `seed`: its first value is
    /// `splitmix(seed)`.
    pub fn standard(seed: u64) -> Self {
        Self {
            state: seed.wrapping_sub(GOLDEN),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        splitmix(self.state)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let mut r = Rng::new(1);
        let hits = (0..100_000).filter(|_| r.chance(0.05)).count();
        assert!((4_500..5_500).contains(&hits), "{hits}");
        // The textbook stream: state 0 gives 0xe220a8397b1dcdaf first.
        assert_eq!(Rng::standard(0).next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(Rng::standard(5).next_u64(), splitmix(5));
    }
}
