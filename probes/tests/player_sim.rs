//! The player core on the virtual clock: exact expectations computed by hand.
//!
//! Setup shared by most tests: one 1000 kbit/s representation (plus higher ones the
//! fixed ABR ignores), 2 s segments (250,000 bytes), a constant 8 Mbit/s link (1 byte
//! per microsecond, so a segment takes exactly 250 ms and the manifest of L bytes
//! exactly L us), no round-trip time, a 20 s maximum buffer.

use probes::player::abr;
use probes::player::retry::RetryPolicy;
use probes::player::session::{Player, PlayerConfig};
use probes::player::sim::{self, Link, Loader, SimLimits, Trace};
use probes::player::summary::{Summarizer, summarize};
use record::{Event, EventKind};
use std::time::Duration;
use url::Url;

const MPD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT600S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="p0" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4" segmentAlignment="true">
      <SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="2000" timescale="1000" startNumber="1"/>
      <Representation id="v0" bandwidth="1000000" width="640" height="360" codecs="avc1.64001f"/>
      <Representation id="v1" bandwidth="3000000" width="1280" height="720" codecs="avc1.64001f"/>
      <Representation id="v2" bandwidth="6000000" width="1920" height="1080" codecs="avc1.64001f"/>
    </AdaptationSet>
  </Period>
</MPD>
"#;

