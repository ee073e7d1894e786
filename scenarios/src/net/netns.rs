//! Entering a named network namespace from a thread or a child process.
//!
//! `ip netns add NAME` bind-mounts the namespace at `/run/netns/NAME`; `setns(2)`
//! on that file moves the calling thread (only that thread) into it. The delay
//! relay's threads and processes spawned "inside" a namespace use this; nothing
//! here creates or deletes a namespace.

use super::error::{NetError, Result};
use std::fs::File;
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Opens the handle of namespace `name` (`/run/netns/NAME`).
pub fn open(name: &str) -> Result<File> {
    let path = format!("/run/netns/{name}");
    File::open(&path).map_err(|source| NetError::Relay {
        what: format!("open {path} (does namespace {name} exist?)"),
        source,
    })
}

/// Moves the calling thread into namespace `name`.
pub fn enter(name: &str) -> Result<()> {
    let f = open(name)?;
    // SAFETY: setns on a valid namespace fd; it only affects this thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(NetError::Relay {
            what: format!("setns into {name}"),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Makes `cmd` start inside namespace `name` (like `ip netns exec`, without
/// the extra process in between, so the PID we record is the program's).
pub fn command_in(cmd: &mut Command, name: &str) -> Result<()> {
    let f = open(name)?;
    // SAFETY: the closure only calls setns(2), which is async-signal-safe, on
    // an fd that stays open (moved into the closure) until exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// A tokio runtime whose every thread (workers and blocking pool) lives in namespace
/// `name`: tasks spawned on it open their sockets there. The runner uses it to attach
/// probes and its reachability prober to the client namespace a driver names, so
/// their traffic never leaves the topology we built. Shut it down with
/// `shutdown_background` (dropping a runtime inside async code panics).
pub fn runtime_in(name: &str) -> Result<tokio::runtime::Runtime> {
    // Fail early and clearly if the namespace cannot be entered.
    open(name)?;
    let ns = name.to_string();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(format!("netns-{name}"))
        .enable_all()
        .on_thread_start(move || {
            if let Err(e) = enter(&ns) {
                // A thread outside the namespace must not run probe traffic.
                let _ = writeln!(std::io::stderr(), "Error: {e}");
                std::process::abort();
            }
        })
        .build()
        .map_err(|source| NetError::Relay {
            what: format!("start a runtime inside namespace {name}"),
            source,
        })
}
