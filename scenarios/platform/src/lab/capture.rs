//! The capture of the client link: `tcpdump` in the client namespace, on the client
//! end of the client link, writing a pcap with nanosecond kernel timestamps (the host's
//! wall clock, the same clock QEMU stamps its events with). It runs from the lab's
//! start to its teardown; [`Capture::finish`] stops it and reads the file.
//!
//! The child dies with us (`PR_SET_PDEATHSIG`, armed by a thread that lives as long
//! as the child) and is stopped on drop.

use super::pcap::{self, Packet};
use super::{LabError, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The capture program (Debian package `tcpdump`).
pub const TCPDUMP: &str = "tcpdump";
/// Bytes kept of each frame: Ethernet + IPv4 + TCP headers with options.
const SNAPLEN: &str = "96";
/// Kernel capture buffer, KiB (a 1000 Mbit/s download is ~85,000 frames/s).
const BUFFER_KIB: &str = "16384";

/// A running capture.
#[derive(Debug)]
pub struct Capture {
    pid: i32,
    interface: String,
    file: PathBuf,
    log: PathBuf,
    waiter: Option<JoinHandle<()>>,
}

/// What a finished capture holds.
#[derive(Debug)]
pub struct Captured {
    /// The captured interface.
    pub interface: String,
    /// Every frame, in capture order.
    pub packets: Vec<Packet>,
    /// Frames the kernel dropped (tcpdump's own count), if it said.
    pub kernel_drops: Option<u64>,
}

impl Capture {
    /// Starts capturing `interface` in namespace `ns` into `file` (its log beside it);
    /// returns once tcpdump listens.
    pub fn start(ns: &str, interface: &str, file: &Path) -> Result<Self> {
        let log = file.with_extension("log");
        let out = std::fs::File::create(file)
            .map_err(|e| LabError::io("cannot create the capture file", file, e))?;
        let err = std::fs::File::create(&log)
            .map_err(|e| LabError::io("cannot create the capture log", &log, e))?;
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns", "exec", ns, TCPDUMP, "-i", interface, "-n", "-U", "-s",
        ])
        .args([
            SNAPLEN,
            "-B",
            BUFFER_KIB,
            "--time-stamp-precision=nano",
            "-Z",
        ])
        // Written to stdout: no file path for tcpdump's privilege drop or its
        // AppArmor profile to refuse.
        .args(["root", "-w", "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it only sets a flag of the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::Builder::new()
            .name("lab-capture".into())
            .spawn(move || match cmd.spawn() {
                Ok(mut child) => {
                    let _ = tx.send(Ok(child.id() as i32));
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            })
            .map_err(|e| LabError::Failed(format!("cannot start the capture thread: {e}")))?;
        let pid = rx
            .recv()
            .map_err(|_| LabError::Failed("the capture thread ended".into()))?
            .map_err(|e| LabError::Command {
                command: format!("ip netns exec {ns} {TCPDUMP}"),
                detail: e.to_string(),
                hint: "install tcpdump (scripts/install-deps.sh)".into(),
            })?;
        let mut cap = Self {
            pid,
            interface: interface.to_string(),
            file: file.to_path_buf(),
            log,
            waiter: Some(waiter),
        };
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&cap.log).unwrap_or_default();
            if text.contains("listening on") {
                return Ok(cap);
            }
            if cap.waiter.as_ref().is_some_and(|w| w.is_finished()) || Instant::now() > until {
                cap.stop();
                return Err(LabError::Command {
                    command: format!("ip netns exec {ns} {TCPDUMP} -i {interface}"),
                    detail: format!("did not start capturing: {}", text.trim()),
                    hint: "install tcpdump (scripts/install-deps.sh) and run as root".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops tcpdump (it flushes on SIGINT) and waits for it.
    fn stop(&mut self) {
        let Some(w) = self.waiter.take() else {
            return;
        };
        // SAFETY: kill(2) on the child the waiter thread has not reaped yet.
        unsafe { libc::kill(self.pid, libc::SIGINT) };
        let until = Instant::now() + Duration::from_secs(3);
        while !w.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !w.is_finished() {
            // SAFETY: as above.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
        let _ = w.join();
    }

    /// Stops the capture and reads what it caught.
    pub fn finish(mut self) -> Result<Captured> {
        self.stop();
        let bytes = std::fs::read(&self.file)
            .map_err(|e| LabError::io("cannot read the capture", &self.file, e))?;
        let packets = pcap::parse(&bytes)
            .map_err(|e| LabError::Failed(format!("capture {}: {e}", self.file.display())))?;
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        Ok(Captured {
            interface: self.interface.clone(),
            packets,
            kernel_drops: dropped_by_kernel(&log),
        })
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// tcpdump's closing line "N packets dropped by kernel".
fn dropped_by_kernel(log: &str) -> Option<u64> {
    log.lines()
        .find_map(|l| l.trim().strip_suffix(" packets dropped by kernel"))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_tcpdumps_drop_count() {
        let log = "listening on x\n12 packets captured\n12 packets received by filter\n3 packets dropped by kernel\n";
        assert_eq!(super::dropped_by_kernel(log), Some(3));
        assert_eq!(super::dropped_by_kernel("killed"), None);
    }
}
