//! Building the lab driver for one run of a campaign (the runner's
//! [`DriverContext`]): the application's service goes into the guest, the scenario's
//! `migration` and `client` links (rate, one-way delay, loss) shape the lab's links
//! through the network module ([`crate::net`]: tbf, the delay relay, nft loss), the
//! campaign's flavor picks the `lab.*` size.

use super::{LabConfig, LabDriver};
use crate::lab::Flavor;
use crate::lab::init::Service;
use crate::migrate::MigrationDriver;
use crate::net::LinkCondition;
use crate::runner::driver::DriverContext;
use crate::scenario::{Campaign, Link, ServiceKind};
use std::sync::Arc;

/// Checks, before a campaign, that the lab can run it (root, QEMU, valid links).
pub fn check(campaign: &Campaign) -> Result<(), String> {
    crate::lab::lab_available()?;
    for s in &campaign.scenarios {
        for (name, link) in [("client", &s.client), ("migration", &s.migration)] {
            condition(link)
                .map_err(|e| format!("scenario `{}`, link `{name}`: {e}", s.name.get_ref()))?;
        }
    }
    Ok(())
}

/// A scenario link as the network module's condition, checked against what the lab
/// can apply (rate up to 100 Gbit/s, delay up to 10 s, loss 0-100 %).
pub fn condition(link: &Link) -> Result<LinkCondition, String> {
    let c = LinkCondition {
        rate_mbit: link.rate_mbit.map(|r| r.get()),
        delay_ms: link.delay_ms.map(|d| d.get()),
        loss_pct: link.loss_pct.map(|l| l.get()),
    };
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

/// The lab driver for one run.
pub fn create(ctx: DriverContext) -> Result<Box<dyn MigrationDriver>, String> {
    let service = match ctx.application.service.get_ref() {
        ServiceKind::Dash => Service::Dash,
        ServiceKind::File => Service::File,
        ServiceKind::Game => Service::Game,
        ServiceKind::Live => Service::Live,
    };
    let client_link = condition(&ctx.scenario.client).map_err(|e| format!("link `client`: {e}"))?;
    let migration_link =
        condition(&ctx.scenario.migration).map_err(|e| format!("link `migration`: {e}"))?;
    let config = LabConfig {
        flavor: Flavor::by_name(ctx.settings.flavor.name())?,
        services: vec![service],
        migration_link,
        client_link,
        ..LabConfig::default()
    };
    Ok(Box::new(LabDriver::new(config, Arc::new(ctx.clock))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::values::{Millis, Percent};

    #[test]
    fn delay_and_loss_are_accepted_silly_values_are_not() {
        let ok = Link {
            rate_mbit: None,
            delay_ms: Some(Millis(100.0)),
            loss_pct: Some(Percent(1.0)),
        };
        let c = condition(&ok).unwrap();
        assert_eq!((c.delay_ms, c.loss_pct), (Some(100.0), Some(1.0)));
        let too_long = Link {
            delay_ms: Some(Millis(60_000.0)),
            ..ok
        };
        assert!(condition(&too_long).unwrap_err().contains("delay_ms"));
    }
}
