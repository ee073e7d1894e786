//! Benchmark: `simulate` of a 10-hour session (12,000 segments of 3 s) per ABR.
//!
//! Run: `cargo run --release -p probes --example sim_bench [REPEATS [ABR...]]`
//! The trace alternates 1.5 / 4 / 9 Mbit/s every 20 s with a 40 ms RTT, so the ABRs
//! switch and the buffer moves; the ladder is the origin's default (300 kbit/s to
//! 8 Mbit/s). Prints min and median wall time per ABR (all five unless some are
//! named: `sim_bench 1 bola` under a profiler counts one ABR's session).
//!
//! With `SIM_BENCH_EVENTS=DIR` it also writes each ABR's events to
//! `DIR/<abr>.jsonl`, so that two builds can be checked to simulate exactly the same
//! session (`cmp` the files).

use probes::player::abr;
use probes::player::session::{Player, PlayerConfig};
use probes::player::sim::{self, Link, Loader, SimLimits, Trace};
use probes::player::summary::summarize;
use std::time::{Duration, Instant};
use url::Url;

struct Mem(String);

impl Loader for Mem {
    async fn load(&mut self, _: &Url, _: Option<(u64, u64)>) -> Result<Vec<u8>, String> {
        Ok(self.0.clone().into_bytes())
    }
}

fn mpd() -> String {
    let reps: String = [300, 750, 1500, 3000, 5000, 8000]
        .iter()
        .enumerate()
        .map(|(i, k)| format!(r#"<Representation id="v{i}" bandwidth="{}"/>"#, k * 1000))
        .collect();
    format!(
        r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT36000S">
 <Period><AdaptationSet contentType="video" mimeType="video/mp4">
  <SegmentTemplate media="$RepresentationID$/$Number$.m4s" duration="3000" timescale="1000" startNumber="1"/>
  {reps}
 </AdaptationSet></Period></MPD>"#
    )
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let trace = Trace::parse("20000,1500\n20000,4000\n20000,9000\n", "bench.csv").unwrap();
    let link = Link::new(trace, &[], Duration::from_millis(40));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let text = mpd();
    let named: Vec<String> = std::env::args().skip(2).collect();
    let abrs = ["throughput", "bola", "dynamic", "bba", "conventional"];
    for name in abrs
        .into_iter()
        .filter(|a| named.is_empty() || named.iter().any(|n| n == a))
    {
        let mut times = Vec::new();
        let mut summary = None;
        let mut last_events = Vec::new();
        for _ in 0..repeats {
            let mut cfg = PlayerConfig::new(Url::parse("http://bench.test/m.mpd").unwrap());
            cfg.max_buffer = Duration::from_secs(30);
            let mut player = Player::new(cfg, abr::by_name(name).unwrap(), Duration::ZERO);
            let mut loader = Mem(text.clone());
            let t0 = Instant::now();
            let events = rt.block_on(sim::run(
                &mut player,
                &link,
                &mut loader,
                SimLimits::default(),
            ));
            let s = summarize(&events, "probe:player");
            times.push(t0.elapsed());
            summary = Some(s);
            last_events = events;
        }
        times.sort();
        if let Some(dir) = std::env::var_os("SIM_BENCH_EVENTS") {
            write_events(std::path::Path::new(&dir), name, &last_events);
        }
        let s = summary.unwrap();
        println!(
            "{name:13} segments {:6}  session {:7.0} s  avg {:5.0} kbit/s  stalls {:3}  min {:7.2} ms  median {:7.2} ms",
            s.segments,
            s.session_ms / 1000.0,
            s.avg_bitrate_kbps,
            s.stall_count,
            times[0].as_secs_f64() * 1e3,
            times[times.len() / 2].as_secs_f64() * 1e3
        );
    }
}

/// Writes `events` as JSON lines to `dir/<name>.jsonl`.
fn write_events(dir: &std::path::Path, name: &str, events: &[record::Event]) {
    use std::io::Write;
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{name}.jsonl"));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for e in events {
        serde_json::to_writer(&mut out, e).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}
