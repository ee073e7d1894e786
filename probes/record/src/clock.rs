//! Time as every probe sees it: a monotonic offset since the run's start.
//!
//! Probe cores never read a clock themselves; their drivers do, through [`Clock`].
//! The real driver uses [`MonotonicClock`]; tests and `qoeprobe simulate` use
//! [`VirtualClock`], which only moves when told to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of "now", measured since the start of a run.
pub trait Clock: Send + Sync {
    /// Time elapsed since the run's start.
    fn now(&self) -> Duration;

    /// Wall-clock time (nanoseconds since the Unix epoch) at the run's start: the
    /// one anchor that maps every `t_ns` to calendar time.
    fn wall_anchor_unix_ns(&self) -> u64;

    /// Wall-clock time (nanoseconds since the Unix epoch) for an offset `t`.
    fn wall_at(&self, t: Duration) -> u64 {
        self.wall_anchor_unix_ns()
            .saturating_add(u64::try_from(t.as_nanos()).unwrap_or(u64::MAX))
    }
}

/// The real clock: `Instant` (monotonic) since construction, anchored once to the
/// system's wall clock.
#[derive(Debug, Clone)]
pub struct MonotonicClock {
    start: Instant,
    wall_anchor_unix_ns: u64,
}

impl MonotonicClock {
    /// Starts a run's clock now.
    pub fn start() -> Self {
        let start = Instant::now();
        Self {
            start,
            wall_anchor_unix_ns: unix_now_ns(),
        }
    }

    /// The `Instant` this clock counts from.
    pub fn start_instant(&self) -> Instant {
        self.start
    }

    /// Converts a real `Instant` into this clock's offset (zero if it is earlier
    /// than the start).
    pub fn offset_of(&self, instant: Instant) -> Duration {
        instant.saturating_duration_since(self.start)
    }

    /// Converts an offset back to an `Instant`, for timers.
    pub fn instant_at(&self, t: Duration) -> Instant {
        self.start + t
    }

    /// Converts a wall-clock timestamp (e.g. a hypervisor event's) to this clock's
    /// offset. Timestamps before the anchor map to zero.
    pub fn offset_of_wall_ns(&self, wall_unix_ns: u64) -> Duration {
        Duration::from_nanos(wall_unix_ns.saturating_sub(self.wall_anchor_unix_ns))
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn wall_anchor_unix_ns(&self) -> u64 {
        self.wall_anchor_unix_ns
    }
}

/// A clock that stands still until it is advanced: discrete-event tests and the
/// simulator jump it to the next wake-up.
#[derive(Debug, Default)]
pub struct VirtualClock {
    now_ns: AtomicU64,
    wall_anchor_unix_ns: u64,
}

impl VirtualClock {
    /// A virtual clock at zero, anchored at the given wall time.
    pub fn new(wall_anchor_unix_ns: u64) -> Self {
        Self {
            now_ns: AtomicU64::new(0),
            wall_anchor_unix_ns,
        }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        self.now_ns.fetch_add(duration_ns(d), Ordering::SeqCst);
    }

    /// Sets the clock to `t` if `t` is later than now; a virtual clock never goes back.
    pub fn advance_to(&self, t: Duration) {
        self.now_ns.fetch_max(duration_ns(t), Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.now_ns.load(Ordering::SeqCst))
    }

    fn wall_anchor_unix_ns(&self) -> u64 {
        self.wall_anchor_unix_ns
    }
}

/// Nanoseconds in `d`, saturating at `u64::MAX` (584 years).
pub fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The system wall clock in nanoseconds since the Unix epoch (zero before 1970).
pub fn unix_now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(duration_ns)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_only_forward_when_told() {
        let c = VirtualClock::new(1_000);
        assert_eq!(c.now(), Duration::ZERO);
        c.advance(Duration::from_millis(5));
        c.advance_to(Duration::from_millis(3));
        assert_eq!(c.now(), Duration::from_millis(5));
        c.advance_to(Duration::from_millis(9));
        assert_eq!(c.now(), Duration::from_millis(9));
        assert_eq!(c.wall_at(Duration::from_nanos(10)), 1_010);
    }

    #[test]
    fn monotonic_clock_is_monotonic_and_anchored() {
        let c = MonotonicClock::start();
        let a = c.now();
        let b = c.now();
        assert!(b >= a);
        assert!(c.wall_anchor_unix_ns() > 1_600_000_000_000_000_000);
        let wall = c.wall_anchor_unix_ns() + 2_000_000;
        assert_eq!(c.offset_of_wall_ns(wall), Duration::from_millis(2));
    }
}
