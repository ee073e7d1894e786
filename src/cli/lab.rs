//! `qoeprobe lab image|up|migrate|status|down`: the local QEMU lab by hand.
//!
//! `image` builds the guest image; `up` boots a VM whose services answer at a fixed
//! address from the client namespace and leaves it running; `migrate` boots, migrates
//! once, prints the phases and tears down; `status` lists what runs; `down` removes
//! everything a lab left (also after a killed run).

use platform::lab::{
    Flavor, GuestImage, ImageOptions, LabConfig, LabDriver, LabSession, Service, lab_available,
    leftovers, network,
};
use platform::net::{LinkCondition, LinkShaping};
use platform::{EventSink, MigrationDriver, MigrationRequest};
use record::clock::{Clock, MonotonicClock};
use record::{Copy, Event, Mode};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// `qoeprobe lab ...`.
#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {
    /// Build (or check) the guest image in the cache folder.
    Image(ImageArgs),
    /// Boot a VM and leave it running (services at 10.77.0.10 from the client namespace).
    Up(UpArgs),
    /// Boot a VM, migrate it once, print the phases, tear everything down.
    Migrate(MigrateArgs),
    /// List running lab VMs, namespaces and run folders.
    Status,
    /// Remove every lab VM, namespace and run folder (also of a killed run).
    Down(DownArgs),
}

/// Where the image comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct ImageArgs {
    /// Cache folder (default: $QOEPROBE_LAB_CACHE or ~/.cache/qoeprobe/lab).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Static qoeprobe-fixtures binary to put in the guest.
    #[arg(long)]
    pub fixtures: Option<PathBuf>,
    /// Kernel .deb to use instead of `apt-get download`.
    #[arg(long)]
    pub kernel_deb: Option<PathBuf>,
}

impl ImageArgs {
    fn options(&self) -> ImageOptions {
        let mut o = ImageOptions::default();
        if let Some(c) = &self.cache {
            o.cache_dir = c.clone();
        }
        o.fixtures = self.fixtures.clone();
        o.kernel_deb = self.kernel_deb.clone();
        o
    }
}

/// The VM to boot.
#[derive(Debug, Clone, clap::Args)]
pub struct VmArgs {
    /// Flavor: tiny, small, medium, large (lab.* sizes, docs/lab.md).
    #[arg(long, default_value = "tiny")]
    pub flavor: String,
    /// Services in the guest, comma-separated (dash, file, live, game, dirty).
    #[arg(long, value_delimiter = ',', default_value = "dash,game")]
    pub services: Vec<String>,
    /// Rate of the migration link in Mbit/s (tbf); unshaped if absent.
    #[arg(long)]
    pub link_mbit: Option<f64>,
    /// One-way delay of the migration link in ms (the network module's relay).
    #[arg(long)]
    pub link_delay_ms: Option<f64>,
    /// Loss of the migration link in percent (each direction).
    #[arg(long)]
    pub link_loss_pct: Option<f64>,
    /// Rate of the client link in Mbit/s; unshaped if absent.
    #[arg(long)]
    pub client_mbit: Option<f64>,
    /// One-way delay of the client link in ms (not with `lab up`: the relay runs in
    /// the qoeprobe process).
    #[arg(long)]
    pub client_delay_ms: Option<f64>,
    /// Loss of the client link in percent (each direction).
    #[arg(long)]
    pub client_loss_pct: Option<f64>,
    /// `dirty` service: working set of the pattern writer, MiB.
    #[arg(long, default_value_t = 64)]
    pub dirty_mb: u64,
    /// `dirty` service: write rate, MiB/s.
    #[arg(long, default_value_t = 32.0)]
    pub dirty_rate: f64,
    #[command(flatten)]
    /// The image.
    pub image: ImageArgs,
}

impl VmArgs {
    fn config(&self, id: Option<String>) -> anyhow::Result<LabConfig> {
        let services = self
            .services
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                Service::parse(s).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown service `{s}`; expected dash, file, live, game or dirty"
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let config = LabConfig {
            flavor: Flavor::by_name(&self.flavor).map_err(anyhow::Error::msg)?,
            services,
            dirty: (self.dirty_mb, self.dirty_rate),
            image: self.image.options(),
            id,
            migration_link: LinkCondition {
                rate_mbit: self.link_mbit,
                delay_ms: self.link_delay_ms,
                loss_pct: self.link_loss_pct,
            },
            client_link: LinkCondition {
                rate_mbit: self.client_mbit,
                delay_ms: self.client_delay_ms,
                loss_pct: self.client_loss_pct,
            },
            ..LabConfig::default()
        };
        for (name, c) in [
            ("migration", &config.migration_link),
            ("client", &config.client_link),
        ] {
            c.validate()
                .map_err(|e| anyhow::anyhow!("{name} link: {e}"))?;
        }
        Ok(config)
    }
}

