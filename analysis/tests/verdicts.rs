//! Outcome and verdict rules on constructed summaries, at every boundary.

use analysis::judge::{Outcome, judge};
use analysis::timeline::Timeline;
use analysis::{Profile, Verdict};
use record::{
    DownloadOutcome, DownloadSummary, GameSummary, MigrationOutcome, MigrationSummary,
    PlayerSummary, ProbeKind, ProbeResult, ProbeSummary, RunSummary, StreamSummary,
};
use serde_json::json;

const MS: u64 = 1_000_000;
const REQ: u64 = 10_000 * MS;
const REATTACHED: u64 = 12_000 * MS;
/// Window end with the default 10 s cool-down.
const END: u64 = REATTACHED + 10_000 * MS;

fn summary(outcome: MigrationOutcome, probe: Option<(&str, ProbeResult)>) -> RunSummary {
    let completed = outcome == MigrationOutcome::Completed;
    RunSummary {
        schema_version: 1,
        complete: true,
        incomplete_reason: None,
        application: "app".into(),
        scenario: "S1".into(),
        run: 1,
        migration: MigrationSummary {
            driver: "test".into(),
            outcome,
            detail: None,
            requested_ns: Some(REQ),
            paused_ns: completed.then_some(11_000 * MS),
            resumed_ns: completed.then_some(11_500 * MS),
            reattached_ns: completed.then_some(REATTACHED),
            preoperation_ms: Some(1000.0),
            downtime_ms: Some(500.0),
            postoperation_ms: Some(500.0),
            total_ms: Some(2000.0),
            passes: 3,
            transferred_bytes: None,
            remaining_bytes: None,
            platform_downtime_ms: None,
            memory_check: None,
        },
        probes: probe
            .map(|(n, v)| [(n.to_string(), v)].into_iter().collect())
            .unwrap_or_default(),
        reachability: None,
    }
}

fn events(lines: &[String]) -> Vec<record::Event> {
    let t = Timeline::parse(&lines.join("\n"));
    assert!(t.bad_lines.is_empty(), "{:?}", t.bad_lines);
    t.events
}

fn measured(s: impl Into<ProbeSummary>) -> ProbeResult {
    ProbeResult::measured(0, s, None)
}

fn player() -> ProbeResult {
    measured(PlayerSummary {
        end_reason: Some(record::EndReason::Duration),
        ..PlayerSummary::default()
    })
}

fn stall(name: &str, start_ns: u64, dur_ms: f64) -> Vec<String> {
    vec![
        format!(
            r#"{{"t_ns":{start_ns},"source":"probe:{name}","kind":"stall_start","media_ms":0}}"#
        ),
        format!(
            r#"{{"t_ns":{},"source":"probe:{name}","kind":"stall_end","duration_ms":{dur_ms},"buffer_ms":1000,"unresolved":false}}"#,
            start_ns + (dur_ms * 1e6) as u64
        ),
    ]
}

fn outcome_of(s: &RunSummary, ev: &[String], p: &Profile) -> Outcome {
    judge(s, &events(ev), p).outcome
}

#[test]
fn verdict_counts() {
    assert_eq!(Verdict::of(10, 0, 0), Some(Verdict::Migratable));
    assert_eq!(Verdict::of(9, 1, 0), Some(Verdict::SemiMigratable));
    assert_eq!(Verdict::of(9, 0, 1), Some(Verdict::SemiMigratable));
    assert_eq!(Verdict::of(0, 10, 0), Some(Verdict::SemiMigratable));
    assert_eq!(Verdict::of(0, 9, 1), Some(Verdict::SemiMigratable));
    assert_eq!(Verdict::of(1, 0, 9), Some(Verdict::SemiMigratable));
    assert_eq!(Verdict::of(0, 0, 10), Some(Verdict::NotMigratable));
    assert_eq!(Verdict::of(1, 0, 0), Some(Verdict::Migratable));
    assert_eq!(Verdict::of(0, 0, 0), None);
    assert_eq!(Verdict::SemiMigratable.as_str(), "semi-migratable");
    assert_eq!(Verdict::NotMigratable.symbol(), "✗");
}

