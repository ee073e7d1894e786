//! One QEMU process (TCG) of the lab: started daemonized inside a network namespace,
//! with a QMP socket, a serial log and a pidfile in the run folder.
//!
//! The QEMU command line is the one docs/lab.md ("VMs") states. Every VM is named
//! `qp-lab-...` so that `qoeprobe lab down` can find the process of a killed run. This
//! module starts and stops processes; it never speaks QMP (qmp.rs does).

use super::flavor::Flavor;
use super::{LabError, QEMU, Result, init::READY_MARKER, run_cmd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// KiB added to every guest's RAM: two pages, the smallest amount QEMU keeps (it
/// rounds `-m` up to 8 KiB).
///
/// QEMU 7.2 (Debian 12) loses guest writes during a TCG live migration: when the
/// RAM block's length is a multiple of 256 KiB (64 pages, one bitmap word), its
/// dirty-bitmap sync takes a fast path that clears the migration dirty bits without
/// re-arming the vCPUs' TLB write traps, so stores through TLB entries that stay
/// cached are never marked dirty and never sent again. The destination's kernel then
/// runs on stale data and crashes right after RESUME. Upstream fixed it in QEMU 9.0
/// (commit 03bfc2188f "physmem: Fix migration dirty bitmap coherency with TCG memory
/// access"); no 7.2 stable release has the fix. A length that is not a multiple of
/// 256 KiB takes the per-page path, which re-arms the traps. See docs/lab.md.
pub const RAM_PAD_KIB: u64 = 8;

/// The first QEMU release with the upstream fix (commit 03bfc2188f).
const FIXED_IN: (u32, u32) = (9, 0);

/// Whether the installed QEMU needs [`RAM_PAD_KIB`]: releases before 9.0, and any
/// QEMU whose version cannot be read (asked once per process).
pub fn qemu_needs_ram_pad() -> bool {
    static NEEDS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NEEDS.get_or_init(|| {
        let out = std::process::Command::new(QEMU)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .output();
        match out {
            Ok(o) => qemu_version(&String::from_utf8_lossy(&o.stdout)).is_none_or(|v| v < FIXED_IN),
            Err(_) => true,
        }
    })
}

/// `(major, minor)` from `QEMU emulator version 7.2.22 (Debian ...)`.
fn qemu_version(text: &str) -> Option<(u32, u32)> {
    let v = text.split("version").nth(1)?.split_whitespace().next()?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??))
}

/// The `-m` argument for `memory_mib` MiB of guest RAM: padded by [`RAM_PAD_KIB`]
/// unless `pad` is false (only to reproduce the QEMU bug).
pub fn memory_arg(memory_mib: u64, pad: bool) -> String {
    let pad = if pad { RAM_PAD_KIB } else { 0 };
    format!("{}K", memory_mib * 1024 + pad)
}

/// How to start one QEMU.
#[derive(Debug, Clone)]
pub struct VmSpec {
    /// VM name (`qp-lab-<id>-<side>`), also the file prefix in `dir`.
    pub name: String,
    /// Network namespace QEMU runs in.
    pub netns: String,
    /// Kernel and initramfs.
    pub kernel: PathBuf,
    /// The initramfs.
    pub initramfs: PathBuf,
    /// Kernel command line.
    pub cmdline: String,
    /// Size.
    pub flavor: Flavor,
    /// Tap device (in `netns`) for the NIC.
    pub tap: String,
    /// NIC MAC address (the same on both sides of a migration).
    pub mac: String,
    /// Raw disk image, if any.
    pub disk: Option<PathBuf>,
    /// Run folder for the QMP socket, serial log and pidfile.
    pub dir: PathBuf,
    /// Start with `-incoming defer` (a migration destination).
    pub incoming: bool,
    /// Pad the RAM by [`RAM_PAD_KIB`] (the workaround for the lost TCG writes of
    /// QEMU before 9.0; see [`qemu_needs_ram_pad`]).
    pub pad_ram: bool,
}