/// `lab up`.
#[derive(Debug, Clone, clap::Args)]
pub struct UpArgs {
    #[command(flatten)]
    /// The VM.
    pub vm: VmArgs,
}

/// `lab migrate`.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    /// The VM.
    pub vm: VmArgs,
    /// live (shared disk) or block (disk copied over NBD).
    #[arg(long, default_value = "live")]
    pub mode: Mode,
    /// precopy or postcopy.
    #[arg(long, default_value = "precopy")]
    pub copy: Copy,
    /// QEMU max-bandwidth in Mbit/s (unlimited if absent).
    #[arg(long)]
    pub bandwidth_mbit: Option<f64>,
    /// Cancel after this many seconds (a never-ending migration).
    #[arg(long, default_value_t = 120.0)]
    pub time_limit: f64,
    /// Post-copy: switch after this many passes.
    #[arg(long, default_value_t = 1)]
    pub postcopy_after: u64,
    /// Throttle the guest when pre-copy does not converge.
    #[arg(long)]
    pub auto_converge: bool,
}

/// `lab down`.
#[derive(Debug, Clone, clap::Args)]
pub struct DownArgs {
    /// Only this lab id (default: every lab).
    #[arg(long)]
    pub id: Option<String>,
}

fn mbit_to_bps(m: Option<f64>) -> anyhow::Result<Option<u64>> {
    match m {
        None => Ok(None),
        Some(m) if m.is_finite() && m > 0.0 && m <= 1e6 => Ok(Some((m * 1e6) as u64)),
        Some(m) => anyhow::bail!("rate {m} Mbit/s: expected a number above 0 and at most 1000000"),
    }
}

