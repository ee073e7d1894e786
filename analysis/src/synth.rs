//! Synthetic campaigns: deterministic results folders in the layout of DESIGN.md
//! section 4, with the five applications of the study's Table 2 and every probe
//! kind, for tests, the benchmark (`examples/synth.rs`) and the docs. The numbers
//! are made up but shaped like the study's: preoperation grows as bandwidth falls
//! and loss rises, the encoder-inside stream never finishes migrating, the relay
//! stream's client sometimes disconnects, the game freezes when downtime is long.

use serde_json::{Value, json};
use std::fmt::Write as _;
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
    /// `live` or `block`.
    pub mode: String,
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
    mode: &str,
) -> SynthScenario {
    SynthScenario {
        name: name.into(),
        rate_mbit: rate,
        loss_pct: loss,
        delay_ms: delay,
        flavor: flavor.into(),
        mode: mode.into(),
    }
}

impl SynthSpec {
    /// Table 2 of the study: Scenario I (1000 Mbit/s) and II (100 Mbit/s, 100 ms).
    pub fn table2(runs_per_cell: u32) -> Self {
        SynthSpec {
            name: "synthetic-table2".into(),
            scenarios: vec![
                scenario("S1", 1000.0, 0.0, 0.0, "m1.small", "live"),
                scenario("S2", 100.0, 0.0, 100.0, "m1.small", "live"),
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
            for mode in ["live", "block"] {
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
pub const APPLICATIONS: [(&str, &str); 5] = [
    ("download", "download"),
    ("stream-encoder-inside", "stream"),
    ("stream-relay", "stream"),
    ("dash", "player"),
    ("game", "game"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

const S: u64 = 1_000_000_000;

struct RunGen<'a> {
    lines: Vec<(u64, String)>,
    sc: &'a SynthScenario,
    rng: Rng,
}

impl RunGen<'_> {
    fn ev(&mut self, t_ns: u64, source: &str, kind: &str, fields: Value) {
        let mut line = format!("{{\"t_ns\":{t_ns},\"source\":\"{source}\",\"kind\":\"{kind}\"");
        if let Value::Object(m) = fields {
            for (k, v) in m {
                let _ = write!(line, ",\"{k}\":{v}");
            }
        }
        line.push('}');
        self.lines.push((t_ns, line));
    }
}

/// Writes the campaign into `dir` (created); returns the number of runs written.
pub fn write_campaign(dir: &Path, spec: &SynthSpec) -> std::io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let apps: Vec<Value> = APPLICATIONS
        .iter()
        .map(|(n, p)| json!({"name": n, "probes": [{"name": p, "kind": p}]}))
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
                write_run(dir, spec, app, probe, sc, k, seed)?;
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
    probe: &str,
    sc: &SynthScenario,
    k: u32,
    seed: u64,
) -> std::io::Result<()> {
    let run_dir = dir.join(app).join(&sc.name).join(format!("run-{k}"));
    std::fs::create_dir_all(&run_dir)?;
    let mut g = RunGen {
        lines: Vec::new(),
        sc,
        rng: Rng(seed),
    };
    let slow = 1.0 / (1.0 - g.sc.loss_pct / 100.0).powi(8);
    let preop = (256.0 * 8.0 / g.sc.rate_mbit
        * 1000.0
        * (if sc.mode == "block" { 3.0 } else { 1.0 })
        * slow
        + 300.0)
        * (0.9 + 0.2 * g.rng.next());
    let downtime = (20.0 + 2000.0 / g.sc.rate_mbit)
        * (if sc.mode == "block" { 1.6 } else { 1.0 })
        * (0.8 + 0.4 * g.rng.next());
    let postop = 80.0 + 60.0 * g.rng.next();
    let req = 10 * S;
    let never_ending = app == "stream-encoder-inside";
    let paused = req + (preop * 1e6) as u64;
    let resumed = paused + (downtime * 1e6) as u64;
    let reattached = resumed + (postop * 1e6) as u64;
    let end = (reattached + 20 * S).max(40 * S);
    g.ev(
        req,
        "migration",
        "migration_requested",
        json!({"driver": "synthetic", "mode": sc.mode, "copy": "precopy"}),
    );
    if !never_ending {
        g.ev(
            paused,
            "migration",
            "migration_paused",
            json!({"origin": "model"}),
        );
        g.ev(
            resumed,
            "migration",
            "migration_resumed",
            json!({"origin": "model"}),
        );
        g.ev(
            reattached,
            "migration",
            "network_reattached",
            json!({"origin": "reachability"}),
        );
    }
    let n = spec.events_per_run.max(10);
    let src = format!("probe:{probe}");
    let gap_from = paused;
    let gap_to = if never_ending { paused } else { reattached };
    let probe_summary = match probe {
        "player" => player(&mut g, &src, n, end, (gap_from, gap_to)),
        "game" => game(&mut g, &src, n, end, (gap_from, gap_to)),
        "download" => download(&mut g, &src, n, end, (gap_from, gap_to)),
        _ => stream(
            &mut g,
            &src,
            n,
            end,
            (gap_from, gap_to),
            app == "stream-relay",
        ),
    };
    let outcome = if never_ending {
        "cancelled"
    } else {
        "completed"
    };
    let ms = |a: u64, b: u64| (b - a) as f64 / 1e6;
    let migration = if never_ending {
        json!({"driver": "synthetic", "outcome": outcome, "detail": "remaining RAM oscillated 0-5 % for 20 minutes", "requested_ns": req, "paused_ns": null, "resumed_ns": null, "reattached_ns": null, "preoperation_ms": null, "downtime_ms": null, "postoperation_ms": null, "total_ms": 1_200_000.0, "passes": 400, "transferred_bytes": 9_000_000_000u64, "remaining_bytes": 4_000_000u64, "platform_downtime_ms": null})
    } else {
        json!({"driver": "synthetic", "outcome": outcome, "detail": null, "requested_ns": req, "paused_ns": paused, "resumed_ns": resumed, "reattached_ns": reattached, "preoperation_ms": ms(req, paused), "downtime_ms": ms(paused, resumed), "postoperation_ms": ms(resumed, reattached), "total_ms": ms(req, reattached), "passes": 3 + (g.rng.next() * 3.0) as u64, "transferred_bytes": 99_000_000u64, "remaining_bytes": null, "platform_downtime_ms": downtime * 0.5})
    };
    let summary = json!({"schema_version": 1, "complete": true, "incomplete_reason": null, "application": app, "scenario": sc.name, "run": k, "migration": migration, "probes": {probe: probe_summary}, "reachability": {"interval_ms": 50.0, "longest_gap_ms": ms(gap_from, gap_to), "gaps": 1}});
    let info = json!({"schema_version": 1, "campaign": spec.name, "application": app, "scenario": sc.name, "run": k, "seed": seed, "driver": "synthetic", "mode": sc.mode, "copy": "precopy", "flavor": sc.flavor, "conditions": {"migration": {"rate_mbit": sc.rate_mbit, "loss_pct": sc.loss_pct}, "client": {"delay_ms": sc.delay_ms}}, "wall_anchor_unix_ns": 1_700_000_000_000_000_000u64});
    g.lines.sort_by_key(|l| l.0);
    let mut tl = std::io::BufWriter::new(std::fs::File::create(run_dir.join("timeline.jsonl"))?);
    for (_, l) in &g.lines {
        writeln!(tl, "{l}")?;
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

fn player(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> Value {
    let step = end / n as u64;
    let buffer_s = 20.0;
    let rate = if g.sc.delay_ms > 50.0 { 2500.0 } else { 4000.0 };
    g.ev(
        S / 2,
        src,
        "startup",
        json!({"delay_ms": 500.0, "buffer_ms": 2000.0}),
    );
    let gap_s = (gap.1 - gap.0) as f64 / 1e9;
    let stall = gap_s > buffer_s * 0.1 && g.rng.next() < 0.5;
    let mut stall_ms = 0.0;
    for i in 1..n as u64 {
        let t = i * step;
        if in_gap(t, gap) {
            continue;
        }
        let buf = if t < 5 * S {
            t as f64 / 5e9 * buffer_s
        } else {
            buffer_s - 2.0 * g.rng.next()
        };
        let br = if t > gap.1 && g.sc.delay_ms > 50.0 {
            rate * 0.6
        } else {
            rate
        };
        g.ev(t, src, "request", json!({"type": "media", "buffer_ms": buf * 1000.0, "bitrate_kbps": br, "throughput_kbps": br * 3.0}));
    }
    if stall {
        stall_ms = 400.0 + 600.0 * g.rng.next();
        g.ev(gap.1, src, "stall_start", json!({"media_ms": 12000.0}));
        g.ev(
            gap.1 + (stall_ms * 1e6) as u64,
            src,
            "stall_end",
            json!({"duration_ms": stall_ms, "buffer_ms": 2000.0, "unresolved": false}),
        );
    }
    g.ev(
        end,
        src,
        "ended",
        json!({"reason": "duration", "played_ms": end as f64 / 1e6 - 500.0}),
    );
    json!({"probe": "player", "url": "http://10.77.0.2/dash/manifest.mpd", "abr": "throughput", "retry": "dashjs", "format": "dash", "live": false, "startup_delay_ms": 500.0, "stall_count": stall as u64, "stall_total_ms": stall_ms, "stall_longest_ms": stall_ms, "rebuffer_ratio": stall_ms / (end as f64 / 1e6), "avg_bitrate_kbps": rate, "bitrate_change_sum_kbps": 0.0, "switch_count": 0, "segments": n, "play_time_ms": end as f64 / 1e6 - 500.0, "session_ms": end as f64 / 1e6, "bytes": 20_000_000u64, "request_errors": 0, "retries": 0, "reconnects": 0, "gave_up": false, "end_reason": "duration", "qoe_linear": 100.0, "request_lateness_p50_ms": 0.2, "request_lateness_p99_ms": 1.0, "request_lateness_max_ms": 2.0})
}

fn game(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> Value {
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
        let rtt = base + extra + 3.0 * g.rng.next();
        rtts.push(rtt);
        if last > 0 && last < gap.1 && t >= gap.1 && t - last > 250_000_000 {
            let d = (t - last) as f64 / 1e6;
            freezes.push(d);
            g.ev(t, src, "game_freeze", json!({"start_ns": last, "duration_ms": d, "ticks_missed": (d / 15.0) as u64, "unresolved": false}));
        }
        g.ev(
            t,
            src,
            "game_snapshot",
            json!({"seq": i, "rtt_ns": [(rtt * 1e6) as u64], "late": false, "duplicate": false}),
        );
        last = t;
    }
    let lost = g.sc.rate_mbit < 50.0 && g.rng.next() < 0.5;
    rtts.sort_by(f64::total_cmp);
    let p = |q: f64| {
        rtts.get(((rtts.len() as f64 * q) as usize).min(rtts.len().saturating_sub(1)))
            .copied()
    };
    let longest = freezes.iter().copied().fold(0.0, f64::max);
    json!({"probe": "game", "protocol": "qgt", "end_reason": "duration", "duration_ms": end as f64 / 1e6, "commands_sent": n, "snapshots_received": rtts.len(), "rtt_p50_ms": p(0.5), "rtt_p95_ms": p(0.95), "rtt_p99_ms": p(0.99), "rtt_max_ms": rtts.last(), "rtt_mean_ms": rtts.iter().sum::<f64>() / rtts.len().max(1) as f64, "jitter_ms": 0.5, "ipdv_mean_ms": 0.8, "gap_max_ms": longest, "freeze_count": freezes.len(), "freeze_longest_ms": longest, "freeze_total_ms": freezes.iter().sum::<f64>(), "late": 0, "duplicates": 0, "ignored": 0, "tick_jumps": freezes.len(), "ticks_missed": 0, "sessions": 1, "sessions_lost": lost as u64, "session_continuous": !lost, "playable": longest <= 250.0 && !lost})
}

fn download(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64)) -> Value {
    let step = end / n as u64;
    let mut total = 0u64;
    for i in 1..n as u64 {
        let t = i * step;
        let kbps = if in_gap(t, gap) {
            0.0
        } else {
            40_000.0 * (0.8 + 0.4 * g.rng.next())
        };
        let bytes = (kbps * 1000.0 / 8.0 * step as f64 / 1e9) as u64;
        total += bytes;
        g.ev(t, src, "download_progress", json!({"interval_ms": step as f64 / 1e6, "bytes": bytes, "total_bytes": total, "throughput_kbps": kbps}));
    }
    let d = (gap.1 - gap.0) as f64 / 1e6;
    g.ev(
        gap.1,
        src,
        "download_stall_end",
        json!({"start_ns": gap.0, "duration_ms": d, "unresolved": false}),
    );
    json!({"probe": "download", "outcome": "completed", "url": "http://10.77.0.2/file/1g.bin", "bytes": total, "duration_ms": end as f64 / 1e6, "throughput_kbps": 40_000.0, "throughput_min_interval_kbps": 0.0, "throughput_max_interval_kbps": 48_000.0, "attempts": 1, "resumes": 0, "restarted_from_zero": false, "errors": 0, "stall_count": 1, "stall_total_ms": d, "stall_longest_ms": d, "sha256": "00", "sha256_ok": true, "size_ok": true, "reason": null})
}

fn stream(g: &mut RunGen, src: &str, n: usize, end: u64, gap: (u64, u64), relay: bool) -> Value {
    let step = end / n as u64;
    let disconnect = relay && g.rng.next() < 0.48;
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
        g.ev(t, src, "stream_sample", json!({"level_ms": if in_gap(t, gap) { 0.0 } else { 2000.0 }, "frames_dropped": dropped, "frames_rendered": rendered}));
    }
    json!({"probe": "stream", "cache_ms": 0.0, "stall_count": 0, "stall_total_ms": 0.0, "stall_longest_ms": 0.0, "frames_rendered": rendered, "frames_dropped": dropped, "disconnects": disconnect as u64, "reconnects": 0, "min_cache_ms": 0.0})
}
