//! Which driver migrates a run: a [`DriverFactory`] checks, once before a campaign,
//! that its drivers can run here, and builds the driver of each run from its
//! [`DriverContext`]. [`DefaultDrivers`] knows `emulated`, `exec`, `lab`, `libvirt`
//! and `openstack`; the binary can wrap it to add other platforms.

use crate::driver::{DriverConfig, DriverContext, DriverKind, MigrationDriver};
use crate::net::LinkShaping;
use record::LinkCondition;

/// Builds the driver of a run.
pub trait DriverFactory: Send + Sync {
    /// Checks, once before a campaign, that this factory can build drivers of `kind`
    /// here (an error says what is missing).
    fn check(&self, kind: DriverKind) -> Result<(), String>;
    /// Checks, once before a campaign, what can be checked of a driver's own settings
    /// without starting anything (e.g. that a named network namespace exists).
    fn check_config(&self, config: &DriverConfig) -> Result<(), String> {
        let _ = config;
        Ok(())
    }
    /// Checks that drivers of `kind` can apply a link's conditions.
    fn check_link(&self, kind: DriverKind, link: &LinkCondition) -> Result<(), String> {
        let _ = (kind, link);
        Ok(())
    }
    /// The driver for one run.
    fn create(&self, ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String>;
}

/// The drivers of this crate: `emulated`, `exec`, `lab` (the local QEMU lab),
/// `libvirt` and `openstack`.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultDrivers;

impl DriverFactory for DefaultDrivers {
    fn check(&self, kind: DriverKind) -> Result<(), String> {
        match kind {
            DriverKind::Emulated => crate::emulated::fixtures_program().map(drop),
            DriverKind::Exec | DriverKind::Libvirt | DriverKind::Openstack => Ok(()),
            DriverKind::Lab => crate::lab::lab_available(),
        }
    }

    fn check_config(&self, config: &DriverConfig) -> Result<(), String> {
        match config {
            DriverConfig::Libvirt(c) => c.endpoint.check_netns(),
            DriverConfig::Openstack(c) => c.endpoint.check_netns(),
            DriverConfig::Emulated(_) | DriverConfig::Exec(_) | DriverConfig::Lab => Ok(()),
        }
    }

    fn check_link(&self, kind: DriverKind, link: &LinkCondition) -> Result<(), String> {
        match kind {
            // The lab shapes real links (tbf, the delay relay, nft loss).
            DriverKind::Lab => link.validate().map_err(|e| e.to_string()),
            // These platforms' links are the operator's: the run records the
            // scenario's conditions, it does not apply them.
            DriverKind::Emulated
            | DriverKind::Exec
            | DriverKind::Libvirt
            | DriverKind::Openstack => Ok(()),
        }
    }

    fn create(&self, ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
        match &ctx.driver {
            DriverConfig::Emulated(_) => Ok(Box::new(crate::emulated::EmulatedDriver::new(ctx)?)),
            DriverConfig::Exec(_) => Ok(Box::new(crate::exec::ExecDriver::new(ctx)?)),
            DriverConfig::Lab => Ok(Box::new(crate::lab::LabDriver::for_run(ctx)?)),
            DriverConfig::Libvirt(_) => Ok(Box::new(crate::libvirt::LibvirtDriver::for_run(ctx)?)),
            DriverConfig::Openstack(_) => {
                Ok(Box::new(crate::openstack::OpenStackDriver::for_run(ctx)?))
            }
        }
    }
}