#[test]
fn migration_outcome_decides_failure() {
    let p = Profile::default();
    let ok = summary(MigrationOutcome::Completed, None);
    assert_eq!(outcome_of(&ok, &[], &p), Outcome::Clean);
    let r = judge(&summary(MigrationOutcome::Cancelled, None), &[], &p);
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.reasons[0].key.contains("never ended"), "{r:?}");
    assert_eq!(
        outcome_of(&summary(MigrationOutcome::Failed, None), &[], &p),
        Outcome::Failed
    );
    let mut lost = summary(MigrationOutcome::Completed, None);
    lost.migration.reattached_ns = None;
    assert_eq!(outcome_of(&lost, &[], &p), Outcome::Failed);
}

#[test]
fn stalls_count_only_inside_the_window() {
    let p = Profile::default();
    let s = summary(MigrationOutcome::Completed, Some(("v", player())));
    assert_eq!(
        outcome_of(&s, &stall("v", REQ - 2000 * MS, 500.0), &p),
        Outcome::Clean
    );
    assert_eq!(
        outcome_of(&s, &stall("v", REQ - 1, 1.0), &p),
        Outcome::Clean
    );
    assert_eq!(outcome_of(&s, &stall("v", REQ, 1.0), &p), Outcome::Impaired);
    assert_eq!(outcome_of(&s, &stall("v", END, 1.0), &p), Outcome::Impaired);
    assert_eq!(
        outcome_of(&s, &stall("v", END + 1, 1.0), &p),
        Outcome::Clean
    );
    // another probe's stall does not count
    assert_eq!(
        outcome_of(&s, &stall("other", REQ, 1.0), &p),
        Outcome::Clean
    );
    let r = judge(&s, &events(&stall("v", REQ + MS, 2300.0)), &p);
    assert!(r.reasons[0].detail.contains("2300 ms"), "{r:?}");
}

#[test]
fn profile_overrides_stall_limits() {
    let s = summary(MigrationOutcome::Completed, Some(("v", player())));
    let two: Vec<String> = [stall("v", REQ, 100.0), stall("v", REQ + 1000 * MS, 400.0)].concat();
    let allow_one = Profile {
        max_stalls: Some(1),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &two, &allow_one), Outcome::Impaired);
    let allow_two = Profile {
        max_stalls: Some(2),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &two, &allow_two), Outcome::Clean);
    let ignore_short = Profile {
        max_stalls: Some(1),
        min_stall_ms: Some(100.0),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &two, &ignore_short), Outcome::Impaired);
    let ignore_more = Profile {
        max_stalls: Some(1),
        min_stall_ms: Some(100.001),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &two, &ignore_more), Outcome::Clean);
    let short_cooldown = Profile {
        cooldown_ms: Some(0.0),
        ..Profile::default()
    };
    assert_eq!(
        outcome_of(&s, &stall("v", REATTACHED + 1, 1.0), &short_cooldown),
        Outcome::Clean
    );
}

#[test]
fn player_that_gives_up_or_never_resumes_fails() {
    let p = Profile::default();
    let v = measured(PlayerSummary {
        gave_up: true,
        ..PlayerSummary::default()
    });
    let s = summary(MigrationOutcome::Completed, Some(("v", v)));
    assert_eq!(outcome_of(&s, &[], &p), Outcome::Failed);
    let s = summary(MigrationOutcome::Completed, Some(("v", player())));
    let open = vec![format!(
        r#"{{"t_ns":{},"source":"probe:v","kind":"stall_start","media_ms":0}}"#,
        REQ + MS
    )];
    assert_eq!(outcome_of(&s, &open, &p), Outcome::Failed);
}

fn game_ev(t_ns: u64, rtt_ms: f64) -> String {
    format!(
        r#"{{"t_ns":{t_ns},"source":"probe:g","kind":"game_snapshot","seq":1,"rtt_ns":[{}],"late":false,"duplicate":false}}"#,
        (rtt_ms * 1e6) as u64
    )
}

fn freeze_ev(start_ns: u64, dur_ms: f64) -> String {
    format!(
        r#"{{"t_ns":{},"source":"probe:g","kind":"game_freeze","start_ns":{start_ns},"duration_ms":{dur_ms},"unresolved":false}}"#,
        start_ns + (dur_ms * 1e6) as u64
    )
}

