//! `qoeprobe serve <kind>`: the services under test, from the `fixtures` crate.

use clap::Subcommand;
use std::process::ExitCode;

/// Which service to run.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// DASH and HLS origin (prints `dash: <MPD URL>` and `hls: <master URL>`).
    Dash(fixtures::dash::DashArgs),
}

/// Runs a service until killed.
pub async fn run(cmd: ServeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ServeCommand::Dash(a) => fixtures::dash::serve_forever(a).await?,
    }
    Ok(ExitCode::SUCCESS)
}
