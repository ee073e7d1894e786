//! `-v` / `-vv`: `tracing` logs on standard error. `-v` shows the main steps at level
//! info (campaign, runs, phases, migration driver steps, loads into PostgreSQL); `-vv`
//! adds debug (every timeline event as it happens: HTTP requests of the probes, probe
//! details; the drivers' commands and API requests). Only qoeprobe's own crates log;
//! the libraries under them stay quiet. Secrets never reach a log: URLs go through
//! their redactors (a PostgreSQL password prints as `***`; OpenStack tokens are never
//! logged).

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The crates whose logs `-v` shows.
const OURS: [&str; 9] = [
    "qoeprobe", "campaign", "platform", "probes", "record", "analysis", "store", "fixtures",
    "userfile",
];

/// Installs the logger for `verbose` (the count of `-v`); nothing at 0.
pub fn init(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => Level::INFO,
        _ => Level::DEBUG,
    };
    let filter = Targets::new().with_targets(OURS.map(|t| (t, level)));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(true);
    // A logger installed already (tests parsing in-process) stays.
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(filter)
        .try_init();
}
