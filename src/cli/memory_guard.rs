//! A memory limit for `play --clients N`: thousands of sessions in one process on a
//! small machine are a load test of the machine too. Once, the process's memory grew
//! by about 1 GB a second here (12 GB within 20 s at 10,000 sessions on 2 cores,
//! from the sessions counting each other's connections, since fixed;
//! docs/performance.md), and a first run took all 24 GB. The guard samples the
//! resident set twice a second and stops every session once it is above the limit,
//! so that a load test that outgrows the machine ends with a report instead of
//! exhausting it.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How often the resident set is read.
const EVERY: Duration = Duration::from_millis(500);

/// The resident set of this process now, in bytes (`/proc/self/statm`).
pub fn rss_now() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}

/// Half of this machine's memory (`MemTotal` of `/proc/meminfo`), in MB: the
/// default limit.
pub fn default_limit_mb() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(4096, |kb| kb / 1024 / 2)
}

/// Why the guard stopped the sessions: the resident set seen, in MB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverLimit {
    /// The resident set that crossed the limit.
    pub rss_mb: u64,
    /// The limit.
    pub limit_mb: u64,
}

/// Starts the guard: when this process's resident set exceeds `limit_mb`, it
/// records it in the returned slot and sends `true` on `stop`.
pub fn start(limit_mb: u64, stop: Arc<watch::Sender<bool>>) -> Arc<Mutex<Option<OverLimit>>> {
    let over = Arc::new(Mutex::new(None));
    let slot = over.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            if *stop.borrow() {
                return;
            }
            let rss_mb = rss_now().unwrap_or(0) / 1_000_000;
            if rss_mb > limit_mb {
                *slot.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(OverLimit { rss_mb, limit_mb });
                let _ = stop.send(true);
                return;
            }
        }
    });
    over
}