/// A running QEMU process, killed when dropped unless [`Vm::detach`]ed.
#[derive(Debug)]
pub struct Vm {
    /// VM name.
    pub name: String,
    /// Process id (QEMU daemonizes: it is not our child).
    pub pid: i32,
    /// QMP unix socket.
    pub qmp: PathBuf,
    /// Serial console log.
    pub serial: PathBuf,
    /// When QEMU was started.
    pub started: Instant,
    owned: bool,
}

impl Drop for Vm {
    fn drop(&mut self) {
        if self.owned {
            self.kill(Duration::from_secs(2));
        }
    }
}

impl VmSpec {
    /// The QEMU arguments (after the program name).
    pub fn args(&self) -> Vec<String> {
        let f = |p: &Path| p.to_string_lossy().into_owned();
        let file = |ext: &str| f(&self.dir.join(format!("{}.{ext}", self.name)));
        let mut a: Vec<String> = [
            "-name",
            &self.name,
            "-accel",
            "tcg",
            "-machine",
            "pc",
            "-cpu",
            "qemu64",
            "-display",
            "none",
            "-vga",
            "none",
            "-monitor",
            "none",
            "-nodefaults",
            "-no-user-config",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend([
            "-smp".into(),
            self.flavor.vcpus.to_string(),
            "-m".into(),
            memory_arg(self.flavor.memory_mib, self.pad_ram),
            "-serial".into(),
            format!("file:{}", file("serial")),
            "-kernel".into(),
            f(&self.kernel),
            "-initrd".into(),
            f(&self.initramfs),
            "-append".into(),
            self.cmdline.clone(),
            "-netdev".into(),
            format!("tap,id=n0,ifname={},script=no,downscript=no", self.tap),
            "-device".into(),
            format!("virtio-net-pci,netdev=n0,mac={},romfile=", self.mac),
            "-qmp".into(),
            format!("unix:{},server=on,wait=off", file("qmp")),
            "-pidfile".into(),
            file("pid"),
            "-daemonize".into(),
        ]);
        if let Some(disk) = &self.disk {
            a.extend([
                "-drive".into(),
                format!(
                    "file={},if=none,id=disk0,format=raw,file.locking=off",
                    f(disk)
                ),
                "-device".into(),
                "virtio-blk-pci,drive=disk0".into(),
            ]);
        }
        if self.incoming {
            a.extend(["-incoming".into(), "defer".into()]);
        }
        a
    }
}

impl Vm {
    /// Starts QEMU in its namespace; returns once it has daemonized.
    pub fn start(spec: &VmSpec) -> Result<Self> {
        let serial = spec.dir.join(format!("{}.serial", spec.name));
        let _ = std::fs::remove_file(&serial);
        let qemu_args = spec.args();
        let mut args: Vec<&str> = vec!["netns", "exec", &spec.netns, QEMU];
        args.extend(qemu_args.iter().map(String::as_str));
        let started = Instant::now();
        run_cmd(
            "ip",
            &args,
            "check that qemu-system-x86 is installed and the image exists (`qoeprobe lab image`)",
        )?;
        let pidfile = spec.dir.join(format!("{}.pid", spec.name));
        let text = std::fs::read_to_string(&pidfile)
            .map_err(|e| LabError::io("QEMU wrote no pidfile", &pidfile, e))?;
        let pid = text.trim().parse::<i32>().map_err(|_| {
            LabError::Failed(format!(
                "QEMU pidfile {} holds `{}`, not a pid",
                pidfile.display(),
                text.trim()
            ))
        })?;
        Ok(Self {
            name: spec.name.clone(),
            pid,
            qmp: spec.dir.join(format!("{}.qmp", spec.name)),
            serial,
            started,
            owned: true,
        })
    }

