//! Topology primitives: namespaces, veth pairs, bridges, taps, addresses,
//! routes, per-namespace sysctls and processes started inside a namespace.
//!
//! Every primitive registers what it creates in the [`Registry`] of the
//! [`Topology`], so teardown (explicit, or on drop) removes it. Conditions on a
//! link are the business of `shaping`; this module only builds plumbing.

use super::cmd;
use super::error::{NetError, Result};
use super::registry::Registry;
use super::state::Resource;
use std::process::Command;

/// TCP settings pinned in every namespace, so results do not depend on the
/// host's defaults (here: bbr, 4 MB buffers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpTuning {
    /// `net.ipv4.tcp_congestion_control`.
    pub congestion_control: String,
    /// `net.core.rmem_max` and `wmem_max`, and the max of `tcp_rmem`/`tcp_wmem`.
    /// The default, 64 MiB, covers 1000 Mbit/s x 100 ms (12.5 MB) with room
    /// for the kernel's overhead accounting.
    pub max_buffer: u64,
}

impl Default for TcpTuning {
    fn default() -> Self {
        TcpTuning {
            congestion_control: "cubic".into(),
            max_buffer: 64 << 20,
        }
    }
}

impl TcpTuning {
    /// Sysctls set when the kernel lets a namespace set them: `net.core.*mem_max`
    /// are read-only outside the initial namespace on recent kernels (they then
    /// keep the host's value; only explicit `SO_RCVBUF`/`SO_SNDBUF` are capped
    /// by them, TCP autotuning follows `tcp_rmem`/`tcp_wmem`).
    pub fn optional_sysctls(&self) -> Vec<(String, String)> {
        let m = self.max_buffer.to_string();
        vec![
            ("net.core.rmem_max".into(), m.clone()),
            ("net.core.wmem_max".into(), m),
        ]
    }

    /// The sysctls this tuning sets, as (key, value).
    pub fn sysctls(&self) -> Vec<(String, String)> {
        let m = self.max_buffer;
        vec![
            (
                "net.ipv4.tcp_congestion_control".into(),
                self.congestion_control.clone(),
            ),
            ("net.ipv4.tcp_rmem".into(), format!("4096 131072 {m}")),
            ("net.ipv4.tcp_wmem".into(), format!("4096 65536 {m}")),
            ("net.ipv4.tcp_no_metrics_save".into(), "1".into()),
            // No IPv6 chatter (DAD, router solicitations) through shaped links.
            ("net.ipv6.conf.all.disable_ipv6".into(), "1".into()),
            ("net.ipv6.conf.default.disable_ipv6".into(), "1".into()),
        ]
    }
}

/// Makes `algo` selectable as the default congestion control of non-initial
/// namespaces: the kernel allows only algorithms listed in the initial
/// namespace's `tcp_allowed_congestion_control` there (here: `reno bbr`), so
/// `algo` is appended to that list (a host-wide but harmless change).
pub fn allow_congestion_control(algo: &str) -> Result<()> {
    let path = "/proc/sys/net/ipv4/tcp_allowed_congestion_control";
    let err = |source| NetError::State {
        path: path.into(),
        source,
    };
    let now = std::fs::read_to_string(path).map_err(err)?;
    if now.split_whitespace().any(|a| a == algo) {
        return Ok(());
    }
    std::fs::write(path, format!("{} {algo}", now.trim())).map_err(err)
}

/// Sets sysctls inside namespace `ns` (by writing `/proc/sys` from a thread
/// that entered it; no `sysctl` binary needed).
pub fn set_sysctls(ns: &str, kv: &[(String, String)]) -> Result<()> {
    let ns = ns.to_string();
    let kv = kv.to_vec();
    let worker = std::thread::spawn(move || -> Result<()> {
        super::netns::enter(&ns)?;
        for (k, v) in &kv {
            let path = format!("/proc/sys/{}", k.replace('.', "/"));
            std::fs::write(&path, v).map_err(|source| NetError::State {
                path: path.clone().into(),
                source,
            })?;
        }
        Ok(())
    });
    worker
        .join()
        .unwrap_or_else(|_| Err(NetError::Teardown(vec!["sysctl thread panicked".into()])))
}

/// Builds and owns the namespaces and links of one run.
#[derive(Debug)]
pub struct Topology {
    reg: Registry,
    tuning: TcpTuning,
}

impl Topology {
    /// A new, empty topology with a fresh run id (needs root).
    pub fn new() -> Result<Self> {
        Self::with_run_id(None)
    }

    /// A new, empty topology with the given run id (1-6 characters of `[a-z0-9]`).
    pub fn with_run_id(run_id: Option<&str>) -> Result<Self> {
        Ok(Topology {
            reg: Registry::new(run_id)?,
            tuning: TcpTuning::default(),
        })
    }

    /// Changes the TCP tuning applied to namespaces created from now on.
    pub fn set_tuning(&mut self, tuning: TcpTuning) {
        self.tuning = tuning;
    }

    /// The registry (names, registration of resources made elsewhere).
    pub fn registry(&self) -> &Registry {
        &self.reg
    }

    /// This run's id.
    pub fn run_id(&self) -> &str {
        self.reg.run_id()
    }

