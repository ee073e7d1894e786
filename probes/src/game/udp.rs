//! The tokio UDP adapter: drives a [`GameProbe`] with the real clock and a connected
//! UDP socket. Thin on purpose: every decision is the core's.

use super::core::{GameConfig, GameProbe};
use crate::clock::{Clock, MonotonicClock};
use crate::record::Event;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::UdpSocket;

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

/// Runs one game probe against `server` until its duration and drain have passed or
/// `stop` completes; calls `on_event` for every event as it happens and returns them all.
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
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(io("binding a local port"))?;
    sock.connect(server).await.map_err(io("connecting"))?;
    let mut probe = GameProbe::new(cfg, clock.now());
    let mut events = Vec::new();
    let mut buf = vec![0u8; 2048];
    tokio::pin!(stop);
    loop {
        probe.handle_timeout(clock.now());
        while let Some(d) = probe.poll_transmit(clock.now()) {
            match sock.send(&d).await {
                Ok(_) => {}
                // ICMP port unreachable from an earlier datagram (server down): keep going.
                Err(e) if transient(&e) => {}
                Err(e) => return Err(io("sending")(e)),
            }
        }
        while let Some(e) = probe.poll_event() {
            on_event(&e);
            events.push(e);
        }
        if probe.is_done() {
            return Ok(events);
        }
        let wake = probe.poll_timeout().map(|t| clock.instant_at(t));
        let sleep = async {
            match wake {
                Some(w) => tokio::time::sleep_until(w.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = sock.recv(&mut buf) => match r {
                Ok(n) => probe.handle_datagram(clock.now(), buf.get(..n).unwrap_or(&[])),
                Err(e) if transient(&e) => {}
                Err(e) => return Err(io("receiving")(e)),
            },
            _ = sleep => {}
            _ = &mut stop => probe.finish(clock.now(), "interrupted"),
        }
    }
}

fn transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
    )
}
