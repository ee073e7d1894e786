//! One reachability attempt: a fresh TCP connect, its answer dated by the kernel.
//!
//! The moment the prober's task wakes up to a completed connect is late by however
//! long the thread waited for a CPU. The kernel knows better: it timestamps the SYN
//! when `connect` sends it and measures the SYN -> SYN-ACK round trip when the
//! SYN-ACK arrives (in the receive softirq, the moment a capture of the link stamps
//! it too). `TCP_INFO`'s `tcpi_rtt` is that first sample (the smoothed estimate
//! equals its first sample), so the answer arrived at send + rtt. A SYN the kernel
//! retransmitted is measured from the retransmission (or not at all, Karn's rule), so
//! then the answer is dated by `tcpi_last_ack_recv` (time since the last ACK, in
//! jiffies: 4 ms at 250 Hz). Either date is kept within [send, wake-up].

use record::AnswerClock;
use record::clock::{Clock, MonotonicClock};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};

/// One attempt's outcome, on the run's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// Right before `connect` sent the SYN.
    pub sent: Duration,
    /// When the answer arrived and how that was dated; `None`: refused or no answer
    /// before the deadline.
    pub answer: Option<(Duration, AnswerClock)>,
    /// When the prober's task saw the outcome.
    pub woke: Duration,
}

/// What `TCP_INFO` says about a connected socket's handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handshake {
    /// `tcpi_rtt`, microseconds.
    pub rtt_us: u32,
    /// `tcpi_total_retrans`: segments (the SYN included) retransmitted.
    pub retransmitted: u32,
    /// `tcpi_last_ack_recv`, ms before `read_at`.
    pub last_ack_ms: u32,
    /// When `TCP_INFO` was read.
    pub read_at: Duration,
}

/// Connects to `target`, waiting at most `deadline`.
pub(crate) async fn attempt(
    target: SocketAddr,
    deadline: Duration,
    clock: MonotonicClock,
) -> Attempt {
    let socket = match target {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    };
    let sent = clock.now();
    let Ok(socket) = socket else {
        // Out of sockets or file descriptors: no answer, like a lost SYN.
        return Attempt {
            sent,
            answer: None,
            woke: sent,
        };
    };
    // The first poll of `connect` sends the SYN, with nothing in between.
    let connected = tokio::time::timeout(deadline, socket.connect(target)).await;
    let woke = clock.now();
    let answer = match connected {
        Ok(Ok(stream)) => Some(date(sent, woke, handshake(&stream, &clock))),
        _ => None,
    };
    Attempt { sent, answer, woke }
}

/// Reads `TCP_INFO` of a connected socket.
fn handshake(stream: &TcpStream, clock: &MonotonicClock) -> Option<Handshake> {
    // SAFETY: `tcp_info` is plain data (all-zero is a valid value); getsockopt writes
    // at most `len` bytes into it and reports how many it wrote.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: a valid socket fd, a buffer of `len` bytes and its length.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            std::ptr::addr_of_mut!(info).cast(),
            &mut len,
        )
    };
    let read_at = clock.now();
    // Kernels since 2.6 fill at least up to `tcpi_total_retrans`.
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_total_retrans) + 4;
    (rc == 0 && len as usize >= needed).then_some(Handshake {
        rtt_us: info.tcpi_rtt,
        retransmitted: info.tcpi_total_retrans,
        last_ack_ms: info.tcpi_last_ack_recv,
        read_at,
    })
}

/// Dates an answer to an attempt sent at `sent` that the prober saw at `woke`.
pub(crate) fn date(
    sent: Duration,
    woke: Duration,
    kernel: Option<Handshake>,
) -> (Duration, AnswerClock) {
    let (at, how) = match kernel {
        Some(h) if h.retransmitted == 0 && h.rtt_us > 0 => (
            sent + Duration::from_micros(u64::from(h.rtt_us)),
            AnswerClock::KernelRtt,
        ),
        Some(h) => (
            h.read_at
                .saturating_sub(Duration::from_millis(u64::from(h.last_ack_ms))),
            AnswerClock::KernelLastAck,
        ),
        None => return (woke, AnswerClock::Wakeup),
    };
    (at.clamp(sent, woke.max(sent)), how)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// A real connect on loopback while the prober's thread is kept from running: the
    /// wake-up comes 80 ms late, the kernel's date does not.
    #[test]
    fn the_kernel_dates_an_answer_the_prober_woke_up_late_to() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let target = listener.local_addr().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock = MonotonicClock::start();
        let a = rt.block_on(async {
            let task = tokio::spawn(attempt(target, t(3000), clock.clone()));
            // Let the attempt send its SYN, then hold the thread as a busy host would.
            tokio::task::yield_now().await;
            std::thread::sleep(t(80));
            task.await.unwrap()
        });
        let (at, how) = a.answer.expect("loopback answers");
        assert_eq!(how, AnswerClock::KernelRtt, "{a:?}");
        assert!(at - a.sent < t(5), "{a:?}");
        assert!(a.woke - at >= t(75), "the wake-up was late: {a:?}");
    }

    #[test]
    fn a_retransmitted_syn_is_dated_by_the_last_ack_and_kept_in_bounds() {
        let h = Handshake {
            rtt_us: 900,
            retransmitted: 1,
            last_ack_ms: 12,
            read_at: t(1050),
        };
        assert_eq!(
            date(t(0), t(1049), Some(h)),
            (t(1038), AnswerClock::KernelLastAck)
        );
        // Never before the attempt was sent, never after the prober saw it.
        let late = Handshake {
            last_ack_ms: 2000,
            ..h
        };
        assert_eq!(date(t(10), t(1049), Some(late)).0, t(10));
        let first = Handshake {
            rtt_us: 5_000_000,
            retransmitted: 0,
            ..h
        };
        assert_eq!(
            date(t(0), t(1049), Some(first)),
            (t(1049), AnswerClock::KernelRtt)
        );
        assert_eq!(date(t(0), t(7), None), (t(7), AnswerClock::Wakeup));
    }
}
