//! The client link as the emulated driver applies it, per byte chunk or datagram:
//! a shared rate (a pacer per direction), a one-way delay, seeded loss, and the
//! migration's gate (closed from pause to reattach). TCP data held by the gate is
//! released at the next retransmission time with exponential backoff (the RTO
//! doubles from `tcp_rto`), as a sender's retransmissions would deliver it.

use super::rng::Rng;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

const MSS: f64 = 1448.0;
const MAX_RTO: Duration = Duration::from_secs(60);

/// Direction of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// Client to service.
    Up,
    /// Service to client.
    Down,
}

/// Whether the network delivers to the service, and since when it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GateState {
    /// Traffic flows.
    pub open: bool,
    /// When it was last closed.
    pub closed_at: Option<Instant>,
}

/// Conditions of the client link.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkParams {
    /// Rate, bit/s (`None`: unshaped).
    pub rate_bps: Option<f64>,
    /// One-way delay.
    pub delay: Duration,
    /// Loss probability per packet, 0..1.
    pub loss: f64,
    /// Initial TCP retransmission timeout for held and lost data (zero: none).
    pub tcp_rto: Duration,
}

/// The shared state of the client link.
#[derive(Debug)]
pub struct Shaper {
    params: LinkParams,
    rate_bps: Mutex<Option<f64>>,
    next_free: [Mutex<Instant>; 2],
    rng: Mutex<Rng>,
    gate_tx: watch::Sender<GateState>,
    gate: watch::Receiver<GateState>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shaper {
    /// A link with `params`, its loss drawn from `seed`; the gate starts open.
    pub fn new(params: LinkParams, seed: u64) -> Self {
        let (gate_tx, gate) = watch::channel(GateState {
            open: true,
            closed_at: None,
        });
        let now = Instant::now();
        Self {
            params,
            rate_bps: Mutex::new(params.rate_bps),
            next_free: [Mutex::new(now), Mutex::new(now)],
            rng: Mutex::new(Rng::new(seed)),
            gate_tx,
            gate,
        }
    }

    /// Changes the rate available to clients (the migration takes a share of the
    /// host's uplink during preoperation).
    pub fn set_rate(&self, rate_bps: Option<f64>) {
        *lock(&self.rate_bps) = rate_bps;
    }

    /// Closes (`false`) or opens the gate.
    pub fn set_open(&self, open: bool) {
        self.gate_tx.send_modify(|g| {
            if g.open && !open {
                g.closed_at = Some(Instant::now());
            }
            g.open = open;
        });
    }

    /// Whether traffic flows now.
    pub fn is_open(&self) -> bool {
        self.gate.borrow().open
    }

    /// A receiver of gate changes.
    pub fn gate(&self) -> watch::Receiver<GateState> {
        self.gate.clone()
    }

    /// When `len` bytes read now leave the link's queue in `dir` (rate pacing).
    fn depart(&self, dir: Dir, len: usize, now: Instant) -> Instant {
        let rate = *lock(&self.rate_bps);
        let mut next = lock(&self.next_free[dir as usize]);
        let depart = (*next).max(now);
        *next = match rate {
            Some(r) if r > 0.0 => depart + Duration::from_secs_f64(len as f64 * 8.0 / r),
            _ => depart,
        };
        depart
    }

    /// TCP: when a chunk of `len` bytes read now is delivered, before the gate: its
    /// departure plus the delay, plus one RTO if one of its segments was lost.
    pub fn tcp_deliver_at(&self, dir: Dir, len: usize) -> Instant {
        let now = Instant::now();
        let mut at = self.depart(dir, len, now) + self.params.delay;
        if self.params.loss > 0.0 {
            let segments = (len as f64 / MSS).ceil().max(1.0);
            let p = 1.0 - (1.0 - self.params.loss).powf(segments);
            if lock(&self.rng).chance(p) {
                at += self.params.tcp_rto.max(self.params.delay * 2);
            }
        }
        at
    }

    /// UDP: when a datagram sent now arrives, or `None` if it is lost (loss, or the
    /// gate is closed).
    pub fn udp_deliver_at(&self, dir: Dir, len: usize) -> Option<Instant> {
        if !self.is_open() || lock(&self.rng).chance(self.params.loss) {
            return None;
        }
        Some(self.depart(dir, len, Instant::now()) + self.params.delay)
    }

    /// TCP: waits until data ready at `ready` may be delivered: at once if the gate
    /// is open, else until it opens and the sender's next retransmission.
    pub async fn tcp_release(&self, ready: Instant) {
        tokio::time::sleep_until(ready).await;
        let mut rx = self.gate.clone();
        loop {
            let st = *rx.borrow_and_update();
            if st.open {
                return;
            }
            let hold_start = st.closed_at.map_or(ready, |c| c.max(ready));
            while !rx.borrow_and_update().open {
                if rx.changed().await.is_err() {
                    return;
                }
            }
            let rto = self.params.tcp_rto;
            if rto.is_zero() {
                continue;
            }
            let opened = Instant::now();
            let (mut t, mut step) = (hold_start + rto, rto);
            while t < opened {
                step = (step * 2).min(MAX_RTO);
                t += step;
            }
            tokio::time::sleep_until(t).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shaper(rate: Option<f64>, rto_ms: u64) -> Shaper {
        Shaper::new(
            LinkParams {
                rate_bps: rate,
                delay: Duration::from_millis(10),
                loss: 0.0,
                tcp_rto: Duration::from_millis(rto_ms),
            },
            1,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn paces_at_the_rate_and_adds_the_delay() {
        let s = shaper(Some(8e6), 200);
        let t0 = Instant::now();
        let a = s.tcp_deliver_at(Dir::Down, 100_000);
        let b = s.tcp_deliver_at(Dir::Down, 100_000);
        assert_eq!(a - t0, Duration::from_millis(10));
        assert_eq!(b - t0, Duration::from_millis(110));
        assert_eq!(
            s.tcp_deliver_at(Dir::Up, 10) - t0,
            Duration::from_millis(10)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn held_tcp_data_waits_for_the_next_retransmission() {
        let s = std::sync::Arc::new(shaper(None, 200));
        let t0 = Instant::now();
        s.set_open(false);
        let s2 = s.clone();
        let opener = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            s2.set_open(true);
        });
        s.tcp_release(t0).await;
        // Retransmissions at 0.2, 0.6, 1.4 s: the first after the gate opened at 1.0 s.
        assert_eq!(Instant::now() - t0, Duration::from_millis(1400));
        opener.await.unwrap();
        assert!(s.udp_deliver_at(Dir::Up, 10).is_some());
        s.set_open(false);
        assert!(s.udp_deliver_at(Dir::Up, 10).is_none());
    }
}
