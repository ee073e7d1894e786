//! The service's outage as the client sees it, for a platform that reports no
//! pause and resume (Nova): a TCP connect to the service every interval; the first
//! failed attempt after the migration request starts the outage, the next answer
//! ends it. Its events are marked `origin: "reachability"`: they bound the
//! downtime from outside, they do not time the VM's pause.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Wall-clock bounds of the first outage seen (ns since the Unix epoch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outage {
    /// The start of the first failed attempt.
    pub down_ns: Option<u64>,
    /// The first answer after it.
    pub up_ns: Option<u64>,
}

/// A running watcher; [`Watcher::stop`] ends it.
pub struct Watcher {
    state: Arc<Mutex<Outage>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("state", &self.outage())
            .finish()
    }
}

impl Watcher {
    /// Starts connecting to `target` every `interval`, from namespace `netns` if given
    /// (a thread of its own enters it).
    pub fn start(
        target: SocketAddr,
        interval: Duration,
        netns: Option<String>,
    ) -> Result<Self, String> {
        let state = Arc::new(Mutex::new(Outage::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("qp-outage".into())
            .spawn(move || {
                if let Some(ns) = &netns
                    && let Err(e) = crate::net::netns::enter(ns)
                {
                    eprintln!("qoeprobe: outage watcher: {e}");
                    return;
                }
                watch(target, interval, &s, &st);
            })
            .map_err(|e| format!("cannot start the outage watcher: {e}"))?;
        Ok(Self {
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// What it saw so far.
    pub fn outage(&self) -> Outage {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops it and returns what it saw; when an outage began and has not ended,
    /// first waits up to `grace` for the service to answer again (it can come back
    /// after the platform reports the migration done).
    pub fn stop(mut self, grace: Duration) -> Outage {
        let until = std::time::Instant::now() + grace;
        while std::time::Instant::now() < until {
            let o = self.outage();
            if o.down_ns.is_none() || o.up_ns.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.outage()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn watch(
    target: SocketAddr,
    interval: Duration,
    state: &Mutex<Outage>,
    stop: &std::sync::atomic::AtomicBool,
) {
    // One attempt at a time, each bounded by the interval (at least 50 ms): a
    // connection that takes longer counts as a failure.
    let timeout = interval.max(Duration::from_millis(50));
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let started = record::clock::unix_now_ns();
        let ok = std::net::TcpStream::connect_timeout(&target, timeout).is_ok();
        {
            let mut o = state.lock().unwrap_or_else(|e| e.into_inner());
            match (ok, o.down_ns, o.up_ns) {
                (false, None, _) => o.down_ns = Some(started),
                (true, Some(_), None) => o.up_ns = Some(record::clock::unix_now_ns()),
                _ => {}
            }
            if o.up_ns.is_some() {
                return;
            }
        }
        let spent = Duration::from_nanos(record::clock::unix_now_ns().saturating_sub(started));
        std::thread::sleep(interval.saturating_sub(spent));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_an_outage_of_a_real_listener() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let w = Watcher::start(addr, Duration::from_millis(10), None).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(w.outage().down_ns.is_some());
        assert!(w.outage().up_ns.is_none());
        let _l = std::net::TcpListener::bind(addr).unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while w.outage().up_ns.is_none() && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        let o = w.stop(Duration::from_secs(5));
        assert!(o.up_ns.unwrap() > o.down_ns.unwrap(), "{o:?}");
    }
}
