//! Precise waits for absolute monotonic deadlines, for probes whose send times are
//! part of the measurement.
//!
//! tokio's timer wheel has a 1 ms resolution: a wake-up is rounded up to the next
//! millisecond, so a schedule driven by it runs 0 to 1 ms late (plus scheduling).
//! [`PreciseTimer`] waits in two phases:
//!
//! 1. **sleep** on a Linux `timerfd` armed with the absolute deadline minus a margin
//!    (`TFD_TIMER_ABSTIME` on `CLOCK_MONOTONIC`, the clock `Instant` reads; a timerfd
//!    has no timer slack), awaited through the runtime like any socket: no CPU, and the
//!    task stays cancellable;
//! 2. **spin** for the rest of the margin, reading the clock until the deadline, with a
//!    caller-given closure between reads (the game prober drains its socket there, so
//!    a datagram that arrives meanwhile is still timestamped when it arrives).
//!
//! The margin adapts to how late the timerfd wake-ups are: it is the largest lateness
//! of the last [`WINDOW`] sleeps plus [`MARGIN_PAD`], kept within
//! [`MARGIN_MIN`]..=[`MARGIN_MAX`]. A quiet machine wakes within tens of
//! microseconds, so the spin costs little; a loaded one wakes later and the timer
//! spins longer instead of sending late. [`PreciseStats`] counts what it cost.
//!
//! The spin blocks the runtime worker it runs on for at most the margin. A loop that
//! is always within the margin of its next deadline (rates above about 1/margin)
//! never awaits: such a caller must yield to the runtime now and then itself.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;

/// Sleeps whose lateness sets the margin.
pub const WINDOW: usize = 32;
/// Added to the largest recent lateness.
pub const MARGIN_PAD: Duration = Duration::from_micros(30);
/// Smallest margin (spin time before a deadline when wake-ups are punctual).
pub const MARGIN_MIN: Duration = Duration::from_micros(60);
/// Largest margin: a wake-up later than this is not spun for. On a machine that
/// late the spinning thread is preempted too, so a longer spin buys little and costs
/// a core's worth of cycles.
pub const MARGIN_MAX: Duration = Duration::from_millis(1);

/// What the timer cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreciseStats {
    /// Waits that slept on the timerfd first.
    pub sleeps: u64,
    /// Calls of [`PreciseTimer::spin_until`].
    pub spins: u64,
    /// Total time spent spinning.
    pub spin_total: Duration,
    /// Largest timerfd wake-up lateness seen (actual - armed time).
    pub wake_late_max: Duration,
    /// The margin now.
    pub margin: Duration,
}

/// A two-phase (timerfd sleep, then spin) waiter for absolute `Instant` deadlines.
/// Needs a tokio runtime with I/O enabled.
#[derive(Debug)]
pub struct PreciseTimer {
    fd: AsyncFd<OwnedFd>,
    /// An `Instant` and the `CLOCK_MONOTONIC` reading taken at the same moment.
    anchor: (Instant, Duration),
    late: [Duration; WINDOW],
    next: usize,
    bounds: (Duration, Duration),
    stats: PreciseStats,
}

impl PreciseTimer {
    /// Creates the timerfd and registers it with the current runtime; the margin
    /// adapts within [`MARGIN_MIN`]..=[`MARGIN_MAX`].
    pub fn new() -> io::Result<Self> {
        Self::with_margin_bounds(MARGIN_MIN, MARGIN_MAX)
    }

