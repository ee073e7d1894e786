//! Shaped links: a veth path between two namespaces with a [`LinkCondition`]
//! applied, and re-applied when the scenario changes.
//!
//! Layout of a link named `L` between namespaces A and B (run id `R`):
//! without a delay relay `A:qpRLa <-> B:qpRLb`; with one
//! `A:qpRLa <-> Relay:qpRLra ~relay~ Relay:qpRLrb <-> B:qpRLb` where the relay
//! lives in namespace `qp-R-L-relay`. Rate: `tbf` on `qpRLa` egress (A->B) and
//! on the ifb `qpRLi` that `qpRLa`'s ingress is redirected to (B->A). Loss: an
//! nft netdev ingress chain on `qpRLa` (in A) and on `qpRLb` (in B). Delay:
//! `netem` on both ends when the kernel has it, else the relay.

use super::cmd;
use super::condition::{LinkCondition, LinkShaping, nft_loss_script, tbf_args};
use super::error::{NetError, Result};
use super::relay::{Relay, RelayControl};
use super::state::Resource;
use super::topology::Topology;
use std::sync::OnceLock;

/// How a link delays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DelayBackend {
    /// `netem` if the kernel has it, else the relay; the link can delay only
    /// if its first condition had `delay_ms` set (0 is fine: "maybe later").
    #[default]
    Auto,
    /// Always the userspace relay (built even without a delay now).
    Relay,
    /// Kernel `netem` (an error if the kernel lacks it).
    Netem,
}

