//! Synthetic campaigns: deterministic results folders in the layout of
//! docs/results.md, written as typed record files, with the five applications of the
//! study's Table 2 and every probe kind, for tests, the benchmark
//! (`examples/synth.rs`) and the docs. The numbers are made up but shaped like the
//! study's: preoperation grows as bandwidth falls and loss rises, the encoder-inside
//! stream never finishes migrating, the relay stream's client sometimes disconnects,
//! the game freezes when downtime is long. Their driver is named `synthetic`.

mod probes;

use probes::{download, game, player, stream};
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

/// One second in ns.
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
            memory_check: None,
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
            memory_check: None,
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
            unfinished_gap_ms: None,
            method: None,
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
