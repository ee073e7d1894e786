//! The download core on a virtual timeline: no sockets, no sleeps.

use super::core::{Action, DownloadConfig, DownloadProbe, Failure};
use super::head::ResponseHead;
use super::summarize;
use crate::record::{DownloadOutcome, Event};
use std::time::Duration;

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn head(status: u16, len: u64, range: Option<(u64, Option<u64>)>) -> ResponseHead {
    ResponseHead {
        status,
        content_length: Some(len),
        content_range: range,
        etag: Some("\"e\"".into()),
        last_modified: None,
        published_sha256: None,
    }
}

fn drain(p: &mut DownloadProbe) -> Vec<Event> {
    std::iter::from_fn(|| p.poll_event()).collect()
}

#[test]
fn stall_is_detected_by_timer_and_resume_asks_for_the_rest() {
    let mut cfg = DownloadConfig::new("http://x/f");
    cfg.backoff_base = ms(100);
    let mut p = DownloadProbe::new(cfg, ms(0));
    assert!(matches!(
        p.poll_action(ms(0)),
        Some(Action::Request {
            range_start: None,
            ..
        })
    ));
    p.on_response(ms(10), head(200, 1000, None));
    p.on_body(ms(20), &[1u8; 400]);
    // The stall timer is due one threshold after the last byte.
    assert_eq!(p.poll_timeout(), Some(ms(100)).min(Some(ms(1020))));
    p.handle_timeout(ms(1020));
    p.on_error(ms(1500), Failure::Reset, "connection reset");
    assert_eq!(p.poll_action(ms(1550)), None, "backoff 100 ms");
    let a = p.poll_action(ms(1600));
    assert_eq!(
        a,
        Some(Action::Request {
            attempt: 2,
            range_start: Some(400),
            if_range: Some("\"e\"".into())
        })
    );
    p.on_response(ms(1610), head(206, 600, Some((400, Some(1000)))));
    p.on_body(ms(1620), &[1u8; 600]);
    p.on_done(ms(1620));
    assert!(p.is_done());
    let s = summarize(&drain(&mut p));
    assert_eq!(
        (s.outcome, s.bytes, s.resumes, s.stall_count),
        (DownloadOutcome::Completed, 1000, 1, 1)
    );
    assert!(
        (s.stall_longest_ms - 1600.0).abs() < 1e-6,
        "{}",
        s.stall_longest_ms
    );
    assert_eq!(s.size_ok, Some(true));
}

#[test]
fn ignored_range_restarts_from_zero_and_attempts_run_out() {
    let mut cfg = DownloadConfig::new("http://x/f");
    cfg.max_attempts = 2;
    cfg.backoff_base = ms(10);
    let mut p = DownloadProbe::new(cfg, ms(0));
    p.poll_action(ms(0));
    p.on_response(ms(1), head(200, 100, None));
    p.on_body(ms(2), &[0u8; 50]);
    p.on_done(ms(3)); // 50 of 100: truncated
    p.poll_action(ms(20));
    p.on_response(ms(21), head(200, 100, None)); // range ignored
    p.on_error(ms(22), Failure::Reset, "reset");
    let s = summarize(&drain(&mut p));
    assert_eq!(
        (s.outcome, s.attempts, s.errors),
        (DownloadOutcome::Failed, 2, 2)
    );
    assert!(s.restarted_from_zero);
    assert!(
        s.reason
            .unwrap_or_default()
            .starts_with("gave up after 2 attempts")
    );
}

#[test]
fn timeout_aborts_the_attempt() {
    let mut cfg = DownloadConfig::new("http://x/f");
    cfg.timeout = ms(500);
    let mut p = DownloadProbe::new(cfg, ms(0));
    p.poll_action(ms(0));
    p.handle_timeout(ms(500));
    assert_eq!(p.poll_action(ms(500)), Some(Action::Abort));
    assert!(matches!(
        p.poll_action(ms(1000)),
        Some(Action::Request { attempt: 2, .. })
    ));
}

#[test]
fn a_resumed_response_of_another_version_restarts_instead_of_mixing() {
    let mut cfg = DownloadConfig::new("http://x/f");
    cfg.backoff_base = ms(10);
    let mut p = DownloadProbe::new(cfg, ms(0));
    p.poll_action(ms(0));
    p.on_response(ms(1), head(200, 1000, None));
    p.on_body(ms(2), &[b'a'; 400]);
    p.on_error(ms(3), Failure::Reset, "reset");
    assert!(matches!(
        p.poll_action(ms(20)),
        Some(Action::Request {
            range_start: Some(400),
            ..
        })
    ));
    // The server ignored If-Range and sent the rest of a changed file.
    let mut changed = head(206, 600, Some((400, Some(1000))));
    changed.etag = Some("\"f\"".into());
    p.on_response(ms(21), changed);
    p.on_body(ms(22), &[b'b'; 600]);
    assert!(!p.is_done(), "the mismatched body is not taken");
    assert_eq!(p.bytes(), 0, "the old version's bytes are discarded");
    let a = p.poll_action(ms(100));
    assert!(
        matches!(
            a,
            Some(Action::Request {
                range_start: None,
                if_range: None,
                ..
            })
        ),
        "{a:?}"
    );
    let mut whole = head(200, 1000, None);
    whole.etag = Some("\"f\"".into());
    p.on_response(ms(101), whole);
    p.on_body(ms(102), &[b'b'; 1000]);
    p.on_done(ms(102));
    let events = drain(&mut p);
    let s = summarize(&events);
    assert_eq!(
        (s.outcome, s.bytes, s.attempts),
        (DownloadOutcome::Completed, 1000, 3)
    );
    assert!(s.restarted_from_zero);
    use sha2::Digest;
    let want: [u8; 32] = sha2::Sha256::digest([b'b'; 1000]).into();
    assert_eq!(
        s.sha256.as_deref(),
        Some(super::head::hex(&want).as_str()),
        "only the new version's bytes"
    );
    assert!(events.iter().any(|e| matches!(&e.kind,
        crate::record::EventKind::DownloadError(d) if d.error == "changed")));
}

#[test]
fn without_a_strong_etag_if_range_carries_the_last_modified_date() {
    let mut p = DownloadProbe::new(DownloadConfig::new("http://x/f"), ms(0));
    p.poll_action(ms(0));
    let mut h = head(200, 1000, None);
    h.etag = Some("W/\"weak\"".into());
    h.last_modified = Some("Mon, 01 Jan 2024 00:00:00 GMT".into());
    p.on_response(ms(1), h);
    p.on_body(ms(2), &[0u8; 10]);
    p.on_error(ms(3), Failure::Reset, "reset");
    match p.poll_action(ms(10_000)) {
        Some(Action::Request { if_range, .. }) => {
            assert_eq!(if_range.as_deref(), Some("Mon, 01 Jan 2024 00:00:00 GMT"))
        }
        other => panic!("{other:?}"),
    }
}
