//! The lab's network: namespaces `qp-lab<id>-compute01`, `-compute02`, `-switch` and
//! `-client` (and `-encoder` for a relayed live stream); a bridge `br0` in the switch namespace that both VM taps and the
//! client link attach to; and two shaped links built by the network module
//! ([`crate::net`]): `client` (client namespace <-> bridge) and `migration`
//! (compute01 <-> compute02). Each carries a [`LinkCondition`] (rate, one-way
//! delay, loss); a link with a delay goes through the network module's delay relay
//! (namespace `qp-lab<id>-c-relay` or `-m-relay`), loss is its nft rule.
//!
//! Everything is made through one [`crate::net::Topology`] whose run id is
//! `lab<id>`, so the names keep the lab prefix (`qp-lab<id>-<role>`) that
//! `qoeprobe lab down` looks for, and the network module's registry tears it down
//! (on drop, error and panic) and records it in its state folder
//! `/run/qoeprobe/lab<id>/`. A tap is created by QEMU inside its compute namespace
//! (QEMU opens it by name there) and then moved into the switch namespace and
//! enslaved to the bridge; the open file descriptor follows the device. This module
//! never starts QEMU.

use super::{LabError, Result};
use crate::net::{
    self, DelayBackend, LinkCondition, LinkShaping, NetError, ShapedLink, ShapedLinkSpec,
};
use std::io::Write as _;
use std::net::Ipv4Addr;

/// The guest's address on the service network (`qoeprobe lab up` prints it).
pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
/// The client namespace's address on the service network.
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);
/// The encoder node's address on the service network (the study's separate node
/// that encodes the content a relay in the guest serves).
pub const ENCODER_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 200);
/// Prefix length of the service network.
pub const SERVICE_PREFIX: u8 = 24;
/// compute01's address on the migration link.
pub const COMPUTE01_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 1, 1);
/// compute02's address on the migration link.
pub const COMPUTE02_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 1, 2);
/// Name prefix of every lab namespace.
pub const PREFIX: &str = "qp-lab";
/// Longest lab id: the network module's run id is `lab<id>` (at most 6 characters).
pub const MAX_ID: usize = net::MAX_RUN_ID - 3;
/// The bridge in the switch namespace.
pub const BRIDGE: &str = "br0";

/// One of the two compute hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// compute01 (the first source).
    Compute01,
    /// compute02 (the first destination).
    Compute02,
}

impl Host {
    /// The other host.
    pub fn other(self) -> Self {
        match self {
            Host::Compute01 => Host::Compute02,
            Host::Compute02 => Host::Compute01,
        }
    }

    /// `compute01` or `compute02`.
    pub fn name(self) -> &'static str {
        match self {
            Host::Compute01 => "compute01",
            Host::Compute02 => "compute02",
        }
    }

    /// Its address on the migration link.
    pub fn migration_ip(self) -> Ipv4Addr {
        match self {
            Host::Compute01 => COMPUTE01_IP,
            Host::Compute02 => COMPUTE02_IP,
        }
    }

    /// The name of the VM tap QEMU creates on this host.
    pub fn tap(self) -> &'static str {
        match self {
            Host::Compute01 => "tapc1",
            Host::Compute02 => "tapc2",
        }
    }
}

/// The conditions of the lab's two links.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LabLinks {
    /// The client link (client namespace <-> bridge: every probe's traffic).
    pub client: LinkCondition,
    /// The migration link (compute01 <-> compute02: the migration stream, NBD).
    pub migration: LinkCondition,
}

/// Checks a lab id: 1 to [`MAX_ID`] characters of `[a-z0-9]`.
pub fn check_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > MAX_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Err(LabError::Failed(format!(
            "invalid lab id `{id}`: use 1 to {MAX_ID} lowercase letters or digits"
        )));
    }
    Ok(())
}

/// A network-module error as a lab error.
fn net_err(e: NetError) -> LabError {
    LabError::Failed(format!(
        "lab network: {e} (run `qoeprobe lab down` to remove leftovers, and run as root)"
    ))
}