fn game_summary() -> GameSummary {
    serde_json::from_value(json!({
        "protocol": "qgt", "end_reason": "duration", "duration_ms": 30000.0,
        "commands_sent": 0, "snapshots_received": 0, "rtt_p50_ms": null, "rtt_p95_ms": null,
        "rtt_p99_ms": null, "rtt_max_ms": null, "rtt_mean_ms": null, "jitter_ms": 0.0,
        "ipdv_mean_ms": 0.0, "gap_max_ms": 0.0, "freeze_count": 0, "freeze_longest_ms": 0.0,
        "freeze_total_ms": 0.0, "loss_up_count": null, "loss_up_pct": null,
        "loss_down_count": null, "loss_down_pct": null, "loss_round_trip_pct": null,
        "late": 0, "duplicates": 0, "ignored": 0, "tick_jumps": 0, "ticks_missed": 0,
        "sessions": 1, "sessions_lost": 0, "session_continuous": true, "playable": true,
        "send_error_p50_us": null, "send_error_p99_us": null, "send_error_max_us": null
    }))
    .unwrap()
}

fn game() -> ProbeResult {
    measured(game_summary())
}

/// `n` samples at `base_ms` before the window and `n` at `win_ms` inside it.
fn rtts(base_ms: f64, win_ms: f64) -> Vec<String> {
    (0..20)
        .map(|i| game_ev(REQ - (i + 1) * 100 * MS, base_ms))
        .chain((0..20).map(|i| game_ev(REQ + i * 100 * MS, win_ms)))
        .collect()
}

#[test]
fn game_freeze_boundary() {
    let p = Profile::default();
    let s = summary(MigrationOutcome::Completed, Some(("g", game())));
    assert_eq!(outcome_of(&s, &[freeze_ev(REQ, 250.0)], &p), Outcome::Clean);
    assert_eq!(
        outcome_of(&s, &[freeze_ev(REQ, 250.5)], &p),
        Outcome::Impaired
    );
    assert_eq!(
        outcome_of(&s, &[freeze_ev(REQ - 2000 * MS, 900.0)], &p),
        Outcome::Clean
    );
}

#[test]
fn game_rtt_absolute_and_relative_limits() {
    let p = Profile::default();
    let s = summary(MigrationOutcome::Completed, Some(("g", game())));
    assert_eq!(outcome_of(&s, &rtts(20.0, 150.0), &p), Outcome::Clean);
    assert_eq!(outcome_of(&s, &rtts(20.0, 151.0), &p), Outcome::Impaired);
    // baseline already above 150 ms: at most 50 ms over the baseline's p95
    assert_eq!(outcome_of(&s, &rtts(160.0, 210.0), &p), Outcome::Clean);
    assert_eq!(outcome_of(&s, &rtts(160.0, 211.0), &p), Outcome::Impaired);
    let lax = Profile {
        max_rtt_p95_ms: Some(300.0),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &rtts(20.0, 299.0), &lax), Outcome::Clean);
}

/// Snapshots every 50 ms from 2 s before the request to 5 s after it, at `rtt(t)`,
/// none strictly inside `hole` (ms after the request).
fn snapshots(rtt: impl Fn(u64) -> f64, hole: (u64, u64)) -> Vec<String> {
    (0..=140u64)
        .map(|i| REQ - 2000 * MS + i * 50 * MS)
        .filter(|t| !(*t > REQ + hole.0 * MS && *t < REQ + hole.1 * MS))
        .map(|t| game_ev(t, rtt(t)))
        .collect()
}

#[test]
fn game_unplayable_time_boundary_fails_past_one_second() {
    let p = Profile::default();
    let s = summary(MigrationOutcome::Completed, Some(("g", game())));
    // A freeze of exactly 1000 ms: a hitch (impaired), not unplayable for over 1 s.
    let mut ev = snapshots(|_| 20.0, (500, 1500));
    ev.push(freeze_ev(REQ + 500 * MS, 1000.0));
    assert_eq!(outcome_of(&s, &ev, &p), Outcome::Impaired);
    // 1050 ms: failed, and the reason says where (preoperation: before 11 s).
    let mut ev = snapshots(|_| 20.0, (500, 1550));
    ev.push(freeze_ev(REQ + 500 * MS, 1050.0));
    let r = judge(&s, &events(&ev), &p);
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    assert_eq!(r.reasons[0].key, "unplayable in the migration window");
    assert!(
        r.reasons[0]
            .detail
            .contains("1.1 s unplayable (preoperation 1.1 s)"),
        "{}",
        r.reasons[0].detail
    );
    let lax = Profile {
        max_unplayable_ms: Some(2000.0),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &ev, &lax), Outcome::Impaired);
}

