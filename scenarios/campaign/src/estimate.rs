//! How long a campaign is expected to take, before it starts (docs/campaigns.md,
//! "Expected duration"). Per run: the warm-up and cool-down, the driver's set-up,
//! and the migration's transfer: the guest's memory (plus the copied disk in block
//! mode) over the migration link's rate, slowed by its loss (the ideal 1/(1-d) or
//! TCP's loss-limited throughput, Mathis et al. 1997, whichever is slower), capped
//! at the time limit. Memory is an upper bound of what pre-copy sends for an idle
//! guest (zero pages are cheap) and a lower bound for one that keeps dirtying: the
//! estimate says how long, not exactly how long. A guest known to dirty memory
//! faster than the link copies it (the emulated model, the lab's encoder inside the
//! VM) never converges: its run lasts the time limit. The flavor is the run's (the
//! scenario's, else the application's, else the campaign's).

use crate::scenario::{Application, Campaign, MigrationSettings, NetScenario, RunId};
use platform::{DriverKind, LiveSource};
use record::{Copy, Mode};
use std::time::Duration;

/// Boot and set-up of one lab run: two QEMUs under TCG, the source booted to the
/// service's first answer (3.3-3.6 s measured here, docs/campaigns.md), plus namespaces and
/// shaping.
const LAB_SETUP: Duration = Duration::from_secs(5);
/// TCP's maximum segment size on an Ethernet path (bytes).
const MSS_BYTES: f64 = 1448.0;
/// Round trip of an undelayed migration path (lab namespaces, loopback).
const BASE_RTT_S: f64 = 0.001;
/// The migration link's rate when none is set (the lab's unshaped veth is faster;
/// 1 Gbit/s keeps the estimate on the safe side).
const UNSHAPED_MBIT: f64 = 1000.0;

/// The expected duration of a campaign's planned runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Runs planned.
    pub runs: usize,
    /// Their expected total.
    pub total: Duration,
    /// The longest single run.
    pub longest: Duration,
    /// Runs whose transfer alone reaches the time limit (they end cancelled).
    pub capped: usize,
}

impl Estimate {
    /// `2 h 05 min`, `14 min`, `40 s`.
    pub fn human(d: Duration) -> String {
        let s = d.as_secs();
        match s {
            0..60 => format!("{s} s"),
            60..3600 => format!("{} min", s.div_ceil(60)),
            _ => format!("{} h {:02} min", s / 3600, (s % 3600).div_ceil(60).min(59)),
        }
    }
}

/// The expected duration of `plan` (from [`Campaign::plan`]).
pub fn estimate(campaign: &Campaign, plan: &[RunId]) -> Estimate {
    let mut e = Estimate {
        runs: plan.len(),
        total: Duration::ZERO,
        longest: Duration::ZERO,
        capped: 0,
    };
    let mut previous: Option<&RunId> = None;
    for id in plan {
        let same_cell =
            previous.is_some_and(|p| p.application == id.application && p.scenario == id.scenario);
        previous = Some(id);
        let Some(scen) = campaign.scenario(&id.scenario) else {
            continue;
        };
        let Some(app) = campaign.application(&id.application) else {
            continue;
        };
        let mut settings = scen.migration_settings(&campaign.migration);
        settings.flavor = campaign.run_flavor(app, scen);
        let (transfer, capped) = if never_converges(&settings, app, scen) {
            (settings.time_limit_s.duration(), true)
        } else {
            transfer(&settings, scen)
        };
        // A repetition of the cell before it migrates that run's VM back (when the
        // migration completed): the settle time instead of a boot.
        let reused =
            same_cell && settings.reuse_vm && !capped && settings.driver == DriverKind::Lab;
        let setup = if reused {
            settings.settle_s.duration()
        } else {
            setup(settings.driver)
        };
        let run = campaign.warmup_s.duration() + campaign.cooldown_s.duration() + setup + transfer;
        e.capped += usize::from(capped);
        e.total += run;
        e.longest = e.longest.max(run);
    }
    e
}

