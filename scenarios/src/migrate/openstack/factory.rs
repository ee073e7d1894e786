//! Building the OpenStack driver for one run (the driver follows in the next commits).

use crate::migrate::MigrationDriver;
use crate::runner::driver::DriverContext;
use crate::scenario::Campaign;

const NOT_YET: &str = "the openstack driver is not built yet";

/// Checks, before a campaign, that the driver can run it.
pub fn check(_campaign: &Campaign) -> Result<(), String> {
    Err(NOT_YET.into())
}

/// The OpenStack driver for one run.
pub fn create(_ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
    Err(NOT_YET.into())
}
