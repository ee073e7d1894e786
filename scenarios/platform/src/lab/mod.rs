//! The local lab: a real QEMU live migration (TCG) between two network namespaces
//! on one Linux machine, timed from QEMU's own events (docs/lab.md).
//!
//! - the `lab` driver ([`LabDriver`], driver.rs) and its setup ([`LabConfig`],
//!   config.rs);
//! - one running lab ([`LabSession`], session.rs): its network, the VM serving, the
//!   disk; a QEMU with its QMP session (node.rs);
//! - the migration sequence over QMP (run.rs, qmp.rs): `migration_requested` at the
//!   command, `migration_paused` from the source's STOP, `migration_resumed` from the
//!   destination's RESUME, one `migration_pass` per MIGRATION_PASS, `migration_end`;
//! - the guest image ([`image`]: Debian cloud kernel + busybox initramfs with the
//!   static fixtures binary, cpio.rs, init.rs), the flavors ([`Flavor`]), the QEMU
//!   processes ([`vm`]);
//! - the lab's network ([`network`]: namespaces, bridge, taps and the two shaped
//!   links, built with [`crate::net`]) and what the guest answers there (guest.rs);
//! - the cleanup of leftovers of a killed run ([`leftovers`]).
//!
//! Nothing here runs without root; [`lab_available`] says why the lab cannot run.

mod capture;
mod config;
mod cpio;
mod driver;
mod flavor;
mod guest;
pub mod image;
mod image_once;
pub mod init;
pub mod leftovers;
mod memory;
pub mod network;
mod node;
mod pcap;
mod qmp;
mod run;
mod session;
pub mod vm;

pub use config::{ENCODER_DIRTY_MIB_S, ENCODER_WORKING_SET_MIB, LabConfig};
pub use driver::LabDriver;
pub use flavor::{FLAVORS, Flavor};
pub use guest::http_get;
pub use image::{GuestImage, ImageOptions};
pub use init::Service;
pub use qmp::{Qmp, QmpError, QmpEvent};
pub use run::LabStats;
pub use session::{LabSession, write_disk};

use std::path::PathBuf;

/// The QEMU binary the lab runs.
pub const QEMU: &str = "qemu-system-x86_64";

/// What went wrong in the lab: what, where, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A file or directory could not be read or written.
    #[error("{what} ({path}): {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The path involved.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An external program failed or could not be started.
    #[error("`{command}` failed: {detail}; {hint}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status and stderr, or the spawn error.
        detail: String,
        /// What to do about it.
        hint: String,
    },
    /// The lab cannot run here (not root, QEMU missing, ...).
    #[error("the QEMU lab is not available: {0}")]
    Unavailable(String),
    /// A guest, QMP or migration step failed.
    #[error("{0}")]
    Failed(String),
}

/// Shorthand for results of this module.
pub type Result<T, E = LabError> = std::result::Result<T, E>;

impl LabError {
    /// An I/O error with context.
    pub fn io(what: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            path: path.into(),
            source,
        }
    }
}

/// `Ok` when this machine can run the lab (root, QEMU, `ip`, `/dev/net/tun`), else why
/// not, in one sentence that says what to do.
pub fn lab_available() -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Err(
            "the lab needs root (network namespaces, taps); run as root, e.g. with sudo".into(),
        );
    }
    for (program, package) in [
        (QEMU, "qemu-system-x86"),
        ("ip", "iproute2"),
        ("tc", "iproute2"),
    ] {
        if find_in_path(program).is_none() {
            return Err(format!(
                "`{program}` is not installed; install the Debian package {package} (scripts/install-deps.sh)"
            ));
        }
    }
    if !std::path::Path::new("/dev/net/tun").exists() {
        return Err(
            "/dev/net/tun is missing: the kernel has no TUN/TAP support (modprobe tun)".into(),
        );
    }
    Ok(())
}

/// The full path of `program` on `PATH`, if it is there.
pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// Runs a command to completion; its stdout on success, else a [`LabError::Command`].
pub fn run_cmd(program: &str, args: &[&str], hint: &str) -> Result<String> {
    let command = format!("{program} {}", args.join(" "));
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            command: command.clone(),
            detail: e.to_string(),
            hint: hint.into(),
        })?;
    if !out.status.success() {
        return Err(LabError::Command {
            command,
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            hint: hint.into(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