#[test]
fn game_lag_past_the_margin_is_unplayable() {
    let p = Profile::default();
    let s = summary(MigrationOutcome::Completed, Some(("g", game())));
    let lag = |ms: f64| {
        move |t: u64| {
            if t > REQ + 1000 * MS && t <= REQ + 3000 * MS {
                ms
            } else {
                20.0
            }
        }
    };
    // 2 s at 250 ms RTT (limit 150 + margin 100): lag (impaired), still playable.
    assert_eq!(
        outcome_of(&s, &snapshots(lag(250.0), (0, 0)), &p),
        Outcome::Impaired
    );
    // 2 s at 251 ms: unplayable for 2 s.
    let r = judge(&s, &events(&snapshots(lag(251.0), (0, 0))), &p);
    assert_eq!(r.outcome, Outcome::Failed, "{r:?}");
    assert!(r.reasons[0].detail.contains("RTT over 250 ms"), "{r:?}");
    // A baseline of 200 ms (Scenario II): the limit moves to 200 + 50 + 100.
    let high = |t: u64| {
        if t > REQ + 1000 * MS && t <= REQ + 3000 * MS {
            350.0
        } else {
            200.0
        }
    };
    assert_eq!(
        outcome_of(&s, &snapshots(high, (0, 0)), &p),
        Outcome::Impaired
    );
}

#[test]
fn game_session_lost_fails() {
    let p = Profile::default();
    let v = measured(GameSummary {
        sessions_lost: 1,
        session_continuous: false,
        ..game_summary()
    });
    let s = summary(MigrationOutcome::Completed, Some(("g", v)));
    let r = judge(&s, &[], &p);
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.reasons[0].key, "game session state lost");
}

#[test]
fn game_never_established_fails_with_its_own_reason() {
    let p = Profile::default();
    let v = measured(GameSummary {
        sessions: 0,
        sessions_lost: 0,
        session_continuous: false,
        snapshots_received: 0,
        end_reason: "no_answer".into(),
        ..game_summary()
    });
    let s = summary(MigrationOutcome::Completed, Some(("g", v)));
    let r = judge(&s, &[], &p);
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(r.reasons[0].key, "game session never established");
    assert!(r.reasons.iter().all(|x| x.key != "game session state lost"));
}

#[test]
fn download_rules() {
    let p = Profile::default();
    let ok = DownloadSummary {
        outcome: DownloadOutcome::Completed,
        url: "http://h/f".into(),
        bytes: 10,
        duration_ms: 1.0,
        throughput_kbps: 1.0,
        throughput_min_interval_kbps: 1.0,
        throughput_max_interval_kbps: 1.0,
        attempts: 1,
        resumes: 0,
        restarted_from_zero: false,
        errors: 0,
        stall_count: 0,
        stall_total_ms: 0.0,
        stall_longest_ms: 0.0,
        sha256: None,
        sha256_ok: Some(true),
        size_ok: None,
        reason: None,
    };
    let s = summary(
        MigrationOutcome::Completed,
        Some(("d", measured(ok.clone()))),
    );
    assert_eq!(outcome_of(&s, &[], &p), Outcome::Clean);
    let bad = [
        (
            "corrupt",
            DownloadSummary {
                outcome: DownloadOutcome::Corrupt,
                ..ok.clone()
            },
        ),
        (
            "failed",
            DownloadSummary {
                outcome: DownloadOutcome::Failed,
                ..ok.clone()
            },
        ),
        (
            "restarted",
            DownloadSummary {
                restarted_from_zero: true,
                ..ok.clone()
            },
        ),
        (
            "sha256",
            DownloadSummary {
                sha256_ok: Some(false),
                ..ok.clone()
            },
        ),
    ];
    for (k, bad) in bad {
        let s = summary(MigrationOutcome::Completed, Some(("d", measured(bad))));
        assert_eq!(outcome_of(&s, &[], &p), Outcome::Failed, "{k}");
    }
    let could_not_run = ProbeResult::failed(ProbeKind::Download, "no HTTP address");
    let s2 = summary(MigrationOutcome::Completed, Some(("d", could_not_run)));
    assert_eq!(outcome_of(&s2, &[], &p), Outcome::Failed);
    let stall = format!(
        r#"{{"t_ns":{},"source":"probe:d","kind":"download_stall_end","start_ns":{REQ},"duration_ms":2000,"unresolved":false}}"#,
        REQ + 2000 * MS
    );
    assert_eq!(
        outcome_of(&s, std::slice::from_ref(&stall), &p),
        Outcome::Clean
    );
    let strict = Profile {
        max_download_stall_ms: Some(1999.0),
        ..Profile::default()
    };
    assert_eq!(
        outcome_of(&s, std::slice::from_ref(&stall), &strict),
        Outcome::Impaired
    );
    let lax = Profile {
        max_download_stall_ms: Some(2000.0),
        ..Profile::default()
    };
    assert_eq!(outcome_of(&s, &[stall], &lax), Outcome::Clean);
}

