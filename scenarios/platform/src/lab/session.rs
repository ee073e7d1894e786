//! One running lab: its network, the VM currently serving (with its QMP session), the
//! run folder and the disk. Starts destinations, hands them to [`super::run`], and
//! swaps roles after a completed migration. Dropping it kills every QEMU first, then
//! deletes the namespaces, then the run folder.

use super::LabConfig;
use super::capture::Capture;
use super::init::{self, GuestConfig, Service};
use super::memory;
use super::network::{self, Host, LabLinks, LabNetwork};
use super::node::Node;
use super::pcap;
use super::qmp::Qmp;
use super::run::{self, LabStats};
use super::vm::{Vm, VmSpec};
use super::{GuestImage, LabError, Result, guest, leftovers};
use crate::driver::EventSink;
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
use record::Mode;
use record::clock::Clock;
use record::{Event, EventKind, MigrationRequested, PacketCapture};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long the memory check after a migration waits for the guest to answer.
const MEMORY_CHECK_WAIT: Duration = Duration::from_secs(30);
/// The guest NIC's MAC address (the same on both sides).
const MAC: &str = "52:54:00:77:00:0a";
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A running lab (after `prepare`).
pub struct LabSession {
    // Field order is drop order: QEMUs go before the namespaces they live in.
    active: Option<Node>,
    /// The encoder a relay in the guest reads (before the namespace it runs in).
    encoder: Option<crate::emulated::ServiceProcess>,
    // The capture runs in the client namespace: stopped before it goes.
    capture: Option<Capture>,
    network: LabNetwork,
    dir: PathBuf,
    image: GuestImage,
    guest: GuestConfig,
    flavor: super::Flavor,
    pad_ram: bool,
    vm_count: u32,
    boot_id: String,
    boot_time: Duration,
    client_delay: Duration,
    keep: bool,
}

impl std::fmt::Debug for LabSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabSession")
            .field("id", &self.network.id())
            .field("dir", &self.dir)
            .finish()
    }
}

