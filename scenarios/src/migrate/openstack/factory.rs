//! Building the OpenStack driver for one run of a campaign: `[migration.openstack]`
//! and the cloud configuration (clouds.yaml / `OS_*`) mapped to [`OpenStackConfig`].

use super::{BlockMigration, OpenStackConfig, OpenStackDriver, cloud};
use crate::migrate::MigrationDriver;
use crate::runner::driver::DriverContext;
use crate::scenario::Campaign;
use crate::scenario::platforms::{OpenStackSettings, endpoint_of};
use std::sync::Arc;
use std::time::Duration;

/// The driver's configuration from the scenario table and this process's
/// environment (clouds.yaml search, `OS_*`).
pub fn config(s: &OpenStackSettings) -> Result<OpenStackConfig, String> {
    let env: std::collections::HashMap<String, String> = std::env::vars().collect();
    let cloud = cloud::load(s.cloud.as_ref().map(|c| c.get_ref().as_str()), &env)?;
    let endpoint = endpoint_of(&s.http, &s.game, &s.probe_target, &s.netns)
        .ok_or("[migration.openstack] needs `http` or `probe_target`")?;
    Ok(OpenStackConfig {
        cloud,
        server: s.server.get_ref().trim().to_string(),
        host: s.host.as_ref().map(|h| h.get_ref().clone()),
        block_migration: match &s.block_migration {
            Some(_) => BlockMigration::Auto,
            None => BlockMigration::FromMode,
        },
        force_complete_after: s.force_complete_after_s.map(|v| v.duration()),
        poll_interval: s.poll_interval_ms.duration().max(Duration::from_millis(50)),
        libvirt_uris: s.libvirt_uris.clone(),
        outage_interval: Duration::from_millis(20),
        endpoint,
    })
}

/// Checks, before a campaign, that the table is there and the cloud configuration
/// is complete (nothing is sent yet).
pub fn check(campaign: &Campaign) -> Result<(), String> {
    let s = campaign
        .migration
        .openstack
        .as_ref()
        .ok_or("driver \"openstack\" needs [migration.openstack]")?;
    config(s).map(drop)
}

/// The OpenStack driver for one run.
pub fn create(ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
    let s = ctx
        .settings
        .openstack
        .as_ref()
        .ok_or("driver \"openstack\" needs [migration.openstack]")?;
    Ok(Box::new(OpenStackDriver::new(
        config(s)?,
        Arc::new(ctx.clock),
    )))
}
