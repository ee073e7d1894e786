//! Building the lab driver for one run of a campaign (the runner's
//! [`DriverContext`]): the application's service goes into the guest, the scenario's
//! `migration` and `client` link rates shape the lab's links (tbf), the campaign's
//! flavor picks the `lab.*` size. Delay and loss on lab links are refused with a clear
//! message until the lab uses the network module's relay and nft rules.

use super::{LabConfig, LabDriver};
use crate::lab::Flavor;
use crate::lab::init::Service;
use crate::migrate::MigrationDriver;
use crate::runner::driver::DriverContext;
use crate::scenario::{Campaign, Link, ServiceKind};
use std::sync::Arc;

/// Checks, before a campaign, that the lab can run it (root, QEMU, supported links).
pub fn check(campaign: &Campaign) -> Result<(), String> {
    crate::lab::lab_available()?;
    for s in &campaign.scenarios {
        for (name, link) in [("client", &s.client), ("migration", &s.migration)] {
            supported(link)
                .map_err(|e| format!("scenario `{}`, link `{name}`: {e}", s.name.get_ref()))?;
        }
    }
    Ok(())
}

fn supported(link: &Link) -> Result<(), String> {
    if link.delay_ms.is_some_and(|d| d.0 > 0.0) || link.loss_pct.is_some_and(|l| l.0 > 0.0) {
        return Err("the lab driver shapes rate only (tbf); remove delay_ms/loss_pct or use driver = \"emulated\"".into());
    }
    Ok(())
}

/// The lab driver for one run.
pub fn create(ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
    let service = match ctx.application.service.get_ref() {
        ServiceKind::Dash => Service::Dash,
        ServiceKind::File => Service::File,
        ServiceKind::Game => Service::Game,
        ServiceKind::Live => Service::Live,
    };
    supported(&ctx.scenario.client)?;
    supported(&ctx.scenario.migration)?;
    let config = LabConfig {
        flavor: Flavor::by_name(ctx.settings.flavor.name())?,
        services: vec![service],
        migration_link_bps: ctx.scenario.migration.rate_mbit.map(|r| r.bps()),
        client_link_bps: ctx.scenario.client.rate_mbit.map(|r| r.bps()),
        ..LabConfig::default()
    };
    Ok(Box::new(LabDriver::new(config, Arc::new(ctx.clock))))
}
