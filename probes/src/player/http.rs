//! The real I/O adapter: drives a [`Player`] with reqwest on tokio and the monotonic
//! clock. Each request runs in its own task and reports its head, each body chunk as
//! it arrives (a media body: its byte count, once, at its end), and its end, stamped
//! with the clock at that moment; the session task
//! feeds them to the core in order, tells it when the client opens a connection, and
//! sleeps until the core's next timer. Media bodies are counted, not kept; manifests,
//! playlists and indexes are kept whole up to the client's `max_text_body`
//! ([`crate::client::DEFAULT_MAX_TEXT_BODY`] unless `--max-body` says otherwise).

use super::session::{Action, FailureKind, Player, Request, ResponseHead};
use crate::client::{HttpClient, version_name};
use crate::clock::{Clock, MonotonicClock};
use crate::record::{EndReason, Event, RequestType};
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// What a request task reports.
#[derive(Debug)]
enum NetInput {
    Head {
        id: u64,
        at: Duration,
        head: ResponseHead,
    },
    Data {
        id: u64,
        at: Duration,
        len: u64,
        bytes: Option<bytes::Bytes>,
    },
    Done {
        id: u64,
        at: Duration,
    },
    Failed {
        id: u64,
        at: Duration,
        kind: FailureKind,
        detail: String,
    },
}

/// Runs `player` until it ends or `stop` turns true, sending each event to `sink`
/// as soon as it is produced. Every connection `client` opens meanwhile is reported
/// to the player (give each session its own client to count its connections).
pub async fn run_session(
    player: &mut Player,
    clock: &MonotonicClock,
    client: &HttpClient,
    mut stop: watch::Receiver<bool>,
    mut sink: impl FnMut(Event),
) {
    let (tx, mut rx) = mpsc::unbounded_channel::<NetInput>();
    let mut tasks: HashMap<u64, JoinHandle<()>> = HashMap::new();
    let mut conns = client.connections.subscribe();
    let mut seen = *conns.borrow_and_update();
    loop {
        while let Some(action) = player.poll_action(clock.now()) {
            match action {
                Action::Send(req) => {
                    let id = req.id;
                    let task = tokio::spawn(fetch(req, client.clone(), clock.clone(), tx.clone()));
                    tasks.insert(id, task);
                }
                Action::Abort(id) => {
                    if let Some(t) = tasks.remove(&id) {
                        t.abort();
                    }
                }
            }
        }
        while let Some(e) = player.poll_event() {
            sink(e);
        }
        if player.is_ended() {
            break;
        }
        let deadline = player
            .poll_timeout()
            .map(|t| tokio::time::Instant::from_std(clock.instant_at(t)));
        tokio::select! {
            msg = rx.recv() => {
                let Some(msg) = msg else { break };
                apply(player, msg, &mut tasks);
                // Take whatever else is queued before planning again.
                while let Ok(msg) = rx.try_recv() {
                    apply(player, msg, &mut tasks);
                }
            }
            _ = sleep_until(deadline) => player.handle_timeout(clock.now()),
            Ok(()) = conns.changed() => {
                let now = clock.now();
                let total = *conns.borrow_and_update();
                for _ in seen..total {
                    player.on_connection(now);
                }
                seen = seen.max(total);
            }
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    player.stop(clock.now(), EndReason::Interrupted);
                }
            }
        }
    }
    for (_, t) in tasks.drain() {
        t.abort();
    }
    while let Some(e) = player.poll_event() {
        sink(e);
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn apply(player: &mut Player, msg: NetInput, tasks: &mut HashMap<u64, JoinHandle<()>>) {
    match msg {
        NetInput::Head { id, at, head } => player.on_response_head(at, id, head),
        NetInput::Data { id, at, len, bytes } => match bytes {
            Some(b) => player.on_data(at, id, &b),
            None => player.on_bytes(at, id, len),
        },
        NetInput::Done { id, at } => {
            tasks.remove(&id);
            player.on_complete(at, id);
        }
        NetInput::Failed {
            id,
            at,
            kind,
            detail,
        } => {
            tasks.remove(&id);
            player.on_failure(at, id, kind, &detail);
        }
    }
}

/// Classifies a reqwest error.
fn classify(e: &reqwest::Error, in_body: bool) -> FailureKind {
    if e.is_connect() {
        FailureKind::Connect
    } else if e.is_timeout() {
        FailureKind::Timeout
    } else if in_body || e.is_body() || e.is_decode() {
        FailureKind::Truncated
    } else {
        FailureKind::Reset
    }
}

/// Describes an error with its whole source chain.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

async fn fetch(
    req: Request,
    client: HttpClient,
    clock: MonotonicClock,
    tx: mpsc::UnboundedSender<NetInput>,
) {
    let id = req.id;
    let keep = !matches!(req.request_type, RequestType::Media | RequestType::Init);
    // The URL is parsed here, when it is sent: the core keeps it as text.
    let mut rb = client.inner.get(&*req.url);
    if let Some(r) = req.range {
        rb = rb.header(reqwest::header::RANGE, r.header_value());
    }
    let mut resp = match rb.send().await {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(NetInput::Failed {
                id,
                at: clock.now(),
                kind: classify(&e, false),
                detail: describe(&e),
            });
            return;
        }
    };
    let _ = tx.send(NetInput::Head {
        id,
        at: clock.now(),
        head: ResponseHead {
            status: resp.status().as_u16(),
            content_length: resp.content_length(),
            http_version: Some(version_name(resp.version())),
        },
    });
    if !resp.status().is_success() {
        return;
    }
    let mut kept = 0u64;
    // Media bodies are only counted, and the core needs the count only when the
    // request ends: one report at the end instead of one per chunk spares the
    // session task a wake-up per chunk (thousands per second with many sessions).
    let mut counted = 0u64;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if !keep => counted += chunk.len() as u64,
            Ok(Some(chunk)) => {
                let len = chunk.len() as u64;
                kept += len;
                if kept > client.max_text_body {
                    let _ = tx.send(NetInput::Failed {
                        id,
                        at: clock.now(),
                        kind: FailureKind::Invalid,
                        detail: client.body_too_large(),
                    });
                    return;
                }
                let _ = tx.send(NetInput::Data {
                    id,
                    at: clock.now(),
                    len,
                    bytes: Some(chunk),
                });
            }
            Ok(None) => {
                if counted > 0 {
                    let _ = tx.send(NetInput::Data {
                        id,
                        at: clock.now(),
                        len: counted,
                        bytes: None,
                    });
                }
                let _ = tx.send(NetInput::Done {
                    id,
                    at: clock.now(),
                });
                return;
            }
            Err(e) => {
                let _ = tx.send(NetInput::Failed {
                    id,
                    at: clock.now(),
                    kind: classify(&e, true),
                    detail: describe(&e),
                });
                return;
            }
        }
    }
}
