//! Synthetic campaigns: deterministic results folders in the layout of
//! docs/results.md, written as typed record files, with the five applications of the
//! study's Table 2 and every probe kind, for tests, the benchmark
//! (`examples/synth.rs`) and the docs. The numbers are made up but shaped like the
//! study's: preoperation grows as bandwidth falls and loss rises, the encoder-inside
//! stream never finishes migrating, the relay stream's client sometimes disconnects,
//! the game freezes when downtime is long. Their driver is named `synthetic`.

use record::seed::Rng;
use record::*;
use serde_json::{Value, json};
use std::io::Write as _;
use std::path::Path;

/// One synthetic network scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthScenario {
    /// Name (a column of the table).
    pub name: String,
    /// Migration link rate, Mbit/s.
    pub rate_mbit: f64,
    /// Migration link loss, %.
    pub loss_pct: f64,
    /// Client link one-way delay, ms.
    pub delay_ms: f64,
    /// Flavor.
    pub flavor: String,
    /// Live or block.
    pub mode: Mode,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    /// Campaign name.
    pub name: String,
    /// Network scenarios.
    pub scenarios: Vec<SynthScenario>,
    /// Runs per application x scenario.
    pub runs_per_cell: u32,
    /// Probe events per run (about).
    pub events_per_run: usize,
    /// Seed.
    pub seed: u64,
}

fn scenario(
    name: &str,
    rate: f64,
    loss: f64,
    delay: f64,
    flavor: &str,
    mode: Mode,
) -> SynthScenario {
    SynthScenario {
        name: name.into(),
        rate_mbit: rate,
        loss_pct: loss,
        delay_ms: delay,
        flavor: flavor.into(),
        mode,
    }
}

impl SynthSpec {
    /// Table 2 of the study: Scenario I (1000 Mbit/s) and II (100 Mbit/s, 100 ms).
    pub fn table2(runs_per_cell: u32) -> Self {
        SynthSpec {
            name: "synthetic-table2".into(),
            scenarios: vec![
                scenario("S1", 1000.0, 0.0, 0.0, "m1.small", Mode::Live),
                scenario("S2", 100.0, 0.0, 100.0, "m1.small", Mode::Live),
            ],
            runs_per_cell,
            events_per_run: 100,
            seed: 7,
        }
    }

    /// The benchmark: flavors x 1000/100/10 Mbit/s x 0/1/5 % drop x live/block
    /// (36 scenarios, trimmed to `scenarios`), `runs_per_cell` runs each.
    pub fn network(scenarios: usize, runs_per_cell: u32, events_per_run: usize) -> Self {
        let mut all = Vec::new();
        for flavor in ["m1.tiny", "m1.small"] {
            for mode in Mode::ALL {
                for rate in [1000.0, 100.0, 10.0] {
                    for loss in [0.0, 1.0, 5.0] {
                        let name = format!("{flavor}-{mode}-{rate}mbit-{loss}pct");
                        all.push(scenario(&name, rate, loss, 0.0, flavor, mode));
                    }
                }
            }
        }
        all.truncate(scenarios.max(1));
        SynthSpec {
            name: "synthetic-network".into(),
            scenarios: all,
            runs_per_cell,
            events_per_run,
            seed: 11,
        }
    }
}

/// The applications: name, probe kind.
pub const APPLICATIONS: [(&str, ProbeKind); 5] = [
    ("download", ProbeKind::Download),
    ("stream-encoder-inside", ProbeKind::Stream),
    ("stream-relay", ProbeKind::Stream),
    ("dash", ProbeKind::Player),
    ("game", ProbeKind::Game),
];

const S: u64 = 1_000_000_000;
/// The wall clock at `t_ns` = 0 of every synthetic run.
const WALL_ANCHOR_UNIX_NS: u64 = 1_700_000_000_000_000_000;
/// The driver every synthetic run names.
const DRIVER: &str = "synthetic";

struct RunGen<'a> {
    events: Vec<Event>,
    sc: &'a SynthScenario,
    rng: Rng,
}

impl RunGen<'_> {
    /// The next random number in [0, 1).
    fn next(&mut self) -> f64 {
        self.rng.unit()
    }

    fn ev(&mut self, t_ns: u64, source: &str, kind: EventKind) {
        self.events.push(Event {
            t_ns,
            source: source.into(),
            kind,
        });
    }
}

