//! What the OpenStack driver needs, independent of scenario files (the campaign
//! crate maps `[migration.openstack]` to it).

use super::cloud::Cloud;
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use record::Mode;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// `block_migration` of `os-migrateLive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockMigration {
    /// From the request's mode: live = `false`, block = `true`.
    #[default]
    FromMode,
    /// `"auto"`: Nova decides from the instance's storage (2.25).
    Auto,
}

impl BlockMigration {
    /// The JSON value for a request.
    pub fn value(self, req: &MigrationRequest) -> Value {
        match self {
            BlockMigration::Auto => json!("auto"),
            BlockMigration::FromMode => json!(req.mode == Mode::Block),
        }
    }
}

/// The OpenStack driver's configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenStackConfig {
    /// The cloud (Keystone URL, credentials, region, interface, TLS).
    pub cloud: Cloud,
    /// Server name or ID.
    pub server: String,
    /// Target compute host (`None`: the scheduler picks).
    pub host: Option<String>,
    /// Block or live.
    pub block_migration: BlockMigration,
    /// Force-complete after this long.
    pub force_complete_after: Option<Duration>,
    /// Poll interval of the server and its migration.
    pub poll_interval: Duration,
    /// Compute host -> libvirt URI, to time STOP/RESUME from libvirt's events (the
    /// libvirt domain's UUID is the server's ID).
    pub libvirt_uris: BTreeMap<String, String>,
    /// Interval of the reachability watcher that bounds the downtime when no
    /// libvirt URI is given.
    pub outage_interval: Duration,
    /// Where the probes reach the service.
    pub endpoint: ServiceEndpoint,
}

#[cfg(test)]
mod tests {
    use super::*;
    use record::Copy;

    #[test]
    fn block_migration_follows_the_mode_unless_auto() {
        let mut req = MigrationRequest {
            mode: Mode::Live,
            copy: Copy::Precopy,
            bandwidth_bps: None,
            downtime_limit: None,
            time_limit: Duration::from_secs(1),
            postcopy_after_passes: None,
            auto_converge: false,
        };
        assert_eq!(BlockMigration::FromMode.value(&req), json!(false));
        req.mode = Mode::Block;
        assert_eq!(BlockMigration::FromMode.value(&req), json!(true));
        assert_eq!(BlockMigration::Auto.value(&req), json!("auto"));
    }
}