struct Mem(&'static str);

impl Loader for Mem {
    async fn load(&mut self, _: &Url, _: Option<(u64, u64)>) -> Result<Vec<u8>, String> {
        Ok(self.0.as_bytes().to_vec())
    }
}

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn run(abr_name: &str, outages: &[(f64, f64)], duration_s: u64, retry: RetryPolicy) -> Vec<Event> {
    let mut cfg = PlayerConfig::new(Url::parse("http://origin.test/dash/manifest.mpd").unwrap());
    cfg.duration = Some(Duration::from_secs(duration_s));
    cfg.retry = retry;
    let outages: Vec<_> = outages
        .iter()
        .map(|&(a, d)| (Duration::from_secs_f64(a), Duration::from_secs_f64(d)))
        .collect();
    let link = Link::new(Trace::constant_kbps(8000.0), &outages, Duration::ZERO);
    let mut player = Player::new(cfg, abr::by_name(abr_name).unwrap(), Duration::ZERO);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(sim::run(
        &mut player,
        &link,
        &mut Mem(MPD),
        SimLimits::default(),
    ))
}

/// Manifest transfer time in ns (1 byte per microsecond).
fn m() -> u64 {
    MPD.len() as u64 * 1000
}

fn stalls(events: &[Event]) -> Vec<(u64, f64)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StallEnd(s) => Some((e.t_ns, s.duration_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn startup_delay_is_manifest_plus_one_segment() {
    let ev = run("fixed:0", &[], 60, RetryPolicy::dashjs());
    let s = summarize(&ev, "probe:player");
    let expected_ms = (m() + 250 * MS) as f64 / 1e6;
    assert_eq!(s.startup_delay_ms, Some(expected_ms));
    assert_eq!(s.stall_count, 0);
    assert_eq!(s.switch_count, 0);
    assert_eq!(s.avg_bitrate_kbps, 1000.0);
}

#[test]
fn a_10_s_outage_is_covered_by_the_buffer() {
    let ev = run("fixed:0", &[(30.0, 10.0)], 90, RetryPolicy::dashjs());
    let s = summarize(&ev, "probe:player");
    assert_eq!(s.stall_count, 0, "{:?}", stalls(&ev));
    assert!(
        s.request_errors == 0,
        "a 10 s hold is under the 20 s timeout"
    );
}

#[test]
fn a_25_s_outage_gives_one_stall_of_the_analytic_length() {
    // Fill phase: segment k completes at m + 0.25 k s with buffer 1.75 k + 0.25 s;
    // requests continue while the buffer is <= 18 s, so segment 11 completes at
    // m + 2.75 s with 19.5 s; from then on a request goes out whenever the buffer
    // is back at 18 s: at m + 4.25 + 2 j s. The first at or after the outage start
    // (30 s) is j = 13: T = m + 30.25 s, held by the outage. The buffer (18 s at T)
    // runs out at T + 18 s = m + 48.25 s. The request times out at T + 20 s, the
    // dash.js retry goes out 1 s later (still in the outage), gets its answer at the
    // outage end (55 s) and its last byte 250 ms later: the stall ends at 55.25 s.
    let ev = run("fixed:0", &[(30.0, 25.0)], 90, RetryPolicy::dashjs());
    let st = stalls(&ev);
    assert_eq!(st.len(), 1, "{st:?}");
    let expected_start = m() + 48_250 * MS;
    let expected_end = 55_250 * MS;
    assert_eq!(st[0].0, expected_end);
    let expected_ms = (expected_end - expected_start) as f64 / 1e6;
    assert!(
        (st[0].1 - expected_ms).abs() < 1e-6,
        "{} vs {expected_ms}",
        st[0].1
    );
    let s = summarize(&ev, "probe:player");
    assert_eq!(s.stall_count, 1);
    assert_eq!(s.request_errors, 1, "one timeout");
    assert_eq!(s.retries, 1);
    assert_eq!(s.reconnects, 1);
    assert!(!s.gave_up);
}

#[test]
fn dashjs_recovers_on_its_fourth_try() {
    // T = m + 30.25 s; dash.js tries at T, T+21, T+42 and T+63 s (the request plus
    // retryAttempts 3, each cut by the 20 s fragment timeout, 1 s apart). An outage
    // of 75 s (30 s to 105 s) holds the first three; the fourth (m + 93.25 s) is
    // answered when it ends: one stall from T + 18 s to 105.25 s, no give-up.
    let ev = run("fixed:0", &[(30.0, 75.0)], 150, RetryPolicy::dashjs());
    let s = summarize(&ev, "probe:player");
    assert!(!s.gave_up, "{s:?}");
    assert_eq!(s.request_errors, 3);
    assert_eq!(s.retries, 3);
    let st = stalls(&ev);
    assert_eq!(st.len(), 1, "{st:?}");
    assert_eq!(st[0].0, 105_250 * MS);
    let expected_ms = (105_250 * MS - (m() + 48_250 * MS)) as f64 / 1e6;
    assert!((st[0].1 - expected_ms).abs() < 1e-6, "{}", st[0].1);
}

#[test]
fn dashjs_gives_up_after_four_tries_and_stays_stalled() {
    // T = m + 30.25 s; tries at T, T+21, T+42, T+63 each time out after 20 s; after
    // the fourth (T + 83 s) dash.js gives up, blocklists the server and sends
    // nothing more. The buffer ran out at T + 18 s; the stall lasts to the end of
    // the session (200 s), unresolved, and the session ends by its duration.
    let ev = run("fixed:0", &[(30.0, 100.0)], 200, RetryPolicy::dashjs());
    let s = summarize(&ev, "probe:player");
    assert!(s.gave_up);
    assert_eq!(s.request_errors, 4);
    assert_eq!(s.retries, 3);
    assert_eq!(s.end_reason, Some(record::EndReason::Duration));
    let gave_up = ev
        .iter()
        .find(|e| matches!(e.kind, EventKind::GaveUp(_)))
        .unwrap();
    assert_eq!(gave_up.t_ns, m() + 30_250 * MS + 83 * S);
    let last_request = ev
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Request(_) | EventKind::RequestError(_)))
        .map(|e| e.t_ns)
        .max()
        .unwrap();
    assert_eq!(last_request, gave_up.t_ns, "no request after giving up");
    assert_eq!(s.stall_count, 1);
    let expected_ms = (200 * S - (m() + 48_250 * MS)) as f64 / 1e6;
    assert!((s.stall_total_ms - expected_ms).abs() < 1e-6, "{s:?}");
    let end = ev
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::StallEnd(x) => Some(x.unresolved),
            _ => None,
        })
        .unwrap();
    assert!(end, "the stall is still open when the session ends");
}

#[test]
fn persistent_retry_recovers_from_the_same_outage() {
    let ev = run(
        "fixed:0",
        &[(30.0, 100.0)],
        200,
        RetryPolicy::persistent(Duration::from_secs(300)),
    );
    let s = summarize(&ev, "probe:player");
    assert!(!s.gave_up);
    assert_eq!(s.stall_count, 1);
    assert_eq!(s.reconnects, 1);
}

#[test]
fn time_is_fully_accounted_for() {
    let ev = run("fixed:0", &[(30.0, 25.0)], 90, RetryPolicy::dashjs());
    let s = summarize(&ev, "probe:player");
    let total = s.startup_delay_ms.unwrap() + s.play_time_ms + s.stall_total_ms;
    assert!(
        (total - s.session_ms).abs() < 1e-6,
        "{total} vs {}",
        s.session_ms
    );
    assert_eq!(s.session_ms, 90_000.0);
}

