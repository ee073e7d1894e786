//! Two real libvirt hosts on one machine, for the driver's tests and for trying it
//! without a cloud (docs/libvirt-driver.md gives the recipe by hand).
//!
//! ```text
//!  qp-lv<id>-client 10.77.0.100 --[link c]-- qp-lv<id>-switch: br0 ──┬── veth ── compute01: br0 ── vnetN (guest)
//!                                                                     └── veth ── compute02: br0 ── vnetN (after migration)
//!  qp-lv<id>-compute01 10.77.1.1 ----------[link m]---------- qp-lv<id>-compute02 10.77.1.2
//!  libvirtd (own mount ns, host UUID, socket)                  libvirtd (likewise)
//! ```
//!
//! Each compute namespace runs one libvirtd ([`daemon`]); each has a bridge `br0`
//! uplinked to the switch, where the guest's tap lands (libvirt creates it in the
//! daemon's namespace). The migration stream goes from compute01's QEMU to
//! compute02's over the `m` link (migrate URI `tcp://10.77.1.2`). The control
//! connections are unix sockets in the testbed's folder, reachable from the whole
//! machine. The network is one [`crate::net::Topology`] (run id `lv<id>`): it kills
//! the daemons and every QEMU left in its namespaces and deletes them on teardown,
//! drop, error and panic.

pub mod daemon;
pub mod domain;

use super::conn::Conn;
use crate::lab::init::GuestConfig;
use crate::lab::network::{CLIENT_IP, COMPUTE01_IP, COMPUTE02_IP, GUEST_IP, SERVICE_PREFIX};
use crate::lab::{Flavor, GuestImage, ImageOptions};
use crate::net::{self, DelayBackend, LinkCondition, ShapedLinkSpec};
use daemon::DaemonSpec;
use domain::DomainSpec;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Longest testbed id (the network module's run id is `lv<id>`).
pub const MAX_ID: usize = net::MAX_RUN_ID - 2;

/// What the testbed's network looks like.
#[derive(Debug, Clone, Default)]
pub struct TestbedOptions {
    /// The client link's condition.
    pub client_link: LinkCondition,
    /// The migration link's condition.
    pub migration_link: LinkCondition,
}

/// Two running libvirt hosts and their network; torn down on drop.
pub struct Testbed {
    id: String,
    dir: PathBuf,
    daemons: [DaemonSpec; 2],
    // Dropped last: it kills the daemons and QEMUs and deletes the namespaces.
    net: Option<net::Topology>,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed")
            .field("id", &self.id)
            .field("dir", &self.dir)
            .finish()
    }
}

