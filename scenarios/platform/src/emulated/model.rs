//! The pre-copy model of the emulated driver (equations in docs/emulated-driver.md):
//! from memory size, dirty rate, bandwidth and downtime limit it computes the passes,
//! the preoperation length, non-convergence, the downtime and the reattach delay.
//! A pure function of its inputs and the seed.

use super::rng::Rng;
use record::{Copy, Mode};
use std::time::Duration;

/// TCP maximum segment size used by the loss model, bytes.
const MSS: f64 = 1448.0;
/// Passes after which the model gives up computing (a safety net; the time limit
/// normally ends a non-converging migration first).
const MAX_PASSES: u64 = 100_000;

/// Inputs of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    /// Guest memory M, bytes.
    pub memory_bytes: f64,
    /// Writable working set W, bytes.
    pub working_set_bytes: f64,
    /// Dirty rate r, bytes/s.
    pub dirty_rate: f64,
    /// Per-pass dirty-rate jitter j (factor in [1 - j, 1 + j]).
    pub dirty_jitter: f64,
    /// Migration stream bandwidth before loss, bytes/s (min of limit, link, host link).
    pub bandwidth: f64,
    /// Loss on the migration link, 0..1.
    pub loss: f64,
    /// Round-trip time of the migration path, s.
    pub rtt_s: f64,
    /// Downtime limit L, s.
    pub downtime_limit_s: f64,
    /// Switch-over cost S, s.
    pub switchover_s: f64,
    /// Reattach delay, s, and its jitter.
    pub reattach_s: f64,
    /// Uniform jitter added to the reattach delay, s.
    pub reattach_jitter_s: f64,
    /// Live or block.
    pub mode: Mode,
    /// Disk bytes (block mode).
    pub disk_bytes: f64,
    /// Disk write rate, bytes/s (block mode).
    pub disk_dirty_rate: f64,
    /// Pre-copy or post-copy.
    pub copy: Copy,
    /// Post-copy: switch after this many passes.
    pub postcopy_after_passes: u64,
    /// Throttle the guest when pre-copy does not converge.
    pub auto_converge: bool,
    /// Cancel at this time after the request, s.
    pub time_limit_s: f64,
}

/// One pre-copy pass as planned.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedPass {
    /// End of the pass after the request.
    pub at: Duration,
    /// Pass number, 1-based.
    pub pass: u64,
    /// Bytes sent so far.
    pub transferred: u64,
    /// Bytes dirty at the end of the pass.
    pub remaining: u64,
    /// Dirty rate during the pass, pages/s.
    pub dirty_pages_rate: f64,
    /// Effective stream throughput, Mbit/s.
    pub mbps: f64,
}

/// How the planned migration ends.
#[derive(Debug, Clone, PartialEq)]
pub enum PlannedEnd {
    /// Paused at `paused`, resumed at `resumed`, the stream ends at `end` (post-copy
    /// goes on after resume), the network reattaches at `reattach`.
    Completed {
        /// Source pauses (end of preoperation).
        paused: Duration,
        /// Destination resumes (end of downtime).
        resumed: Duration,
        /// Last byte of the stream.
        end: Duration,
        /// The network delivers to the destination.
        reattach: Duration,
    },
    /// Never converged: cancelled at the time limit with `remaining` bytes dirty.
    Cancelled {
        /// The time limit.
        at: Duration,
        /// Dirty bytes left.
        remaining: u64,
    },
}

/// The whole planned timeline, times relative to the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Block mode: end of the disk copy.
    pub disk_copied: Option<Duration>,
    /// Pre-copy passes.
    pub passes: Vec<PlannedPass>,
    /// The end.
    pub end: PlannedEnd,
    /// Effective stream throughput, bytes/s.
    pub throughput: f64,
    /// Total bytes sent.
    pub transferred: u64,
}

