//! Nova's compute API, the calls a live migration needs, with microversion
//! negotiation: the endpoint's version document gives the range the cloud supports;
//! the driver asks for [`WANTED`] or the cloud's maximum if lower, and refuses below
//! [`MINIMUM`].
//!
//! | call | microversion |
//! |---|---|
//! | `POST /servers/{id}/action {"os-migrateLive": {"host", "block_migration": "auto"}}` | 2.25 |
//! | `GET /servers/{id}/migrations` (progress: memory and disk bytes) | 2.23 |
//! | `DELETE /servers/{id}/migrations/{mid}` (abort) | 2.24 |
//! | `POST /servers/{id}/migrations/{mid}/action {"force_complete": null}` | 2.22 |
//! | `GET /servers/{id}/os-instance-actions/{request_id}` (events with times) | 2.1 (2.62: event hosts) |

use super::http::{Http, HttpError, Response};
use super::keystone::Session;
use reqwest::Method;
use serde_json::{Value, json};

/// The lowest microversion the driver works with (block_migration "auto", abort,
/// force-complete, the migrations list).
pub const MINIMUM: Microversion = Microversion(2, 25);
/// The microversion asked for when the cloud has it (instance action events carry
/// their host from 2.62; nothing the driver reads changes up to here).
pub const WANTED: Microversion = Microversion(2, 79);

/// A compute API microversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Microversion(pub u32, pub u32);

impl Microversion {
    /// Parses `2.25`.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.trim().split_once('.')?;
        Some(Self(a.parse().ok()?, b.parse().ok()?))
    }
}

impl std::fmt::Display for Microversion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Picks the microversion from the endpoint's version document
/// (`{"version": {"id": "v2.1", "version": MAX, "min_version": MIN}}`).
pub fn negotiate(doc: &Value, url: &str) -> Result<Microversion, String> {
    let v = doc.get("version").unwrap_or(doc);
    let max = v["version"].as_str().and_then(Microversion::parse);
    let min = v["min_version"].as_str().and_then(Microversion::parse);
    let Some(max) = max else {
        return Err(format!(
            "{url} does not announce compute microversions (no `version` in its version document): the openstack driver needs Nova's v2.1 API with microversion {MINIMUM} or later"
        ));
    };
    if max < MINIMUM {
        return Err(format!(
            "Nova at {url} supports microversions up to {max}; the openstack driver needs at least {MINIMUM} (2.22 force-complete, 2.23 migration list, 2.24 abort, 2.25 block_migration \"auto\"): upgrade Nova (Mitaka or later)"
        ));
    }
    let chosen = max.min(WANTED);
    if let Some(min) = min
        && chosen < min
    {
        return Err(format!(
            "Nova at {url} supports microversions {min} to {max} only; the driver speaks {MINIMUM} to {WANTED}"
        ));
    }
    Ok(chosen)
}

/// A live migration's progress as Nova reports it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// The migration's id.
    pub id: u64,
    /// `queued`, `preparing`, `running`, ...
    pub status: String,
    /// Memory bytes.
    pub memory_total: Option<u64>,
    /// Memory bytes sent.
    pub memory_processed: Option<u64>,
    /// Memory bytes left.
    pub memory_remaining: Option<u64>,
    /// Disk bytes.
    pub disk_total: Option<u64>,
    /// Disk bytes sent.
    pub disk_processed: Option<u64>,
    /// Disk bytes left.
    pub disk_remaining: Option<u64>,
    /// Source compute host.
    pub source: Option<String>,
    /// Destination compute host.
    pub dest: Option<String>,
}

impl Progress {
    /// From one element of `GET /servers/{id}/migrations`.
    pub fn from_json(v: &Value) -> Option<Self> {
        let n = |k: &str| v[k].as_u64();
        Some(Self {
            id: v["id"].as_u64()?,
            status: v["status"].as_str().unwrap_or("").to_string(),
            memory_total: n("memory_total_bytes"),
            memory_processed: n("memory_processed_bytes"),
            memory_remaining: n("memory_remaining_bytes"),
            disk_total: n("disk_total_bytes"),
            disk_processed: n("disk_processed_bytes"),
            disk_remaining: n("disk_remaining_bytes"),
            source: v["source_compute"].as_str().map(str::to_string),
            dest: v["dest_compute"].as_str().map(str::to_string),
        })
    }
}

/// A server's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerState {
    /// Its ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// `ACTIVE`, `MIGRATING`, `ERROR`, ...
    pub status: String,
    /// `OS-EXT-STS:task_state` (`migrating` while a live migration runs).
    pub task_state: Option<String>,
    /// `OS-EXT-SRV-ATTR:host` (admin only; `None` otherwise).
    pub host: Option<String>,
}

