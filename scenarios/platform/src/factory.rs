//! Which driver migrates a run: a [`DriverFactory`] checks, once before a campaign,
//! that its drivers can run here, and builds the driver of each run from its
//! [`DriverContext`]. [`DefaultDrivers`] knows `emulated`, `exec` and `lab`; the
//! binary can wrap it to add other platforms.

use crate::driver::{DriverConfig, DriverContext, DriverKind, MigrationDriver};
use crate::net::LinkShaping;
use record::LinkCondition;

/// Builds the driver of a run.
pub trait DriverFactory: Send + Sync {
    /// Checks, once before a campaign, that this factory can build drivers of `kind`
    /// here (an error says what is missing).
    fn check(&self, kind: DriverKind) -> Result<(), String>;
    /// Checks that drivers of `kind` can apply a link's conditions.
    fn check_link(&self, kind: DriverKind, link: &LinkCondition) -> Result<(), String> {
        let _ = (kind, link);
        Ok(())
    }
    /// The driver for one run.
    fn create(&self, ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String>;
}

/// The drivers of this crate: `emulated`, `exec` and `lab` (the local QEMU lab).
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultDrivers;

impl DriverFactory for DefaultDrivers {
    fn check(&self, kind: DriverKind) -> Result<(), String> {
        match kind {
            DriverKind::Emulated => crate::emulated::fixtures_program().map(drop),
            DriverKind::Exec => Ok(()),
            DriverKind::Lab => crate::lab::lab_available(),
        }
    }

    fn check_link(&self, kind: DriverKind, link: &LinkCondition) -> Result<(), String> {
        match kind {
            // The lab shapes real links (tbf, the delay relay, nft loss).
            DriverKind::Lab => link.validate().map_err(|e| e.to_string()),
            DriverKind::Emulated | DriverKind::Exec => Ok(()),
        }
    }

    fn create(&self, ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
        match &ctx.driver {
            DriverConfig::Emulated(_) => Ok(Box::new(crate::emulated::EmulatedDriver::new(ctx)?)),
            DriverConfig::Exec(_) => Ok(Box::new(crate::exec::ExecDriver::new(ctx)?)),
            DriverConfig::Lab => Ok(Box::new(crate::lab::LabDriver::for_run(ctx)?)),
        }
    }
}
