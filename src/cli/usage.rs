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

/// Raises this process's soft limit on open files to its hard limit and returns the
/// new soft limit (the old one if it cannot be raised). Every session and connection
/// of `play --clients` and `serve dash` holds a descriptor, and the usual soft
/// default (1,024) is far below thousands of them.
pub fn raise_open_files_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut l: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) != 0 {
            return 0;
        }
        if l.rlim_cur < l.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: l.rlim_max,
                rlim_max: l.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
        l.rlim_cur
    }
}