/// The lab's namespaces and links; torn down on drop.
#[derive(Debug)]
pub struct LabNetwork {
    id: String,
    // Links before the topology: the topology's registry owns the relays.
    client: Option<ShapedLink>,
    migration: Option<ShapedLink>,
    net: Option<net::Topology>,
}

impl LabNetwork {
    /// Creates the namespaces, bridge, client link and migration link for lab `id`
    /// (1 to [`MAX_ID`] characters of `[a-z0-9]`; namespaces are `qp-lab<id>-<role>`),
    /// with the links' first conditions. A link gets a delay relay when its
    /// condition has `delay_ms` set (0 included): only such a link can take a delay
    /// later ([`LabNetwork::shape_client`], [`LabNetwork::shape_migration`]).
    pub fn create(id: &str, links: &LabLinks) -> Result<Self> {
        check_id(id)?;
        for (name, c) in [("client", &links.client), ("migration", &links.migration)] {
            c.validate()
                .map_err(|e| LabError::Failed(format!("lab link `{name}`: {e}")))?;
        }
        let net = net::Topology::with_run_id(Some(&format!("lab{id}"))).map_err(net_err)?;
        let mut t = Self {
            id: id.to_string(),
            client: None,
            migration: None,
            net: Some(net),
        };
        // On error, dropping `t` tears down what was built (the registry).
        t.build(links).map_err(net_err)?;
        Ok(t)
    }

    fn build(&mut self, links: &LabLinks) -> net::Result<()> {
        let Some(net) = &self.net else {
            return Ok(());
        };
        for role in ["compute01", "compute02", "switch", "client"] {
            net.namespace(role)?;
        }
        let (sw, cl) = (self.ns("switch"), self.ns("client"));
        net.bridge(&sw, BRIDGE)?;
        let client = net.shaped_link(&ShapedLinkSpec {
            name: "c".into(),
            a_ns: cl,
            b_ns: sw.clone(),
            a_addr: Some(format!("{CLIENT_IP}/{SERVICE_PREFIX}")),
            b_addr: None,
            condition: links.client,
            delay: DelayBackend::Auto,
        })?;
        net.set_master(&sw, &client.b_dev, BRIDGE)?;
        self.client = Some(client);
        self.migration = Some(net.shaped_link(&ShapedLinkSpec {
            name: "m".into(),
            a_ns: self.host_ns(Host::Compute01),
            b_ns: self.host_ns(Host::Compute02),
            a_addr: Some(format!("{COMPUTE01_IP}/24")),
            b_addr: Some(format!("{COMPUTE02_IP}/24")),
            condition: links.migration,
            delay: DelayBackend::Auto,
        })?);
        Ok(())
    }

    /// The lab id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The namespace of a role (`compute01`, `compute02`, `switch`, `client`).
    pub fn ns(&self, role: &str) -> String {
        format!("{PREFIX}{}-{role}", self.id)
    }

    /// The namespace of a compute host.
    pub fn host_ns(&self, host: Host) -> String {
        self.ns(host.name())
    }

    /// The client namespace (where probes run).
    pub fn client_ns(&self) -> String {
        self.ns("client")
    }

    /// The client link (its interfaces, relay and condition), while the lab is up.
    pub fn client_link(&self) -> Option<&ShapedLink> {
        self.client.as_ref()
    }

    /// The migration link, while the lab is up.
    pub fn migration_link(&self) -> Option<&ShapedLink> {
        self.migration.as_ref()
    }

    /// Whether a link runs through a delay relay (threads of this process).
    pub fn has_relay(&self) -> bool {
        [&self.client, &self.migration]
            .into_iter()
            .flatten()
            .any(|l| l.relay().is_some())
    }

    fn net(&self) -> Result<&net::Topology> {
        self.net
            .as_ref()
            .ok_or_else(|| LabError::Failed(format!("lab {} is torn down", self.id)))
    }

