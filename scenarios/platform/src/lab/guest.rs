//! What the guest answers on the lab's network, asked from the client namespace
//! (the guest's boot id tells a migrated guest from a rebooted one).

use super::{LabError, Result};
use crate::net::netns::run_in;

/// The most of an answer [`http_get`] reads.
const MAX_ANSWER_BYTES: u64 = 64 << 10;

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
            // The answer is a boot id: 64 KiB is plenty, and a guest that streams
            // forever cannot grow this buffer.
            let mut buf = Vec::new();
            (&mut s)
                .take(MAX_ANSWER_BYTES)
                .read_to_end(&mut buf)
                .await?;
            Ok::<_, std::io::Error>(buf)
        };
        tokio::time::timeout(timeout, fut).await
    })
    .await
    .map_err(|e| LabError::Failed(format!("{what}: {e}")))?;
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