fn setup(driver: DriverKind) -> Duration {
    match driver {
        DriverKind::Lab => LAB_SETUP,
        _ => Duration::ZERO,
    }
}

/// MiB the migration copies: memory, plus the disk in block mode.
fn payload_mib(s: &MigrationSettings) -> f64 {
    let (memory, disk) = match s.driver {
        DriverKind::Lab => {
            let f = platform::lab::Flavor::of(s.flavor);
            (f.memory_mib as f64, f.disk_fill_mib as f64)
        }
        DriverKind::Emulated => (
            s.emulated
                .memory_mb
                .map_or(s.flavor.memory_mib(), |m| m.get()),
            s.emulated.disk_mb.get(),
        ),
        _ => (s.flavor.memory_mib(), 0.0),
    };
    memory + if s.mode == Mode::Block { disk } else { 0.0 }
}

/// Throughput of the migration stream in Mbit/s: the link's (or the bandwidth
/// limit's) rate times 1-d, and at most TCP's loss-limited rate
/// MSS / RTT * 1.22 / sqrt(d).
pub fn migration_mbit(s: &MigrationSettings, scen: &NetScenario) -> f64 {
    let link = scen.migration.condition();
    let mut rate = link.rate_mbit.unwrap_or(UNSHAPED_MBIT);
    if let Some(b) = s.bandwidth_mbit {
        rate = rate.min(b.get());
    }
    let d = link.loss_pct.unwrap_or(0.0) / 100.0;
    if d <= 0.0 {
        return rate;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let rtt = (2.0 * link.delay_ms.unwrap_or(0.0) / 1000.0).max(BASE_RTT_S);
    let mathis = MSS_BYTES * 8.0 / rtt * 1.22 / d.sqrt() / 1e6;
    (rate * (1.0 - d)).min(mathis)
}

/// Whether pre-copy cannot converge, so that the run lasts its time limit: the
/// guest dirties memory faster than the link copies it (r > bw) over a working set
/// larger than what the downtime limit lets through at that rate (W > bw x
/// downtime limit), and neither auto-converge nor post-copy ends it. Known before
/// the run for the emulated driver's model and for the lab's encoder-inside guest
/// (the measured encoder's rate and working set, docs/dirtyrate.md); other guests
/// dirty what they dirty.
fn never_converges(s: &MigrationSettings, app: &Application, scen: &NetScenario) -> bool {
    if s.auto_converge || s.copy == Copy::Postcopy {
        return false;
    }
    let (rate, working_set) = match s.driver {
        DriverKind::Lab if app.live_source() == Some(LiveSource::Encoder) => {
            let memory = platform::lab::Flavor::of(s.flavor).memory_mib;
            (
                platform::lab::ENCODER_DIRTY_MIB_S,
                platform::lab::ENCODER_WORKING_SET_MIB.min(memory / 2) as f64,
            )
        }
        DriverKind::Emulated => {
            let o = app.emulated.as_ref();
            (
                o.and_then(|o| o.dirty_rate_mb_s)
                    .unwrap_or(s.emulated.dirty_rate_mb_s)
                    .get(),
                o.and_then(|o| o.working_set_mb)
                    .unwrap_or(s.emulated.working_set_mb)
                    .get(),
            )
        }
        _ => return false,
    };
    let bw_mib_s = migration_mbit(s, scen) / 8.0 / 1.048_576;
    rate > bw_mib_s && working_set > bw_mib_s * s.downtime_limit_ms.duration().as_secs_f64()
}

/// The transfer's expected time, and whether the time limit cuts it.
fn transfer(s: &MigrationSettings, scen: &NetScenario) -> (Duration, bool) {
    let limit = s.time_limit_s.duration();
    let mbit = migration_mbit(s, scen);
    let secs = payload_mib(s) * 8.0 * 1.048_576 / mbit;
    if !secs.is_finite() || secs >= limit.as_secs_f64() {
        (limit, true)
    } else {
        (Duration::from_secs_f64(secs), false)
    }
}