/// Effective throughput of the stream: B (1 - d), capped by the Mathis et al. bound
/// 1.22 MSS / (RTT sqrt(d)) when there is loss.
pub fn effective_throughput(bandwidth: f64, loss: f64, rtt_s: f64) -> f64 {
    let ideal = bandwidth * (1.0 - loss);
    if loss <= 0.0 {
        return ideal;
    }
    let mathis = 1.22 * MSS / (rtt_s.max(1e-4) * loss.sqrt());
    ideal.min(mathis)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Plans a migration.
pub fn plan(input: &ModelInput, seed: u64) -> Plan {
    let mut rng = Rng::new(seed);
    let b_eff = effective_throughput(input.bandwidth, input.loss, input.rtt_s).max(1.0);
    let limit = input.time_limit_s;
    let mut t = 0.0;
    let mut transferred = 0.0;
    let mut disk_copied = None;
    let mut b_mem = b_eff;
    if input.mode == Mode::Block && input.disk_bytes > 0.0 {
        t += input.disk_bytes / b_eff;
        transferred += input.disk_bytes;
        disk_copied = Some(secs(t.min(limit)));
        // Mirrored disk writes keep taking their share of the stream.
        b_mem = (b_eff - input.disk_dirty_rate).max(0.1 * b_eff);
    }
    let mut passes = Vec::new();
    let mut to_send = input.memory_bytes;
    let mut throttle: f64 = 0.0;
    let mut pass = 0;
    while pass < MAX_PASSES {
        pass += 1;
        let dt = to_send / b_mem;
        if t + dt >= limit {
            let sent_part = (limit - t).max(0.0) * b_mem;
            return cancelled(
                disk_copied,
                passes,
                limit,
                to_send - sent_part,
                b_eff,
                transferred + sent_part,
            );
        }
        if input.auto_converge && pass >= 3 {
            throttle = if throttle == 0.0 {
                0.2
            } else {
                (throttle + 0.1).min(0.99)
            };
        }
        let factor = rng.range(1.0 - input.dirty_jitter, 1.0 + input.dirty_jitter);
        let rate = input.dirty_rate * factor * (1.0 - throttle);
        t += dt;
        transferred += to_send;
        let dirty = input
            .working_set_bytes
            .min(rate * dt)
            .min(input.memory_bytes);
        passes.push(PlannedPass {
            at: secs(t),
            pass,
            transferred: transferred as u64,
            remaining: dirty as u64,
            dirty_pages_rate: rate / 4096.0,
            mbps: b_mem * 8.0 / 1e6,
        });
        let block_flush = if input.mode == Mode::Block {
            (input.disk_dirty_rate * dt).min(input.disk_bytes)
        } else {
            0.0
        };
        let switch_postcopy =
            input.copy == Copy::Postcopy && pass >= input.postcopy_after_passes.max(1);
        let stop_copy = dirty / b_mem <= input.downtime_limit_s;
        if switch_postcopy || stop_copy {
            let (downtime, after) = if switch_postcopy {
                (input.switchover_s + block_flush / b_mem, dirty / b_mem)
            } else {
                (
                    dirty / b_mem + input.switchover_s + block_flush / b_mem,
                    0.0,
                )
            };
            // Post-copy cannot be cancelled once switched: the limit applies before only.
            let paused = t;
            let resumed = paused + downtime;
            let end = resumed + after;
            let reattach =
                resumed + input.reattach_s + rng.range(0.0, input.reattach_jitter_s.max(0.0));
            return Plan {
                disk_copied,
                passes,
                end: PlannedEnd::Completed {
                    paused: secs(paused),
                    resumed: secs(resumed),
                    end: secs(end),
                    reattach: secs(reattach),
                },
                throughput: b_mem,
                transferred: (transferred + dirty + block_flush) as u64,
            };
        }
        to_send = dirty;
    }
    cancelled(disk_copied, passes, t, to_send, b_mem, transferred)
}

fn cancelled(
    disk_copied: Option<Duration>,
    passes: Vec<PlannedPass>,
    at: f64,
    remaining: f64,
    b: f64,
    transferred: f64,
) -> Plan {
    Plan {
        disk_copied,
        passes,
        end: PlannedEnd::Cancelled {
            at: secs(at),
            remaining: remaining.max(0.0) as u64,
        },
        throughput: b,
        transferred: transferred as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: f64 = 1_048_576.0;

    fn input() -> ModelInput {
        ModelInput {
            memory_bytes: 32.0 * MB,
            working_set_bytes: 25.0 * MB,
            dirty_rate: 20.0 * MB,
            dirty_jitter: 0.0,
            bandwidth: 12.5 * MB,
            loss: 0.0,
            rtt_s: 0.001,
            downtime_limit_s: 2.5,
            switchover_s: 0.0,
            reattach_s: 0.05,
            reattach_jitter_s: 0.0,
            mode: Mode::Live,
            disk_bytes: 0.0,
            disk_dirty_rate: 0.0,
            copy: Copy::Precopy,
            postcopy_after_passes: 1,
            auto_converge: false,
            time_limit_s: 60.0,
        }
    }

    fn completed(p: &Plan) -> (f64, f64, f64) {
        match p.end {
            PlannedEnd::Completed {
                paused,
                resumed,
                reattach,
                ..
            } => (
                paused.as_secs_f64(),
                (resumed - paused).as_secs_f64(),
                (reattach - resumed).as_secs_f64(),
            ),
            PlannedEnd::Cancelled { .. } => panic!("cancelled: {p:?}"),
        }
    }

    #[test]
    fn one_pass_then_stop_and_copy() {
        let p = plan(&input(), 1);
        let (pre, down, re) = completed(&p);
        assert_eq!(p.passes.len(), 1);
        assert!((pre - 32.0 / 12.5).abs() < 1e-6, "{pre}");
        assert!((down - 2.0).abs() < 1e-6, "{down}");
        assert!((re - 0.05).abs() < 1e-6);
    }

    #[test]
    fn converges_over_passes_when_dirty_rate_is_below_bandwidth() {
        let mut i = input();
        i.working_set_bytes = 32.0 * MB;
        i.dirty_rate = 4.0 * MB;
        i.downtime_limit_s = 0.05;
        let p = plan(&i, 1);
        let (_, down, _) = completed(&p);
        assert!(p.passes.len() > 2, "{p:?}");
        assert!(down <= 0.05 + 1e-9);
        let rem: Vec<u64> = p.passes.iter().map(|x| x.remaining).collect();
        assert!(rem.windows(2).all(|w| w[1] < w[0]), "{rem:?}");
    }

    #[test]
    fn does_not_converge_when_the_working_set_outruns_the_limit() {
        let mut i = input();
        i.downtime_limit_s = 0.3;
        i.time_limit_s = 30.0;
        let p = plan(&i, 1);
        assert!(
            matches!(p.end, PlannedEnd::Cancelled { at, remaining } if at == Duration::from_secs(30) && remaining > 0)
        );
        // Auto-converge throttles the guest until it fits.
        i.auto_converge = true;
        completed(&plan(&i, 1));
    }

    #[test]
    fn slower_links_and_loss_stretch_preoperation() {
        let base = completed(&plan(&input(), 1)).0;
        let mut i = input();
        i.loss = 0.05;
        i.working_set_bytes = 0.0;
        let lossy = completed(&plan(&i, 1)).0;
        assert!(lossy > base / (1.0 - 0.05) - 1e-6, "{base} {lossy}");
        assert!(effective_throughput(125e6, 0.05, 0.001) < 125e6 * 0.95);
    }

    #[test]
    fn block_and_postcopy() {
        let mut i = input();
        i.mode = Mode::Block;
        i.disk_bytes = 64.0 * MB;
        i.disk_dirty_rate = 1.0 * MB;
        let p = plan(&i, 1);
        assert!(p.disk_copied.is_some());
        assert!(completed(&p).1 > completed(&plan(&input(), 1)).1);
        let mut i = input();
        i.copy = Copy::Postcopy;
        let p = plan(&i, 1);
        let (_, down, _) = completed(&p);
        assert!(down < 0.01, "{down}");
        assert!(matches!(p.end, PlannedEnd::Completed { resumed, end, .. } if end > resumed));
    }

    #[test]
    fn deterministic_for_a_seed() {
        let mut i = input();
        i.dirty_jitter = 0.3;
        i.reattach_jitter_s = 0.02;
        assert_eq!(plan(&i, 42), plan(&i, 42));
        assert_ne!(plan(&i, 42), plan(&i, 43));
    }
}
