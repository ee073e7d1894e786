//! The crate's error.

use std::net::SocketAddr;

/// What went wrong serving the metrics.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// The address could not be bound.
    #[error("cannot serve metrics on {addr}: {source}{}", hint(source))]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What to do about a bind error.
fn hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            " (the address is in use: choose another port with --metrics ADDR, or port 0 for any free one)"
        }
        std::io::ErrorKind::PermissionDenied => {
            " (ports below 1024 need root: choose a port from 1024 up, e.g. 9464)"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            " (no interface has this address: use 127.0.0.1, 0.0.0.0 or an address of this machine)"
        }
        _ => "",
    }
}
