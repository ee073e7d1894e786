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

use serde_json::{Value, json};
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
struct Migration {
    id: u64,
    started: Instant,
    status: &'static str,
    dest: String,
    request_id: String,
    events: Vec<(String, String, Option<String>, Option<String>)>,
}

#[derive(Debug)]
struct State {
    host: String,
    status: String,
    task: Option<String>,
    migration: Option<Migration>,
    done: Vec<Migration>,
    seen: Vec<Seen>,
    /// When the service went down and came back (wall ns).
    outage: Option<(u64, Option<u64>)>,
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

fn now_ns() -> u64 {
    probes::clock::unix_now_ns()
}

fn nova_time(ns: u64) -> String {
    let c = fixtures::calendar::civil_utc(ns / 1_000_000_000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        (ns % 1_000_000_000) / 1000
    )
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
    let (status, extra, resp) = route(&method, &target, &headers, &body, state, b, base);
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

fn finish(s: &mut State, status: &'static str) {
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

fn err(kind: &str, code: u16, message: &str) -> Value {
    json!({ kind: { "code": code, "message": message } })
}

type Reply = (u16, Vec<(String, String)>, Value);

fn route(
    method: &str,
    target: &str,
    headers: &HashMap<String, String>,
    body: &Value,
    state: &Arc<Mutex<State>>,
    b: &Behaviour,
    base: &str,
) -> Reply {
    let path = target.split('?').next().unwrap_or("");
    if method == "POST" && path == "/identity/v3/auth/tokens" {
        return token(body, b, base);
    }
    if !path.starts_with("/compute/v2.1") {
        return (404, vec![], err("itemNotFound", 404, "no such resource"));
    }
    if headers.get("x-auth-token").map(String::as_str) != Some(TOKEN) {
        return (
            401,
            vec![],
            json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}),
        );
    }
    let rest = &path["/compute/v2.1".len()..];
    if method == "GET" && (rest.is_empty() || rest == "/") {
        return (
            200,
            vec![],
            json!({"version": {"id": "v2.1", "status": "CURRENT", "version": b.max_microversion,
                "min_version": "2.1", "updated": "2013-07-23T11:33:21Z", "links": [{"href": format!("{base}/compute/v2.1/"), "rel": "self"}],
                "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}]}}),
        );
    }
    let version = headers
        .get("openstack-api-version")
        .and_then(|v| v.strip_prefix("compute "))
        .and_then(|v| v.split_once('.'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .unwrap_or((2, 1));
    let mut s = state.lock().unwrap();
    let server = |s: &State| {
        json!({"id": SERVER_ID, "name": "web-1", "status": s.status, "OS-EXT-STS:task_state": s.task,
            "OS-EXT-SRV-ATTR:host": s.host, "OS-EXT-STS:vm_state": "active", "tenant_id": "6f70656e737461636b20342065766572"})
    };
    let sid = format!("/servers/{SERVER_ID}");
    match (method, rest) {
        ("GET", "/servers/detail") => {
            let wanted = target
                .split("name=")
                .nth(1)
                .map(|q| q.split('&').next().unwrap_or(""))
                .unwrap_or("");
            let list = if wanted == "%5Eweb-1%24" {
                vec![server(&s)]
            } else {
                vec![]
            };
            (200, vec![], json!({ "servers": list }))
        }
        ("GET", p) if p == sid => (200, vec![], json!({ "server": server(&s) })),
        ("GET", p) if p.starts_with("/servers/") && p.matches('/').count() == 2 => (
            404,
            vec![],
            err(
                "itemNotFound",
                404,
                &format!("Instance {} could not be found.", &p[9..]),
            ),
        ),
        ("POST", p) if p == format!("{sid}/action") => {
            let Some(live) = body.get("os-migrateLive") else {
                return (400, vec![], err("badRequest", 400, "unknown action"));
            };
            if version < (2, 25)
                || live.get("block_migration").is_none()
                || live.get("host").is_none()
            {
                return (
                    400,
                    vec![],
                    err(
                        "badRequest",
                        400,
                        "Invalid input for field/attribute os-migrateLive.",
                    ),
                );
            }
            if s.migration.is_some() {
                return (
                    409,
                    vec![],
                    err(
                        "conflictingRequest",
                        409,
                        "Cannot 'os-migrateLive' instance while it is in task_state migrating",
                    ),
                );
            }
            let dest = match live["host"].as_str() {
                Some(h) if h != "compute1" && h != "compute2" => {
                    return (
                        400,
                        vec![],
                        err(
                            "badRequest",
                            400,
                            &format!("Compute host {h} could not be found."),
                        ),
                    );
                }
                Some(h) => h.to_string(),
                None => if s.host == "compute1" {
                    "compute2"
                } else {
                    "compute1"
                }
                .to_string(),
            };
            let id = s.done.len() as u64 + 1;
            let rid = format!("req-0d819d5c-1527-4669-bdf0-ffad31b5{id:04}");
            let t = now_ns();
            s.migration = Some(Migration {
                id,
                started: Instant::now(),
                status: "running",
                dest,
                request_id: rid.clone(),
                events: vec![(
                    "conductor_live_migrate_instance".into(),
                    nova_time(t),
                    Some(nova_time(t + 50_000_000)),
                    Some("Success".into()),
                )],
            });
            s.status = "MIGRATING".into();
            s.task = Some("migrating".into());
            s.outage = None;
            (
                202,
                vec![("x-openstack-request-id".into(), rid)],
                Value::Null,
            )
        }
        ("GET", p) if p == format!("{sid}/migrations") => {
            if version < (2, 23) {
                return (404, vec![], err("itemNotFound", 404, "not found"));
            }
            let list: Vec<Value> = s
                .migration
                .iter()
                .map(|m| {
                    let total = 134_217_728u64;
                    let frac = (m.started.elapsed().as_secs_f64() / b.switch_after.as_secs_f64()).min(1.0);
                    let done = (total as f64 * frac) as u64;
                    json!({"created_at": "2016-01-29T13:42:02.000000", "dest_compute": m.dest, "dest_host": "1.2.3.4",
                        "dest_node": m.dest, "id": m.id, "server_uuid": SERVER_ID, "source_compute": s.host,
                        "source_node": s.host, "status": m.status, "memory_total_bytes": total,
                        "memory_processed_bytes": done, "memory_remaining_bytes": total - done,
                        "disk_total_bytes": 0, "disk_processed_bytes": 0, "disk_remaining_bytes": 0,
                        "updated_at": "2016-01-29T13:42:02.000000", "uuid": "12341d4b-346a-40d0-83c6-5f4f6892b650"})
                })
                .collect();
            (200, vec![], json!({ "migrations": list }))
        }
        ("DELETE", p) if p.starts_with(&format!("{sid}/migrations/")) => {
            if version < (2, 24) {
                return (404, vec![], err("itemNotFound", 404, "not found"));
            }
            match &s.migration {
                Some(m) if p.ends_with(&format!("/{}", m.id)) => {
                    finish(&mut s, "cancelled");
                    (202, vec![], Value::Null)
                }
                _ => (404, vec![], err("itemNotFound", 404, "Migration not found")),
            }
        }
        ("POST", p) if p.starts_with(&format!("{sid}/migrations/")) && p.ends_with("/action") => {
            if body.get("force_complete").is_none() || version < (2, 22) {
                return (400, vec![], err("badRequest", 400, "bad action"));
            }
            finish(&mut s, "completed");
            (202, vec![], Value::Null)
        }
        ("GET", p) if p.starts_with(&format!("{sid}/os-instance-actions/")) => {
            let rid = p.rsplit('/').next().unwrap_or("");
            let m = s
                .done
                .iter()
                .chain(s.migration.iter())
                .find(|m| m.request_id == rid);
            match m {
                Some(m) => {
                    let events: Vec<Value> = m
                        .events
                        .iter()
                        .map(|(e, st, fin, res)| json!({"event": e, "start_time": st, "finish_time": fin, "result": res,
                            "host": "compute1", "hostId": "2091634baaccdc4c5a1d57069c833e402921df696b7f970791b12ec6", "traceback": null}))
                        .collect();
                    (
                        200,
                        vec![],
                        json!({"instanceAction": {"action": "live-migration", "events": events,
                        "instance_uuid": SERVER_ID, "message": null, "project_id": "6f70656e737461636b20342065766572",
                        "request_id": rid, "start_time": "2018-04-25T01:26:36.341290", "updated_at": "2018-04-25T01:26:36.790544", "user_id": "admin"}}),
                    )
                }
                None => (
                    404,
                    vec![],
                    err("itemNotFound", 404, &format!("Action {rid} not found")),
                ),
            }
        }
        _ => (
            404,
            vec![],
            err("itemNotFound", 404, &format!("no route {method} {rest}")),
        ),
    }
}

fn token(body: &Value, b: &Behaviour, base: &str) -> Reply {
    let id = &body["auth"]["identity"];
    let ok = match id["methods"][0].as_str() {
        Some("password") => {
            let u = &id["password"]["user"];
            u["name"] == "admin"
                && u["domain"]["name"] == "Default"
                && u["password"] == b.password.as_str()
        }
        Some("application_credential") => {
            let a = &id["application_credential"];
            a["id"] == b.app_credential.0.as_str() && a["secret"] == b.app_credential.1.as_str()
        }
        _ => false,
    };
    if !ok {
        return (
            401,
            vec![],
            json!({"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}),
        );
    }
    let endpoint = |iface: &str, url: String| json!({"id": format!("e-{iface}"), "interface": iface, "region": "RegionOne", "region_id": "RegionOne", "url": url});
    (
        201,
        vec![("X-Subject-Token".into(), TOKEN.into())],
        json!({"token": {
            "methods": [id["methods"][0]],
            "expires_at": "2099-01-01T00:00:00.000000Z",
            "issued_at": "2026-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": "admin", "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "6f70656e737461636b20342065766572", "name": "demo", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "admin"}],
            "catalog": [
                {"type": "identity", "name": "keystone", "id": "s1", "endpoints": [endpoint("public", format!("{base}/identity"))]},
                {"type": "compute", "name": "nova", "id": "s2", "endpoints": [
                    endpoint("internal", format!("{base}/compute-internal/v2.1")),
                    endpoint("public", format!("{base}/compute/v2.1"))
                ]}
            ]
        }}),
    )
}
