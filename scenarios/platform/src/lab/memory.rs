//! The memory check after a completed migration: the guest's pattern writer
//! (`serve dirty`, [`crate::lab::init::DIRTY_PORT`]) verifies every page of its
//! working set (`GET /memory`), and the guest's boot id is compared with the one
//! it had before (a guest whose kernel crashed and rebooted has a fresh writer with
//! a fresh, intact working set: only the boot id tells). Both are read from the
//! client namespace, retried until a deadline: right after RESUME the guest may not
//! answer yet (the bridge learns its new port from QEMU's announce; post-copy pages
//! still arrive). Then the writer is watched until its page count moves: a guest
//! whose kernel lost a timer across the migration still answers HTTP, but its paced
//! writer sleeps for ever and nothing it should write is written.

use super::{guest, init, network};
use record::MemoryCheck;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long one HTTP request may take (the verification of a large working set
/// under TCG takes a fraction of a second).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The least time the writer is watched for a new page write (its pacing step is
/// 10 ms; a guest just resumed by post-copy waits for its pages).
const WATCH_MIN: Duration = Duration::from_secs(2);
/// The most: a writer asked for a very low rate writes a page every few seconds.
const WATCH_MAX: Duration = Duration::from_secs(30);
/// Page writes the watch allows for at the writer's own average rate.
const WATCH_PAGES: f64 = 10.0;
/// Between two readings while watching (each reading verifies the working set).
const WATCH_STEP: Duration = Duration::from_millis(250);

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
    let memory = retry(deadline, || read_memory(ns)).await;
    let mut c = MemoryCheck {
        pages: 0,
        mismatches: 0,
        rewrite_checks: 0,
        rewrite_mismatches: 0,
        write_rate_mib_s: None,
        boot_id_unchanged: false,
        writer_advanced: None,
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
            c.writer_advanced = Some(advanced(ns, &r).await);
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

/// Whether the writer's page count moves past `first`'s within the watch.
async fn advanced(ns: &str, first: &Report) -> bool {
    let end = Instant::now() + watch(first.rate_mib_s);
    loop {
        tokio::time::sleep(WATCH_STEP).await;
        let now = read_memory(ns).await.map_err(|e| e.to_string());
        if now
            .and_then(|m| parse(&m))
            .is_ok_and(|r| r.page_writes > first.page_writes)
        {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
    }
}

/// How long to watch a writer whose average rate is `rate` MiB/s.
fn watch(rate: Option<f64>) -> Duration {
    let pages_per_s = rate.unwrap_or(0.0) * f64::from(1u32 << 20) / 4096.0;
    if pages_per_s > 0.0 {
        Duration::from_secs_f64((WATCH_PAGES / pages_per_s).min(WATCH_MAX.as_secs_f64()))
            .max(WATCH_MIN)
    } else {
        WATCH_MIN
    }
}

fn read_memory(ns: &str) -> impl std::future::Future<Output = crate::lab::Result<String>> + '_ {
    guest::http_get(
        ns,
        SocketAddr::from((network::GUEST_IP, init::DIRTY_PORT)),
        "/memory",
        REQUEST_TIMEOUT,
    )
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
    page_writes: u64,
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
        page_writes: field("page_writes")?,
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
                page_writes: 9000,
                rate_mib_s: Some(15.5)
            })
        );
        assert!(parse("oops").unwrap_err().contains("not JSON"));
        assert!(parse("{\"pages\":1}").unwrap_err().contains("mismatches"));
    }

    #[test]
    fn the_watch_allows_ten_pages_at_the_writers_rate_within_bounds() {
        // 1 MiB/s = 256 pages/s: 10 pages in 39 ms, under the least watch.
        assert_eq!(watch(Some(1.0)), WATCH_MIN);
        // 0.001 MiB/s = 0.256 pages/s: 10 pages in 39 s, over the most.
        assert_eq!(watch(Some(0.001)), WATCH_MAX);
        // 0.002 MiB/s: 10 pages in 19.5 s.
        let w = watch(Some(0.002)).as_secs_f64();
        assert!((w - 19.53).abs() < 0.01, "{w}");
        assert_eq!(watch(None), WATCH_MIN);
        assert_eq!(watch(Some(0.0)), WATCH_MIN);
    }
}
