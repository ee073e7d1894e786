//! The lab's network: namespaces `qp-<id>-compute01`, `-compute02`, `-switch` and
//! `-client`; a bridge `br0` in the switch namespace that both VM taps and the
//! client's veth attach to; and the migration link, a veth pair `mig0` joining the
//! two compute namespaces, shaped with `tbf`.
//!
//! A tap is created by QEMU inside its compute namespace (QEMU opens it by name
//! there) and then moved into the switch namespace and enslaved to the bridge; the
//! open file descriptor follows the device. Every name starts with `qp-lab` so that
//! `qoeprobe lab down` finds the leftovers of a killed run. This module only runs
//! `ip` and `tc`; it never starts QEMU.

use super::{Result, run_cmd};
use std::net::Ipv4Addr;

/// The guest's address on the service network (`qoeprobe lab up` prints it).
pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
/// The client namespace's address on the service network.
pub const CLIENT_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);
/// Prefix length of the service network.
pub const SERVICE_PREFIX: u8 = 24;
/// compute01's address on the migration link.
pub const COMPUTE01_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 1, 1);
/// compute02's address on the migration link.
pub const COMPUTE02_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 1, 2);
/// Name prefix of every lab namespace.
pub const PREFIX: &str = "qp-lab";

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

/// The lab's namespaces and links; torn down on drop.
#[derive(Debug)]
pub struct Topology {
    id: String,
    live: bool,
}

impl Topology {
    /// Creates the namespaces, bridge, client link and migration link for lab `id`
    /// (letters, digits and `-`; namespaces are `qp-lab<id>-<role>`).
    pub fn create(id: &str) -> Result<Self> {
        if id.is_empty()
            || id.len() > 24
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(super::LabError::Failed(format!(
                "invalid lab id `{id}`: use 1 to 24 letters, digits or `-`"
            )));
        }
        let mut t = Self {
            id: id.to_string(),
            live: true,
        };
        if let Err(e) = t.build() {
            t.teardown();
            return Err(e);
        }
        Ok(t)
    }

    fn build(&mut self) -> Result<()> {
        let hint = "run `qoeprobe lab down` to remove leftovers, and run as root";
        for role in ["compute01", "compute02", "switch", "client"] {
            let ns = self.ns(role);
            run_cmd("ip", &["netns", "add", &ns], hint)?;
            ip(&ns, &["link", "set", "lo", "up"])?;
        }
        let (sw, cl) = (self.ns("switch"), self.ns("client"));
        ip(&sw, &["link", "add", "br0", "type", "bridge"])?;
        ip(&sw, &["link", "set", "br0", "up"])?;
        ip(
            &cl,
            &[
                "link", "add", "cl0", "type", "veth", "peer", "name", "clsw", "netns", &sw,
            ],
        )?;
        ip(&sw, &["link", "set", "clsw", "master", "br0", "up"])?;
        ip(
            &cl,
            &[
                "addr",
                "add",
                &format!("{CLIENT_IP}/{SERVICE_PREFIX}"),
                "dev",
                "cl0",
            ],
        )?;
        ip(&cl, &["link", "set", "cl0", "up"])?;
        let (c1, c2) = (self.host_ns(Host::Compute01), self.host_ns(Host::Compute02));
        ip(
            &c1,
            &[
                "link", "add", "mig0", "type", "veth", "peer", "name", "mig0", "netns", &c2,
            ],
        )?;
        for (ns, addr) in [(&c1, COMPUTE01_IP), (&c2, COMPUTE02_IP)] {
            ip(ns, &["addr", "add", &format!("{addr}/24"), "dev", "mig0"])?;
            ip(ns, &["link", "set", "mig0", "up"])?;
        }
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

    /// Moves the tap QEMU created on `host` into the switch namespace and onto the
    /// bridge.
    pub fn attach_tap(&self, host: Host) -> Result<()> {
        let sw = self.ns("switch");
        ip(
            &self.host_ns(host),
            &["link", "set", host.tap(), "netns", &sw],
        )?;
        ip(&sw, &["link", "set", host.tap(), "master", "br0", "up"])
    }

    /// Shapes the migration link to `rate_bps` bit/s in both directions (`None`
    /// removes the shaping).
    pub fn shape_migration(&self, rate_bps: Option<u64>) -> Result<()> {
        for host in [Host::Compute01, Host::Compute02] {
            shape(&self.host_ns(host), "mig0", rate_bps)?;
        }
        Ok(())
    }

    /// Shapes the client link to `rate_bps` bit/s in both directions.
    pub fn shape_client(&self, rate_bps: Option<u64>) -> Result<()> {
        shape(&self.client_ns(), "cl0", rate_bps)?;
        shape(&self.ns("switch"), "clsw", rate_bps)
    }

    /// Leaves the namespaces in place when this handle is dropped (`qoeprobe lab up`).
    pub fn detach(&mut self) {
        self.live = false;
    }

    /// Deletes the namespaces (and with them every link and qdisc). Kill the VMs
    /// first. Safe to call twice.
    pub fn teardown(&mut self) {
        if !self.live {
            return;
        }
        self.live = false;
        for role in ["client", "switch", "compute02", "compute01"] {
            let _ = run_cmd("ip", &["netns", "del", &self.ns(role)], "");
        }
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// `tc qdisc replace ... tbf` for a rate, or delete the root qdisc for `None`.
fn shape(ns: &str, dev: &str, rate_bps: Option<u64>) -> Result<()> {
    let hint = "the kernel needs sch_tbf";
    match rate_bps {
        Some(rate) if rate > 0 => {
            let burst = (rate / 8 / 50).max(16 * 1024);
            run_cmd(
                "tc",
                &[
                    "-n",
                    ns,
                    "qdisc",
                    "replace",
                    "dev",
                    dev,
                    "root",
                    "tbf",
                    "rate",
                    &format!("{rate}bit"),
                    "burst",
                    &burst.to_string(),
                    "latency",
                    "50ms",
                ],
                hint,
            )?;
        }
        _ => {
            let _ = run_cmd("tc", &["-n", ns, "qdisc", "del", "dev", dev, "root"], hint);
        }
    }
    Ok(())
}

fn ip(ns: &str, args: &[&str]) -> Result<()> {
    let mut a = vec!["-n", ns];
    a.extend_from_slice(args);
    run_cmd("ip", &a, "see the message of `ip`; run as root").map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_prefix() {
        let t = Topology {
            id: "x1".into(),
            live: false,
        };
        assert_eq!(t.ns("client"), "qp-labx1-client");
        assert_eq!(t.host_ns(Host::Compute02), "qp-labx1-compute02");
        assert_eq!(Host::Compute01.other(), Host::Compute02);
        assert!(Topology::create("bad id!").is_err());
    }
}
