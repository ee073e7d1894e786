//! A fixed quality: always the same index, for baselines and tests.
//!
//! Parameter: the quality index (`fixed:<index>` by name), clamped to the highest
//! available quality; quality 0 for an empty ladder. Never delays a request.

use super::{Abr, AbrDecision, AbrInput, DownloadSample, top_quality};

/// Always requests the same quality (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixed {
    /// The quality index requested (clamped to the ladder at decision time).
    pub index: usize,
}

impl Fixed {
    /// Always `index`, clamped to the ladder.
    pub fn new(index: usize) -> Self {
        Self { index }
    }
}

impl Abr for Fixed {
    fn name(&self) -> String {
        format!("fixed:{}", self.index)
    }

    fn decide(&mut self, input: &AbrInput<'_>) -> AbrDecision {
        AbrDecision::now(self.index.min(top_quality(input.bitrates_bps)))
    }

    fn on_download(&mut self, _sample: &DownloadSample) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    const LADDER: [u64; 6] = [300_000, 750_000, 1_500_000, 3_000_000, 5_000_000, 8_000_000];

    fn input(bitrates_bps: &[u64]) -> AbrInput<'_> {
        AbrInput {
            now_s: 0.0,
            buffer_s: 10.0,
            max_buffer_s: 30.0,
            segment_duration_s: 2.0,
            bitrates_bps,
            last_quality: Some(1),
            playing: true,
        }
    }

    #[test]
    fn requests_its_index() {
        assert_eq!(Fixed::new(0).decide(&input(&LADDER)), AbrDecision::now(0));
        assert_eq!(Fixed::new(3).decide(&input(&LADDER)), AbrDecision::now(3));
        assert_eq!(Fixed::new(5).decide(&input(&LADDER)), AbrDecision::now(5));
    }

    #[test]
    fn clamps_to_the_ladder() {
        assert_eq!(Fixed::new(6).decide(&input(&LADDER)), AbrDecision::now(5));
        assert_eq!(
            Fixed::new(usize::MAX).decide(&input(&LADDER)),
            AbrDecision::now(5)
        );
        assert_eq!(Fixed::new(4).decide(&input(&[])), AbrDecision::now(0));
        assert_eq!(Fixed::new(4).decide(&input(&[1_000])), AbrDecision::now(0));
    }

    #[test]
    fn name_round_trips() {
        let mut f = Fixed::new(7);
        assert_eq!(f.name(), "fixed:7");
        f.on_download(&DownloadSample {
            bytes: 0,
            duration_s: 0.0,
            latency_s: 0.0,
            quality: 0,
            segment_duration_s: 0.0,
        });
        assert_eq!(f, Fixed::new(7));
    }
}
