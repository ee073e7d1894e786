//! Which driver migrates a run: [`DriverContext`] carries everything a driver needs
//! for one run; a [`DriverFactory`] builds the driver. [`DefaultDrivers`] knows
//! `emulated`, `exec`, `lab`, `libvirt` and `openstack`; the binary can wrap it to add other platforms.

use crate::migrate::{EventSink, MigrationDriver, MigrationRequest};
use crate::scenario::{Application, Campaign, MigrationSettings, NetScenario};
use probes::clock::MonotonicClock;
use std::path::PathBuf;

/// Everything a driver gets for one run.
#[derive(Clone)]
pub struct DriverContext {
    /// The run's clock (convert platform timestamps with `offset_of_wall_ns`).
    pub clock: MonotonicClock,
    /// The run's timeline.
    pub sink: EventSink,
    /// The run's seed.
    pub seed: u64,
    /// The run's folder (drivers may put logs there).
    pub run_dir: PathBuf,
    /// `[migration]` of the campaign.
    pub settings: MigrationSettings,
    /// The application under test.
    pub application: Application,
    /// The network scenario (the driver applies what it can of it).
    pub scenario: NetScenario,
}

impl DriverContext {
    /// The migration request the settings describe.
    pub fn request(&self) -> MigrationRequest {
        request_of(&self.settings)
    }
}

/// The migration request of `[migration]`.
pub fn request_of(s: &MigrationSettings) -> MigrationRequest {
    MigrationRequest {
        mode: s.mode,
        copy: s.copy,
        bandwidth_bps: s.bandwidth_mbit.map(|b| b.bps()),
        downtime_limit: Some(s.downtime_limit_ms.duration()),
        time_limit: s.time_limit_s.duration(),
        postcopy_after_passes: Some(s.postcopy_after_passes),
        auto_converge: s.auto_converge,
    }
}

/// Builds the driver of a run.
pub trait DriverFactory: Send + Sync {
    /// Checks, once before the campaign, that this factory can build the campaign's
    /// driver (an error says what is missing).
    fn check(&self, campaign: &Campaign) -> Result<(), String>;
    /// The driver for one run.
    fn create(&self, ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String>;
}

/// The drivers of this crate: `emulated`, `exec`, `lab` (the local QEMU lab,
/// [`crate::migrate::lab::factory`]), `libvirt` and `openstack`.
#[derive(Debug, Default, Clone, Copy)]
pub struct DefaultDrivers;

impl DriverFactory for DefaultDrivers {
    fn check(&self, campaign: &Campaign) -> Result<(), String> {
        use crate::scenario::DriverKind::*;
        match campaign.migration.driver {
            Emulated => crate::migrate::emulated::service::fixtures_program().map(drop),
            Exec => Ok(()),
            Lab => crate::migrate::lab::factory::check(campaign),
            Libvirt => crate::migrate::libvirt::factory::check(campaign),
            Openstack => crate::migrate::openstack::factory::check(campaign),
        }
    }

    fn create(&self, ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
        use crate::scenario::DriverKind::*;
        match ctx.settings.driver {
            Emulated => Ok(Box::new(crate::migrate::emulated::EmulatedDriver::new(ctx))),
            Exec => Ok(Box::new(crate::migrate::exec::ExecDriver::new(ctx)?)),
            Lab => crate::migrate::lab::factory::create(ctx),
            Libvirt => crate::migrate::libvirt::factory::create(ctx),
            Openstack => crate::migrate::openstack::factory::create(ctx),
        }
    }
}