/// Writes the campaign into `dir` (created); returns the number of runs written.
pub fn write_campaign(dir: &Path, spec: &SynthSpec) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let apps: Vec<Value> = APPLICATIONS
        .iter()
        .map(|(n, p)| json!({"name": n, "probes": [{"name": p.as_str(), "kind": p.as_str()}]}))
        .collect();
    let scns: Vec<Value> = spec
        .scenarios
        .iter()
        .map(|s| json!({"name": s.name, "migration": {"rate_mbit": s.rate_mbit, "loss_pct": s.loss_pct}, "client": {"delay_ms": s.delay_ms}}))
        .collect();
    let campaign = json!({"name": spec.name, "tool": "qoeprobe synthetic", "runs": spec.runs_per_cell, "applications": apps, "scenarios": scns});
    std::fs::write(
        dir.join("campaign.json"),
        serde_json::to_string_pretty(&campaign)?,
    )?;
    let mut count = 0;
    for (ai, (app, probe)) in APPLICATIONS.iter().enumerate() {
        for (si, sc) in spec.scenarios.iter().enumerate() {
            for k in 1..=spec.runs_per_cell {
                let seed = spec.seed ^ ((ai as u64) << 48) ^ ((si as u64) << 32) ^ k as u64;
                write_run(dir, spec, app, *probe, sc, k, seed)?;
                count += 1;
            }
        }
    }
    Ok(count)
}

