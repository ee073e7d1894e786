//! A small async QMP client over a unix socket (tokio + serde_json).
//!
//! [`Qmp::connect`] reads the greeting and negotiates `qmp_capabilities`;
//! [`Qmp::execute`] sends a command with an id and awaits its answer; events (with
//! QEMU's wall-clock timestamp and the moment they were read) arrive on the channel
//! from [`Qmp::take_events`]. A background task reads the socket; when QEMU goes away
//! every pending command fails with a clear error. No QEMU semantics live here.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{Mutex, mpsc, oneshot};

/// A QMP failure: what, on which socket.
#[derive(Debug, Clone, thiserror::Error)]
#[error("QMP {socket}: {what}")]
pub struct QmpError {
    /// The socket path.
    pub socket: String,
    /// What failed (QEMU's error class and description for command errors).
    pub what: String,
}

/// An asynchronous QMP event.
#[derive(Debug, Clone, PartialEq)]
pub struct QmpEvent {
    /// Event name (`STOP`, `RESUME`, `MIGRATION`, `MIGRATION_PASS`, ...).
    pub name: String,
    /// Its `data` object (`Null` when absent).
    pub data: Value,
    /// QEMU's timestamp: host wall clock, nanoseconds since the Unix epoch.
    pub wall_unix_ns: u64,
    /// When the client read it.
    pub received: Instant,
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, String>>>>>;

/// A connected QMP session.
#[derive(Debug)]
pub struct Qmp {
    socket: PathBuf,
    writer: Mutex<OwnedWriteHalf>,
    pending: Pending,
    next_id: AtomicU64,
    events: Option<mpsc::UnboundedReceiver<QmpEvent>>,
    reader: tokio::task::JoinHandle<()>,
    timeout: Duration,
}

impl Drop for Qmp {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Qmp {
    /// Connects to `socket` (retrying until `wait` has passed: QEMU creates it while
    /// starting), reads the greeting and enters command mode.
    pub async fn connect(socket: &Path, wait: Duration) -> Result<Self, QmpError> {
        let err = |what: String| QmpError {
            socket: socket.display().to_string(),
            what,
        };
        let deadline = Instant::now() + wait;
        let stream = loop {
            match UnixStream::connect(socket).await {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => {
                    return Err(err(format!(
                        "cannot connect: {e}; is QEMU running with -qmp unix:...?"
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        let (read, write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        let greeting = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .map_err(|_| err("no greeting within 10 s".into()))?
            .map_err(|e| err(format!("reading the greeting: {e}")))?
            .ok_or_else(|| err("closed before the greeting".into()))?;
        let g: Value = serde_json::from_str(&greeting)
            .map_err(|e| err(format!("bad greeting `{greeting}`: {e}")))?;
        if g.get("QMP").is_none() {
            return Err(err(format!("not a QMP greeting: {greeting}")));
        }
        let pending: Pending = Arc::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read_loop(lines, pending.clone(), tx));
        let qmp = Self {
            socket: socket.to_path_buf(),
            writer: Mutex::new(write),
            pending,
            next_id: AtomicU64::new(1),
            events: Some(rx),
            reader,
            timeout: Duration::from_secs(30),
        };
        qmp.execute("qmp_capabilities", Value::Null).await?;
        Ok(qmp)
    }

    /// The event stream (only once; later calls get `None`).
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<QmpEvent>> {
        self.events.take()
    }

    /// Runs `command` with `arguments` (`Value::Null` for none) and returns its
    /// `return` value.
    pub async fn execute(&self, command: &str, arguments: Value) -> Result<Value, QmpError> {
        let err = |what: String| QmpError {
            socket: self.socket.display().to_string(),
            what,
        };
        let id = format!("qp-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut msg = json!({ "execute": command, "id": id });
        if !arguments.is_null() {
            msg["arguments"] = arguments;
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().await.insert(id.clone(), tx);
        let mut line = msg.to_string();
        line.push('\n');
        if let Err(e) = self.writer.lock().await.write_all(line.as_bytes()).await {
            self.pending.lock().await.remove(&id);
            return Err(err(format!("`{command}`: cannot send: {e} (QEMU exited?)")));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Err(_) => {
                self.pending.lock().await.remove(&id);
                Err(err(format!(
                    "`{command}`: no answer within {:?}",
                    self.timeout
                )))
            }
            Ok(Err(_)) => Err(err(format!(
                "`{command}`: QEMU closed the connection (it exited)"
            ))),
            Ok(Ok(Err(e))) => Err(err(format!("`{command}` failed: {e}"))),
            Ok(Ok(Ok(v))) => Ok(v),
        }
    }
}

async fn read_loop(
    mut lines: tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>,
    pending: Pending,
    events: mpsc::UnboundedSender<QmpEvent>,
) {
    while let Ok(Some(line)) = lines.next_line().await {
        let received = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if let Some(name) = v.get("event").and_then(Value::as_str) {
            let _ = events.send(QmpEvent {
                name: name.to_string(),
                data: v.get("data").cloned().unwrap_or(Value::Null),
                wall_unix_ns: timestamp_ns(&v),
                received,
            });
            continue;
        }
        let Some(id) = v.get("id").and_then(Value::as_str) else {
            continue;
        };
        let Some(tx) = pending.lock().await.remove(id) else {
            continue;
        };
        let answer = if let Some(r) = v.get("return") {
            Ok(r.clone())
        } else {
            let e = v.get("error").cloned().unwrap_or(Value::Null);
            Err(format!(
                "{}: {}",
                e.get("class").and_then(Value::as_str).unwrap_or("Error"),
                e.get("desc")
                    .and_then(Value::as_str)
                    .unwrap_or("no description")
            ))
        };
        let _ = tx.send(answer);
    }
    // Closing: dropping the senders fails every pending command.
    pending.lock().await.clear();
}

/// QEMU's `timestamp {seconds, microseconds}` as nanoseconds since the epoch (0 when
/// absent or negative).
pub fn timestamp_ns(v: &Value) -> u64 {
    let ts = &v["timestamp"];
    let s = ts["seconds"].as_u64().unwrap_or(0);
    let us = ts["microseconds"].as_u64().unwrap_or(0);
    s.saturating_mul(1_000_000_000)
        .saturating_add(us.saturating_mul(1_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    #[test]
    fn timestamps_convert() {
        let v = json!({"event": "STOP", "timestamp": {"seconds": 2, "microseconds": 5}});
        assert_eq!(timestamp_ns(&v), 2_000_005_000);
        assert_eq!(timestamp_ns(&json!({})), 0);
    }

    #[tokio::test]
    async fn talks_to_a_fake_qemu() {
        let dir = std::env::temp_dir().join(format!("qp-qmp-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let sock = dir.join("q.sock");
        let _ = std::fs::remove_file(&sock);
        let listener = UnixListener::bind(&sock).unwrap();
        tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            let mut lines = BufReader::new(r).lines();
            w.write_all(b"{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n")
                .await
                .unwrap();
            while let Ok(Some(l)) = lines.next_line().await {
                let v: Value = serde_json::from_str(&l).unwrap();
                let id = v["id"].clone();
                let out = match v["execute"].as_str() {
                    Some("query-status") => {
                        w.write_all(b"{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n").await.unwrap();
                        json!({"return": {"status": "paused"}, "id": id})
                    }
                    Some("bad") => {
                        json!({"error": {"class": "GenericError", "desc": "nope"}, "id": id})
                    }
                    _ => json!({"return": {}, "id": id}),
                };
                w.write_all(format!("{out}\n").as_bytes()).await.unwrap();
            }
        });
        let mut q = Qmp::connect(&sock, Duration::from_secs(2)).await.unwrap();
        let mut ev = q.take_events().unwrap();
        let r = q.execute("query-status", Value::Null).await.unwrap();
        assert_eq!(r["status"], "paused");
        let e = ev.recv().await.unwrap();
        assert_eq!((e.name.as_str(), e.wall_unix_ns), ("STOP", 1_000_002_000));
        let err = q.execute("bad", Value::Null).await.unwrap_err();
        assert!(err.what.contains("GenericError: nope"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