/// Whether `tc qdisc add ... netem` works here (probed once, in a scratch namespace).
pub fn kernel_has_netem() -> bool {
    static HAS: OnceLock<bool> = OnceLock::new();
    *HAS.get_or_init(|| {
        let ns = format!("qp-netemprobe-{}", std::process::id());
        if cmd::ip(None, &["netns", "add", &ns]).is_err() {
            return false;
        }
        let ok = cmd::tc(
            Some(&ns),
            &["qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
        )
        .is_ok();
        let _ = cmd::ip(None, &["netns", "del", &ns]);
        ok
    })
}

/// What to build.
#[derive(Debug, Clone)]
pub struct ShapedLinkSpec {
    /// Short name, 1-4 characters of `[a-z0-9]` (interface names are `qp<run><name>...`).
    pub name: String,
    /// Namespace of end A (where rate and the B->A loss are applied).
    pub a_ns: String,
    /// Namespace of end B.
    pub b_ns: String,
    /// Address of end A, e.g. `10.9.0.1/24` (none: add your own).
    pub a_addr: Option<String>,
    /// Address of end B.
    pub b_addr: Option<String>,
    /// The first condition.
    pub condition: LinkCondition,
    /// How to delay.
    pub delay: DelayBackend,
}

/// A built link; change its condition with [`ShapedLink::apply`].
#[derive(Debug)]
pub struct ShapedLink {
    /// The link's name.
    pub name: String,
    /// Namespace of end A.
    pub a_ns: String,
    /// Interface of end A (in `a_ns`).
    pub a_dev: String,
    /// Namespace of end B.
    pub b_ns: String,
    /// Interface of end B (in `b_ns`).
    pub b_dev: String,
    /// The relay's namespace, when the link has a relay.
    pub relay_ns: Option<String>,
    relay: Option<RelayControl>,
    relay_devs: Option<(String, String)>,
    ifb: Option<String>,
    netem: bool,
    condition: LinkCondition,
    applied: Vec<Resource>,
}

impl Topology {
    /// Builds a shaped link between two existing namespaces and applies its condition.
    pub fn shaped_link(&self, spec: &ShapedLinkSpec) -> Result<ShapedLink> {
        spec.condition.validate()?;
        let reg = self.registry();
        if spec.name.len() > 4 {
            return Err(NetError::InvalidName {
                name: spec.name.clone(),
                reason: "a link name has at most 4 characters".into(),
            });
        }
        let a_dev = reg.link_name(&format!("{}a", spec.name))?;
        let b_dev = reg.link_name(&format!("{}b", spec.name))?;
        let netem = match spec.delay {
            DelayBackend::Relay => false,
            DelayBackend::Netem => true,
            DelayBackend::Auto => kernel_has_netem(),
        };
        let want_relay =
            !netem && (spec.delay == DelayBackend::Relay || spec.condition.delay_ms.is_some());
        let mut link = ShapedLink {
            name: spec.name.clone(),
            a_ns: spec.a_ns.clone(),
            a_dev: a_dev.clone(),
            b_ns: spec.b_ns.clone(),
            b_dev: b_dev.clone(),
            relay_ns: None,
            relay: None,
            relay_devs: None,
            ifb: None,
            netem,
            condition: LinkCondition::NONE,
            applied: Vec::new(),
        };
        if want_relay {
            let rns = self.namespace(&format!("{}-relay", spec.name))?;
            let ra = reg.link_name(&format!("{}ra", spec.name))?;
            let rb = reg.link_name(&format!("{}rb", spec.name))?;
            self.veth(&spec.a_ns, &a_dev, &rns, &ra)?;
            self.veth(&rns, &rb, &spec.b_ns, &b_dev)?;
            let relay = Relay::start(&rns, &ra, &rb, spec.condition.delay().unwrap_or_default())?;
            link.relay = Some(relay.control());
            reg.register_relay(relay);
            link.relay_ns = Some(rns);
            link.relay_devs = Some((ra, rb));
        } else {
            self.veth(&spec.a_ns, &a_dev, &spec.b_ns, &b_dev)?;
        }
        if let Some(addr) = &spec.a_addr {
            self.address(&spec.a_ns, &a_dev, addr)?;
        }
        if let Some(addr) = &spec.b_addr {
            self.address(&spec.b_ns, &b_dev, addr)?;
        }
        link.apply(self, &spec.condition)?;
        Ok(link)
    }
}

impl ShapedLink {
    /// The condition now in force.
    pub fn condition(&self) -> LinkCondition {
        self.condition
    }

    /// The relay's controls (delay, counters), when the link has a relay.
    pub fn relay(&self) -> Option<&RelayControl> {
        self.relay.as_ref()
    }

    /// Replaces the link's condition (removes the old qdiscs and rules first).
    pub fn apply(&mut self, topo: &Topology, c: &LinkCondition) -> Result<()> {
        c.validate()?;
        let delay = c.delay();
        if delay.is_some() && !self.netem && self.relay.is_none() {
            return Err(NetError::NoDelay {
                link: self.name.clone(),
                reason: "the kernel has no netem and the link was built without a relay; \
                         build it with delay_ms set (0 is fine) or DelayBackend::Relay"
                    .into(),
            });
        }
        self.clear()?;
        let reg = topo.registry();
        let (a_ns, a_dev) = (self.a_ns.clone(), self.a_dev.clone());
        let queue_ms = (2.0 * c.delay_ms.unwrap_or(0.0)).max(50.0);
        // Egress of A (A -> B), and ingress of A (B -> A) through an ifb.
        let mut egress: Vec<String> = Vec::new();
        if self.netem
            && let Some(d) = c.delay_ms.filter(|d| *d > 0.0)
        {
            egress.extend(["netem".into(), "delay".into(), format!("{d}ms")]);
            egress.extend(["limit".into(), "100000".into()]);
            if let Some(r) = c.rate_mbit {
                egress.extend(["rate".into(), format!("{}bit", (r * 1e6).round() as u64)]);
            }
        } else if let Some(r) = c.rate_mbit {
            egress = tbf_args(r, queue_ms);
        }
        if !egress.is_empty() {
            let ifb = self.ensure_ifb(topo)?;
            for dev in [a_dev.as_str(), ifb.as_str()] {
                let mut args = vec!["qdisc", "add", "dev", dev, "root"];
                args.extend(egress.iter().map(String::as_str));
                cmd::tc(Some(&a_ns), &args)?;
                self.track(reg, self.qdisc(dev, "root"))?;
            }
            cmd::tc(
                Some(&a_ns),
                &["qdisc", "add", "dev", &a_dev, "handle", "ffff:", "ingress"],
            )?;
            self.track(reg, self.qdisc(&a_dev, "ingress"))?;
            cmd::tc(
                Some(&a_ns),
                &[
                    "filter", "add", "dev", &a_dev, "parent", "ffff:", "protocol", "all", "u32",
                    "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev",
                    &ifb,
                ],
            )?;
        }
        if let Some(n) = c.loss_per_10000() {
            // One table per end, dropping on ingress (never on output: see docs).
            let table = reg.nft_table_name(&self.name)?;
            for (ns, dev) in [
                (self.a_ns.clone(), a_dev.clone()),
                (self.b_ns.clone(), self.b_dev.clone()),
            ] {
                cmd::nft_script(Some(&ns), &nft_loss_script(&table, &[&dev], n))?;
                let r = Resource::NftTable {
                    ns: Some(ns),
                    family: "netdev".into(),
                    name: table.clone(),
                };
                self.track(reg, r)?;
            }
            // Loss counts packets, not 64 KiB GSO frames: segment before the lossy ends.
            self.set_gso_segs(Some(1))?;
        }
        if let (Some(relay), false) = (&self.relay, self.netem) {
            relay.set_delay(delay.unwrap_or_default());
        }
        self.condition = *c;
        Ok(())
    }

    fn track(&mut self, reg: &super::registry::Registry, r: Resource) -> Result<()> {
        self.applied.push(r.clone());
        reg.register(r)
    }

    fn qdisc(&self, dev: &str, parent: &str) -> Resource {
        Resource::Qdisc {
            ns: Some(self.a_ns.clone()),
            dev: dev.into(),
            parent: parent.into(),
        }
    }

    fn ensure_ifb(&mut self, topo: &Topology) -> Result<String> {
        if let Some(i) = &self.ifb {
            return Ok(i.clone());
        }
        let ifb = topo.registry().link_name(&format!("{}i", self.name))?;
        cmd::ip(Some(&self.a_ns), &["link", "add", &ifb, "type", "ifb"])?;
        topo.registry().register(Resource::Link {
            ns: Some(self.a_ns.clone()),
            name: ifb.clone(),
        })?;
        topo.up(&self.a_ns, &ifb)?;
        self.ifb = Some(ifb.clone());
        Ok(ifb)
    }

    /// The devices whose transmissions reach a lossy ingress: the relay's ends,
    /// or both link ends without a relay.
    fn set_gso_segs(&self, segs: Option<u32>) -> Result<()> {
        let v = segs.unwrap_or(65535).to_string();
        let devs: Vec<(String, String)> = match (&self.relay_ns, &self.relay_devs) {
            (Some(ns), Some((ra, rb))) => vec![(ns.clone(), ra.clone()), (ns.clone(), rb.clone())],
            _ => vec![
                (self.a_ns.clone(), self.a_dev.clone()),
                (self.b_ns.clone(), self.b_dev.clone()),
            ],
        };
        for (ns, dev) in devs {
            cmd::ip(Some(&ns), &["link", "set", "dev", &dev, "gso_max_segs", &v])?;
        }
        Ok(())
    }

    /// Removes every qdisc and nft table of the current condition.
    fn clear(&mut self) -> Result<()> {
        let had_loss = self.condition.loss_per_10000().is_some();
        while let Some(r) = self.applied.pop() {
            super::registry::remove(&r)?;
        }
        if had_loss {
            self.set_gso_segs(None)?;
        }
        self.condition = LinkCondition::NONE;
        Ok(())
    }
}
