//! Shared helpers of the lab tests (root + QEMU required: they FAIL, never skip,
//! when the lab cannot run here).

#![allow(dead_code)]

use platform::lab::Service;
use platform::lab::{Flavor, lab_available};
use platform::lab::{LabConfig, LabDriver};
use platform::{EventSink, MigrationRequest};
use record::clock::{Clock, MonotonicClock};
use record::{Copy, Mode};
use record::{Event, EventKind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One lab at a time per test binary (2 cores, TCG), and the lab must be available.
pub async fn lab_lock() -> tokio::sync::MutexGuard<'static, ()> {
    if let Err(why) = lab_available() {
        panic!("the lab tests need root and QEMU and cannot run here: {why}");
    }
    LOCK.lock().await
}

/// A driver for `services` with a shared run clock.
pub fn driver(
    services: Vec<Service>,
    tweak: impl FnOnce(&mut LabConfig),
) -> (LabDriver, Arc<MonotonicClock>) {
    let clock = Arc::new(MonotonicClock::start());
    let mut config = LabConfig {
        flavor: Flavor::by_name("lab.tiny").unwrap(),
        services,
        ..LabConfig::default()
    };
    tweak(&mut config);
    (
        LabDriver::new(config, clock.clone() as Arc<dyn Clock>),
        clock,
    )
}

/// An event sink collecting into a vector.
pub fn sink() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Arc::new(move |ev| e.lock().unwrap().push(ev)), events)
}

/// A live pre-copy request.
pub fn request(mode: Mode, copy: Copy, time_limit_s: u64) -> MigrationRequest {
    MigrationRequest {
        mode,
        copy,
        bandwidth_bps: None,
        downtime_limit: Some(Duration::from_millis(300)),
        time_limit: Duration::from_secs(time_limit_s),
        postcopy_after_passes: None,
        auto_converge: false,
    }
}

/// The time of the first event of a kind (by its serde name).
pub fn t_of(events: &[Event], kind: &str) -> Option<Duration> {
    events
        .iter()
        .find(|e| kind_name(&e.kind) == kind)
        .map(Event::t)
}

/// The serde `kind` tag of an event.
pub fn kind_name(k: &EventKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v["kind"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// No QEMU, namespace or run folder of lab `id` is left.
pub fn assert_no_leftovers(id: &str) {
    let l = platform::lab::leftovers::find(Some(id));
    assert!(l.is_empty(), "teardown left {l:?}");
}
