//! The memory check after a completed migration: the guest's pattern writer
//! (`serve dirty`, [`crate::lab::init::DIRTY_PORT`]) verifies every page of its
//! working set (`GET /memory`), and the guest's boot id is compared with the one
//! it had before (a guest whose kernel crashed and rebooted has a fresh writer with
//! a fresh, intact working set: only the boot id tells). Both are read from the
//! client namespace, retried until a deadline: right after RESUME the guest may not
//! answer yet (the bridge learns its new port from QEMU's announce; post-copy pages
//! still arrive).

use super::{guest, init, network};
use record::MemoryCheck;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long one HTTP request may take (the verification of a large working set
/// under TCG takes a fraction of a second).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Verifies the guest's memory and boot id from namespace `ns`, trying until
/// `deadline`. Never fails: what went wrong is the record's `error`.
pub(super) async fn check(ns: &str, boot_id_before: &str, wait: Duration) -> MemoryCheck {
    let deadline = Instant::now() + wait;
    let ip = network::GUEST_IP;
    let boot = retry(deadline, || {
        guest::http_get(
            ns,
            SocketAddr::from((ip, init::INFO_PORT)),
            "/boot_id",
            REQUEST_TIMEOUT,
        )
    })
    .await;
    let memory = retry(deadline, || {
        guest::http_get(
            ns,
            SocketAddr::from((ip, init::DIRTY_PORT)),
            "/memory",
            REQUEST_TIMEOUT,
        )
    })
    .await;
    let mut c = MemoryCheck {
        pages: 0,
        mismatches: 0,
        rewrite_checks: 0,
        rewrite_mismatches: 0,
        write_rate_mib_s: None,
        boot_id_unchanged: false,
        error: None,
    };
    let mut errors = Vec::new();
    match boot {
        Ok(b) => c.boot_id_unchanged = b == boot_id_before,
        Err(e) => errors.push(format!("boot id: {e}")),
    }
    match memory.map_err(|e| e.to_string()).and_then(|m| parse(&m)) {
        Ok(r) => {
            c.pages = r.pages;
            c.mismatches = r.mismatches;
            c.rewrite_checks = r.rewrite_checks;
            c.rewrite_mismatches = r.rewrite_mismatches;
            c.write_rate_mib_s = r.rate_mib_s;
        }
        Err(e) => errors.push(format!("memory: {e}")),
    }
    if !errors.is_empty() {
        c.error = Some(format!(
            "the guest's memory could not be verified after the migration ({}); is it alive? see the serial logs in the run folder",
            errors.join("; ")
        ));
    }
    c
}

async fn retry<F, Fut>(deadline: Instant, mut f: F) -> crate::lab::Result<String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = crate::lab::Result<String>>,
{
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The counters of `serve dirty`'s `/memory` answer.
#[derive(Debug, PartialEq)]
struct Report {
    pages: u64,
    mismatches: u64,
    rewrite_checks: u64,
    rewrite_mismatches: u64,
    rate_mib_s: Option<f64>,
}

fn parse(body: &str) -> Result<Report, String> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| format!("`/memory` answered `{body}`, not JSON: {e}"))?;
    let field = |k: &str| {
        v[k].as_u64()
            .ok_or_else(|| format!("`/memory` answered `{body}` without a count `{k}`"))
    };
    Ok(Report {
        pages: field("pages")?,
        mismatches: field("mismatches")?,
        rewrite_checks: field("rewrite_checks")?,
        rewrite_mismatches: field("rewrite_mismatches")?,
        rate_mib_s: v["rate_mib_s"].as_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_writers_report() {
        // The exact line `fixtures::dirty::MemoryReport::to_json` writes.
        let r = fixtures::dirty::MemoryReport {
            pages: 4096,
            mismatches: 2,
            first_mismatch: Some(7),
            rewrite_checks: 100,
            rewrite_mismatches: 1,
            page_writes: 9000,
            rate_mib_s: 15.5,
        };
        assert_eq!(
            parse(&r.to_json()),
            Ok(Report {
                pages: 4096,
                mismatches: 2,
                rewrite_checks: 100,
                rewrite_mismatches: 1,
                rate_mib_s: Some(15.5)
            })
        );
        assert!(parse("oops").unwrap_err().contains("not JSON"));
        assert!(parse("{\"pages\":1}").unwrap_err().contains("mismatches"));
    }
}
