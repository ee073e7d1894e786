//! The project's own userspace delay relay (the kernel here has no `netem`).
//!
//! A relay sits in its own namespace between two veth ends and forwards every
//! Ethernet frame from one to the other after the one-way delay, in both
//! directions, like a long wire. Each direction is one dedicated OS thread
//! ([`pump`]) reading an `AF_PACKET` socket ([`socket`]) with virtio-net headers
//! (GSO frames cross whole) and writing the other. Rate and loss are not done
//! here: `tbf` and nftables do them on the link's ends. Design and limits:
//! docs/network-conditions.md.

mod pump;
mod socket;
mod stats;

pub use pump::now_ns;
pub use stats::RelayStats;

use super::error::{NetError, Result};
use pump::Shared;
use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

/// Default queue limit per direction (bytes): 1 Gbit/s x 2 s.
pub const DEFAULT_QUEUE_LIMIT: usize = 256 << 20;

struct Direction {
    shared: Arc<Shared>,
    stats: Arc<Mutex<RelayStats>>,
    thread: Option<JoinHandle<Option<String>>>,
}

/// A running relay; stops (and joins its threads) on [`Relay::stop`] or drop.
pub struct Relay {
    name: String,
    dirs: Vec<Direction>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A cheap handle to change a running relay's delay and read its counters.
#[derive(Clone)]
pub struct RelayControl {
    dirs: Vec<(Arc<Shared>, Arc<Mutex<RelayStats>>)>,
}

impl std::fmt::Debug for RelayControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayControl")
            .field("delay", &self.delay())
            .finish()
    }
}

impl RelayControl {
    /// Sets the one-way delay (both directions) for frames arriving from now on.
    pub fn set_delay(&self, delay: Duration) {
        let ns = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        for (s, _) in &self.dirs {
            s.delay_ns.store(ns, Ordering::Relaxed);
        }
    }

    /// The current one-way delay.
    pub fn delay(&self) -> Duration {
        Duration::from_nanos(
            self.dirs
                .first()
                .map(|(s, _)| s.delay_ns.load(Ordering::Relaxed))
                .unwrap_or(0),
        )
    }

    /// Counters per direction: `[a -> b, b -> a]`.
    pub fn stats(&self) -> Vec<RelayStats> {
        self.dirs
            .iter()
            .map(|(_, st)| st.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .collect()
    }

    /// Counters of both directions added up.
    pub fn total(&self) -> RelayStats {
        let mut t = RelayStats::default();
        for s in self.stats() {
            t.merge(&s);
        }
        t
    }
}

impl Relay {
    /// Starts a relay inside namespace `ns` between its interfaces `a` and `b`
    /// with one-way delay `delay`. Returns once both sockets are open.
    pub fn start(ns: &str, a: &str, b: &str, delay: Duration) -> Result<Relay> {
        let mut relay = Relay {
            name: format!("{ns}:{a}<->{b}"),
            dirs: Vec::new(),
        };
        for (from, to) in [(a, b), (b, a)] {
            let shared = Arc::new(Shared {
                delay_ns: u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX).into(),
                stop: false.into(),
                queue_limit: DEFAULT_QUEUE_LIMIT,
            });
            let stats = Arc::new(Mutex::new(RelayStats::default()));
            let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
            let (ns2, from2, to2) = (ns.to_string(), from.to_string(), to.to_string());
            let (sh, st) = (shared.clone(), stats.clone());
            let thread = std::thread::Builder::new()
                .name(format!("qp-relay-{from}"))
                .spawn(move || {
                    let opened = super::netns::enter(&ns2).and_then(|()| {
                        Ok((
                            socket::PacketSocket::open(&from2, true)?,
                            socket::PacketSocket::open(&to2, false)?,
                        ))
                    });
                    match opened {
                        Ok((rx, tx)) => {
                            let _ = ready_tx.send(Ok(()));
                            pump::run(rx, tx, &sh, &st)
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            None
                        }
                    }
                })
                .map_err(|source| NetError::Relay {
                    what: "spawn relay thread".into(),
                    source,
                })?;
            relay.dirs.push(Direction {
                shared,
                stats,
                thread: Some(thread),
            });
            match ready_rx.recv() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => {
                    return Err(NetError::Relay {
                        what: "relay thread ended before opening its sockets".into(),
                        source: std::io::Error::other("thread panicked"),
                    });
                }
            }
        }
        Ok(relay)
    }

    /// A handle to change the delay and read counters.
    pub fn control(&self) -> RelayControl {
        RelayControl {
            dirs: self
                .dirs
                .iter()
                .map(|d| (d.shared.clone(), d.stats.clone()))
                .collect(),
        }
    }

    /// Stops both threads and waits for them (idempotent).
    pub fn stop(&mut self) {
        for d in &self.dirs {
            d.shared.stop.store(true, Ordering::Relaxed);
        }
        for d in &mut self.dirs {
            if let Some(t) = d.thread.take()
                && let Ok(Some(err)) = t.join()
            {
                let _ = writeln!(
                    std::io::stderr(),
                    "qoeprobe: delay relay {} stopped: {err}",
                    self.name
                );
            }
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}