    /// Adds the encoder node: namespace `qp-lab<id>-encoder` on the bridge (an
    /// unshaped veth, address [`ENCODER_IP`]), standing for the study's separate
    /// node that encodes the stream a relay in the guest serves. Returns the
    /// namespace; it goes with the rest of the lab at teardown.
    pub fn add_encoder_node(&self) -> Result<String> {
        let net = self.net()?;
        let sw = self.ns("switch");
        let build = || -> net::Result<String> {
            let ns = net.namespace("encoder")?;
            net.veth(&ns, "enc0", &sw, "enc0sw")?;
            net.address(&ns, "enc0", &format!("{ENCODER_IP}/{SERVICE_PREFIX}"))?;
            net.set_master(&sw, "enc0sw", BRIDGE)?;
            Ok(ns)
        };
        build().map_err(net_err)
    }

    /// Moves the tap QEMU created on `host` into the switch namespace and onto the
    /// bridge.
    pub fn attach_tap(&self, host: Host) -> Result<()> {
        let net = self.net()?;
        let sw = self.ns("switch");
        net.move_link(&self.host_ns(host), host.tap(), &sw)
            .and_then(|()| net.set_master(&sw, host.tap(), BRIDGE))
            .map_err(net_err)
    }

    /// Replaces the migration link's condition (a delay needs a link built with one).
    pub fn shape_migration(&mut self, c: &LinkCondition) -> Result<()> {
        let net = self.net.as_ref();
        match (net, self.migration.as_mut()) {
            (Some(net), Some(l)) => l.apply(net, c).map_err(net_err),
            _ => Err(LabError::Failed(format!("lab {} is torn down", self.id))),
        }
    }

    /// Replaces the client link's condition (a delay needs a link built with one).
    pub fn shape_client(&mut self, c: &LinkCondition) -> Result<()> {
        let net = self.net.as_ref();
        match (net, self.client.as_mut()) {
            (Some(net), Some(l)) => l.apply(net, c).map_err(net_err),
            _ => Err(LabError::Failed(format!("lab {} is torn down", self.id))),
        }
    }

    /// Leaves the namespaces in place when this handle is dropped (`qoeprobe lab up`).
    /// Refused when a link has a delay relay: its threads end with this process, and
    /// the link would stop forwarding.
    pub fn detach(&mut self) -> Result<()> {
        if self.has_relay() {
            return Err(LabError::Failed(
                "a lab whose links have a delay cannot outlive this process (the delay relay runs in it); leave delay_ms unset to keep the lab up".into(),
            ));
        }
        if let Some(net) = self.net.take() {
            net.keep();
        }
        self.client = None;
        self.migration = None;
        Ok(())
    }

    /// Deletes the links, relays and namespaces (and with them the taps, bridge and
    /// qdiscs) and the network module's state folder. Kill the VMs first. Safe to
    /// call twice.
    pub fn teardown(&mut self) {
        self.client = None;
        self.migration = None;
        if let Some(net) = self.net.take()
            && let Err(e) = net.teardown()
        {
            let _ = writeln!(std::io::stderr(), "qoeprobe: lab {} teardown: {e}", self.id);
        }
    }
}

impl Drop for LabNetwork {
    fn drop(&mut self) {
        self.teardown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let t = LabNetwork {
            id: "x1".into(),
            client: None,
            migration: None,
            net: None,
        };
        assert_eq!(t.ns("client"), "qp-labx1-client");
        assert_eq!(t.host_ns(Host::Compute02), "qp-labx1-compute02");
        assert_eq!(Host::Compute01.other(), Host::Compute02);
        assert!(!t.has_relay());
        assert!(LabNetwork::create("bad id!", &LabLinks::default()).is_err());
        assert!(check_id("abcd").is_err());
        assert!(check_id("Up").is_err());
        assert!(check_id("up").is_ok());
        assert!(check_id("a9z").is_ok());
    }
}
