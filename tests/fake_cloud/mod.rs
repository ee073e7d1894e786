//! A small local OpenStack for the openstack driver's tests: Keystone v3 token
//! issuing and Nova's v2.1 calls a live migration uses, with request and response
//! bodies written from the shapes of Nova's and Keystone's API reference samples
//! (docs/openstack-driver.md says why the tests do not run a real Nova).
//!
//! It is stateful: `os-migrateLive` starts a migration that reports growing memory
//! progress, then (after `switch_after`) closes the service's TCP listener for
//! `outage` (the guest's downtime as clients see it), moves the server to the other
//! host and completes; `DELETE .../migrations/{id}` aborts it, `force_complete`
//! finishes it at once. Every request is recorded (method, path, headers, body) so
//! tests can check what the driver sent.

#![allow(dead_code)]

mod api;

use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub const SERVER_ID: &str = "4cfba335-03d8-49b2-8c52-e69043d1e8fe";
pub const TOKEN: &str = "gAAAAABtoken-8f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// How the fake cloud behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The compute API's maximum microversion.
    pub max_microversion: String,
    /// The password it accepts (user `admin`, project `demo`, domain `Default`).
    pub password: String,
    /// The application credential (id, secret) it accepts.
    pub app_credential: (String, String),
    /// Time from the request to the switch-over.
    pub switch_after: Duration,
    /// How long the service is unreachable at the switch-over.
    pub outage: Duration,
    /// A migration that never finishes by itself (only abort or force-complete).
    pub never_ending: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            max_microversion: "2.93".into(),
            password: "s3cr3t-Pa55word-91".into(),
            app_credential: ("ac-2f6c".into(), "ac-s3cr3t-77a1".into()),
            switch_after: Duration::from_millis(1500),
            outage: Duration::from_millis(400),
            never_ending: false,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) id: u64,
    pub(crate) started: Instant,
    pub(crate) status: &'static str,
    pub(crate) dest: String,
    pub(crate) request_id: String,
    pub(crate) events: Vec<(String, String, Option<String>, Option<String>)>,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) host: String,
    pub(crate) status: String,
    pub(crate) task: Option<String>,
    pub(crate) migration: Option<Migration>,
    pub(crate) done: Vec<Migration>,
    pub(crate) seen: Vec<Seen>,
    /// When the service went down and came back (wall ns).
    pub(crate) outage: Option<(u64, Option<u64>)>,
}

/// A running fake cloud.
pub struct FakeCloud {
    /// Keystone's URL (`.../identity/v3`).
    pub auth_url: String,
    /// The service address the probes and the driver's watcher reach.
    pub service: SocketAddr,
    state: Arc<Mutex<State>>,
    behaviour: Behaviour,
    task: tokio::task::JoinHandle<()>,
    service_task: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(t) = self.service_task.lock().unwrap().take() {
            t.abort();
        }
    }
}

pub(crate) fn now_ns() -> u64 {
    record::clock::unix_now_ns()
}

pub(crate) fn nova_time(ns: u64) -> String {
    chrono::DateTime::from_timestamp_nanos(i64::try_from(ns).unwrap_or(i64::MAX))
        .format("%Y-%m-%dT%H:%M:%S%.6f")
        .to_string()
}

