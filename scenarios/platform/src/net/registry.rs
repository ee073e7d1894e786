//! The resource registry: everything a run creates is registered when it is
//! created and torn down in reverse order on success, error, Ctrl-C and panic.
//!
//! [`Registry::teardown`] is the explicit path (sync; `teardown_async` for
//! tokio callers); `Drop` is the safety net for `?` and panics. Ctrl-C: the
//! caller's signal handler must drop or tear down the registry (a process killed
//! outright leaves its state folder for [`super::cleanup_leftovers`]). Naming
//! contract: namespaces `qp-<run>-<role>`, links `qp<run><suffix>`, nft tables
//! `qoeprobe_<run>...`. This module never decides topology.

use super::cmd;
use super::error::{NetError, Result};
use super::relay::Relay;
use super::state::{Resource, StateDir, process_start_ticks};
use std::io::Write as _;
use std::process::Child;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest run id (link names are at most 15 bytes: `qp` + run id + 7).
pub const MAX_RUN_ID: usize = 6;

enum Entry {
    Kernel(Resource),
    Child(Child),
    Relay(Relay),
}

/// Owns every resource of one run.
pub struct Registry {
    run_id: String,
    state: StateDir,
    entries: Mutex<Vec<Entry>>,
    kept: Mutex<bool>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("run_id", &self.run_id)
            .field("state", &self.state.path())
            .finish_non_exhaustive()
    }
}

/// A fresh run id: 6 characters of `[0-9a-z]` from the PID and the clock.
pub fn new_run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut x = (nanos as u64) ^ (u64::from(std::process::id()) << 32);
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..MAX_RUN_ID)
        .map(|i| DIGITS[((x >> (i * 6)) % 36) as usize] as char)
        .collect()
}

fn check_name(name: &str, max: usize, what: &str) -> Result<()> {
    let dash = what.contains("role");
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || (dash && b == b'-'));
    if ok {
        Ok(())
    } else {
        Err(NetError::InvalidName {
            name: name.into(),
            reason: format!(
                "{what} must be 1-{max} characters of [a-z0-9]{}",
                if dash { " or '-'" } else { "" }
            ),
        })
    }
}

impl Registry {
    /// A registry for a new run (fresh id, or the one given); needs root.
    pub fn new(run_id: Option<&str>) -> Result<Self> {
        cmd::require_root()?;
        let run_id = run_id.map(str::to_string).unwrap_or_else(new_run_id);
        check_name(&run_id, MAX_RUN_ID, "a run id")?;
        Ok(Registry {
            state: StateDir::create(&run_id)?,
            run_id,
            entries: Mutex::new(Vec::new()),
            kept: Mutex::new(false),
        })
    }

    /// This run's id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The namespace name for a role: `qp-<run>-<role>`.
    pub fn ns_name(&self, role: &str) -> Result<String> {
        check_name(role, 32, "a namespace role")?;
        Ok(format!("qp-{}-{role}", self.run_id))
    }

    /// The interface name for a suffix: `qp<run><suffix>` (at most 15 bytes).
    pub fn link_name(&self, suffix: &str) -> Result<String> {
        check_name(suffix, 15 - 2 - self.run_id.len(), "a link suffix")?;
        Ok(format!("qp{}{suffix}", self.run_id))
    }

    /// The nft table name for a suffix: `qoeprobe_<run>_<suffix>`.
    pub fn nft_table_name(&self, suffix: &str) -> Result<String> {
        check_name(suffix, 32, "an nft table suffix")?;
        Ok(format!("qoeprobe_{}_{suffix}", self.run_id))
    }

    /// Registers a kernel resource that was just created (and writes it down).
    pub fn register(&self, r: Resource) -> Result<()> {
        let recorded = self.state.record(&r);
        self.lock().push(Entry::Kernel(r));
        recorded
    }

    /// Registers a child process that was just spawned; teardown kills it.
    pub fn register_child(&self, child: Child) -> Result<u32> {
        let pid = child.id();
        let start_ticks = process_start_ticks(pid as i32).unwrap_or(0);
        self.lock().push(Entry::Child(child));
        self.state.record(&Resource::Process {
            pid: pid as i32,
            start_ticks,
        })?;
        Ok(pid)
    }