#[allow(clippy::too_many_arguments)]
fn write_run(
    dir: &Path,
    spec: &SynthSpec,
    app: &str,
    probe: ProbeKind,
    sc: &SynthScenario,
    k: u32,
    seed: u64,
) -> std::io::Result<()> {
    let run_dir = dir.join(app).join(&sc.name).join(format!("run-{k}"));
    std::fs::create_dir_all(&run_dir)?;
    let mut g = RunGen {
        events: Vec::new(),
        sc,
        rng: Rng::standard(seed),
    };
    let slow = 1.0 / (1.0 - g.sc.loss_pct / 100.0).powi(8);
    let preop = (256.0 * 8.0 / g.sc.rate_mbit
        * 1000.0
        * (if sc.mode == Mode::Block { 3.0 } else { 1.0 })
        * slow
        + 300.0)
        * (0.9 + 0.2 * g.next());
    let downtime = (20.0 + 2000.0 / g.sc.rate_mbit)
        * (if sc.mode == Mode::Block { 1.6 } else { 1.0 })
        * (0.8 + 0.4 * g.next());
    let postop = 80.0 + 60.0 * g.next();
    let req = 10 * S;
    let never_ending = app == "stream-encoder-inside";
    let paused = req + (preop * 1e6) as u64;
    let resumed = paused + (downtime * 1e6) as u64;
    let reattached = resumed + (postop * 1e6) as u64;
    let end = (reattached + 20 * S).max(40 * S);
    g.ev(
        req,
        "migration",
        EventKind::MigrationRequested(MigrationRequested {
            driver: DRIVER.into(),
            mode: sc.mode,
            copy: Copy::Precopy,
        }),
    );
    if !never_ending {
        let origin = || "model".to_string();
        g.ev(
            paused,
            "migration",
            EventKind::MigrationPaused(MigrationPaused { origin: origin() }),
        );
        g.ev(
            resumed,
            "migration",
            EventKind::MigrationResumed(MigrationResumed { origin: origin() }),
        );
        g.ev(
            reattached,
            "migration",
            EventKind::NetworkReattached(NetworkReattached {
                origin: "reachability".into(),
            }),
        );
    }
    let n = spec.events_per_run.max(10);
    let src = probe_source(probe.as_str());
    let gap_from = paused;
    let gap_to = if never_ending { paused } else { reattached };
    let probe_summary: ProbeSummary = match probe {
        ProbeKind::Player => player(&mut g, &src, n, end, (gap_from, gap_to)).into(),
        ProbeKind::Game => game(&mut g, &src, n, end, (gap_from, gap_to)).into(),
        ProbeKind::Download => download(&mut g, &src, n, end, (gap_from, gap_to)).into(),
        ProbeKind::Stream => stream(
            &mut g,
            &src,
            n,
            end,
            (gap_from, gap_to),
            app == "stream-relay",
        )
        .into(),
    };
    let ms = |a: u64, b: u64| (b - a) as f64 / 1e6;
    let migration = if never_ending {
        MigrationSummary {
            driver: DRIVER.into(),
            outcome: MigrationOutcome::Cancelled,
            detail: Some("remaining RAM oscillated 0-5 % for 20 minutes".into()),
            requested_ns: Some(req),
            paused_ns: None,
            resumed_ns: None,
            reattached_ns: None,
            preoperation_ms: None,
            downtime_ms: None,
            postoperation_ms: None,
            total_ms: Some(1_200_000.0),
            passes: 400,
            transferred_bytes: Some(9_000_000_000),
            remaining_bytes: Some(4_000_000),
            platform_downtime_ms: None,
        }
    } else {
        MigrationSummary {
            driver: DRIVER.into(),
            outcome: MigrationOutcome::Completed,
            detail: None,
            requested_ns: Some(req),
            paused_ns: Some(paused),
            resumed_ns: Some(resumed),
            reattached_ns: Some(reattached),
            preoperation_ms: Some(ms(req, paused)),
            downtime_ms: Some(ms(paused, resumed)),
            postoperation_ms: Some(ms(resumed, reattached)),
            total_ms: Some(ms(req, reattached)),
            passes: 3 + (g.next() * 3.0) as u64,
            transferred_bytes: Some(99_000_000),
            remaining_bytes: None,
            platform_downtime_ms: Some(downtime * 0.5),
        }
    };
    let summary = RunSummary {
        schema_version: SCHEMA_VERSION,
        complete: true,
        incomplete_reason: None,
        application: app.into(),
        scenario: sc.name.clone(),
        run: k,
        migration,
        probes: [(
            probe.as_str().to_string(),
            ProbeResult::measured(WALL_ANCHOR_UNIX_NS, probe_summary, None),
        )]
        .into_iter()
        .collect(),
        reachability: Some(ReachabilitySummary {
            interval_ms: 50.0,
            longest_gap_ms: ms(gap_from, gap_to),
            gaps: 1,
        }),
    };
    let info = RunInfo {
        schema_version: SCHEMA_VERSION,
        campaign: spec.name.clone(),
        application: app.into(),
        scenario: sc.name.clone(),
        run: k,
        seed,
        driver: DRIVER.into(),
        mode: sc.mode,
        copy: Copy::Precopy,
        flavor: sc.flavor.clone(),
        conditions: RunConditions {
            migration: LinkCondition {
                rate_mbit: Some(sc.rate_mbit),
                loss_pct: Some(sc.loss_pct),
                delay_ms: None,
            },
            client: LinkCondition {
                delay_ms: Some(sc.delay_ms),
                ..LinkCondition::NONE
            },
        },
        wall_anchor_unix_ns: WALL_ANCHOR_UNIX_NS,
    };
    g.events.sort_by_key(|e| e.t_ns);
    let mut tl = std::io::BufWriter::new(std::fs::File::create(run_dir.join("timeline.jsonl"))?);
    for e in &g.events {
        serde_json::to_writer(&mut tl, e)?;
        tl.write_all(b"\n")?;
    }
    tl.flush()?;
    std::fs::write(
        run_dir.join("summary.json"),
        serde_json::to_string_pretty(&summary)?,
    )?;
    std::fs::write(
        run_dir.join("run.json"),
        serde_json::to_string_pretty(&info)?,
    )?;
    Ok(())
}

fn in_gap(t: u64, gap: (u64, u64)) -> bool {
    t >= gap.0 && t < gap.1
}

