//! One direction of the delay relay: read frames, hold each until
//! arrival + delay, write it out, on one dedicated thread.
//!
//! Timing: the thread's timer slack is set to 1 ns, it sleeps in `ppoll` until
//! `SPIN` before the next due time (or until a frame arrives) and busy-waits
//! the rest, so a frame leaves within microseconds of its due time without the
//! 1 ms granularity of tokio's timer. The queue is FIFO: a delay lowered at run
//! time never reorders frames (later frames wait behind earlier ones).

use super::socket::PacketSocket;
use super::stats::RelayStats;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Busy-wait window before a due time.
const SPIN_NS: u64 = 50_000;
/// Longest sleep when idle (how fast a stop request is seen).
const IDLE: Duration = Duration::from_millis(50);
/// Receive buffer: vnet header + the largest GSO frame (64 KiB + headers).
const RX_BUF: usize = 128 * 1024;
/// Frames read per wake-up before sending what is due again.
const BATCH: usize = 64;

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into a live timespec.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Nanoseconds on CLOCK_MONOTONIC.
pub fn now_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// Real-time scheduling for this thread (best effort: a build running on the
/// same two cores must not delay frames). The thread sleeps in `ppoll` and
/// spins at most `SPIN_NS`, so it cannot starve the machine; the kernel's RT
/// throttling bounds it anyway.
fn go_realtime() {
    let p = libc::sched_param { sched_priority: 10 };
    // SAFETY: sched_setscheduler(0, ..) changes only the calling thread.
    unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) };
}

/// What the controlling side shares with a pump thread.
#[derive(Debug)]
pub struct Shared {
    /// One-way delay in nanoseconds (may change while running).
    pub delay_ns: AtomicU64,
    /// Set to stop the thread.
    pub stop: AtomicBool,
    /// Bytes the queue may hold before dropping (tail drop).
    pub queue_limit: usize,
}

struct Held {
    due: u64,
    frame: Vec<u8>,
}

/// Runs until `shared.stop` is set or a socket fails; returns the failure.
pub fn run(
    rx: PacketSocket,
    tx: PacketSocket,
    shared: &Shared,
    stats: &Mutex<RelayStats>,
) -> Option<String> {
    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0) };
    go_realtime();
    let mut buf = vec![0u8; RX_BUF];
    let mut queue: VecDeque<Held> = VecDeque::new();
    let mut queued_bytes = 0usize;
    let lock = || stats.lock().unwrap_or_else(|e| e.into_inner());
    while !shared.stop.load(Ordering::Relaxed) {
        // 1. Send everything due (spinning over the last few microseconds).
        let mut now = now_ns();
        while let Some(h) = queue.front() {
            if h.due > now + SPIN_NS {
                break;
            }
            while now < h.due {
                std::hint::spin_loop();
                now = now_ns();
            }
            let sent = tx.send(&h.frame);
            now = now_ns();
            let late = now.saturating_sub(h.due);
            let len = h.frame.len();
            {
                let mut s = lock();
                match sent {
                    Ok(()) => s.record(len.saturating_sub(super::socket::VNET_HDR_LEN), late),
                    Err(_) => s.send_errors += 1,
                }
            }
            queued_bytes -= len;
            queue.pop_front();
        }
        // 2. Sleep until the next due time or a frame arrives.
        let wait = match queue.front() {
            Some(h) => Duration::from_nanos(h.due.saturating_sub(now + SPIN_NS)),
            None => IDLE,
        };
        if !wait.is_zero() {
            match rx.wait_readable(wait) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) => return Some(format!("wait: {e}")),
            }
        }
        // 3. Read what is waiting, stamping each frame with the kernel's
        // receive time (converted to CLOCK_MONOTONIC).
        let mono_minus_real = now_ns() as i128 - clock_ns(libc::CLOCK_REALTIME) as i128;
        for _ in 0..BATCH {
            match rx.try_recv(&mut buf) {
                Ok(None) => break,
                Ok(Some(n)) => {
                    let read_at = now_ns();
                    let arrived = rx
                        .last_rx_realtime_ns()
                        .map(|t| (t as i128 + mono_minus_real).clamp(0, read_at as i128) as u64)
                        .filter(|t| read_at - t < 1_000_000_000)
                        .unwrap_or(read_at);
                    if n > buf.len() {
                        lock().dropped_truncated += 1;
                        continue;
                    }
                    if queued_bytes + n > shared.queue_limit {
                        lock().dropped_queue_full += 1;
                        continue;
                    }
                    let due = arrived + shared.delay_ns.load(Ordering::Relaxed);
                    queued_bytes += n;
                    queue.push_back(Held {
                        due,
                        frame: buf[..n].to_vec(),
                    });
                    // Stop reading when the head is due: sending comes first.
                    if queue.front().is_some_and(|h| h.due <= read_at + SPIN_NS) {
                        break;
                    }
                }
                Err(e) => return Some(format!("receive: {e}")),
            }
        }
    }
    None
}