    /// Registers a running delay relay; teardown stops it.
    pub fn register_relay(&self, relay: Relay) {
        self.lock().push(Entry::Relay(relay));
    }

    /// Leaves every kernel resource in place (e.g. after `lab up`): teardown and
    /// Drop do nothing more; the state folder stays for `cleanup_leftovers`.
    /// In-process relays stop when the process exits.
    pub fn keep(&self) {
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = true;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tears everything down in reverse order of creation. Keeps going past
    /// failures and reports them all; removes the state folder when clean.
    pub fn teardown(&self) -> Result<()> {
        if *self.kept.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(());
        }
        let mut failed = Vec::new();
        loop {
            let Some(entry) = self.lock().pop() else {
                break;
            };
            match entry {
                Entry::Relay(mut r) => r.stop(),
                Entry::Child(mut c) => {
                    if let Err(e) = stop_child(&mut c) {
                        failed.push(format!("process {}: {e}", c.id()));
                    }
                }
                Entry::Kernel(r) => {
                    if let Err(e) = remove(&r) {
                        failed.push(format!("{r}: {e}"));
                    }
                }
            }
        }
        if failed.is_empty() {
            self.state.remove()
        } else {
            Err(NetError::Teardown(failed))
        }
    }

    /// [`Registry::teardown`] on a blocking thread, for tokio callers.
    pub async fn teardown_async(self: std::sync::Arc<Self>) -> Result<()> {
        match tokio::task::spawn_blocking(move || self.teardown()).await {
            Ok(r) => r,
            Err(e) => Err(NetError::Teardown(vec![format!("teardown task: {e}")])),
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            let _ = writeln!(std::io::stderr(), "qoeprobe: {e}");
        }
    }
}

fn stop_child(c: &mut Child) -> std::io::Result<()> {
    if c.try_wait()?.is_some() {
        return Ok(());
    }
    // SAFETY: kill(2) with a PID we spawned and have not reaped yet.
    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        if c.try_wait()?.is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    c.kill()?;
    c.wait().map(|_| ())
}

/// Whether a command's failure only says the thing is gone already.
fn already_gone(e: &NetError) -> bool {
    let NetError::Command { stderr, .. } = e else {
        return false;
    };
    let s = stderr.to_ascii_lowercase();
    [
        "cannot find device",
        "no such file",
        "does not exist",
        "invalid handle",
        "no such device",
        "cannot open network namespace",
        "handle of zero",
    ]
    .iter()
    .any(|p| s.contains(p))
}

/// Kills every process inside namespace `ns` (they are ours: we made it).
pub fn kill_namespace_pids(ns: &str) {
    if let Ok(out) = cmd::ip(None, &["netns", "pids", ns]) {
        for pid in out.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            if pid != std::process::id() as i32 {
                // SAFETY: kill(2) has no memory-safety preconditions.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// Removes one resource; "already gone" counts as success.
pub fn remove(r: &Resource) -> Result<()> {
    let res = match r {
        Resource::Namespace { name } => {
            kill_namespace_pids(name);
            cmd::ip(None, &["netns", "del", name])
        }
        Resource::Link { ns, name } => cmd::ip(ns.as_deref(), &["link", "del", name]),
        Resource::Qdisc { ns, dev, parent } => {
            cmd::tc(ns.as_deref(), &["qdisc", "del", "dev", dev, parent])
        }
        Resource::NftTable { ns, family, name } => {
            cmd::nft(ns.as_deref(), &["delete", "table", family, name])
        }
        Resource::Process { pid, start_ticks } => {
            if *pid as u32 != std::process::id() && process_start_ticks(*pid) == Some(*start_ticks)
            {
                // SAFETY: kill(2) on a PID whose start time proves it is ours.
                unsafe { libc::kill(*pid, libc::SIGKILL) };
            }
            Ok(String::new())
        }
    };
    match res {
        Err(e) if !already_gone(&e) => Err(e),
        _ => Ok(()),
    }
}
