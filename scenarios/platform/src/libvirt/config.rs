//! What the libvirt driver needs to know, independent of scenario files: the two
//! hosts' libvirt URIs, the domain, how libvirt should migrate, and where the
//! probes reach the service. The campaign crate maps a scenario's `[migration.libvirt]`
//! to it;
//! [`flags`] and [`parameters`] turn it and a [`MigrationRequest`] into libvirt's
//! migration flags and typed parameters.

use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use record::{Copy, Mode};
use std::time::Duration;
use virt_sys as sys;

/// How the domain is named on the hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainRef {
    /// By name (`virsh list` shows it).
    Name(String),
    /// By UUID (`virsh domuuid NAME`).
    Uuid(String),
}

impl DomainRef {
    /// A UUID when `s` looks like one (8-4-4-4-12 hex digits), else a name.
    pub fn parse(s: &str) -> Self {
        let groups: Vec<&str> = s.split('-').collect();
        let is_uuid = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if is_uuid {
            DomainRef::Uuid(s.to_ascii_lowercase())
        } else {
            DomainRef::Name(s.to_string())
        }
    }
}

impl std::fmt::Display for DomainRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DomainRef::Name(n) => write!(f, "`{n}`"),
            DomainRef::Uuid(u) => write!(f, "with UUID {u}"),
        }
    }
}

/// Which disks a block migration copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockCopy {
    /// The whole disk (`VIR_MIGRATE_NON_SHARED_DISK`, `virsh migrate --copy-storage-all`).
    #[default]
    Full,
    /// Only what the backing image does not hold (`VIR_MIGRATE_NON_SHARED_INC`,
    /// `--copy-storage-inc`).
    Incremental,
}

/// The libvirt driver's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LibvirtConfig {
    /// libvirt URI of the host the domain runs on first (`qemu:///system`,
    /// `qemu+ssh://host1/system`, `qemu+tcp://...`, `qemu+unix:///system?socket=...`).
    pub source_uri: String,
    /// libvirt URI of the other host.
    pub destination_uri: String,
    /// The domain.
    pub domain: DomainRef,
    /// Where the destination's QEMU listens for the migration stream
    /// (`VIR_MIGRATE_PARAM_URI`, e.g. `tcp://10.0.0.2`), per destination host:
    /// `[to destination, to source]` (the second is used when migrating back).
    /// `None`: libvirt picks the destination's hostname.
    pub migrate_uris: [Option<String>; 2],
    /// Peer-to-peer: the source daemon connects to the destination itself
    /// (`VIR_MIGRATE_PEER2PEER`, the destination URI must be reachable from the
    /// source host). Otherwise this process drives both daemons.
    pub peer2peer: bool,
    /// Block mode: which disks are copied.
    pub block_copy: BlockCopy,
    /// `VIR_MIGRATE_PERSIST_DEST`: define the domain on the destination.
    pub persistent: bool,
    /// `VIR_MIGRATE_UNDEFINE_SOURCE`: undefine it on the source.
    pub undefine_source: bool,
    /// `VIR_MIGRATE_UNSAFE`: migrate although libvirt thinks the storage is not
    /// shared (e.g. a shared file system it does not recognise).
    pub unsafe_migration: bool,
    /// How often the job statistics are read during a migration.
    pub poll_interval: Duration,
    /// Where the probes reach the service.
    pub endpoint: ServiceEndpoint,
}

impl LibvirtConfig {
    /// A configuration with defaults for everything but the hosts, the domain and
    /// the service.
    pub fn new(
        source_uri: impl Into<String>,
        destination_uri: impl Into<String>,
        domain: DomainRef,
        endpoint: ServiceEndpoint,
    ) -> Self {
        Self {
            source_uri: source_uri.into(),
            destination_uri: destination_uri.into(),
            domain,
            migrate_uris: [None, None],
            peer2peer: false,
            block_copy: BlockCopy::Full,
            persistent: false,
            undefine_source: false,
            unsafe_migration: false,
            poll_interval: Duration::from_millis(100),
            endpoint,
        }
    }
}

/// The `virDomainMigrate3` flags of a request.
pub fn flags(req: &MigrationRequest, cfg: &LibvirtConfig) -> u32 {
    let mut f = sys::VIR_MIGRATE_LIVE;
    if cfg.peer2peer {
        f |= sys::VIR_MIGRATE_PEER2PEER;
    }
    if req.mode == Mode::Block {
        f |= match cfg.block_copy {
            BlockCopy::Full => sys::VIR_MIGRATE_NON_SHARED_DISK,
            BlockCopy::Incremental => sys::VIR_MIGRATE_NON_SHARED_INC,
        };
    }
    if req.copy == Copy::Postcopy {
        f |= sys::VIR_MIGRATE_POSTCOPY;
    }
    if req.auto_converge {
        f |= sys::VIR_MIGRATE_AUTO_CONVERGE;
    }
    if cfg.persistent {
        f |= sys::VIR_MIGRATE_PERSIST_DEST;
    }
    if cfg.undefine_source {
        f |= sys::VIR_MIGRATE_UNDEFINE_SOURCE;
    }
    if cfg.unsafe_migration {
        f |= sys::VIR_MIGRATE_UNSAFE;
    }
    f
}