    /// Like [`Self::new`] with the margin kept within `min..=max`. `(ZERO, ZERO)`
    /// gives a timer that never spins: a timerfd sleep to the deadline itself, for
    /// callers with many concurrent deadlines (microseconds late instead of up to a
    /// millisecond, and no CPU).
    pub fn with_margin_bounds(min: Duration, max: Duration) -> io::Result<Self> {
        let max = max.max(min);
        // SAFETY: plain syscall; the returned descriptor is checked and owned below.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let before = Instant::now();
        let mono = monotonic_now()?;
        let after = Instant::now();
        let anchor = before + (after - before) / 2;
        let initial = Duration::from_micros(200).clamp(min, max);
        Ok(Self {
            // SAFETY: the OwnedFd stays open and is the same descriptor for as long as
            // the AsyncFd owns it.
            fd: unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }?,
            anchor: (anchor, mono),
            late: [initial.saturating_sub(MARGIN_PAD); WINDOW],
            next: 0,
            bounds: (min, max),
            stats: PreciseStats {
                margin: initial,
                ..PreciseStats::default()
            },
        })
    }

    /// How long before a deadline the sleep ends and the spin begins.
    pub fn margin(&self) -> Duration {
        self.stats.margin
    }

    /// What the timer cost so far.
    pub fn stats(&self) -> PreciseStats {
        self.stats
    }

    /// `true` if `deadline` is within the margin of now: [`Self::sleep_until`] would
    /// return at once and the rest is for [`Self::spin_until`].
    pub fn is_near(&self, deadline: Instant) -> bool {
        deadline.saturating_duration_since(Instant::now()) <= self.stats.margin
    }

    /// Sleeps (no CPU) until the margin before `deadline`; returns at once if that
    /// has passed. Cancel-safe: dropping the future leaves nothing to clean up.
    pub async fn sleep_until(&mut self, deadline: Instant) -> io::Result<()> {
        let Some(target) = deadline.checked_sub(self.stats.margin) else {
            return Ok(());
        };
        if target <= Instant::now() {
            return Ok(());
        }
        self.arm(target)?;
        loop {
            let mut guard = self.fd.readable().await?;
            let mut expirations = [0u8; 8];
            // SAFETY: reads 8 bytes into a live 8-byte buffer from an fd we own.
            let n = unsafe {
                libc::read(
                    guard.get_inner().as_raw_fd(),
                    expirations.as_mut_ptr().cast(),
                    expirations.len(),
                )
            };
            if n == 8 {
                break;
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::WouldBlock {
                return Err(err);
            }
            guard.clear_ready();
        }
        self.learn(Instant::now().saturating_duration_since(target));
        Ok(())
    }

    /// Busy-waits until `deadline`, calling `between` after every clock read that is
    /// still early. Returns at once if the deadline has passed.
    pub fn spin_until(&mut self, deadline: Instant, mut between: impl FnMut()) {
        let start = Instant::now();
        let mut now = start;
        while now < deadline {
            between();
            std::hint::spin_loop();
            now = Instant::now();
        }
        self.stats.spins += 1;
        self.stats.spin_total += now - start;
    }

    /// Both phases with nothing to do while spinning: returns at `deadline` or as
    /// soon after as the CPU allows.
    pub async fn wait_until(&mut self, deadline: Instant) -> io::Result<()> {
        self.sleep_until(deadline).await?;
        self.spin_until(deadline, || {});
        Ok(())
    }

    fn arm(&self, target: Instant) -> io::Result<()> {
        let (at, mono) = self.anchor;
        let abs = if target >= at {
            mono + (target - at)
        } else {
            mono.saturating_sub(at - target)
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: timespec(abs.max(Duration::from_nanos(1))),
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not requested.
        let r = unsafe {
            libc::timerfd_settime(
                self.fd.get_ref().as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn learn(&mut self, late: Duration) {
        self.stats.sleeps += 1;
        self.stats.wake_late_max = self.stats.wake_late_max.max(late);
        self.late[self.next] = late;
        self.next = (self.next + 1) % WINDOW;
        self.stats.margin = margin_for(&self.late, self.bounds);
    }
}

/// The margin for a window of recent wake-up latenesses.
fn margin_for(late: &[Duration], (min, max): (Duration, Duration)) -> Duration {
    let worst = late.iter().copied().max().unwrap_or_default();
    (worst + MARGIN_PAD).clamp(min, max)
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(d.subsec_nanos()),
    }
}

fn monotonic_now() -> io::Result<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: writes into a live timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_follows_the_worst_recent_lateness_within_bounds() {
        let us = Duration::from_micros;
        let b = (MARGIN_MIN, MARGIN_MAX);
        assert_eq!(margin_for(&[us(1); WINDOW], b), MARGIN_MIN);
        let mut w = [us(10); WINDOW];
        w[3] = us(500);
        assert_eq!(margin_for(&w, b), us(530));
        w[3] = Duration::from_millis(40);
        assert_eq!(margin_for(&w, b), MARGIN_MAX);
        assert_eq!(
            margin_for(&w, (Duration::ZERO, Duration::ZERO)),
            Duration::ZERO
        );
    }

    #[test]
    fn never_returns_before_the_deadline_and_skips_the_sleep_for_a_past_one() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut t = PreciseTimer::new().expect("timerfd");
            let start = Instant::now();
            for i in 1..=20u32 {
                let deadline = start + Duration::from_millis(2) * i;
                t.wait_until(deadline).await.expect("wait");
                assert!(Instant::now() >= deadline, "woke before deadline {i}");
            }
            // A deadline in the past returns at once, without sleeping.
            let before = t.stats();
            t.wait_until(start).await.expect("past deadline");
            let s = t.stats();
            assert_eq!(s.sleeps, before.sleeps, "no sleep for a past deadline");
            assert_eq!(s.spins, 21, "every wait spins, if only for one clock read");
            assert!((MARGIN_MIN..=MARGIN_MAX).contains(&s.margin), "{s:?}");
        });
    }

    #[test]
    fn a_zero_margin_timer_sleeps_to_the_deadline_itself() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut t =
                PreciseTimer::with_margin_bounds(Duration::ZERO, Duration::ZERO).expect("timerfd");
            let start = Instant::now();
            for i in 1..=10u32 {
                let deadline = start + Duration::from_millis(2) * i;
                t.wait_until(deadline).await.expect("wait");
                assert!(Instant::now() >= deadline, "woke before deadline {i}");
            }
            let s = t.stats();
            assert_eq!((s.spins, s.margin), (10, Duration::ZERO), "{s:?}");
        });
    }

    #[test]
    fn a_cancelled_sleep_leaves_the_timer_usable() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut t = PreciseTimer::new().expect("timerfd");
            let far = Instant::now() + Duration::from_secs(3600);
            let r = tokio::time::timeout(Duration::from_millis(5), t.sleep_until(far)).await;
            assert!(r.is_err(), "an hour-long sleep was cut by the timeout");
            let soon = Instant::now() + Duration::from_millis(3);
            t.wait_until(soon).await.expect("wait");
            assert!(Instant::now() >= soon);
        });
    }
}