    /// Creates namespace `qp-<run>-<role>` with `lo` up and TCP pinned; returns its name.
    pub fn namespace(&self, role: &str) -> Result<String> {
        let name = self.reg.ns_name(role)?;
        cmd::ip(None, &["netns", "add", &name])?;
        self.reg
            .register(Resource::Namespace { name: name.clone() })?;
        cmd::ip(Some(&name), &["link", "set", "lo", "up"])?;
        allow_congestion_control(&self.tuning.congestion_control)?;
        set_sysctls(&name, &self.tuning.sysctls())?;
        for kv in self.tuning.optional_sysctls() {
            let _ = set_sysctls(&name, &[kv]);
        }
        Ok(name)
    }

    /// Creates a veth pair: `a` in namespace `a_ns`, `b` in `b_ns` (full names,
    /// see [`Registry::link_name`]); both are brought up.
    pub fn veth(&self, a_ns: &str, a: &str, b_ns: &str, b: &str) -> Result<()> {
        cmd::ip(
            None,
            &[
                "link", "add", a, "netns", a_ns, "type", "veth", "peer", "name", b, "netns", b_ns,
            ],
        )?;
        self.reg.register(Resource::Link {
            ns: Some(a_ns.into()),
            name: a.into(),
        })?;
        self.up(a_ns, a)?;
        self.up(b_ns, b)
    }

    /// Brings interface `dev` of namespace `ns` up.
    pub fn up(&self, ns: &str, dev: &str) -> Result<()> {
        cmd::ip(Some(ns), &["link", "set", "dev", dev, "up"]).map(drop)
    }

    /// Adds address `cidr` (e.g. `10.77.0.1/24`) to `dev`.
    pub fn address(&self, ns: &str, dev: &str, cidr: &str) -> Result<()> {
        cmd::ip(Some(ns), &["addr", "add", cidr, "dev", dev]).map(drop)
    }

    /// Creates bridge `name` in `ns` and brings it up.
    pub fn bridge(&self, ns: &str, name: &str) -> Result<()> {
        cmd::ip(Some(ns), &["link", "add", name, "type", "bridge"])?;
        self.reg.register(Resource::Link {
            ns: Some(ns.into()),
            name: name.into(),
        })?;
        self.up(ns, name)
    }

    /// Creates tap device `name` in `ns` (for a QEMU NIC) and brings it up.
    pub fn tap(&self, ns: &str, name: &str) -> Result<()> {
        cmd::ip(Some(ns), &["tuntap", "add", "dev", name, "mode", "tap"])?;
        self.reg.register(Resource::Link {
            ns: Some(ns.into()),
            name: name.into(),
        })?;
        self.up(ns, name)
    }

    /// Enslaves `dev` to `bridge` (both in `ns`).
    pub fn set_master(&self, ns: &str, dev: &str, bridge: &str) -> Result<()> {
        cmd::ip(Some(ns), &["link", "set", "dev", dev, "master", bridge]).map(drop)
    }

    /// Moves interface `dev` from `from_ns` to `to_ns` and brings it up there.
    pub fn move_link(&self, from_ns: &str, dev: &str, to_ns: &str) -> Result<()> {
        cmd::ip(Some(from_ns), &["link", "set", "dev", dev, "netns", to_ns])?;
        self.reg.register(Resource::Link {
            ns: Some(to_ns.into()),
            name: dev.into(),
        })?;
        self.up(to_ns, dev)
    }

    /// Adds a route in `ns`: `ip route add <args>`, e.g. `["default", "via", "10.0.0.1"]`.
    pub fn route(&self, ns: &str, args: &[&str]) -> Result<()> {
        let mut full = vec!["route", "add"];
        full.extend_from_slice(args);
        cmd::ip(Some(ns), &full).map(drop)
    }

    /// Sets sysctls in `ns`, e.g. `[("net.ipv4.ip_forward", "1")]`.
    pub fn sysctl(&self, ns: &str, kv: &[(&str, &str)]) -> Result<()> {
        let kv: Vec<_> = kv
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        set_sysctls(ns, &kv)
    }

    /// Starts `cmd` inside `ns` and registers it (teardown kills it); returns its PID.
    pub fn spawn_in(&self, ns: &str, mut cmd: Command) -> Result<u32> {
        super::netns::command_in(&mut cmd, ns)?;
        let child = cmd.spawn().map_err(|source| NetError::Spawn {
            command: format!("{cmd:?} in {ns}"),
            program: cmd.get_program().to_string_lossy().into_owned(),
            package: "the package that provides it",
            source,
        })?;
        self.reg.register_child(child)
    }

    /// Removes everything in reverse order (also done on drop).
    pub fn teardown(&self) -> Result<()> {
        self.reg.teardown()
    }

    /// Leaves everything in place when this value is dropped (e.g. `lab up`);
    /// `cleanup_leftovers` removes it later.
    pub fn keep(&self) {
        self.reg.keep();
    }
}

impl Topology {
    /// [`Topology::teardown`] on a blocking thread, for tokio callers.
    pub async fn teardown_async(self) -> Result<()> {
        match tokio::task::spawn_blocking(move || self.teardown()).await {
            Ok(r) => r,
            Err(e) => Err(NetError::Teardown(vec![format!("teardown task: {e}")])),
        }
    }
}
