//! Building the libvirt driver for one run of a campaign: `[migration.libvirt]`
//! mapped to [`LibvirtConfig`] (the one place that knows both).

use super::{BlockCopy, DomainRef, LibvirtConfig, LibvirtDriver};
use crate::migrate::MigrationDriver;
use crate::runner::driver::DriverContext;
use crate::scenario::Campaign;
use crate::scenario::platforms::{BlockCopyKind, LibvirtSettings, endpoint_of};
use std::sync::Arc;

/// The driver's configuration from the scenario table.
pub fn config(s: &LibvirtSettings) -> Result<LibvirtConfig, String> {
    let endpoint = endpoint_of(&s.http, &s.game, &s.probe_target, &s.netns)
        .ok_or("[migration.libvirt] needs `http` or `probe_target`")?;
    let mut c = LibvirtConfig::new(
        s.source_uri.get_ref(),
        s.destination_uri.get_ref(),
        DomainRef::parse(s.domain.get_ref().trim()),
        endpoint,
    );
    c.migrate_uris = [
        s.migrate_uri.as_ref().map(|u| u.get_ref().clone()),
        s.migrate_uri_back.as_ref().map(|u| u.get_ref().clone()),
    ];
    c.peer2peer = s.peer2peer;
    c.block_copy = match s.block_copy {
        BlockCopyKind::Full => BlockCopy::Full,
        BlockCopyKind::Incremental => BlockCopy::Incremental,
    };
    c.persistent = s.persistent;
    c.undefine_source = s.undefine_source;
    c.unsafe_migration = s.unsafe_migration;
    c.poll_interval = s
        .poll_interval_ms
        .duration()
        .max(std::time::Duration::from_millis(10));
    Ok(c)
}

/// Checks, before a campaign, that the table is there (the file's validation
/// checked its values) and that probes in a namespace can run (root).
pub fn check(campaign: &Campaign) -> Result<(), String> {
    let s = campaign
        .migration
        .libvirt
        .as_ref()
        .ok_or("driver \"libvirt\" needs [migration.libvirt]")?;
    config(s)?;
    if let Some(ns) = &s.netns {
        let path = std::path::Path::new("/run/netns").join(ns.get_ref());
        if !path.exists() {
            return Err(format!(
                "[migration.libvirt] netns `{}`: no such network namespace (`ip netns list`)",
                ns.get_ref()
            ));
        }
    }
    Ok(())
}

/// The libvirt driver for one run.
pub fn create(ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
    let s = ctx
        .settings
        .libvirt
        .as_ref()
        .ok_or("driver \"libvirt\" needs [migration.libvirt]")?;
    Ok(Box::new(LibvirtDriver::new(
        config(s)?,
        Arc::new(ctx.clock),
    )))
}
