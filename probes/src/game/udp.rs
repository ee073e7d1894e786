//! The tokio UDP adapter: drives a [`GameProbe`] with the real clock, a connected
//! UDP socket and a [`PreciseTimer`] for the send schedule. Thin on purpose: every
//! decision is the core's.

use super::core::{GameConfig, GameProbe};
use crate::clock::{Clock, MonotonicClock};
use crate::precise::PreciseTimer;
use crate::record::Event;
use std::future::Future;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use tokio::io::unix::AsyncFd;

/// Why a game probe could not run.
#[derive(Debug, thiserror::Error)]
pub enum GameError {
    /// The target is not `HOST:PORT` or the host does not resolve.
    #[error("cannot resolve {target}: {source}; give the server as HOST:PORT (UDP)")]
    Resolve {
        /// The target as given.
        target: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// Resolution gave no address.
    #[error("{target} resolves to no address")]
    NoAddress {
        /// The target as given.
        target: String,
    },
    /// A socket operation failed.
    #[error("UDP socket toward {target} failed while {action}: {source}")]
    Io {
        /// The target.
        target: String,
        /// What was being done.
        action: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Resolves `HOST:PORT` to its first address.
pub async fn resolve(target: &str) -> Result<SocketAddr, GameError> {
    let mut addrs = tokio::net::lookup_host(target)
        .await
        .map_err(|source| GameError::Resolve {
            target: target.to_string(),
            source,
        })?;
    addrs.next().ok_or_else(|| GameError::NoAddress {
        target: target.to_string(),
    })
}

/// Continuous spinning (every deadline within the timer's margin, as at thousands of
/// commands per second) yields to the runtime at least this often.
const YIELD_EVERY: Duration = Duration::from_millis(1);
/// Datagrams read in one go before the send schedule is looked at again.
const DRAIN_MAX: usize = 64;

/// Runs one game probe against `server` until its duration and drain have passed or
/// `stop` completes; calls `on_event` for every event as it happens and returns them all.
///
/// Sends are timed by a [`PreciseTimer`] (timerfd sleep, then a short spin), so a
/// command leaves within microseconds of its scheduled time on an idle core instead of
/// up to a millisecond late on tokio's timer wheel. While spinning, the socket is read
/// without blocking, so arrivals are still timestamped when they arrive.
pub async fn run(
    server: SocketAddr,
    cfg: GameConfig,
    clock: &MonotonicClock,
    mut on_event: impl FnMut(&Event),
    stop: impl Future<Output = ()>,
) -> Result<Vec<Event>, GameError> {
    let io = |action: &'static str| {
        move |source| GameError::Io {
            target: server.to_string(),
            action,
            source,
        }
    };
    let sock = connect(server).map_err(io("opening a socket"))?;
    let mut timer = PreciseTimer::new().map_err(io("creating the send timer"))?;
    let mut probe = GameProbe::new(cfg, clock.now());
    let mut events = Vec::new();
    let mut buf = vec![0u8; 2048];
    let mut awaited = Instant::now();
    tokio::pin!(stop);
    loop {
        probe.handle_timeout(clock.now());
        while let Some(d) = probe.poll_transmit(clock.now()) {
            send(&sock, &d).await.map_err(io("sending"))?;
        }
        while let Some(e) = probe.poll_event() {
            on_event(&e);
            events.push(e);
        }
        if probe.is_done() {
            return Ok(events);
        }
        let wake = probe.poll_timeout().map(|t| clock.instant_at(t));
        if let Some(w) = wake.filter(|&w| timer.is_near(w)) {
            if awaited.elapsed() < YIELD_EVERY {
                let mut failed = None;
                timer.spin_until(w, || {
                    if failed.is_none()
                        && let Err(e) = drain(sock.get_ref(), &mut probe, clock, &mut buf)
                    {
                        failed = Some(e);
                    }
                });
                if let Some(e) = failed {
                    return Err(io("receiving")(e));
                }
                continue;
            }
            // Let the runtime run its drivers and other tasks, and look at `stop`.
            tokio::select! {
                biased;
                _ = &mut stop => probe.finish(clock.now(), "interrupted"),
                _ = tokio::task::yield_now() => {}
            }
            awaited = Instant::now();
            continue;
        }
        tokio::select! {
            biased;
            _ = &mut stop => probe.finish(clock.now(), "interrupted"),
            r = sock.readable() => {
                let mut ready = r.map_err(io("waiting for a datagram"))?;
                if drain(sock.get_ref(), &mut probe, clock, &mut buf).map_err(io("receiving"))? {
                    ready.clear_ready();
                }
            }
            r = async {
                match wake {
                    Some(w) => timer.sleep_until(w).await,
                    None => std::future::pending().await,
                }
            } => r.map_err(io("waiting for the send time"))?,
        }
        awaited = Instant::now();
    }
}

/// A non-blocking UDP socket connected to `server`, registered with the runtime.
fn connect(server: SocketAddr) -> std::io::Result<AsyncFd<UdpSocket>> {
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = UdpSocket::bind(bind)?;
    sock.connect(server)?;
    sock.set_nonblocking(true)?;
    // SAFETY: the socket owns its descriptor, which stays open and the same for as
    // long as the AsyncFd owns the socket.
    Ok(unsafe { AsyncFd::register(sock) }?)
}

/// Sends one datagram, waiting for buffer space if the socket has none.
async fn send(sock: &AsyncFd<UdpSocket>, d: &[u8]) -> std::io::Result<()> {
    loop {
        match sock.get_ref().send(d) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                sock.writable().await?.clear_ready();
            }
            // ICMP port unreachable from an earlier datagram (server down): keep going.
            Err(e) if transient(&e) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// Feeds the datagrams waiting on `sock` (at most [`DRAIN_MAX`]) to the prober, each
/// with the time it was read. `true` when the socket is empty.
fn drain(
    sock: &UdpSocket,
    probe: &mut GameProbe,
    clock: &MonotonicClock,
    buf: &mut [u8],
) -> std::io::Result<bool> {
    for _ in 0..DRAIN_MAX {
        match sock.recv(buf) {
            Ok(n) => probe.handle_datagram(clock.now(), buf.get(..n).unwrap_or(&[])),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if transient(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

fn transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
    )
}
