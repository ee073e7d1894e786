//! The shared folder the hosts of one campaign meet in (`--rendezvous DIR`):
//!
//! ```text
//! DIR/<application>/<scenario>/run-<k>/announce.json   host 0: endpoint and start
//! DIR/<application>/<scenario>/run-<k>/end.json        host 0: the run ended
//! DIR/abort.json                                       host 0: the campaign stopped
//! ```
//!
//! Files are written atomically (temporary file and rename), so a reader sees a whole
//! file or none. Only host 0 writes; the client hosts poll.

use crate::json_file::write_json_atomic;
use crate::scenario::RunId;
use platform::ServiceEndpoint;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// How often a client host looks for host 0's files.
const POLL: Duration = Duration::from_millis(20);

/// `announce.json`: where the service is and when the run starts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Announce {
    /// The campaign host 0 runs (`campaign_hash`).
    pub campaign_hash: String,
    /// Host 0's `--start-at`, unix ns.
    pub start_at_unix_ns: u64,
    /// This run's warm-up start, unix ns (host 0's clock).
    pub run_start_unix_ns: u64,
    /// When host 0 wrote this, unix ns (host 0's clock).
    pub announced_unix_ns: u64,
    /// HTTP services' address.
    pub http: Option<SocketAddr>,
    /// The game service's UDP address.
    pub game: Option<SocketAddr>,
    /// What the reachability prober connects to.
    pub probe_target: SocketAddr,
}

impl Announce {
    /// The endpoint the client hosts' probes use.
    pub fn endpoint(&self) -> ServiceEndpoint {
        ServiceEndpoint {
            http: self.http,
            game: self.game,
            probe_target: self.probe_target,
            netns: None,
        }
    }
}

/// `end.json`: the run ended on host 0 (after its cool-down, or early).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct End {
    /// When, unix ns (host 0's clock).
    pub end_unix_ns: u64,
    /// Why the run is incomplete on host 0, if it is.
    pub incomplete_reason: Option<String>,
}

/// `abort.json`: host 0's campaign stopped before its last run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Abort {
    /// Why.
    pub reason: String,
}

fn run_dir(dir: &Path, id: &RunId) -> PathBuf {
    dir.join(id.rel_dir())
}

/// Refuses a rendezvous folder that holds files already (an earlier attempt's
/// announcements would start the client hosts at the wrong time), then creates it.
pub(crate) fn prepare(dir: &Path) -> Result<(), String> {
    if let Ok(mut rd) = std::fs::read_dir(dir)
        && rd.next().is_some()
    {
        return Err(format!(
            "--rendezvous {} is not empty: it holds an earlier attempt's announcements; give every host a new folder (or remove it)",
            dir.display()
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))
}

fn write<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    write_json_atomic(path, value).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Host 0: announces a run.
pub(crate) fn announce(dir: &Path, id: &RunId, a: &Announce) -> Result<(), String> {
    write(&run_dir(dir, id).join("announce.json"), a)
}

/// Host 0: the run ended.
pub(crate) fn end(dir: &Path, id: &RunId, e: &End) -> Result<(), String> {
    write(&run_dir(dir, id).join("end.json"), e)
}

/// Host 0: the campaign stopped early.
pub(crate) fn abort(dir: &Path, reason: &str) -> Result<(), String> {
    write(
        &dir.join("abort.json"),
        &Abort {
            reason: reason.to_string(),
        },
    )
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Option<Result<T, String>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a rendezvous file of this version: {e}",
            path.display()
        )
    }))
}

/// What a client host waited for.
pub(crate) enum Waited<T> {
    /// The file.
    Got(T),
    /// Host 0 ended the run or the campaign without it (why).
    Gone(String),
    /// The interrupt fired (its reason), or the time ran out.
    Stopped(String),
}

/// Client host: waits for `announce.json` of a run (at most `limit`); host 0's end of
/// that run or abort of the campaign ends the wait.
pub(crate) async fn wait_announce(
    dir: &Path,
    id: &RunId,
    limit: Duration,
    intr: &watch::Receiver<Option<String>>,
) -> Result<Waited<Announce>, String> {
    let run = run_dir(dir, id);
    let t0 = tokio::time::Instant::now();
    loop {
        if let Some(a) = read::<Announce>(&run.join("announce.json")) {
            return a.map(Waited::Got);
        }
        if let Some(e) = read::<End>(&run.join("end.json")) {
            let reason = e?.incomplete_reason.unwrap_or_default();
            return Ok(Waited::Gone(format!(
                "host 0 ended the run before announcing it: {reason}"
            )));
        }
        if let Some(a) = read::<Abort>(&dir.join("abort.json")) {
            return Ok(Waited::Gone(format!(
                "host 0 stopped the campaign: {}",
                a?.reason
            )));
        }
        if let Some(r) = intr.borrow().clone() {
            return Ok(Waited::Stopped(r));
        }
        if t0.elapsed() > limit {
            return Ok(Waited::Stopped(format!(
                "host 0 did not announce the run within {} s: is the migration host running with the same --rendezvous {}?",
                limit.as_secs(),
                dir.display()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Client host: waits for `end.json` of a run (at most `limit`).
pub(crate) async fn wait_end(
    dir: &Path,
    id: &RunId,
    limit: Duration,
    intr: &watch::Receiver<Option<String>>,
) -> Result<Waited<End>, String> {
    let path = run_dir(dir, id).join("end.json");
    let t0 = tokio::time::Instant::now();
    loop {
        if let Some(e) = read::<End>(&path) {
            return e.map(Waited::Got);
        }
        if let Some(r) = intr.borrow().clone() {
            return Ok(Waited::Stopped(r));
        }
        if t0.elapsed() > limit {
            return Ok(Waited::Stopped(format!(
                "host 0 did not end the run within {} s (its time limit and more): the migration host is gone",
                limit.as_secs()
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> RunId {
        RunId {
            application: "a".into(),
            scenario: "s".into(),
            run: 1,
        }
    }

    fn announcement() -> Announce {
        Announce {
            campaign_hash: "h".into(),
            start_at_unix_ns: 1,
            run_start_unix_ns: 2,
            announced_unix_ns: 3,
            http: None,
            game: None,
            probe_target: "127.0.0.1:9".parse().unwrap(),
        }
    }

    #[tokio::test]
    async fn a_client_waits_for_the_announcement_the_end_or_the_abort() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        let (_tx, intr) = watch::channel(None);
        let limit = Duration::from_millis(100);
        prepare(&dir).unwrap();
        let waited = wait_announce(&dir, &id(), limit, &intr).await.unwrap();
        assert!(matches!(waited, Waited::Stopped(r) if r.contains("did not announce")));
        abort(&dir, "interrupted by SIGTERM").unwrap();
        let waited = wait_announce(&dir, &id(), limit, &intr).await.unwrap();
        assert!(matches!(waited, Waited::Gone(r) if r.contains("SIGTERM")));
        announce(&dir, &id(), &announcement()).unwrap();
        let waited = wait_announce(&dir, &id(), limit, &intr).await.unwrap();
        assert!(matches!(waited, Waited::Got(a) if a.run_start_unix_ns == 2));
        let e = prepare(&dir).unwrap_err();
        assert!(e.contains("is not empty"), "{e}");
        end(
            &dir,
            &id(),
            &End {
                end_unix_ns: 4,
                incomplete_reason: None,
            },
        )
        .unwrap();
        let waited = wait_end(&dir, &id(), limit, &intr).await.unwrap();
        assert!(matches!(waited, Waited::Got(e) if e.end_unix_ns == 4));
    }
}
