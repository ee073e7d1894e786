//! The platform driver tables of a scenario file: `[migration.libvirt]`
//! (docs/libvirt-driver.md) and `[migration.openstack]` (docs/openstack-driver.md).
//! Both name an existing VM and where the probes reach its service; `config` maps
//! each onto its driver's own configuration (`platform::libvirt::LibvirtConfig`,
//! `platform::openstack::OpenStackConfig`).

use super::drivers::address;
use platform::ServiceEndpoint;
use platform::libvirt::{BlockCopy, DomainRef, LibvirtConfig};
use platform::openstack::{BlockMigration, OpenStackConfig, cloud};
use probes::values::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

/// `[migration.libvirt]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibvirtSettings {
    /// libvirt URI of the host the domain runs on first.
    pub source_uri: Spanned<String>,
    /// libvirt URI of the other host.
    pub destination_uri: Spanned<String>,
    /// Domain name or UUID.
    pub domain: Spanned<String>,
    /// Where the destination's QEMU listens for the migration stream (`tcp://IP`).
    #[serde(default)]
    pub migrate_uri: Option<Spanned<String>>,
    /// The same for migrating back to the source host (the second run of a campaign).
    #[serde(default)]
    pub migrate_uri_back: Option<Spanned<String>>,
    /// Peer-to-peer migration (the source daemon connects to the destination).
    #[serde(default)]
    pub peer2peer: bool,
    /// Block mode: `full` (`--copy-storage-all`) or `incremental` (`--copy-storage-inc`).
    #[serde(default)]
    pub block_copy: BlockCopyKind,
    /// Define the domain on the destination.
    #[serde(default)]
    pub persistent: bool,
    /// Undefine it on the source.
    #[serde(default)]
    pub undefine_source: bool,
    /// Migrate although libvirt does not recognise the storage as shared.
    #[serde(default, rename = "unsafe")]
    pub unsafe_migration: bool,
    /// Job statistics poll interval.
    #[serde(default = "default_libvirt_poll")]
    pub poll_interval_ms: Millis,
    /// HTTP service address as IP:PORT (player, download, stream probes).
    #[serde(default)]
    pub http: Option<Spanned<String>>,
    /// UDP game service address as IP:PORT.
    #[serde(default)]
    pub game: Option<Spanned<String>>,
    /// TCP address the reachability prober connects to (default: `http`).
    #[serde(default)]
    pub probe_target: Option<Spanned<String>>,
    /// Network namespace the probes run in (as root), if not this one.
    #[serde(default)]
    pub netns: Option<Spanned<String>>,
}

fn default_libvirt_poll() -> Millis {
    Millis(100.0)
}

/// `block_copy` of `[migration.libvirt]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockCopyKind {
    /// Copy whole disks.
    #[default]
    Full,
    /// Copy only what the backing images do not hold.
    Incremental,
}

/// `[migration.openstack]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStackSettings {
    /// Entry of clouds.yaml (default: `$OS_CLOUD`, else the `OS_*` environment).
    #[serde(default)]
    pub cloud: Option<Spanned<String>>,
    /// Server name or ID.
    pub server: Spanned<String>,
    /// Target compute host (default: Nova's scheduler picks one).
    #[serde(default)]
    pub host: Option<Spanned<String>>,
    /// `auto` lets Nova decide block or live (microversion 2.25); unset: from `mode`.
    #[serde(default)]
    pub block_migration: Option<Spanned<String>>,
    /// Ask Nova to force-complete the migration after this long (microversion 2.22).
    #[serde(default)]
    pub force_complete_after_s: Option<PositiveSecs>,
    /// Poll interval of the server and its migration.
    #[serde(default = "default_openstack_poll")]
    pub poll_interval_ms: Millis,
    /// Compute host name -> libvirt URI, to time STOP/RESUME from libvirt's events.
    #[serde(default)]
    pub libvirt_uris: BTreeMap<String, String>,
    /// HTTP service address as IP:PORT (player, download, stream probes).
    #[serde(default)]
    pub http: Option<Spanned<String>>,
    /// UDP game service address as IP:PORT.
    #[serde(default)]
    pub game: Option<Spanned<String>>,
    /// TCP address the reachability prober connects to (default: `http`).
    #[serde(default)]
    pub probe_target: Option<Spanned<String>>,
    /// Network namespace the probes run in (as root), if not this one.
    #[serde(default)]
    pub netns: Option<Spanned<String>>,
}