impl Testbed {
    /// A testbed id that no testbed of this machine uses now: `tag` followed by three
    /// characters from this process's id and a counter, skipping ids whose namespaces
    /// or folder exist (another process's testbed, or one a killed run left).
    /// Tests take their ids from here, so two test runs on one machine (or a stale
    /// namespace) never collide on a fixed name.
    pub fn free_id(tag: char) -> String {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let tag = if tag.is_ascii_lowercase() || tag.is_ascii_digit() {
            tag
        } else {
            't'
        };
        let pid = u64::from(std::process::id());
        let taken = |id: &str| {
            let prefix = format!("qp-lv{id}-");
            let in_use = std::fs::read_dir("/run/netns")
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                })
                .unwrap_or(false);
            in_use || net::state_root().join("libvirt").join(id).exists()
        };
        let mut id = String::new();
        for _ in 0..1000 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let mut x = pid.wrapping_mul(7919).wrapping_add(n.wrapping_mul(104_729)) % 46_656;
            id = std::iter::once(tag)
                .chain((0..3).map(|_| {
                    let c = DIGITS[(x % 36) as usize] as char;
                    x /= 36;
                    c
                }))
                .collect();
            if !taken(&id) {
                break;
            }
        }
        id
    }

    /// This testbed's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Builds the network, starts both daemons and waits until they answer.
    /// `id`: 1 to [`MAX_ID`] characters of `[a-z0-9]`.
    pub fn start(id: &str, opts: &TestbedOptions) -> Result<Self, String> {
        if find_program("libvirtd").is_none() {
            return Err("libvirtd is not installed: install the Debian packages libvirt-daemon-system and libvirt-dev (scripts/install-deps.sh)".into());
        }
        let net = net::Topology::with_run_id(Some(&format!("lv{id}")))
            .map_err(|e| format!("libvirt testbed network: {e}"))?;
        let dir = net::state_root().join("libvirt").join(id);
        let mut tb = Testbed {
            id: id.to_string(),
            dir: dir.clone(),
            daemons: ["compute01", "compute02"].map(|h| DaemonSpec {
                dir: dir.join(h),
                host_uuid: String::new(),
            }),
            net: Some(net),
        };
        tb.build(opts)?;
        Ok(tb)
    }

    fn build(&mut self, opts: &TestbedOptions) -> Result<(), String> {
        let e = |e: net::NetError| format!("libvirt testbed network: {e}");
        let net = self.net.as_ref().ok_or("torn down")?;
        for role in ["compute01", "compute02", "switch", "client"] {
            net.namespace(role).map_err(e)?;
        }
        let sw = self.ns("switch");
        net.bridge(&sw, "br0").map_err(e)?;
        for (i, host) in ["compute01", "compute02"].into_iter().enumerate() {
            let ns = self.ns(host);
            net.bridge(&ns, "br0").map_err(e)?;
            let reg = net.registry();
            let (up, down) = (
                reg.link_name(&format!("u{}", i + 1)).map_err(e)?,
                reg.link_name(&format!("d{}", i + 1)).map_err(e)?,
            );
            net.veth(&ns, &up, &sw, &down).map_err(e)?;
            net.set_master(&ns, &up, "br0").map_err(e)?;
            net.set_master(&sw, &down, "br0").map_err(e)?;
        }
        let client = net
            .shaped_link(&ShapedLinkSpec {
                name: "c".into(),
                a_ns: self.ns("client"),
                b_ns: sw.clone(),
                a_addr: Some(format!("{CLIENT_IP}/{SERVICE_PREFIX}")),
                b_addr: None,
                condition: opts.client_link,
                delay: DelayBackend::Auto,
            })
            .map_err(e)?;
        net.set_master(&sw, &client.b_dev, "br0").map_err(e)?;
        net.shaped_link(&ShapedLinkSpec {
            name: "m".into(),
            a_ns: self.ns("compute01"),
            b_ns: self.ns("compute02"),
            a_addr: Some(format!("{COMPUTE01_IP}/24")),
            b_addr: Some(format!("{COMPUTE02_IP}/24")),
            condition: opts.migration_link,
            delay: DelayBackend::Auto,
        })
        .map_err(e)?;
        for (i, host) in ["compute01", "compute02"].into_iter().enumerate() {
            let ns = self.ns(host);
            let d = &mut self.daemons[i];
            d.host_uuid =
                daemon::random_uuid().map_err(|e| format!("cannot make a host UUID: {e}"))?;
            d.write()
                .map_err(|e| format!("cannot write the configuration of {host}: {e}"))?;
            net.spawn_in(&ns, d.command()).map_err(e)?;
        }
        for d in &self.daemons {
            wait_for_daemon(d, Duration::from_secs(60))?;
        }
        Ok(())
    }

    /// The namespace of a role (`compute01`, `compute02`, `switch`, `client`).
    pub fn ns(&self, role: &str) -> String {
        format!("qp-lv{}-{role}", self.id)
    }

    /// The client namespace (where probes run).
    pub fn client_ns(&self) -> String {
        self.ns("client")
    }

    /// The libvirt URI of host 0 (compute01) or 1 (compute02).
    pub fn uri(&self, host: usize) -> String {
        self.daemons[host.min(1)].uri()
    }

    /// The migrate URI of host 0 or 1 (its address on the migration link).
    pub fn migrate_uri(&self, host: usize) -> String {
        let ip = if host == 0 {
            COMPUTE01_IP
        } else {
            COMPUTE02_IP
        };
        format!("tcp://{ip}")
    }

    /// The daemon of host 0 or 1.
    pub fn daemon(&self, host: usize) -> &DaemonSpec {
        &self.daemons[host.min(1)]
    }

    /// The testbed's folder.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The address the guest gets on the service network.
    pub fn guest_ip(&self) -> std::net::Ipv4Addr {
        GUEST_IP
    }

    /// A domain spec for the lab image with `guest`'s services (address set here);
    /// `disk`: a raw disk path as the hosts see it.
    pub fn domain_spec(
        &self,
        name: &str,
        image: &GuestImage,
        mut guest: GuestConfig,
        flavor: Flavor,
        disk: Option<PathBuf>,
    ) -> DomainSpec {
        guest.ip = GUEST_IP;
        guest.prefix = SERVICE_PREFIX;
        DomainSpec {
            name: name.to_string(),
            kernel: image.kernel.clone(),
            initramfs: image.initramfs.clone(),
            guest,
            flavor,
            disk,
            serial: self.dir.join(format!("{name}.serial")),
        }
    }

    /// Starts a transient domain on host 0 or 1 and waits for the guest's ready
    /// marker on its console; returns the guest's boot id.
    pub fn create_domain(
        &self,
        host: usize,
        spec: &DomainSpec,
        timeout: Duration,
    ) -> Result<String, String> {
        let conn = Conn::open(&self.uri(host))?;
        let _ = std::fs::remove_file(&spec.serial);
        virt::domain::Domain::create_xml(conn.connect(), &spec.xml(), 0)
            .map_err(|e| format!("cannot start domain {}: {}", spec.name, e.message().trim()))?;
        let until = Instant::now() + timeout;
        loop {
            let log = std::fs::read_to_string(&spec.serial).unwrap_or_default();
            if let Some(line) = log
                .lines()
                .find(|l| l.contains(crate::lab::init::READY_MARKER))
            {
                return Ok(line
                    .split("boot_id=")
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string());
            }
            if Instant::now() > until {
                return Err(format!(
                    "guest {} not ready after {timeout:?}; console {}:\n{}",
                    spec.name,
                    spec.serial.display(),
                    crate::lab::vm::tail(&log, 20)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The running domains of host 0 or 1, by name.
    pub fn running(&self, host: usize) -> Result<Vec<String>, String> {
        let conn = Conn::open(&self.uri(host))?;
        let doms = conn
            .connect()
            .list_all_domains(virt_sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            .map_err(|e| e.message().to_string())?;
        Ok(doms.iter().filter_map(|d| d.get_name().ok()).collect())
    }

    /// QEMU's own events (name, wall ns) in host 0 or 1's daemon log.
    pub fn qemu_events(&self, host: usize) -> Vec<(String, u64)> {
        let log = std::fs::read_to_string(self.daemons[host.min(1)].log()).unwrap_or_default();
        domain::qemu_events(&log)
    }

    /// The lab image, built if needed (see docs/lab.md).
    pub fn image() -> Result<GuestImage, String> {
        GuestImage::ensure_once(&ImageOptions::default()).map_err(|e| e.to_string())
    }

    /// Destroys every domain, stops the daemons, deletes the namespaces and the
    /// folder. Safe to call twice.
    pub fn teardown(&mut self) {
        let Some(net) = self.net.take() else {
            return;
        };
        for d in &self.daemons {
            if let Ok(conn) = Conn::open(&d.uri())
                && let Ok(doms) = conn
                    .connect()
                    .list_all_domains(virt_sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE)
            {
                for dom in doms {
                    let _ = dom.destroy();
                }
            }
        }
        if let Err(e) = net.teardown() {
            eprintln!("qoeprobe: libvirt testbed {} teardown: {e}", self.id);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        self.teardown();
    }
}

fn wait_for_daemon(d: &DaemonSpec, timeout: Duration) -> Result<(), String> {
    let until = Instant::now() + timeout;
    loop {
        let last = match Conn::open(&d.uri()) {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() > until {
            let stderr = std::fs::read_to_string(d.dir.join("stderr.log")).unwrap_or_default();
            return Err(format!(
                "libvirtd in {} did not answer within {timeout:?}: {last}\n{}",
                d.dir.display(),
                crate::lab::vm::tail(&stderr, 10)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    ["/usr/sbin", "/usr/bin", "/sbin"]
        .iter()
        .map(|d| PathBuf::from(d).join(name))
        .find(|p| p.is_file())
        .or_else(|| crate::lab::find_in_path(name))
}
