//! Entering a named network namespace from a thread, a child process, a runtime or
//! one future.
//!
//! `ip netns add NAME` bind-mounts the namespace at `/run/netns/NAME`; `setns(2)`
//! on that file moves the calling thread (only that thread) into it. The delay
//! relay's threads, processes spawned "inside" a namespace, the probes attached to a
//! client namespace and the lab's questions to its guest use this; nothing here
//! creates or deletes a namespace, and nothing changes the calling thread's.

use super::error::{NetError, Result};
use std::fs::File;
use std::future::Future;
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

/// Runs `make()`'s future to completion on a new thread inside namespace `name`
/// (with its own current-thread runtime, so every socket it opens belongs to that
/// namespace) and returns its output.
pub async fn run_in<F, Fut, T>(name: &str, make: F) -> Result<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let ns = name.to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("netns-{name}"))
        .spawn(move || {
            let result = enter(&ns).and_then(|()| {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|source| NetError::Relay {
                        what: format!("start a runtime inside namespace {ns}"),
                        source,
                    })?;
                Ok(rt.block_on(make()))
            });
            let _ = tx.send(result);
        })
        .map_err(|source| NetError::Relay {
            what: format!("spawn a thread for namespace {name}"),
            source,
        })?;
    rx.await.map_err(|_| NetError::Relay {
        what: format!("the task in namespace {name}"),
        source: std::io::Error::other("it panicked"),
    })?
}
