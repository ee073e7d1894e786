//! The service as the probes reach it: its addresses and network namespace.

use std::net::SocketAddr;

/// The service as the probes reach it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceEndpoint {
    /// TCP address of the HTTP services (DASH, file, live).
    pub http: Option<SocketAddr>,
    /// UDP address of the game service.
    pub game: Option<SocketAddr>,
    /// Address the runner's reachability prober checks (TCP connect).
    pub probe_target: SocketAddr,
    /// Network namespace the probes must run in, if any.
    pub netns: Option<String>,
}

impl ServiceEndpoint {
    /// `Ok` when the endpoint's network namespace (if any) exists on this machine,
    /// else what to do.
    pub fn check_netns(&self) -> Result<(), String> {
        match &self.netns {
            Some(ns) if !std::path::Path::new("/run/netns").join(ns).exists() => Err(format!(
                "netns `{ns}`: no such network namespace (`ip netns list` shows those there are)"
            )),
            _ => Ok(()),
        }
    }
}