fn frames(t_ns: u64, dropped: u64, rendered: u64) -> String {
    format!(
        r#"{{"t_ns":{t_ns},"source":"probe:s","kind":"stream_sample","level_ms":0,"min_level_ms":0,"level_percent":null,"frames_rendered":{rendered},"frames_dropped":{dropped},"bytes":0,"bitrate_kbps":0,"state":"playing"}}"#
    )
}

fn stream(cache_ms: f64, disconnects: u64) -> ProbeResult {
    measured(StreamSummary {
        cache_ms,
        disconnects,
        ..StreamSummary::default()
    })
}

#[test]
fn live_stream_dropped_frames_boundary() {
    let p = Profile::default();
    let s = summary(MigrationOutcome::Completed, Some(("s", stream(0.0, 0))));
    // 500 dropped before the window do not count; 10 of 1000 in the window = 1 %
    let one_pct = [frames(REQ - MS, 500, 1000), frames(END, 510, 1990)];
    assert_eq!(outcome_of(&s, &one_pct, &p), Outcome::Clean);
    let over = [frames(REQ - MS, 500, 1000), frames(END, 511, 1989)];
    assert_eq!(outcome_of(&s, &over, &p), Outcome::Impaired);
    // with a cache it is buffered video: dropped frames are not judged
    let s2 = summary(MigrationOutcome::Completed, Some(("s", stream(2000.0, 0))));
    assert_eq!(outcome_of(&s2, &over, &p), Outcome::Clean);
    let s3 = summary(MigrationOutcome::Completed, Some(("s", stream(0.0, 1))));
    assert_eq!(outcome_of(&s3, &[], &p), Outcome::Failed);
}

#[test]
fn a_stream_that_could_not_be_played_failed() {
    let v = ProbeResult::measured(
        0,
        StreamSummary::default(),
        Some("cannot open http://h/live.ts: Not Found".into()),
    );
    let s = summary(MigrationOutcome::Completed, Some(("s", v)));
    let r = judge(&s, &[], &Profile::default());
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.reasons[0].detail.contains("Not Found"), "{r:?}");
}

#[test]
fn unknown_probe_kind_is_noted_not_judged() {
    let s = summary(
        MigrationOutcome::Completed,
        Some((
            "x",
            serde_json::from_value(json!({"probe": "telepathy"})).unwrap(),
        )),
    );
    let r = judge(&s, &[], &Profile::default());
    assert_eq!(r.outcome, Outcome::Clean);
    assert!(r.notes[0].contains("telepathy"), "{r:?}");
}

#[test]
fn profile_from_scenario_file_keys() {
    let p: Profile = serde_json::from_value(json!({"kind": "game", "max_freeze_ms": 100})).unwrap();
    assert_eq!(
        analysis::limits(&p, analysis::AppKind::Download).max_freeze_ms,
        100.0
    );
    assert_eq!(
        analysis::limits(&p, analysis::AppKind::Download).kind,
        analysis::AppKind::Game
    );
    assert!(serde_json::from_value::<Profile>(json!({"max_freez_ms": 1})).is_err());
    let (profiles, errors) = analysis::profiles_from_campaign(&json!({"applications": [
        {"name": "a", "profile": {"max_stalls": 2}},
        {"name": "b", "profile": {"bogus": 1}},
        {"name": "c"}
    ]}));
    assert_eq!(profiles["a"].max_stalls, Some(2));
    assert_eq!(profiles.len(), 1);
    assert!(errors[0].contains("bogus"), "{errors:?}");
}
