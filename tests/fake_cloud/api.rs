//! The fake cloud's API: Keystone's token request and Nova's calls, answered with
//! the shapes of the API reference samples.

use super::{Behaviour, Migration, SERVER_ID, State, TOKEN, finish, nova_time, now_ns};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

fn err(kind: &str, code: u16, message: &str) -> Value {
    json!({ kind: { "code": code, "message": message } })
}

type Reply = (u16, Vec<(String, String)>, Value);

pub(super) fn route(
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
