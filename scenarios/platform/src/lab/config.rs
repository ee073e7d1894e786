//! How the lab driver sets up its VM and network ([`LabConfig`]), and that setup for
//! one run of a campaign ([`LabConfig::for_run`]): the run's service goes into the
//! guest, its `migration` and `client` links (rate, one-way delay, loss) shape the
//! lab's links through the network module ([`crate::net`]: tbf, the delay relay, nft
//! loss), its flavor picks the `lab.*` size.

use super::flavor::Flavor;
use super::image::ImageOptions;
use super::init::Service;
use crate::driver::{DriverContext, LiveSource, ServiceKind};
use crate::net::LinkShaping;
use record::LinkCondition;
use std::time::Duration;

/// The study's encoder inside the VM (ffmpeg + libx264, 720p, real time, into an
/// ffserver feed), measured with `qoeprobe dirtyrate` (docs/dirtyrate.md, "The
/// study's encoder, measured"): it writes 154 MiB/s at real-time speed over a working
/// set of about 240 MiB. The "encoder inside" guest runs `serve dirty` at this rate
/// and working set next to `serve live`.
pub const ENCODER_DIRTY_MIB_S: f64 = 154.0;
/// The measured encoder's working set of writes, MiB (see [`ENCODER_DIRTY_MIB_S`]).
pub const ENCODER_WORKING_SET_MIB: u64 = 240;

/// How the lab driver sets up its VM and network.
#[derive(Debug, Clone)]
pub struct LabConfig {
    /// VM size.
    pub flavor: Flavor,
    /// Services the guest starts.
    pub services: Vec<Service>,
    /// `serve dirty` in the guest: MiB and MiB/s (used when `services` has `dirty`).
    pub dirty: (u64, f64),
    /// The guest's `serve live` relays an encoder that runs outside the VM, in the
    /// lab's encoder namespace on the switch (the study's "external content"),
    /// instead of encoding inside the guest.
    pub relay: bool,
    /// Where the guest image comes from.
    pub image: ImageOptions,
    /// Lab id (namespaces `qp-lab<id>-...`); `None`: one derived from the pid.
    pub id: Option<String>,
    /// Boot (QEMU start to ready marker) must take less than this.
    pub boot_timeout: Duration,
    /// The migration link's rate, one-way delay and loss (the network module's
    /// shaping; a delay runs through its relay). Default: unshaped.
    pub migration_link: LinkCondition,
    /// The client link's rate, one-way delay and loss. Default: unshaped.
    pub client_link: LinkCondition,
    /// Post-copy: also switch after this long in pre-copy.
    pub postcopy_after: Option<Duration>,
    /// Pad the guest RAM so that QEMU before 9.0 keeps TCG writes dirty-tracked
    /// during a migration (`crate::lab::vm::RAM_PAD_KIB`; docs/lab.md). `None`
    /// (default): when the installed QEMU needs it; `Some(false)` only to reproduce
    /// the QEMU bug.
    pub pad_ram: Option<bool>,
    /// Capture the client link into this pcap file from the lab's start to its
    /// teardown, and derive a `packet_capture` event from it (docs/lab.md). A
    /// campaign run captures into its folder (`client.pcap`).
    pub capture: Option<std::path::PathBuf>,
}

impl Default for LabConfig {
    fn default() -> Self {
        Self {
            flavor: Flavor::default(),
            services: vec![Service::Dash, Service::Game],
            dirty: (64, 32.0),
            relay: false,
            image: ImageOptions::default(),
            id: None,
            boot_timeout: Duration::from_secs(60),
            migration_link: LinkCondition::NONE,
            client_link: LinkCondition::NONE,
            postcopy_after: None,
            pad_ram: None,
            capture: None,
        }
    }
}

impl LabConfig {
    /// The lab's setup for one campaign run (links checked against what the lab can
    /// apply: rate up to 100 Gbit/s, delay up to 10 s, loss 0-100 %).
    pub fn for_run(ctx: &DriverContext) -> Result<Self, String> {
        let service = match ctx.service.kind {
            ServiceKind::Dash => Service::Dash,
            ServiceKind::File => Service::File,
            ServiceKind::Game => Service::Game,
            ServiceKind::Live => Service::Live,
        };
        for (name, link) in [("client", &ctx.client), ("migration", &ctx.migration)] {
            link.validate().map_err(|e| format!("link `{name}`: {e}"))?;
        }
        let flavor = Flavor::of(ctx.flavor);
        let mut services = vec![service];
        let mut dirty = LabConfig::default().dirty;
        if ctx.service.source == Some(LiveSource::Encoder) {
            // The encoder's memory: its measured working set, at most half the
            // guest's RAM (the rest holds the kernel, the services and the clip).
            services.push(Service::Dirty);
            dirty = (
                ENCODER_WORKING_SET_MIB.min(flavor.memory_mib / 2),
                ENCODER_DIRTY_MIB_S,
            );
        }
        Ok(LabConfig {
            flavor,
            services,
            dirty,
            relay: ctx.service.source == Some(LiveSource::Relay),
            migration_link: ctx.migration,
            client_link: ctx.client,
            capture: Some(ctx.run_dir.join("client.pcap")),
            ..LabConfig::default()
        })
    }
}

impl LabConfig {
    /// Whether a lab set up with `self` is what `other` asks for: the same guest
    /// (flavor, services, memory workload, encoder outside or not, RAM padding),
    /// the same links and the same post-copy switch. The capture file, the lab id,
    /// the image and the boot timeout do not matter to a lab that is already up.
    pub fn same_lab(&self, other: &LabConfig) -> bool {
        self.flavor == other.flavor
            && self.services == other.services
            && self.dirty == other.dirty
            && self.relay == other.relay
            && self.migration_link == other.migration_link
            && self.client_link == other.client_link
            && self.postcopy_after == other.postcopy_after
            && self.pad_ram == other.pad_ram
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_and_loss_are_accepted_silly_values_are_not() {
        let ok = LinkCondition {
            rate_mbit: None,
            delay_ms: Some(100.0),
            loss_pct: Some(1.0),
        };
        assert!(ok.validate().is_ok());
        let too_long = LinkCondition {
            delay_ms: Some(60_000.0),
            ..ok
        };
        assert!(
            too_long
                .validate()
                .unwrap_err()
                .to_string()
                .contains("delay_ms")
        );
    }

    #[test]
    fn a_lab_is_the_same_unless_its_guest_or_links_differ() {
        let a = LabConfig::default();
        let b = LabConfig {
            capture: Some("run-2/client.pcap".into()),
            id: Some("x".into()),
            ..LabConfig::default()
        };
        assert!(a.same_lab(&b));
        let slower = LabConfig {
            client_link: LinkCondition {
                rate_mbit: Some(100.0),
                ..LinkCondition::NONE
            },
            ..LabConfig::default()
        };
        assert!(!a.same_lab(&slower));
        let relay = LabConfig {
            relay: true,
            ..LabConfig::default()
        };
        assert!(!a.same_lab(&relay));
        let bigger = LabConfig {
            flavor: Flavor::by_name("lab.large").unwrap(),
            ..LabConfig::default()
        };
        assert!(!a.same_lab(&bigger));
    }
}