impl ServerState {
    /// From `{"server": {...}}`'s inner object.
    pub fn from_json(s: &Value) -> Option<Self> {
        Some(Self {
            id: s["id"].as_str()?.to_string(),
            name: s["name"].as_str().unwrap_or("").to_string(),
            status: s["status"].as_str().unwrap_or("").to_string(),
            task_state: s["OS-EXT-STS:task_state"].as_str().map(str::to_string),
            host: s["OS-EXT-SRV-ATTR:host"].as_str().map(str::to_string),
        })
    }
}

/// One event of an instance action.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActionEvent {
    /// E.g. `compute_live_migration`, `conductor_live_migrate_instance`.
    pub event: String,
    /// Start time (Nova's UTC timestamp, as sent).
    pub start_time: Option<String>,
    /// Finish time.
    pub finish_time: Option<String>,
    /// `Success` or `Error`.
    pub result: Option<String>,
    /// The compute host (2.62).
    pub host: Option<String>,
}

/// Nova, with a token and a microversion.
#[derive(Debug, Clone)]
pub struct Nova {
    http: Http,
    session: Session,
    version: Microversion,
}

impl Nova {
    /// Negotiates the microversion with the session's compute endpoint.
    pub async fn connect(http: Http, session: Session) -> Result<Self, String> {
        let url = session.compute_url.clone();
        let doc = http
            .send(Method::GET, &url, Some(&session.token), &[], None)
            .await
            .map_err(|e| format!("cannot read Nova's version document: {e}"))?
            .json()?;
        let version = negotiate(&doc, &url)?;
        Ok(Self {
            http,
            session,
            version,
        })
    }

    /// The microversion in use.
    pub fn version(&self) -> Microversion {
        self.version
    }

