//! This process's CPU time and peak memory, from getrusage(2).

/// User + system CPU seconds used by this process so far.
pub fn cpu_seconds() -> f64 {
    let u = rusage();
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Peak resident set size in bytes.
pub fn max_rss_bytes() -> u64 {
    rusage().ru_maxrss.max(0) as u64 * 1024
}

fn rusage() -> libc::rusage {
    // SAFETY: getrusage only writes into the struct we pass; all-zero is a valid rusage.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    }
}
