//! Real-time priority for the reachability prober's thread, when the system allows
//! it: under `SCHED_FIFO` a woken thread runs ahead of every ordinary thread, so a
//! host busy with QEMU (TCG), the probes and other work does not delay the prober's
//! timer ticks and sends. The prober sleeps almost all the time (a connect every
//! interval), and the kernel caps real-time threads at 95 % of a CPU
//! (`kernel.sched_rt_runtime_us`) in any case.

use record::ProberScheduling;

/// The priority asked for: the lowest real-time level above 0 that still outranks
/// every ordinary thread; other real-time work (if any) keeps precedence.
const PRIORITY: libc::c_int = 10;

/// Puts the calling thread under `SCHED_FIFO` (threads it starts fall back to the
/// ordinary scheduler). Returns what it got and, on the ordinary scheduler, why.
pub(crate) fn raise_this_thread() -> (ProberScheduling, Option<String>) {
    let param = libc::sched_param {
        sched_priority: PRIORITY,
    };
    // SAFETY: pid 0 is the calling thread; `param` is a valid sched_param.
    let rc = unsafe {
        libc::sched_setscheduler(0, libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK, &param)
    };
    if rc == 0 {
        (ProberScheduling::RealtimeFifo, None)
    } else {
        let e = std::io::Error::last_os_error();
        (
            ProberScheduling::Normal,
            Some(format!(
                "SCHED_FIFO priority {PRIORITY} was refused ({e}): real-time priority needs root or CAP_SYS_NICE (and, with RT group scheduling, a cgroup with real-time runtime)"
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Root gets SCHED_FIFO; anyone else the ordinary scheduler with the reason.
    #[test]
    fn fifo_when_permitted_else_a_reason() {
        let (got, note) = std::thread::spawn(|| {
            let r = raise_this_thread();
            // SAFETY: reads the calling thread's policy.
            let policy = unsafe { libc::sched_getscheduler(0) };
            (r, policy)
        })
        .join()
        .map(|((got, note), policy)| {
            let fifo = policy & !libc::SCHED_RESET_ON_FORK == libc::SCHED_FIFO;
            assert_eq!(fifo, got == ProberScheduling::RealtimeFifo);
            (got, note)
        })
        .unwrap();
        assert_eq!(note.is_some(), got == ProberScheduling::Normal, "{note:?}");
        if let Some(note) = note {
            assert!(note.contains("SCHED_FIFO"), "{note}");
        }
    }

    /// `capset(2)`'s header and one of its two data words.
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const CAP_VERSION_3: u32 = 0x2008_0522;
    const CAP_SYS_NICE: u32 = 23;

    /// A thread without CAP_SYS_NICE (capabilities are per thread) and a real-time
    /// limit of 0 (`ulimit -r`, the default) is refused: it stays on the ordinary
    /// scheduler and says why, whoever runs the test.
    #[test]
    fn refused_real_time_falls_back_with_the_reason() {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: reads a resource limit into a valid struct.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_RTPRIO, &mut limit) },
            0
        );
        if limit.rlim_cur >= PRIORITY as libc::rlim_t {
            panic!(
                "RLIMIT_RTPRIO is {}: this test needs it below {PRIORITY} (the default is 0)",
                limit.rlim_cur
            );
        }
        let (got, note) = std::thread::spawn(|| {
            let mut head = CapHeader {
                version: CAP_VERSION_3,
                pid: 0,
            };
            let mut data = [CapData::default(); 2];
            // SAFETY: capget/capset with a version-3 header and two data words, on
            // this thread only (pid 0).
            unsafe {
                assert_eq!(
                    libc::syscall(libc::SYS_capget, &mut head, data.as_mut_ptr()),
                    0
                );
                data[0].effective &= !(1 << CAP_SYS_NICE);
                data[0].permitted &= !(1 << CAP_SYS_NICE);
                assert_eq!(libc::syscall(libc::SYS_capset, &mut head, data.as_ptr()), 0);
            }
            raise_this_thread()
        })
        .join()
        .unwrap();
        assert_eq!(got, ProberScheduling::Normal);
        let note = note.expect("a reason");
        assert!(note.contains("Operation not permitted"), "{note}");
    }
}
