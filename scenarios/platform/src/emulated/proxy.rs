//! The in-process impairment proxy: probes reach the service through it. TCP
//! connections and UDP datagrams are forwarded through the [`Shaper`] (rate, delay,
//! loss, the migration's gate). A separate "host port" stands for the host's network
//! stack for the runner's reachability prober: it accepts connections only while the
//! gate is open (while it is closed, connections are refused).
//!
//! Every task stops when the [`Proxy`] is dropped.

use super::shaper::{Dir, Shaper};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

const CHUNK: usize = 16 * 1024;
/// Chunks queued per direction of a TCP connection (bounds memory; beyond it TCP
/// flow control pushes back on the sender).
const QUEUE: usize = 512;

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    /// Where clients connect for TCP (if the service is TCP).
    pub tcp: Option<SocketAddr>,
    /// Where clients send UDP (if the service is UDP).
    pub udp: Option<SocketAddr>,
    /// The host port for the reachability prober.
    pub host_port: SocketAddr,
    _shutdown: watch::Sender<()>,
}

/// Runs `fut` until the proxy shuts down.
fn spawn_owned<F>(mut shutdown: watch::Receiver<()>, fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        tokio::select! {
            _ = fut => {}
            _ = shutdown.changed() => {}
        }
    });
}

impl Proxy {
    /// Starts forwarding to `tcp_upstream` and/or `udp_upstream` on 127.0.0.1.
    pub async fn start(
        shaper: Arc<Shaper>,
        tcp_upstream: Option<SocketAddr>,
        udp_upstream: Option<SocketAddr>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = watch::channel(());
        let local: SocketAddr = ([127, 0, 0, 1], 0).into();
        let mut tcp = None;
        if let Some(up) = tcp_upstream {
            let l = TcpListener::bind(local).await?;
            tcp = Some(l.local_addr()?);
            spawn_owned(rx.clone(), accept_loop(l, up, shaper.clone(), rx.clone()));
        }
        let mut udp = None;
        if let Some(up) = udp_upstream {
            let s = Arc::new(UdpSocket::bind(local).await?);
            udp = Some(s.local_addr()?);
            spawn_owned(rx.clone(), udp_loop(s, up, shaper.clone(), rx.clone()));
        }
        let host = TcpListener::bind(local).await?;
        let host_port = host.local_addr()?;
        spawn_owned(rx.clone(), host_port_loop(host, host_port, shaper));
        Ok(Self {
            tcp,
            udp,
            host_port,
            _shutdown: tx,
        })
    }
}

async fn accept_loop(
    l: TcpListener,
    upstream: SocketAddr,
    shaper: Arc<Shaper>,
    shutdown: watch::Receiver<()>,
) {
    loop {
        let Ok((client, _)) = l.accept().await else {
            continue;
        };
        let (shaper, sd) = (shaper.clone(), shutdown.clone());
        spawn_owned(shutdown.clone(), async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            let up = pump(cr, sw, Dir::Up, shaper.clone(), sd.clone());
            let down = pump(sr, cw, Dir::Down, shaper, sd);
            tokio::join!(up, down);
        });
    }
}

/// Forwards one direction: a reader queues chunks with their delivery time, a writer
/// delivers them in order once the shaper releases them.
async fn pump<R, W>(
    mut r: R,
    mut w: W,
    dir: Dir,
    shaper: Arc<Shaper>,
    shutdown: watch::Receiver<()>,
) where
    R: AsyncReadExt + Unpin + Send + 'static,
    W: AsyncWriteExt + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<(Instant, Vec<u8>)>(QUEUE);
    let s2 = shaper.clone();
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let at = s2.tcp_deliver_at(dir, n);
                    if tx.send((at, buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((at, data)) = rx.recv().await {
            shaper.tcp_release(at).await;
            if w.write_all(&data).await.is_err() {
                return;
            }
        }
        let _ = w.shutdown().await;
    };
    let mut sd = shutdown;
    tokio::select! {
        _ = async { tokio::join!(reader, writer) } => {}
        _ = sd.changed() => {}
    }
}

/// UDP: one upstream socket per client address, so replies find their client.
async fn udp_loop(
    front: Arc<UdpSocket>,
    upstream: SocketAddr,
    shaper: Arc<Shaper>,
    shutdown: watch::Receiver<()>,
) {
    // One delivery queue per direction: each is in time order (same delay, paced).
    let up_tx = delivery_queue(front.clone(), shaper.clone(), shutdown.clone());
    let down_tx = delivery_queue(front.clone(), shaper.clone(), shutdown.clone());
    let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        let Ok((n, from)) = front.recv_from(&mut buf).await else {
            continue;
        };
        let sock = match flows.get(&from) {
            Some(s) => s.clone(),
            None => {
                let Ok(s) = UdpSocket::bind(("127.0.0.1", 0)).await else {
                    continue;
                };
                if s.connect(upstream).await.is_err() {
                    continue;
                }
                let s = Arc::new(s);
                flows.insert(from, s.clone());
                spawn_owned(
                    shutdown.clone(),
                    udp_return(s.clone(), from, shaper.clone(), down_tx.clone()),
                );
                s
            }
        };
        if let Some(at) = shaper.udp_deliver_at(Dir::Up, n) {
            let _ = up_tx.send((at, buf[..n].to_vec(), Delivery::Upstream(sock)));
        }
    }
}

type Queued = (Instant, Vec<u8>, Delivery);

fn delivery_queue(
    front: Arc<UdpSocket>,
    shaper: Arc<Shaper>,
    shutdown: watch::Receiver<()>,
) -> mpsc::UnboundedSender<Queued> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Queued>();
    spawn_owned(shutdown, async move {
        while let Some((at, data, to)) = rx.recv().await {
            tokio::time::sleep_until(at).await;
            if !shaper.is_open() {
                continue; // in flight when the service went away
            }
            let _ = match to {
                Delivery::Upstream(sock) => sock.send(&data).await,
                Delivery::Client(addr) => front.send_to(&data, addr).await,
            };
        }
    });
    tx
}

enum Delivery {
    Upstream(Arc<UdpSocket>),
    Client(SocketAddr),
}

async fn udp_return(
    sock: Arc<UdpSocket>,
    client: SocketAddr,
    shaper: Arc<Shaper>,
    tx: mpsc::UnboundedSender<Queued>,
) {
    let mut buf = vec![0u8; 65_536];
    loop {
        match sock.recv(&mut buf).await {
            Ok(n) => {
                if let Some(at) = shaper.udp_deliver_at(Dir::Down, n)
                    && tx
                        .send((at, buf[..n].to_vec(), Delivery::Client(client)))
                        .is_err()
                {
                    return;
                }
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(5)).await,
        }
    }
}

/// The host port: listening while the gate is open, closed while it is closed.
async fn host_port_loop(first: TcpListener, addr: SocketAddr, shaper: Arc<Shaper>) {
    let mut gate = shaper.gate();
    let mut listener = Some(first);
    loop {
        let open = gate.borrow_and_update().open;
        if open && listener.is_none() {
            match TcpListener::bind(addr).await {
                Ok(l) => listener = Some(l),
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                    continue;
                }
            }
        } else if !open {
            listener = None;
        }
        tokio::select! {
            r = async {
                match &listener {
                    Some(l) => l.accept().await.map(drop),
                    None => std::future::pending().await,
                }
            } => { let _ = r; }
            c = gate.changed() => if c.is_err() { return },
        }
    }
}