    /// The compute endpoint.
    pub fn url(&self) -> &str {
        &self.session.compute_url
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, HttpError> {
        let v = self.version.to_string();
        let headers = [
            ("OpenStack-API-Version", format!("compute {v}")),
            ("X-OpenStack-Nova-API-Version", v),
        ];
        let url = format!("{}{path}", self.session.compute_url);
        self.http
            .send(method, &url, Some(&self.session.token), &headers, body)
            .await
    }

    /// The server by ID, or by exact name in the project.
    pub async fn find_server(&self, name_or_id: &str) -> Result<ServerState, String> {
        match self.server(name_or_id).await {
            Ok(s) => return Ok(s),
            Err(HttpErrorKind::NotFound) => {}
            Err(HttpErrorKind::Other(e)) => return Err(e),
        }
        let q = format!("/servers/detail?name={}", regex_exact(name_or_id));
        let list = self
            .call(Method::GET, &q, None)
            .await
            .map_err(|e| e.to_string())?
            .json()?;
        let found: Vec<ServerState> = list["servers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(ServerState::from_json)
                    .filter(|s| s.name == name_or_id)
                    .collect()
            })
            .unwrap_or_default();
        match found.len() {
            1 => Ok(found.into_iter().next().unwrap_or_else(|| unreachable!())),
            0 => Err(format!(
                "no server `{name_or_id}` in project {} (`openstack server list`): give its name or ID",
                self.session
                    .project
                    .as_deref()
                    .unwrap_or("of these credentials")
            )),
            n => Err(format!(
                "{n} servers are named `{name_or_id}` ({}): give the ID instead",
                found
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// `GET /servers/{id}`.
    pub async fn server(&self, id: &str) -> Result<ServerState, HttpErrorKind> {
        let path = format!("/servers/{}", path_segment(id));
        match self.call(Method::GET, &path, None).await {
            Ok(r) => {
                let v = r.json().map_err(HttpErrorKind::Other)?;
                ServerState::from_json(&v["server"]).ok_or_else(|| {
                    HttpErrorKind::Other(format!("GET {path}: no server in the answer"))
                })
            }
            Err(HttpError::Status { status: 404, .. }) => Err(HttpErrorKind::NotFound),
            Err(e) => Err(HttpErrorKind::Other(e.to_string())),
        }
    }

    /// `os-migrateLive`; returns the request id (for the instance action).
    pub async fn live_migrate(
        &self,
        id: &str,
        host: Option<&str>,
        block_migration: Value,
    ) -> Result<Option<String>, String> {
        let body =
            json!({ "os-migrateLive": { "host": host, "block_migration": block_migration } });
        let r = self
            .call(Method::POST, &format!("/servers/{}/action", path_segment(id)), Some(&body))
            .await
            .map_err(|e| match e {
                HttpError::Status { status: 409, message, .. } => format!("Nova refused the live migration (409): {message}"),
                HttpError::Status { status: 400, message, .. } => format!("Nova refused the live migration (400): {message}"),
                HttpError::Status { status: 403, message, .. } => format!("Nova does not let these credentials live-migrate (403, an admin action by default): {message}"),
                e => e.to_string(),
            })?;
        Ok(r.header("x-openstack-request-id")
            .or_else(|| r.header("x-compute-request-id")))
    }

    /// The server's migrations in progress.
    pub async fn migrations(&self, id: &str) -> Result<Vec<Progress>, String> {
        let v = self
            .call(
                Method::GET,
                &format!("/servers/{}/migrations", path_segment(id)),
                None,
            )
            .await
            .map_err(|e| e.to_string())?
            .json()?;
        Ok(v["migrations"]
            .as_array()
            .map(|a| a.iter().filter_map(Progress::from_json).collect())
            .unwrap_or_default())
    }

    /// Aborts a running live migration.
    pub async fn abort(&self, id: &str, migration: u64) -> Result<(), String> {
        self.call(
            Method::DELETE,
            &format!("/servers/{}/migrations/{migration}", path_segment(id)),
            None,
        )
        .await
        .map(drop)
        .map_err(|e| format!("cannot abort the migration: {e}"))
    }

    /// Asks Nova to complete a running live migration now (post-copy if the hosts
    /// permit it, else the guest is paused until the copy completes).
    pub async fn force_complete(&self, id: &str, migration: u64) -> Result<(), String> {
        let body = json!({ "force_complete": null });
        self.call(
            Method::POST,
            &format!(
                "/servers/{}/migrations/{migration}/action",
                path_segment(id)
            ),
            Some(&body),
        )
        .await
        .map(drop)
        .map_err(|e| format!("cannot force-complete the migration: {e}"))
    }

    /// The events of the instance action `request_id`.
    pub async fn action_events(
        &self,
        id: &str,
        request_id: &str,
    ) -> Result<Vec<ActionEvent>, String> {
        let v = self
            .call(
                Method::GET,
                &format!(
                    "/servers/{}/os-instance-actions/{}",
                    path_segment(id),
                    path_segment(request_id)
                ),
                None,
            )
            .await
            .map_err(|e| e.to_string())?
            .json()?;
        let s = |e: &Value, k: &str| e[k].as_str().map(str::to_string);
        Ok(v["instanceAction"]["events"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| ActionEvent {
                        event: e["event"].as_str().unwrap_or("").to_string(),
                        start_time: s(e, "start_time"),
                        finish_time: s(e, "finish_time"),
                        result: s(e, "result"),
                        host: s(e, "host"),
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpErrorKind {
    /// 404.
    NotFound,
    /// Anything else, with its message.
    Other(String),
}

/// `s` safe as one URL path segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Nova's `name` filter is a regular expression: `^NAME$` with NAME escaped, as a
/// query value.
fn regex_exact(name: &str) -> String {
    let escaped: String = name
        .chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect();
    path_segment(&format!("^{escaped}$"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_within_the_supported_range() {
        let doc = |max: &str, min: &str| json!({"version": {"id": "v2.1", "status": "CURRENT", "version": max, "min_version": min}});
        assert_eq!(negotiate(&doc("2.95", "2.1"), "u").unwrap(), WANTED);
        assert_eq!(
            negotiate(&doc("2.60", "2.1"), "u").unwrap(),
            Microversion(2, 60)
        );
        let err = negotiate(&doc("2.12", "2.1"), "http://nova").unwrap_err();
        assert!(
            err.contains("up to 2.12") && err.contains("at least 2.25"),
            "{err}"
        );
        let err = negotiate(
            &json!({"version": {"id": "v2.0", "version": "", "min_version": ""}}),
            "u",
        )
        .unwrap_err();
        assert!(err.contains("does not announce"), "{err}");
        assert!(Microversion(2, 9) < Microversion(2, 25));
    }

    #[test]
    fn names_are_exact_regexes_and_ids_are_one_segment() {
        assert_eq!(regex_exact("web-1"), "%5Eweb-1%24");
        assert_eq!(regex_exact("a.b"), "%5Ea%5C.b%24");
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn progress_and_server_state_from_nova_documents() {
        let m = json!({"id": 4, "status": "running", "memory_total_bytes": 1000, "memory_processed_bytes": 600,
            "memory_remaining_bytes": 400, "disk_total_bytes": 0, "disk_processed_bytes": 0, "disk_remaining_bytes": 0,
            "source_compute": "compute1", "dest_compute": "compute2"});
        let p = Progress::from_json(&m).unwrap();
        assert_eq!(
            (p.id, p.memory_remaining, p.dest.as_deref()),
            (4, Some(400), Some("compute2"))
        );
        let s = json!({"id": "x", "name": "vm", "status": "MIGRATING", "OS-EXT-STS:task_state": "migrating", "OS-EXT-SRV-ATTR:host": "compute1"});
        let st = ServerState::from_json(&s).unwrap();
        assert_eq!(
            (st.task_state.as_deref(), st.host.as_deref()),
            (Some("migrating"), Some("compute1"))
        );
    }
}