fn default_openstack_poll() -> Millis {
    Millis(500.0)
}

impl LibvirtSettings {
    /// The libvirt driver's configuration (addresses and URIs were checked when the
    /// file was read).
    pub fn config(&self) -> Result<LibvirtConfig, String> {
        let endpoint = endpoint_of(&self.http, &self.game, &self.probe_target, &self.netns)
            .ok_or("[migration.libvirt] needs `http` or `probe_target`")?;
        let mut c = LibvirtConfig::new(
            self.source_uri.get_ref(),
            self.destination_uri.get_ref(),
            DomainRef::parse(self.domain.get_ref().trim()),
            endpoint,
        );
        c.migrate_uris = [
            self.migrate_uri.as_ref().map(|u| u.get_ref().clone()),
            self.migrate_uri_back.as_ref().map(|u| u.get_ref().clone()),
        ];
        c.peer2peer = self.peer2peer;
        c.block_copy = match self.block_copy {
            BlockCopyKind::Full => BlockCopy::Full,
            BlockCopyKind::Incremental => BlockCopy::Incremental,
        };
        c.persistent = self.persistent;
        c.undefine_source = self.undefine_source;
        c.unsafe_migration = self.unsafe_migration;
        c.poll_interval = self
            .poll_interval_ms
            .duration()
            .max(Duration::from_millis(10));
        Ok(c)
    }
}

impl OpenStackSettings {
    /// The OpenStack driver's configuration: this table and the cloud from this
    /// process's environment (clouds.yaml search, `OS_CLOUD`, `OS_*`; nothing is
    /// sent yet).
    pub fn config(&self) -> Result<OpenStackConfig, String> {
        let env: std::collections::HashMap<String, String> = std::env::vars().collect();
        let cloud = cloud::load(self.cloud.as_ref().map(|c| c.get_ref().as_str()), &env)?;
        let endpoint = endpoint_of(&self.http, &self.game, &self.probe_target, &self.netns)
            .ok_or("[migration.openstack] needs `http` or `probe_target`")?;
        Ok(OpenStackConfig {
            cloud,
            server: self.server.get_ref().trim().to_string(),
            host: self.host.as_ref().map(|h| h.get_ref().clone()),
            block_migration: match &self.block_migration {
                Some(_) => BlockMigration::Auto,
                None => BlockMigration::FromMode,
            },
            force_complete_after: self.force_complete_after_s.map(|v| v.duration()),
            poll_interval: self
                .poll_interval_ms
                .duration()
                .max(Duration::from_millis(50)),
            libvirt_uris: self.libvirt_uris.clone(),
            outage_interval: Duration::from_millis(20),
            endpoint,
        })
    }
}

/// The endpoint the probes use, from a platform table's `http`, `game`,
/// `probe_target` and `netns` (after validation the addresses parse; `None` without
/// `http` or `probe_target`).
fn endpoint_of(
    http: &Option<Spanned<String>>,
    game: &Option<Spanned<String>>,
    probe_target: &Option<Spanned<String>>,
    netns: &Option<Spanned<String>>,
) -> Option<ServiceEndpoint> {
    let http_addr = address(http);
    Some(ServiceEndpoint {
        http: http_addr,
        game: address(game),
        probe_target: address(probe_target).or(http_addr)?,
        netns: netns.as_ref().map(|n| n.get_ref().clone()),
    })
}
