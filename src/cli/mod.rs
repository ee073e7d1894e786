//! The command line: one module per subcommand. Each module has an `Args` struct
//! (clap derive) and a `run(args)` function returning `anyhow::Result`; `main` maps an
//! error to `Error: ...` on stderr and exit code 1.

pub mod completions;
pub mod demo;
pub mod dirtyrate;
pub mod download;
pub mod exit;
pub mod export;
pub mod game;
pub mod http_opts;
pub mod k8s;
pub mod lab;
pub mod logging;
pub mod man;
mod memory_guard;
pub mod merge;
pub mod merge_clients;
pub mod metrics_campaign;
pub mod metrics_opts;
pub mod output;
pub mod play;
pub mod player_report;
pub mod report;
pub mod run;
pub mod run_clients;
pub mod run_postgres;
pub mod schema;
pub mod serve;
pub mod serve_rtsp;
pub mod simulate;
pub mod slurm;
pub mod start_at;
pub mod stream;
pub mod table;
pub mod usage;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// `qoeprobe --version`: the crate version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("QOEPROBE_COMMIT"),
    ")"
);

/// qoeprobe: what users notice while the machine serving them is live-migrated.
#[derive(Debug, Parser)]
#[command(name = "qoeprobe", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// Log the main steps on stderr (campaign, runs, phases, driver steps); -vv also
    /// debug details (HTTP requests, probe events).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play a DASH or HLS stream like a player and report its QoE.
    Play(play::Args),
    /// Run the player core on a virtual clock against a throughput trace.
    Simulate(simulate::Args),
    /// The main job: the study's Table 2, reduced, on the best driver here; prints the table.
    Demo(demo::Args),
    /// Download a file like a careful client and check it arrived whole.
    Download(download::Args),
    /// Play a UDP game session (or STAMP) and report RTT, freezes, loss, playability.
    Game(game::Args),
    /// Print the migratability table (Table 2) of a campaign's results folder.
    Table(table::Args),
    /// Write a self-contained HTML report of a campaign's results folder.
    Report(report::Args),
    /// Export a campaign's results folder: ECS NDJSON (Elastic) or one CSV row per run.
    Export(export::Args),
    /// Run a campaign: migrations with probes attached, one result folder per run.
    Run(run::Args),
    /// Merge the results folders of a campaign's shards into one.
    Merge(merge::Args),
    /// Merge the `play --json` files of several client hosts into one run.
    MergeClients(merge_clients::Args),
    /// Write (and submit) a campaign as a Slurm array job with a merge job.
    Slurm(slurm::Args),
    /// Write a campaign as Kubernetes objects (an Indexed Job and its merge Job).
    #[command(subcommand)]
    K8s(k8s::K8sCommand),
    /// Print the JSON Schema of the record (events and every probe's --json output).
    Schema(schema::Args),
    /// Play an RTSP or HTTP live stream with MPlayer's cache; report stalls and drops.
    Stream(stream::Args),
    /// Run one of the services under test.
    #[command(subcommand)]
    Serve(serve::ServeCommand),
    /// The local QEMU lab: image, up, migrate, status, down.
    #[command(subcommand)]
    Lab(lab::LabCommand),
    /// Measure how fast a process dirties memory and page cache, and whether pre-copy converges.
    Dirtyrate(dirtyrate::Args),
    /// Print the shell completion script for bash, zsh or fish.
    Completions(completions::Args),
    /// Print the manual page, or write every page into a folder (--out DIR).
    Man(man::Args),
}

/// Parses `std::env::args`, runs the command, prints `Error: ...` on failure.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A value the options types refuse (out of range, unknown name) is bad input
        // like any other: `Error: ...` and exit code 1.
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ValueValidation | ErrorKind::InvalidValue
            ) =>
        {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("Error: {}", first.strip_prefix("error: ").unwrap_or(first));
            return ExitCode::FAILURE;
        }
        Err(e) => e.exit(),
    };
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    };
    crate::console::exit_code(code)
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    logging::init(cli.verbose);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Play(a) => play::run(a).await,
            Command::Simulate(a) => simulate::run(a).await,
            Command::Serve(c) => serve::run(c).await,
            Command::Lab(c) => lab::run(c).await,
            Command::Run(a) => run::run(a).await,
            Command::Merge(a) => merge::run(a).await,
            Command::MergeClients(a) => merge_clients::run(a).await,
            Command::Slurm(a) => slurm::run(a).await,
            Command::K8s(c) => k8s::run(c).await,
            Command::Demo(a) => demo::run(a).await,
            Command::Schema(a) => schema::run(a).await,
            Command::Table(a) => table::run(a).await,
            Command::Report(a) => report::run(a).await,
            Command::Export(a) => export::run(a).await,
            Command::Download(a) => download::run(a).await,
            Command::Game(a) => game::run(a).await,
            Command::Stream(a) => stream::run(a).await,
            Command::Dirtyrate(a) => dirtyrate::run(a).await,
            Command::Completions(a) => completions::run(a).await,
            Command::Man(a) => man::run(a).await,
        }
    })
}
