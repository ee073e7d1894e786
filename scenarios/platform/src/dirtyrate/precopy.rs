//! Whether a pre-copy live migration of a guest running the measured workload
//! converges, from the measured working set of writes.
//!
//! The model is QEMU's pre-copy loop: pass 1 sends the guest's RAM; every later pass
//! sends the pages written during the previous pass; after each pass QEMU stops the
//! guest and copies the rest when what is left to send takes no longer than the
//! downtime limit at the measured bandwidth (`remaining <= bandwidth x downtime-limit`,
//! QEMU's `migration_iteration_run` threshold; default limit 300 ms). A pass of `t`
//! seconds leaves behind `W(t)` bytes: the distinct pages written within `t` seconds,
//! measured. So `D(n+1) = W(D(n) / B)`, from `D(0) = RAM`: it either drops under the
//! threshold (converges) or settles at a fixed point above it, where every pass sends
//! as much as was written meanwhile and the migration never ends (the remaining data
//! QEMU reports then swings between 0 and that fixed point, pass after pass).
//!
//! Assumptions (stated in docs/dirtyrate.md): the rest of the guest is idle; `W` is
//! interpolated linearly between measured windows, from `W(0) = 0`, and held at its
//! last value beyond the longest window; the link's payload rate is the full rate.

use serde::{Deserialize, Serialize};

/// Passes after which a sequence still above the threshold is called stuck.
const MAX_PASSES: u32 = 1000;

/// The working set of writes as a function of the window length, `W(t)` in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkingSet {
    points: Vec<(f64, f64)>,
}

impl WorkingSet {
    /// From `(window seconds, distinct bytes written)` points with increasing
    /// windows > 0 and non-decreasing, finite, non-negative bytes; `(0, 0)` is implied.
    pub fn new(points: &[(f64, f64)]) -> Result<WorkingSet, String> {
        let mut all = vec![(0.0, 0.0)];
        for &(t, b) in points {
            let (pt, pb) = all[all.len() - 1];
            if !(t.is_finite() && b.is_finite() && t > pt && b >= 0.0) {
                return Err(format!(
                    "working set point ({t} s, {b} bytes) after ({pt} s, {pb} bytes): windows must increase and bytes be finite and not negative"
                ));
            }
            // A longer window cannot hold fewer distinct pages; tolerate noise.
            all.push((t, b.max(pb)));
        }
        if all.len() < 2 {
            return Err("no working set measured (the run had no complete interval)".into());
        }
        Ok(WorkingSet { points: all })
    }

    /// `W(t)`: linear between points, constant after the last one.
    pub fn at(&self, t: f64) -> f64 {
        let t = t.max(0.0);
        for w in self.points.windows(2) {
            let ((t0, b0), (t1, b1)) = (w[0], w[1]);
            if t <= t1 {
                return b0 + (b1 - b0) * (t - t0) / (t1 - t0);
            }
        }
        self.points[self.points.len() - 1].1
    }
}

/// The migration setting to predict for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// Link rate, Mbit/s (payload; 1 Mbit = 10^6 bit).
    pub mbit: f64,
    /// QEMU's downtime limit, ms (default 300).
    pub downtime_limit_ms: f64,
    /// Guest RAM sent by the first pass, MiB.
    pub guest_mib: f64,
}

impl Link {
    fn bytes_per_s(&self) -> f64 {
        self.mbit * 1e6 / 8.0
    }

    /// `Ok` when every value is usable, else what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !(self.mbit.is_finite() && self.mbit > 0.0) {
            return Err(format!("link rate {} Mbit/s: expected above 0", self.mbit));
        }
        if !(self.downtime_limit_ms.is_finite() && self.downtime_limit_ms > 0.0) {
            return Err(format!(
                "downtime limit {} ms: expected above 0",
                self.downtime_limit_ms
            ));
        }
        if !(self.guest_mib.is_finite() && self.guest_mib > 0.0) {
            return Err(format!(
                "guest RAM {} MiB: expected above 0",
                self.guest_mib
            ));
        }
        Ok(())
    }
}

/// What the model predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The setting.
    pub link: Link,
    /// The migration completes.
    pub converges: bool,
    /// Passes before the stop (the first pass included); for a migration that does
    /// not converge, the passes computed until it settled.
    pub passes: u32,
    /// Converging: MiB copied while the guest is stopped. Not converging: the MiB
    /// left after every pass (the fixed point).
    pub remaining_mib: f64,
    /// `remaining_mib` as a percentage of the guest's RAM.
    pub remaining_pct: f64,
    /// Converging: the predicted downtime, ms (remaining / rate).
    pub downtime_ms: Option<f64>,
    /// Converging: the predicted time from the start to the stop, s.
    pub precopy_s: Option<f64>,
    /// The most a stop may copy: rate x downtime limit, MiB.
    pub threshold_mib: f64,
}

