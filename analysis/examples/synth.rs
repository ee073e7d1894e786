//! Writes a synthetic results folder (docs/results.md) for benchmarks and docs.
//!
//! ```text
//! cargo run --release -p analysis --example synth -- OUT [table2 RUNS | network SCENARIOS RUNS EVENTS]
//! ```
//! `table2 10` (default): the five applications x S1/S2, 10 runs each.
//! `network 20 100 100`: 5 applications x 20 scenarios x 100 runs = 10,000 runs of
//! about 100 probe events each plus the game's snapshots, which run through the
//! whole preoperation (long in the slow scenarios): 4.2 million events in all.
//! `table2 1000`: 10,000 runs and about 1.1 million events.

use analysis::synth::{SynthSpec, write_campaign};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: synth OUT [table2 RUNS | network SCENARIOS RUNS EVENTS]");
        return ExitCode::FAILURE;
    };
    let num = |i: usize, default: usize| {
        args.get(i)
            .and_then(|a| a.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let spec = match args.get(1).map(String::as_str) {
        None | Some("table2") => SynthSpec::table2(num(2, 10) as u32),
        Some("network") => SynthSpec::network(num(2, 20), num(3, 100) as u32, num(4, 100)),
        Some(other) => {
            eprintln!("Error: unknown preset `{other}`: use table2 or network");
            return ExitCode::FAILURE;
        }
    };
    let started = std::time::Instant::now();
    match write_campaign(std::path::Path::new(out), &spec) {
        Ok(n) => {
            eprintln!(
                "{n} runs written to {out} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: cannot write {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