/// Runs a `lab` subcommand.
pub async fn run(cmd: LabCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LabCommand::Image(a) => {
            let opts = a.options();
            let img = tokio::task::spawn_blocking(move || GuestImage::ensure(&opts)).await??;
            println!(
                "lab image: {} ({})",
                img.dir.display(),
                if img.rebuilt { "built" } else { "up to date" }
            );
            println!(
                "  kernel     {}  ({})",
                img.kernel.display(),
                img.manifest.kernel_package
            );
            println!("  initramfs  {}", img.initramfs.display());
            println!("  services   {}", img.manifest.services.join(", "));
            for (k, v) in &img.manifest.inputs {
                println!("  input {k:<10} sha256 {v}");
            }
        }
        LabCommand::Up(a) => {
            lab_available().map_err(anyhow::Error::msg)?;
            let config = a.vm.config(Some("up".into()))?;
            if config.client_link.delay_ms.is_some() || config.migration_link.delay_ms.is_some() {
                anyhow::bail!(
                    "`lab up` cannot keep a link with a delay: the delay relay runs inside the qoeprobe process; use `lab migrate` or a scenario with driver = \"lab\""
                );
            }
            if !leftovers::find(Some("up")).is_empty() {
                anyhow::bail!("a lab is already up; run `qoeprobe lab down` first");
            }
            let session = tokio::select! {
                s = LabSession::start(&config) => s?,
                _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted; the lab was torn down"),
            };
            let ep = session.endpoint();
            println!(
                "lab up: id {}, VM on compute01 (pid {}), booted in {:.1} s",
                session.id(),
                session.active_pid().unwrap_or(0),
                session.boot_time().as_secs_f64()
            );
            println!(
                "  guest      {} (boot id {})",
                network::GUEST_IP,
                session.boot_id_at_boot()
            );
            println!("  client ns  {}", session.client_ns());
            if let Some(h) = ep.http {
                println!(
                    "  http       ip netns exec {} curl http://{h}/dash/manifest.mpd",
                    session.client_ns()
                );
            }
            if let Some(g) = ep.game {
                println!(
                    "  game       ip netns exec {} qoeprobe game {g}",
                    session.client_ns()
                );
            }
            println!("  run dir    {}", session.run_dir().display());
            println!("stop it with: qoeprobe lab down");
            session.detach()?;
        }
        LabCommand::Migrate(a) => return migrate(a).await,
        LabCommand::Status => {
            let l = leftovers::find(None);
            if l.is_empty() {
                println!("lab: nothing running");
            }
            for (pid, name) in &l.processes {
                println!("qemu       pid {pid}  {name}");
            }
            for ns in &l.namespaces {
                println!("namespace  {ns}");
            }
            for d in &l.run_dirs {
                println!("run dir    {}", d.display());
            }
        }
        LabCommand::Down(a) => {
            let removed = leftovers::remove(a.id.as_deref())?;
            println!(
                "lab down: killed {} QEMU process(es), deleted {} namespace(s), removed {} run folder(s)",
                removed.processes.len(),
                removed.namespaces.len(),
                removed.run_dirs.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn migrate(a: MigrateArgs) -> anyhow::Result<ExitCode> {
    lab_available().map_err(anyhow::Error::msg)?;
    let (mode, copy) = (a.mode, a.copy);
    if !(a.time_limit.is_finite() && a.time_limit > 0.0 && a.time_limit < 1e6) {
        anyhow::bail!("--time-limit {}: expected seconds above 0", a.time_limit);
    }
    let request = MigrationRequest {
        mode,
        copy,
        bandwidth_bps: mbit_to_bps(a.bandwidth_mbit)?,
        downtime_limit: Some(Duration::from_millis(300)),
        time_limit: Duration::from_secs_f64(a.time_limit),
        postcopy_after_passes: Some(a.postcopy_after),
        auto_converge: a.auto_converge,
    };
    let clock = Arc::new(MonotonicClock::start());
    let mut driver = LabDriver::new(a.vm.config(None)?, clock.clone() as Arc<dyn Clock>);
    let sink: EventSink = Arc::new(move |ev: Event| {
        println!(
            "{:>10.3} s  {}",
            ev.t().as_secs_f64(),
            serde_json::to_string(&ev.kind).unwrap_or_default()
        );
    });
    let result = tokio::select! {
        r = async {
            let ep = driver.prepare().await?;
            let boot = driver.session().map(|s| s.boot_time()).unwrap_or_default();
            println!("lab: VM booted in {:.2} s; services at {:?} (namespace {})", boot.as_secs_f64(), ep.http.or(ep.game).unwrap_or(ep.probe_target), ep.netns.clone().unwrap_or_default());
            driver.migrate(&request, sink).await
        } => r.map_err(anyhow::Error::from),
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let stats = driver.last_stats().cloned();
    driver.teardown().await?;
    let report = result?;
    if let Some(st) = stats {
        let ms = |d: Option<Duration>| {
            d.map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
                .unwrap_or_else(|| "-".into())
        };
        println!(
            "outcome        {:?}{}",
            report.outcome,
            report.detail.map(|d| format!(" ({d})")).unwrap_or_default()
        );
        println!("preoperation   {}", ms(st.preoperation()));
        println!(
            "downtime       {}  (STOP -> RESUME; QEMU's own: {} ms)",
            ms(st.downtime()),
            st.qemu_downtime_ms
                .map(|v| v.to_string())
                .unwrap_or("-".into())
        );
        println!("passes         {}", st.passes);
        println!(
            "RAM            {} bytes sent of {}, {} remaining",
            st.ram_transferred, st.ram_total, st.ram_remaining
        );
        if let Some(d) = st.disk_bytes {
            println!("disk           {d} bytes mirrored");
        }
        println!(
            "overhead       destination up {}, command -> migrate {}, event -> record max {}",
            ms(Some(st.dst_start)),
            ms(Some(st.command_to_migrate)),
            ms(Some(st.max_event_to_record))
        );
        if let Some(c) = &st.memory_check {
            println!(
                "memory         {} pages verified, {} mismatches ({} of {} on rewrite), boot id {}, writer {}{}",
                c.pages,
                c.mismatches,
                c.rewrite_mismatches,
                c.rewrite_checks,
                if c.boot_id_unchanged {
                    "unchanged"
                } else {
                    "CHANGED"
                },
                match c.writer_advanced {
                    Some(true) => "still writing",
                    Some(false) => "STALLED",
                    None => "not watched",
                },
                c.error
                    .as_deref()
                    .map(|e| format!("; {e}"))
                    .unwrap_or_default()
            );
            if !c.intact() {
                eprintln!(
                    "Error: the guest's memory did not come over intact (docs/lab.md, \"Memory integrity\")"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
