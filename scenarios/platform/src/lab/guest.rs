//! Running async code inside a network namespace: a dedicated thread enters the
//! namespace (`setns`) and runs its own current-thread tokio runtime, so every
//! socket it opens belongs to that namespace. Used to attach probes to the lab's
//! client namespace and to read the guest's boot id. Never changes the calling
//! thread's namespace.

use super::{LabError, Result};
use std::future::Future;
use std::os::fd::AsRawFd;

/// Runs `make()`'s future to completion on a new thread inside namespace `ns`
/// (`/run/netns/<ns>`) and returns its output.
pub async fn run_in<F, Fut, T>(ns: &str, make: F) -> Result<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let path = std::path::PathBuf::from("/run/netns").join(ns);
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name(format!("netns-{ns}"))
        .spawn(move || {
            let result = (|| {
                let f = std::fs::File::open(&path)
                    .map_err(|e| LabError::io("cannot open the namespace", &path, e))?;
                // SAFETY: setns on a valid namespace fd, affecting only this thread.
                if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    let e = std::io::Error::last_os_error();
                    return Err(LabError::io(
                        "cannot enter the namespace (root needed)",
                        &path,
                        e,
                    ));
                }
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        LabError::io("cannot start a runtime in the namespace", &path, e)
                    })?;
                Ok(rt.block_on(make()))
            })();
            let _ = tx.send(result);
        })
        .map_err(|e| LabError::io("cannot spawn a thread", "/run/netns", e))?;
    rx.await
        .map_err(|_| LabError::Failed(format!("the task in namespace {ns} panicked")))?
}

/// GETs `http://addr/path` with a plain HTTP/1.0 request from namespace `ns` and
/// returns the body (used for the guest's `/boot_id`).
pub async fn http_get(
    ns: &str,
    addr: std::net::SocketAddr,
    path: &str,
    timeout: std::time::Duration,
) -> Result<String> {
    let path = path.to_string();
    let what = format!("GET http://{addr}{path} from namespace {ns}");
    let r = run_in(ns, move || async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let fut = async {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
                .await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            Ok::<_, std::io::Error>(buf)
        };
        tokio::time::timeout(timeout, fut).await
    })
    .await?;
    let buf = r
        .map_err(|_| LabError::Failed(format!("{what}: no answer within {timeout:?}")))?
        .map_err(|e| LabError::Failed(format!("{what}: {e}")))?;
    let text = String::from_utf8_lossy(&buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if !head.starts_with("HTTP/1.") || head.split_whitespace().nth(1) != Some("200") {
        return Err(LabError::Failed(format!(
            "{what}: unexpected answer `{}`",
            head.lines().next().unwrap_or("")
        )));
    }
    Ok(body.trim().to_string())
}