/// The bandwidth limit as libvirt takes it: MiB/s, rounded to the nearest, at least 1
/// (`None`: unlimited).
pub fn bandwidth_mib_s(bandwidth_bps: Option<u64>) -> Option<u64> {
    bandwidth_bps.map(|bps| ((bps as f64 / 8.0 / 1_048_576.0).round() as u64).max(1))
}

/// The typed parameters of one migration towards the host at `dst_index` (0: the
/// configured destination, 1: back to the configured source).
pub fn parameters(
    req: &MigrationRequest,
    cfg: &LibvirtConfig,
    dst_index: usize,
) -> virt::domain::MigrateParameters {
    virt::domain::MigrateParameters {
        uri: cfg.migrate_uris[dst_index.min(1)].clone(),
        bandwidth: bandwidth_mib_s(req.bandwidth_bps),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> LibvirtConfig {
        LibvirtConfig::new(
            "qemu:///system",
            "qemu+ssh://h2/system",
            DomainRef::parse("vm1"),
            ServiceEndpoint {
                http: None,
                game: None,
                probe_target: "127.0.0.1:80".parse().unwrap(),
                netns: None,
            },
        )
    }

    fn req(mode: Mode, copy: Copy) -> MigrationRequest {
        MigrationRequest {
            mode,
            copy,
            bandwidth_bps: Some(100_000_000),
            downtime_limit: None,
            time_limit: Duration::from_secs(10),
            postcopy_after_passes: Some(1),
            auto_converge: true,
        }
    }

    #[test]
    fn domain_refs_tell_uuids_from_names() {
        assert_eq!(
            DomainRef::parse("4DC0e9bd-5b46-4d39-a3a4-2e8a6c35a0f1"),
            DomainRef::Uuid("4dc0e9bd-5b46-4d39-a3a4-2e8a6c35a0f1".into())
        );
        assert_eq!(DomainRef::parse("web-1"), DomainRef::Name("web-1".into()));
        assert_eq!(
            DomainRef::parse("4dc0e9bd-5b46-4d39-a3a4-2e8a6c35a0fz"),
            DomainRef::Name("4dc0e9bd-5b46-4d39-a3a4-2e8a6c35a0fz".into())
        );
    }

    #[test]
    fn flags_follow_the_request() {
        let c = cfg();
        let live = flags(&req(Mode::Live, Copy::Precopy), &c);
        assert_eq!(
            live,
            sys::VIR_MIGRATE_LIVE | sys::VIR_MIGRATE_AUTO_CONVERGE,
            "{live:#x}"
        );
        let block = flags(&req(Mode::Block, Copy::Postcopy), &c);
        assert_ne!(block & sys::VIR_MIGRATE_NON_SHARED_DISK, 0);
        assert_ne!(block & sys::VIR_MIGRATE_POSTCOPY, 0);
        let inc = flags(
            &req(Mode::Block, Copy::Precopy),
            &LibvirtConfig {
                block_copy: BlockCopy::Incremental,
                peer2peer: true,
                ..c
            },
        );
        assert_ne!(inc & sys::VIR_MIGRATE_NON_SHARED_INC, 0);
        assert_eq!(inc & sys::VIR_MIGRATE_NON_SHARED_DISK, 0);
        assert_ne!(inc & sys::VIR_MIGRATE_PEER2PEER, 0);
    }

    #[test]
    fn bandwidth_is_in_mib_per_second() {
        // 100 Mbit/s = 12.5 MB/s = 11.92 MiB/s.
        assert_eq!(bandwidth_mib_s(Some(100_000_000)), Some(12));
        assert_eq!(bandwidth_mib_s(Some(1_000_000)), Some(1));
        assert_eq!(bandwidth_mib_s(None), None);
        let mut c = cfg();
        c.migrate_uris = [Some("tcp://10.0.0.2".into()), Some("tcp://10.0.0.1".into())];
        let p = parameters(&req(Mode::Live, Copy::Precopy), &c, 1);
        assert_eq!(p.uri.as_deref(), Some("tcp://10.0.0.1"));
        assert_eq!(p.bandwidth, Some(12));
    }
}