/// Iterates the pre-copy passes for a guest whose writes follow `ws`.
pub fn predict(ws: &WorkingSet, link: Link) -> Result<Prediction, String> {
    link.check()?;
    const MIB: f64 = (1u64 << 20) as f64;
    let rate = link.bytes_per_s();
    let threshold = rate * link.downtime_limit_ms / 1000.0;
    let ram = link.guest_mib * MIB;
    let (mut pending, mut elapsed) = (ram, 0.0);
    let mut passes = 0;
    loop {
        let pass_s = pending / rate;
        elapsed += pass_s;
        passes += 1;
        let left = ws.at(pass_s).min(ram);
        let settled = (left - pending).abs() <= 1e-6 * ram.max(1.0) || passes >= MAX_PASSES;
        if left <= threshold || settled {
            let converges = left <= threshold;
            return Ok(Prediction {
                link,
                converges,
                passes,
                remaining_mib: left / MIB,
                remaining_pct: 100.0 * left / ram,
                downtime_ms: converges.then_some(1000.0 * left / rate),
                precopy_s: converges.then_some(elapsed),
                threshold_mib: threshold / MIB,
            });
        }
        pending = left;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = (1u64 << 20) as f64;

    fn link(mbit: f64) -> Link {
        Link {
            mbit,
            downtime_limit_ms: 300.0,
            guest_mib: 1024.0,
        }
    }

    #[test]
    fn interpolates_and_saturates() {
        let ws = WorkingSet::new(&[(1.0, 10.0), (2.0, 15.0), (4.0, 14.0)]).unwrap();
        assert_eq!(ws.at(0.0), 0.0);
        assert_eq!(ws.at(0.5), 5.0);
        assert_eq!(ws.at(1.5), 12.5);
        assert_eq!(ws.at(3.0), 15.0, "the noisy dip is flattened");
        assert_eq!(ws.at(100.0), 15.0);
        assert!(WorkingSet::new(&[]).is_err());
        assert!(WorkingSet::new(&[(1.0, 1.0), (1.0, 2.0)]).is_err());
        assert!(WorkingSet::new(&[(1.0, f64::NAN)]).is_err());
    }

    #[test]
    fn a_slow_writer_converges_with_the_textbook_numbers() {
        // 4 MiB/s into 32 MiB over 1000 Mbit/s (125 MB/s): pass 1 sends 1 GiB in
        // 8.59 s and leaves min(4 x 8.59, 32) = 32 MiB (above the 35.8 MiB
        // threshold? no: 32 < 35.76), so it stops after pass 1.
        let ws = WorkingSet::new(&[(1.0, 4.0 * MIB), (8.0, 32.0 * MIB)]).unwrap();
        let p = predict(&ws, link(1000.0)).unwrap();
        assert!(p.converges);
        assert_eq!(p.passes, 1);
        assert!((p.threshold_mib - 35.76).abs() < 0.01, "{p:?}");
        assert!((p.remaining_mib - 32.0).abs() < 1e-9);
        assert!((p.downtime_ms.unwrap() - 268.4).abs() < 0.1, "{p:?}");
        assert!((p.precopy_s.unwrap() - 8.59).abs() < 0.01);
    }

    #[test]
    fn a_writer_faster_than_the_link_over_a_large_set_never_converges() {
        // 160 MiB/s into 64 MiB: at 100 Mbit/s (11.9 MiB/s, threshold 3.6 MiB) every
        // pass leaves the whole 64 MiB behind: 6.25 % of 1 GiB, forever.
        let ws = WorkingSet::new(&[(1.0, 64.0 * MIB)]).unwrap();
        let p = predict(&ws, link(100.0)).unwrap();
        assert!(!p.converges);
        assert!((p.remaining_mib - 64.0).abs() < 1e-6, "{p:?}");
        assert!((p.remaining_pct - 6.25).abs() < 1e-6);
        assert_eq!((p.downtime_ms, p.precopy_s), (None, None));
    }

    #[test]
    fn a_writer_slower_than_the_link_shrinks_pass_after_pass() {
        // 50 MiB/s with no bound, 1000 Mbit/s = 119.2 MiB/s: each pass leaves
        // 0.42 of the previous one: 1024 -> 429 -> 180 -> 75.5 -> 31.7 MiB.
        let ws = WorkingSet::new(&[(1.0, 50.0 * MIB), (1e6, 50.0 * 1e6 * MIB)]).unwrap();
        let p = predict(&ws, link(1000.0)).unwrap();
        assert!(p.converges);
        assert_eq!(p.passes, 4, "{p:?}");
        assert!(p.remaining_mib < p.threshold_mib);
    }

    #[test]
    fn refuses_meaningless_settings() {
        let ws = WorkingSet::new(&[(1.0, 1.0)]).unwrap();
        for l in [
            link(0.0),
            Link {
                downtime_limit_ms: f64::NAN,
                ..link(1.0)
            },
            Link {
                guest_mib: -1.0,
                ..link(1.0)
            },
        ] {
            assert!(predict(&ws, l).is_err(), "{l:?}");
        }
    }
}