fn player(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> PlayerSummary {
    let step = end / n as u64;
    let buffer_s = 20.0;
    let rate = if g.sc.delay_ms > 50.0 { 2500.0 } else { 4000.0 };
    g.ev(
        S / 2,
        src,
        EventKind::Startup(Startup {
            delay_ms: 500.0,
            buffer_ms: 2000.0,
        }),
    );
    let gap_s = (gap.1 - gap.0) as f64 / 1e9;
    let stall = gap_s > buffer_s * 0.1 && g.next() < 0.5;
    let mut stall_ms = 0.0;
    for i in 1..n as u64 {
        let t = i * step;
        if in_gap(t, gap) {
            continue;
        }
        let buf = if t < 5 * S {
            t as f64 / 5e9 * buffer_s
        } else {
            buffer_s - 2.0 * g.next()
        };
        let br = if t > gap.1 && g.sc.delay_ms > 50.0 {
            rate * 0.6
        } else {
            rate
        };
        let seconds = 2.0;
        g.ev(
            t,
            src,
            EventKind::Request(RequestRecord {
                request_type: RequestType::Media,
                url: format!("http://10.77.0.2/dash/v0/{i}.m4s"),
                range: None,
                status: 200,
                tscheduled_ns: t,
                trequest_ns: t,
                tresponse_ns: t,
                tfinish_ns: t,
                bytes: (br * 1000.0 / 8.0 * seconds) as u64,
                throughput_kbps: br * 3.0,
                attempt: 1,
                quality: Some(0),
                bitrate_kbps: Some(br),
                number: Some(i),
                media_start_ms: Some((i - 1) as f64 * seconds * 1000.0),
                media_duration_ms: Some(seconds * 1000.0),
                buffer_ms: buf * 1000.0,
            }),
        );
    }
    if stall {
        stall_ms = 400.0 + 600.0 * g.next();
        g.ev(
            gap.1,
            src,
            EventKind::StallStart(StallStart { media_ms: 12000.0 }),
        );
        g.ev(
            gap.1 + (stall_ms * 1e6) as u64,
            src,
            EventKind::StallEnd(StallEnd {
                duration_ms: stall_ms,
                buffer_ms: 2000.0,
                unresolved: false,
            }),
        );
    }
    let played_ms = end as f64 / 1e6 - 500.0;
    g.ev(
        end,
        src,
        EventKind::Ended(Ended {
            reason: EndReason::Duration,
            played_ms,
        }),
    );
    PlayerSummary {
        url: "http://10.77.0.2/dash/manifest.mpd".into(),
        abr: "throughput".into(),
        retry: "dashjs".into(),
        format: "dash".into(),
        live: false,
        startup_delay_ms: Some(500.0),
        stall_count: stall as u64,
        stall_total_ms: stall_ms,
        stall_longest_ms: stall_ms,
        rebuffer_ratio: stall_ms / (end as f64 / 1e6),
        avg_bitrate_kbps: rate,
        bitrate_change_sum_kbps: 0.0,
        switch_count: 0,
        segments: n as u64,
        play_time_ms: played_ms,
        session_ms: end as f64 / 1e6,
        bytes: 20_000_000,
        request_errors: 0,
        retries: 0,
        reconnects: 0,
        gave_up: false,
        end_reason: Some(EndReason::Duration),
        qoe_linear: 100.0,
        request_lateness_p50_ms: 0.2,
        request_lateness_p99_ms: 1.0,
        request_lateness_max_ms: 2.0,
    }
}

fn game(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> GameSummary {
    // snapshots every 100 ms in two stretches: from 2 s before the request (the
    // baseline), and from 1 s before the pause through the outage
    let step = S / 10;
    let half = (n / 2) as u64;
    let times: Vec<u64> = (0..half)
        .map(|i| 8 * S + i * step)
        .chain((0..n as u64 - half).map(|i| gap.0.saturating_sub(S) + i * step))
        .filter(|t| *t < end)
        .collect();
    let base = 2.0 * g.sc.delay_ms + 1.0;
    let mut rtts = Vec::new();
    let mut last = 0u64;
    let mut freezes = Vec::new();
    for (i, t) in times.into_iter().enumerate() {
        if in_gap(t, gap) || t <= last {
            continue;
        }
        let extra = if t >= gap.1 && t < gap.1 + 2 * S {
            60.0
        } else {
            0.0
        };
        let rtt = base + extra + 3.0 * g.next();
        rtts.push(rtt);
        if last > 0 && last < gap.1 && t >= gap.1 && t - last > 250_000_000 {
            let d = (t - last) as f64 / 1e6;
            freezes.push(d);
            g.ev(
                t,
                src,
                EventKind::GameFreeze(GameFreeze {
                    start_ns: last,
                    duration_ms: d,
                    ticks_missed: Some((d / 15.0) as u64),
                    unresolved: false,
                }),
            );
        }
        g.ev(
            t,
            src,
            EventKind::GameSnapshot(GameSnapshot {
                seq: i as u32,
                tick: None,
                ack_seq: None,
                cmd_count: None,
                rtt_ns: vec![(rtt * 1e6) as u64],
                peer_send_ns: None,
                late: false,
                duplicate: false,
            }),
        );
        last = t;
    }
    let lost = g.sc.rate_mbit < 50.0 && g.next() < 0.5;
    rtts.sort_by(f64::total_cmp);
    let p = |q: f64| {
        rtts.get(((rtts.len() as f64 * q) as usize).min(rtts.len().saturating_sub(1)))
            .copied()
    };
    let longest = freezes.iter().copied().fold(0.0, f64::max);
    GameSummary {
        protocol: "qgt".into(),
        end_reason: "duration".into(),
        duration_ms: end as f64 / 1e6,
        commands_sent: n as u64,
        snapshots_received: rtts.len() as u64,
        rtt_p50_ms: p(0.5),
        rtt_p95_ms: p(0.95),
        rtt_p99_ms: p(0.99),
        rtt_max_ms: rtts.last().copied(),
        rtt_mean_ms: Some(rtts.iter().sum::<f64>() / rtts.len().max(1) as f64),
        jitter_ms: 0.5,
        ipdv_mean_ms: 0.8,
        gap_max_ms: longest,
        freeze_count: freezes.len() as u64,
        freeze_longest_ms: longest,
        freeze_total_ms: freezes.iter().sum::<f64>(),
        loss_up_count: None,
        loss_up_pct: None,
        loss_down_count: None,
        loss_down_pct: None,
        loss_round_trip_pct: None,
        late: 0,
        duplicates: 0,
        ignored: 0,
        tick_jumps: freezes.len() as u64,
        ticks_missed: 0,
        sessions: 1,
        sessions_lost: lost as u64,
        session_continuous: !lost,
        playable: longest <= 250.0 && !lost,
        send_error_p50_us: None,
        send_error_p99_us: None,
        send_error_max_us: None,
    }
}

fn download(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> DownloadSummary {
    let step = end / n as u64;
    let mut total = 0u64;
    for i in 1..n as u64 {
        let t = i * step;
        let kbps = if in_gap(t, gap) {
            0.0
        } else {
            40_000.0 * (0.8 + 0.4 * g.next())
        };
        let bytes = (kbps * 1000.0 / 8.0 * step as f64 / 1e9) as u64;
        total += bytes;
        g.ev(
            t,
            src,
            EventKind::DownloadProgress(DownloadProgress {
                interval_ms: step as f64 / 1e6,
                bytes,
                total_bytes: total,
                throughput_kbps: kbps,
            }),
        );
    }
    let d = (gap.1 - gap.0) as f64 / 1e6;
    g.ev(
        gap.1,
        src,
        EventKind::DownloadStallEnd(DownloadStallEnd {
            start_ns: gap.0,
            duration_ms: d,
            unresolved: false,
        }),
    );
    DownloadSummary {
        outcome: DownloadOutcome::Completed,
        url: "http://10.77.0.2/file/1g.bin".into(),
        bytes: total,
        duration_ms: end as f64 / 1e6,
        throughput_kbps: 40_000.0,
        throughput_min_interval_kbps: 0.0,
        throughput_max_interval_kbps: 48_000.0,
        attempts: 1,
        resumes: 0,
        restarted_from_zero: false,
        errors: 0,
        stall_count: 1,
        stall_total_ms: d,
        stall_longest_ms: d,
        sha256: Some("00".into()),
        sha256_ok: Some(true),
        size_ok: Some(true),
        reason: None,
    }
}

fn stream(
    g: &mut RunGen,
    src: &str,
    n: usize,
    end: u64,
    gap: (u64, u64),
    relay: bool,
) -> StreamSummary {
    let step = end / n as u64;
    let disconnect = relay && g.next() < 0.48;
    let (mut dropped, mut rendered) = (0u64, 0u64);
    for i in 1..n as u64 {
        let t = i * step;
        if disconnect && t > gap.1 {
            break;
        }
        rendered += 25 * step / S;
        if in_gap(t, gap) {
            dropped += 1;
        }
        let level_ms = if in_gap(t, gap) { 0.0 } else { 2000.0 };
        g.ev(
            t,
            src,
            EventKind::StreamSample(StreamSample {
                level_ms,
                min_level_ms: level_ms,
                level_percent: None,
                frames_rendered: rendered,
                frames_dropped: dropped,
                short_underruns: 0,
                bytes: 0,
                bitrate_kbps: 0.0,
                state: "playing".into(),
            }),
        );
    }
    StreamSummary {
        url: "http://10.77.0.2:8082/live.ts".into(),
        cache_ms: 0.0,
        stall_count: 0,
        stall_total_ms: 0.0,
        stall_longest_ms: 0.0,
        frames_rendered: rendered,
        frames_dropped: dropped,
        disconnects: disconnect as u64,
        reconnects: 0,
        min_cache_ms: 0.0,
        ..StreamSummary::default()
    }
}