    /// Waits until the guest prints the ready marker; returns the guest's boot id and
    /// the boot time (QEMU start to marker).
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(String, Duration)> {
        let deadline = self.started + timeout;
        loop {
            let log = std::fs::read_to_string(&self.serial).unwrap_or_default();
            if let Some(line) = log.lines().find(|l| l.contains(READY_MARKER)) {
                let boot_id = line
                    .split("boot_id=")
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string();
                return Ok((boot_id, self.started.elapsed()));
            }
            if !self.alive() {
                return Err(LabError::Failed(format!(
                    "QEMU {} exited during boot; serial log {}:\n{}",
                    self.name,
                    self.serial.display(),
                    tail(&log, 20)
                )));
            }
            if Instant::now() > deadline {
                return Err(LabError::Failed(format!(
                    "guest {} not ready after {:?} (no `{READY_MARKER}` on its console); serial log {}:\n{}",
                    self.name,
                    timeout,
                    self.serial.display(),
                    tail(&log, 20)
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Leaves the process running when this handle is dropped (`qoeprobe lab up`).
    pub fn detach(mut self) {
        self.owned = false;
    }

    /// Whether the process still exists (a zombie counts as gone).
    pub fn alive(&self) -> bool {
        pid_alive(self.pid)
    }

    /// Stops QEMU: SIGTERM, then SIGKILL after `grace`. Safe to call twice.
    pub fn kill(&self, grace: Duration) {
        kill_pid(self.pid, grace);
    }
}

/// Whether `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next())
                != Some("Z")
        }
        Err(_) => false,
    }
}

/// SIGTERM `pid`, wait up to `grace`, then SIGKILL and wait a little more.
pub fn kill_pid(pid: i32, grace: Duration) {
    if pid <= 1 || !pid_alive(pid) {
        return;
    }
    // SAFETY: kill(2) with a positive pid of a process we started; no memory involved.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let until = Instant::now() + grace;
    while pid_alive(pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    if pid_alive(pid) {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let until = Instant::now() + Duration::from_secs(2);
        while pid_alive(pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_follow_the_recipe() {
        let spec = VmSpec {
            name: "qp-lab-t-src".into(),
            netns: "qp-lab-t-c1".into(),
            kernel: "/k".into(),
            initramfs: "/i".into(),
            cmdline: "console=ttyS0".into(),
            flavor: Flavor::default(),
            tap: "tapc1".into(),
            mac: "52:54:00:77:00:02".into(),
            disk: None,
            dir: "/run/x".into(),
            incoming: true,
            pad_ram: true,
        };
        let a = spec.args().join(" ");
        assert!(a.contains("-accel tcg"));
        assert!(a.contains("-m 131080K"));
        assert!(a.contains("ifname=tapc1"));
        assert!(a.ends_with("-incoming defer"));
        assert!(!pid_alive(-5));
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
    }

    #[test]
    fn padded_ram_is_never_a_whole_number_of_dirty_bitmap_words() {
        // QEMU 7.2's fast (buggy) sync path needs a multiple of 64 pages of 4 KiB.
        for f in crate::lab::flavor::FLAVORS {
            let kib: u64 = memory_arg(f.memory_mib, true)
                .trim_end_matches('K')
                .parse()
                .unwrap();
            assert_ne!(kib % 256, 0, "{}", f.name);
            assert_eq!(kib % 8, 0, "QEMU rounds -m up to 8 KiB: {}", f.name);
        }
        assert_eq!(memory_arg(128, false), "131072K");
    }

    #[test]
    fn qemu_versions_before_9_need_the_pad() {
        let v = qemu_version(
            "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\nCopyright",
        );
        assert_eq!(v, Some((7, 2)));
        assert!(v.unwrap() < FIXED_IN);
        assert_eq!(
            qemu_version("QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)"),
            Some((10, 0))
        );
        assert!((9, 0) >= FIXED_IN && (8, 2) < FIXED_IN);
        assert_eq!(qemu_version("garbage"), None);
    }
}