impl FakeCloud {
    /// Starts it on 127.0.0.1.
    pub async fn start(behaviour: Behaviour) -> Self {
        let api = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = api.local_addr().unwrap();
        let service = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let service_addr = service.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            host: "compute1".into(),
            status: "ACTIVE".into(),
            task: None,
            migration: None,
            done: Vec::new(),
            seen: Vec::new(),
            outage: None,
        }));
        let service_task = Arc::new(Mutex::new(Some(tokio::spawn(accept_forever(service)))));
        let base = format!("http://{addr}");
        let (s, b, st, bs) = (
            state.clone(),
            behaviour.clone(),
            service_task.clone(),
            base.clone(),
        );
        let task = tokio::spawn(async move {
            loop {
                let Ok((conn, _)) = api.accept().await else {
                    continue;
                };
                let (s, b, st, bs) = (s.clone(), b.clone(), st.clone(), bs.clone());
                tokio::spawn(async move {
                    let _ = handle(conn, &s, &b, &st, &bs, service_addr).await;
                });
            }
        });
        FakeCloud {
            auth_url: format!("{base}/identity/v3"),
            service: service_addr,
            state,
            behaviour,
            task,
            service_task,
        }
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The server's host now.
    pub fn host(&self) -> String {
        self.state.lock().unwrap().host.clone()
    }

    /// Whether a migration runs.
    pub fn migrating(&self) -> bool {
        self.state.lock().unwrap().migration.is_some()
    }

    /// The outage the service had (down, up) in wall ns.
    pub fn outage(&self) -> Option<(u64, Option<u64>)> {
        self.state.lock().unwrap().outage
    }

    /// The finished migrations' final statuses.
    pub fn finished(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .done
            .iter()
            .map(|m| m.status.to_string())
            .collect()
    }
}

/// Accepts and closes connections (the service the reachability watcher probes).
async fn accept_forever(l: TcpListener) {
    loop {
        if let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 256];
                let _ = tokio::time::timeout(Duration::from_millis(200), c.read(&mut buf)).await;
            });
        }
    }
}

async fn handle(
    conn: TcpStream,
    state: &Arc<Mutex<State>>,
    b: &Behaviour,
    service_task: &Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    base: &str,
    service: SocketAddr,
) -> std::io::Result<()> {
    let mut r = BufReader::new(conn);
    let mut line = String::new();
    r.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).await?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).await?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state.lock().unwrap().seen.push(Seen {
        method: method.clone(),
        path: target.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    advance(state, b, service_task, service).await;
    let (status, extra, resp) = api::route(&method, &target, &headers, &body, state, b, base);
    let text = if resp.is_null() {
        String::new()
    } else {
        resp.to_string()
    };
    let mut out = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        text.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&text);
    let mut conn = r.into_inner();
    conn.write_all(out.as_bytes()).await?;
    conn.shutdown().await
}

/// Moves a running migration along: outage at the switch-over, then completion.
async fn advance(
    state: &Arc<Mutex<State>>,
    b: &Behaviour,
    service_task: &Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    service: SocketAddr,
) {
    let elapsed = {
        let s = state.lock().unwrap();
        match &s.migration {
            Some(m) if m.status == "running" && !b.never_ending => m.started.elapsed(),
            _ => return,
        }
    };
    if elapsed < b.switch_after {
        return;
    }
    // The switch-over: the service is unreachable for `outage`, then the server runs
    // on the destination.
    let first = {
        let mut s = state.lock().unwrap();
        if s.outage.is_none() {
            s.outage = Some((now_ns(), None));
            true
        } else {
            false
        }
    };
    if first {
        if let Some(t) = service_task.lock().unwrap().take() {
            t.abort();
        }
        tokio::time::sleep(b.outage).await;
        let l = TcpListener::bind(service).await.unwrap();
        *service_task.lock().unwrap() = Some(tokio::spawn(accept_forever(l)));
        let mut s = state.lock().unwrap();
        if let Some((_, up)) = &mut s.outage {
            *up = Some(now_ns());
        }
        finish(&mut s, "completed");
    }
}

pub(crate) fn finish(s: &mut State, status: &'static str) {
    if let Some(mut m) = s.migration.take() {
        let end = now_ns();
        m.status = status;
        let ok = status == "completed";
        m.events.push((
            "compute_live_migration".into(),
            nova_time(end.saturating_sub(1_000_000)),
            Some(nova_time(end)),
            Some(if ok { "Success" } else { "Error" }.into()),
        ));
        if ok {
            s.host = m.dest.clone();
        }
        s.status = "ACTIVE".into();
        s.task = None;
        s.done.push(m);
    }
}