impl LabSession {
    /// Builds the image if needed, creates the network and boots the source VM on
    /// compute01; returns once the guest's services listen.
    pub async fn start(config: &LabConfig) -> Result<Self> {
        let opts = config.image.clone();
        let image = tokio::task::spawn_blocking(move || GuestImage::ensure_once(&opts))
            .await
            .map_err(|e| LabError::Failed(format!("image build task failed: {e}")))??;
        for s in &config.services {
            if !image.has_service(s.name()) {
                return Err(LabError::Failed(format!(
                    "the guest image's fixtures binary has no `serve {}` (it has: {}); update the fixtures crate and run `qoeprobe lab image`",
                    s.name(),
                    image.manifest.services.join(", ")
                )));
            }
        }
        let id = match &config.id {
            Some(id) => id.clone(),
            None => fresh_id(),
        };
        network::check_id(&id)?;
        let dir = leftovers::state_root().join(&id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| LabError::io("cannot create the run folder", &dir, e))?;
        let topo_id = id.clone();
        let links = LabLinks {
            client: config.client_link,
            migration: config.migration_link,
        };
        let network = tokio::task::spawn_blocking(move || LabNetwork::create(&topo_id, &links))
            .await
            .map_err(|e| LabError::Failed(format!("lab network task failed: {e}")))?;
        let network = match network {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let (encoder, upstream) = if config.relay {
            match start_encoder(&network, &dir).await {
                Ok((p, url)) => (Some(p), Some(url)),
                Err(e) => {
                    drop(network);
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            }
        } else {
            (None, None)
        };
        let capture = match &config.capture {
            Some(file) => match start_capture(&network, file.clone()).await {
                Ok(c) => Some(c),
                Err(e) => {
                    drop(encoder);
                    drop(network);
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            },
            None => None,
        };
        let guest = GuestConfig {
            ip: network::GUEST_IP,
            prefix: network::SERVICE_PREFIX,
            services: config.services.clone(),
            dirty: config.dirty,
            upstream,
        };
        let mut s = Self {
            active: None,
            encoder,
            capture,
            network,
            dir,
            image,
            guest,
            flavor: config.flavor,
            pad_ram: config.pad_ram.unwrap_or_else(super::vm::qemu_needs_ram_pad),
            vm_count: 0,
            boot_id: String::new(),
            boot_time: Duration::ZERO,
            client_delay: Duration::from_secs_f64(
                config.client_link.delay_ms.unwrap_or(0.0).max(0.0) / 1000.0,
            ),
            keep: false,
        };
        let disk = s.dir.join("disk-compute01.img");
        write_disk(&disk, s.flavor.disk_mib, s.flavor.disk_fill_mib)?;
        let node = s.start_node(Host::Compute01, false, disk).await?;
        let (boot_id, boot_time) = node.vm.wait_ready(config.boot_timeout).await?;
        s.boot_id = boot_id;
        s.boot_time = boot_time;
        s.active = Some(node);
        Ok(s)
    }

    /// Where the encoder of a relayed live stream listens (`None`: the guest encodes
    /// its own stream).
    pub fn encoder_addr(&self) -> Option<SocketAddr> {
        self.encoder.as_ref().map(|e| e.addr)
    }

    async fn start_node(&mut self, host: Host, incoming: bool, disk: PathBuf) -> Result<Node> {
        self.vm_count += 1;
        let spec = VmSpec {
            name: format!(
                "{}{}-{}-{}",
                network::PREFIX,
                self.network.id(),
                host.name(),
                self.vm_count
            ),
            netns: self.network.host_ns(host),
            kernel: self.image.kernel.clone(),
            initramfs: self.image.initramfs.clone(),
            cmdline: self.guest.kernel_cmdline(),
            flavor: self.flavor,
            tap: host.tap().into(),
            mac: MAC.into(),
            disk: Some(disk.clone()),
            dir: self.dir.clone(),
            incoming,
            pad_ram: self.pad_ram,
        };
        let vm = tokio::task::spawn_blocking(move || Vm::start(&spec))
            .await
            .map_err(|e| LabError::Failed(format!("QEMU start task failed: {e}")))??;
        self.network.attach_tap(host)?;
        let mut qmp = Qmp::connect(&vm.qmp, Duration::from_secs(10))
            .await
            .map_err(|e| LabError::Failed(e.to_string()))?;
        let events = qmp
            .take_events()
            .ok_or_else(|| LabError::Failed("QMP event stream already taken".into()))?;
        Ok(Node {
            qmp,
            events,
            vm,
            host,
            disk,
        })
    }

    /// Where the probes reach the guest's services (from the client namespace).
    pub fn endpoint(&self) -> ServiceEndpoint {
        let ip = network::GUEST_IP;
        let has = |s| self.guest.services.contains(&s);
        let http = [
            (Service::Dash, init::DASH_PORT),
            (Service::File, init::FILE_PORT),
            (Service::Live, init::LIVE_PORT),
        ]
        .into_iter()
        .find(|(s, _)| has(*s))
        .map(|(_, p)| SocketAddr::from((ip, p)));
        ServiceEndpoint {
            http,
            game: has(Service::Game).then(|| SocketAddr::from((ip, init::GAME_PORT))),
            probe_target: http.unwrap_or(SocketAddr::from((ip, init::INFO_PORT))),
            netns: Some(self.network.client_ns()),
        }
    }

    /// The lab id.
    pub fn id(&self) -> &str {
        self.network.id()
    }

    /// The client namespace.
    pub fn client_ns(&self) -> String {
        self.network.client_ns()
    }

    /// The boot id the guest printed at boot.
    pub fn boot_id_at_boot(&self) -> &str {
        &self.boot_id
    }

    /// QEMU start to the guest's ready marker.
    pub fn boot_time(&self) -> Duration {
        self.boot_time
    }

    /// The host the VM runs on now.
    pub fn active_host(&self) -> Option<Host> {
        self.active.as_ref().map(|n| n.host)
    }

    /// The pid of the QEMU serving now.
    pub fn active_pid(&self) -> Option<i32> {
        self.active.as_ref().map(|n| n.vm.pid)
    }

    /// The disk image the serving QEMU uses.
    pub fn active_disk(&self) -> Option<&std::path::Path> {
        self.active.as_ref().map(|n| n.disk.as_path())
    }

    /// The run folder (QMP sockets, serial logs, pidfiles, disks).
    pub fn run_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The guest's boot id now, read over HTTP from the client namespace.
    pub async fn boot_id(&self) -> Result<String> {
        let addr = SocketAddr::from((network::GUEST_IP, init::INFO_PORT));
        guest::http_get(&self.client_ns(), addr, "/boot_id", Duration::from_secs(5)).await
    }

    /// Migrates the VM to the other host (see [`run::migrate`]).
    pub async fn migrate(
        &mut self,
        request: &MigrationRequest,
        postcopy_after: Option<Duration>,
        clock: &dyn Clock,
        sink: &EventSink,
    ) -> Result<LabStats> {
        let command = Instant::now();
        let requested_t = clock.now();
        sink(Event::new(
            requested_t,
            "migration",
            EventKind::MigrationRequested(MigrationRequested {
                driver: "lab".into(),
                mode: request.mode,
                copy: request.copy,
            }),
        ));
        let src_host = self
            .active
            .as_ref()
            .map(|n| n.host)
            .ok_or_else(|| LabError::Failed("no VM is running".into()))?;
        let dst_host = src_host.other();
        let dst_disk = match request.mode {
            Mode::Live => self
                .active
                .as_ref()
                .map(|n| n.disk.clone())
                .unwrap_or_default(),
            Mode::Block => {
                let d = self.dir.join(format!(
                    "disk-{}-{}.img",
                    dst_host.name(),
                    self.vm_count + 1
                ));
                write_disk(&d, self.flavor.disk_mib, 0)?;
                d
            }
        };
        let mut dst = self.start_node(dst_host, true, dst_disk).await?;
        let dst_started = command.elapsed();
        let src = self
            .active
            .as_mut()
            .ok_or_else(|| LabError::Failed("no VM is running".into()))?;
        while src.events.try_recv().is_ok() {}
        let ctx = run::Context {
            request,
            postcopy_after,
            clock,
            sink,
            command,
            requested_t,
        };
        let mut stats = run::migrate(&ctx, src, &mut dst).await;
        stats.dst_start = dst_started;
        if stats.outcome == record::MigrationOutcome::Completed {
            if let Some(old) = self.active.replace(dst) {
                let _ = old.qmp.execute("quit", serde_json::Value::Null).await;
                drop(old);
            }
            if self.guest.services.contains(&Service::Dirty) {
                let check =
                    memory::check(&self.client_ns(), &self.boot_id, MEMORY_CHECK_WAIT).await;
                sink(Event::new(
                    clock.now(),
                    "migration",
                    EventKind::MemoryCheck(check.clone()),
                ));
                stats.memory_check = Some(check);
            }
        } else {
            drop(dst);
        }
        Ok(stats)
    }

    /// Asks the serving QEMU to cancel a running migration.
    pub async fn cancel(&mut self) -> Result<()> {
        if let Some(n) = &self.active {
            n.qmp
                .execute("migrate_cancel", serde_json::Value::Null)
                .await
                .map_err(|e| LabError::Failed(e.to_string()))?;
        }
        Ok(())
    }

    /// Leaves the lab running after this handle is gone (`qoeprobe lab up`). Refused
    /// (and the lab torn down) when a link has a delay: the delay relay is threads of
    /// this process.
    pub fn detach(mut self) -> Result<()> {
        self.network.detach()?;
        self.keep = true;
        if let Some(n) = self.active.take() {
            n.vm.detach();
        }
        Ok(())
    }

    /// The lab's network (links, conditions, relays).
    pub fn network(&self) -> &LabNetwork {
        &self.network
    }

    /// Replaces the client link's condition while the lab runs.
    pub fn shape_client(&mut self, c: &crate::net::LinkCondition) -> Result<()> {
        self.network.shape_client(c)
    }

    /// Replaces the migration link's condition while the lab runs.
    pub fn shape_migration(&mut self, c: &crate::net::LinkCondition) -> Result<()> {
        self.network.shape_migration(c)
    }

    /// Captures the client link into `file` from now on (the next run of a lab that
    /// stays up: its own pcap in its own folder). A capture still running is
    /// dropped first.
    pub async fn restart_capture(&mut self, file: PathBuf) -> Result<()> {
        self.capture = None;
        self.capture = Some(start_capture(&self.network, file).await?);
        Ok(())
    }

    /// Stops the capture of the client link (if the lab runs one) and derives what it
    /// saw around the migration `stats` describes; times on `clock`.
    pub fn finish_capture(
        &mut self,
        stats: Option<&LabStats>,
        clock: &dyn Clock,
    ) -> Option<PacketCapture> {
        let cap = self.capture.take()?;
        let delay_ms = self.client_delay.as_secs_f64() * 1000.0;
        let captured = match cap.finish() {
            Ok(c) => c,
            Err(e) => {
                return Some(PacketCapture {
                    client_delay_ms: delay_ms,
                    error: Some(e.to_string()),
                    ..PacketCapture::default()
                });
            }
        };
        let anchor = clock.wall_anchor_unix_ns();
        let to_unix = |t: Duration| anchor.saturating_add(t.as_nanos() as u64);
        let to_t = |unix: u64| unix.saturating_sub(anchor);
        let marks = stats.and_then(|s| Some((s.paused_t?, s.resumed_t?)));
        let derived = marks.map(|(paused, resumed)| {
            pcap::derive(
                &captured.packets,
                &pcap::Marks {
                    guest: network::GUEST_IP,
                    client: network::CLIENT_IP,
                    probe_port: self.endpoint().probe_target.port(),
                    paused_unix_ns: to_unix(paused),
                    resumed_unix_ns: to_unix(resumed),
                    client_delay_ns: self.client_delay.as_nanos() as u64,
                },
            )
        });
        let d = derived.unwrap_or_default();
        Some(PacketCapture {
            interface: captured.interface,
            packets: captured.packets.len() as u64,
            kernel_drops: captured.kernel_drops,
            client_delay_ms: delay_ms,
            last_source_t_ns: d.last_source.map(to_t),
            first_destination_t_ns: d.first_destination.map(to_t),
            announce_t_ns: d.announces.into_iter().map(to_t).collect(),
            first_answered_probe_t_ns: d.first_answered_probe.map(to_t),
            error: marks
                .is_none()
                .then(|| "no completed migration to compare with".to_string()),
        })
    }

    /// Kills the QEMUs, deletes the namespaces and the run folder. Safe to call twice.
    pub fn teardown(&mut self) {
        self.capture = None;
        self.active = None;
        self.encoder = None;
        self.network.teardown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for LabSession {
    fn drop(&mut self) {
        if !self.keep {
            self.teardown();
        }
    }
}

/// Starts capturing the lab's client link (in the client namespace) into `file`.
async fn start_capture(network: &LabNetwork, file: PathBuf) -> Result<Capture> {
    let dev = network
        .client_link()
        .map(|l| l.a_dev.clone())
        .ok_or_else(|| LabError::Failed("the lab has no client link".into()))?;
    let ns = network.client_ns();
    tokio::task::spawn_blocking(move || Capture::start(&ns, &dev, &file))
        .await
        .map_err(|e| LabError::Failed(format!("capture task failed: {e}")))?
}

/// A lab id no lab here uses: 3 characters of `[a-z0-9]` from the pid and a counter
/// (the network module's run id is `lab<id>`, at most 6 characters).
fn fresh_id() -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let pid = u64::from(std::process::id());
    let mut id = String::new();
    for _ in 0..64 {
        let n = u64::from(NEXT_ID.fetch_add(1, Ordering::Relaxed));
        let mut x = (pid.wrapping_mul(7919).wrapping_add(n)) % (36 * 36 * 36);
        id = (0..3)
            .map(|_| {
                let c = DIGITS[(x % 36) as usize] as char;
                x /= 36;
                c
            })
            .collect();
        let taken = std::path::Path::new("/run/netns")
            .join(format!("{}{id}-client", network::PREFIX))
            .exists()
            || leftovers::state_root().join(&id).exists()
            || crate::net::state_root().join(format!("lab{id}")).exists();
        if !taken {
            break;
        }
    }
    id
}

/// Writes a raw disk of `size_mib` MiB whose first `fill_mib` MiB hold non-zero
/// pseudo-random bytes (the rest is a hole).
pub fn write_disk(path: &std::path::Path, size_mib: u64, fill_mib: u64) -> Result<()> {
    use std::io::Write;
    let io = |e| LabError::io("cannot write the disk image", path, e);
    let mut f = std::fs::File::create(path).map_err(io)?;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..fill_mib.min(size_mib) {
        for chunk in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&(x | 1).to_le_bytes());
        }
        f.write_all(&block).map_err(io)?;
    }
    f.set_len(size_mib << 20).map_err(io)?;
    Ok(())
}

/// TCP port of the encoder node's `serve live --source encoder`.
const ENCODER_PORT: u16 = 8090;

/// Adds the encoder node to the lab and starts `serve live --source encoder` in it;
/// returns the process and the URL the guest's relay reads.
async fn start_encoder(
    network: &LabNetwork,
    dir: &std::path::Path,
) -> Result<(crate::emulated::ServiceProcess, String)> {
    let ns = network.add_encoder_node()?;
    let program = crate::emulated::fixtures_program().map_err(LabError::Failed)?;
    let bind = format!("{}:{ENCODER_PORT}", network::ENCODER_IP);
    // The clip the guest image carries, so that both ends loop the same stream.
    let clip = super::image::clip_path();
    crate::emulated::start_upstream_encoder(
        &program,
        &bind,
        &dir.join("encoder.log"),
        Some(&ns),
        clip.as_deref(),
    )
    .await
    .map_err(LabError::Failed)
}