#[test]
fn throughput_abr_climbs_to_the_highest_quality_that_fits() {
    // 8 Mbit/s x 0.9 = 7.2 Mbit/s: the 6 Mbit/s level fits.
    let ev = run("throughput", &[], 60, RetryPolicy::dashjs());
    let s = summarize(&ev, "probe:player");
    let last_q = ev
        .iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::Request(r) => r.quality,
            _ => None,
        })
        .unwrap();
    assert_eq!(last_q, 2);
    assert!(s.switch_count >= 1);
    assert_eq!(s.stall_count, 0);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn run_with(
        abr_name: &str,
        kbps: f64,
        outages: &[(f64, f64)],
        max_buffer_s: u64,
        persistent: bool,
    ) -> (Vec<Event>, u64) {
        let mut cfg = PlayerConfig::new(Url::parse("http://origin.test/m.mpd").unwrap());
        cfg.duration = Some(Duration::from_secs(200));
        cfg.max_buffer = Duration::from_secs(max_buffer_s);
        if persistent {
            cfg.retry = RetryPolicy::persistent(Duration::from_secs(60));
        }
        let outages: Vec<_> = outages
            .iter()
            .map(|&(a, d)| (Duration::from_secs_f64(a), Duration::from_secs_f64(d)))
            .collect();
        let link = Link::new(
            Trace::constant_kbps(kbps),
            &outages,
            Duration::from_millis(20),
        );
        let mut player = Player::new(cfg, abr::by_name(abr_name).unwrap(), Duration::ZERO);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ev = rt.block_on(sim::run(
            &mut player,
            &link,
            &mut Mem(MPD),
            SimLimits::default(),
        ));
        (ev, max_buffer_s * 1000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The buffer never goes negative nor above the maximum, every stall that
        /// starts ends, and startup + played + stalled time equals the session time.
        #[test]
        fn buffer_and_time_accounting_hold(
            abr_i in 0usize..6,
            kbps in 200.0f64..20_000.0,
            outages in proptest::collection::vec((0.0f64..150.0, 0.1f64..40.0), 0..4),
            max_buffer_s in 4u64..40,
            persistent in any::<bool>(),
        ) {
            let names = ["throughput", "bba", "bola", "dynamic", "conventional", "fixed:1"];
            let (ev, max_ms) = run_with(names[abr_i], kbps, &outages, max_buffer_s, persistent);
            let s = summarize(&ev, "probe:player");
            for e in &ev {
                if let EventKind::Request(r) = &e.kind {
                    prop_assert!(r.buffer_ms >= 0.0);
                    prop_assert!(r.buffer_ms <= max_ms as f64 + 1e-6, "{} > {}", r.buffer_ms, max_ms);
                }
            }
            let starts = ev.iter().filter(|e| matches!(e.kind, EventKind::StallStart(_))).count();
            let ends = ev.iter().filter(|e| matches!(e.kind, EventKind::StallEnd(_))).count();
            prop_assert_eq!(starts, ends);
            prop_assert_eq!(starts as u64, s.stall_count);
            let startup = s.startup_delay_ms.unwrap_or(s.session_ms);
            let total = startup + s.play_time_ms + s.stall_total_ms;
            prop_assert!((total - s.session_ms).abs() < 1e-3, "{} vs {}", total, s.session_ms);
            let times: Vec<u64> = ev.iter().map(|e| e.t_ns).collect();
            prop_assert!(times.windows(2).all(|w| w[0] <= w[1]), "events in time order");
        }
    }
}

/// `play --clients` folds each session's events into a [`Summarizer`] as they come
/// instead of keeping them: two sessions' events interleaved in time must give each
/// the summary of its own kept list.
#[test]
fn folding_interleaved_sessions_event_by_event_gives_each_its_own_summary() {
    let a = run("fixed:0", &[(30.0, 25.0)], 90, RetryPolicy::dashjs());
    let mut b = run("bola", &[], 60, RetryPolicy::dashjs());
    for e in &mut b {
        e.source = "probe:other".into();
    }
    let mut all: Vec<&Event> = a.iter().chain(b.iter()).collect();
    all.sort_by_key(|e| e.t_ns);
    let (mut fa, mut fb) = (
        Summarizer::new("probe:player"),
        Summarizer::new("probe:other"),
    );
    for e in all {
        fa.observe(e);
        fb.observe(e);
    }
    let (sa, sb) = (fa.finish(), fb.finish());
    assert_eq!(sa, summarize(&a, "probe:player"));
    assert_eq!(sb, summarize(&b, "probe:other"));
    // Not trivially equal: the first session stalled, the second switched.
    assert!(sa.stall_count > 0, "{sa:?}");
    assert!(sb.switch_count > 0 && sb.stall_count == 0, "{sb:?}");
}
