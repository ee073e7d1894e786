//! Shared helpers of the libvirt tests: a testbed of two real libvirt daemons
//! (Debian's libvirtd, QEMU driver, TCG) with the lab's guest as a domain on
//! compute01. The tests need root, libvirtd and QEMU, and FAIL (never skip) when
//! they are missing.

#![allow(dead_code)]

use platform::lab::init::{GuestConfig, Service};
use platform::lab::{Flavor, lab_available};
use platform::libvirt::testbed::{Testbed, TestbedOptions};
use platform::libvirt::{DomainRef, LibvirtConfig, LibvirtDriver};
use platform::{EventSink, MigrationRequest, ServiceEndpoint};
use record::clock::{Clock, MonotonicClock};
use record::{Copy, Mode};
use record::{Event, EventKind};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One testbed at a time per test binary (2 cores, TCG).
pub async fn lock() -> tokio::sync::MutexGuard<'static, ()> {
    if let Err(why) = lab_available() {
        panic!("the libvirt tests need root and QEMU and cannot run here: {why}");
    }
    LOCK.lock().await
}

/// A testbed (id from [`Testbed::free_id`] with `tag`) with a guest running `services` on compute01 (domain `name`),
/// with an optional raw disk of `disk_mib` MiB in compute01's private images folder
/// (not shared: block mode copies it) and an empty one of the same size prepared on
/// compute02.
pub struct Bed {
    pub tb: Testbed,
    pub name: String,
    pub boot_id: String,
}

pub fn bed(tag: char, services: Vec<Service>, disk_mib: Option<u64>, opts: TestbedOptions) -> Bed {
    let t0 = std::time::Instant::now();
    let id = Testbed::free_id(tag);
    let tb = Testbed::start(&id, &opts).unwrap_or_else(|e| panic!("testbed: {e}"));
    eprintln!("testbed {id}: daemons up in {:?}", t0.elapsed());
    let image = Testbed::image().unwrap_or_else(|e| panic!("lab image: {e}"));
    let name = format!("qp-lv{id}-vm");
    let disk = disk_mib.map(|mib| {
        let file = format!("{name}.img");
        for host in 0..2 {
            let p = tb.daemon(host).lib_dir().join("images").join(&file);
            let fill = if host == 0 { mib / 4 } else { 0 };
            platform::lab::write_disk(&p, mib, fill).unwrap();
        }
        PathBuf::from("/var/lib/libvirt/images").join(file)
    });
    let guest = GuestConfig {
        ip: tb.guest_ip(),
        prefix: 24,
        services,
        dirty: (32, 16.0),
        upstream: None,
    };
    let spec = tb.domain_spec(
        &name,
        &image,
        guest,
        Flavor::by_name("lab.tiny").unwrap(),
        disk,
    );
    let boot_id = tb
        .create_domain(0, &spec, Duration::from_secs(90))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("testbed {id}: guest ready after {:?}", t0.elapsed());
    Bed { tb, name, boot_id }
}

impl Bed {
    /// A driver config for this bed (the service at the guest's DASH port, probes
    /// from the client namespace).
    pub fn config(&self) -> LibvirtConfig {
        let ip = self.tb.guest_ip();
        let mut c = LibvirtConfig::new(
            self.tb.uri(0),
            self.tb.uri(1),
            DomainRef::parse(&self.name),
            ServiceEndpoint {
                http: Some((ip, 8080).into()),
                game: None,
                probe_target: (ip, 8000).into(),
                netns: Some(self.tb.client_ns()),
            },
        );
        c.migrate_uris = [Some(self.tb.migrate_uri(1)), Some(self.tb.migrate_uri(0))];
        c
    }

    /// The guest's boot id now (from the client namespace).
    pub async fn boot_id_now(&self) -> String {
        let addr = (self.tb.guest_ip(), 8000).into();
        platform::lab::http_get(
            &self.tb.client_ns(),
            addr,
            "/boot_id",
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|e| panic!("boot id: {e}"))
    }
}

/// A driver with a run clock.
pub fn driver(config: LibvirtConfig) -> (LibvirtDriver, Arc<MonotonicClock>) {
    let clock = Arc::new(MonotonicClock::start());
    (
        LibvirtDriver::new(config, clock.clone() as Arc<dyn Clock>),
        clock,
    )
}

/// An event sink collecting into a vector.
pub fn sink() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Arc::new(move |ev| e.lock().unwrap().push(ev)), events)
}

/// A request.
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

/// The serde `kind` tag of an event.
pub fn kind_name(k: &EventKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v["kind"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The first event of a kind.
pub fn first<'a>(events: &'a [Event], kind: &str) -> Option<&'a Event> {
    events.iter().find(|e| kind_name(&e.kind) == kind)
}

/// QEMU's timestamp of the last `name` event in host `host`'s daemon log, as an
/// offset on `clock`.
pub fn qemu_t(tb: &Testbed, host: usize, name: &str, clock: &MonotonicClock) -> Option<Duration> {
    tb.qemu_events(host)
        .into_iter()
        .filter(|(n, _)| n == name)
        .map(|(_, ns)| clock.offset_of_wall_ns(ns))
        .next_back()
}

/// |a - b| in ms.
pub fn diff_ms(a: Duration, b: Duration) -> f64 {
    (a.as_secs_f64() - b.as_secs_f64()).abs() * 1000.0
}

/// No namespace, daemon or folder of testbed `id` is left.
pub fn assert_gone(id: &str) {
    let out = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(
        !list.contains(&format!("qp-lv{id}-")),
        "namespaces left: {list}"
    );
    let dir = platform::net::state_root().join("libvirt").join(id);
    assert!(!dir.exists(), "folder left: {}", dir.display());
}
