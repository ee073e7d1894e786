//! `qoeprobe serve <kind>`: the services under test, from the `fixtures` crate.

use clap::Subcommand;
use std::process::ExitCode;

/// Which service to run.
#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// DASH and HLS origin (prints `dash: <MPD URL>` and `hls: <master URL>`).
    Dash(fixtures::dash::DashArgs),
    /// Static and generated files with Range, ETag and SHA-256 (prints `file: <URL>`).
    File(fixtures::file::FileArgs),
    /// UDP game server (prints `game: udp://ADDR`).
    Game(fixtures::game::GameArgs),
    /// Keeps writing non-zero bytes over N MiB at a rate (prints `dirty: ...`).
    Dirty(fixtures::dirty::DirtyArgs),
    /// Stores stdin in a ring file as ffserver stored a live feed (prints `feed: <PATH> ...`).
    Feed(fixtures::feed::FeedArgs),
    /// Live HTTP MPEG-TS server paced at the stream's bitrate (prints `live: <URL>`).
    Live(fixtures::live::LiveArgs),
    /// RTSP server with a live test source, GStreamer feature (prints `rtsp: <URL>`).
    Rtsp(super::serve_rtsp::RtspArgs),
}

/// Runs a service until killed.
pub async fn run(cmd: ServeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ServeCommand::Dash(a) => {
            // One descriptor per player connection: thousands of players at once.
            super::usage::raise_open_files_limit();
            fixtures::dash::serve_forever(a).await?
        }
        ServeCommand::File(a) => fixtures::file::serve_forever(a).await?,
        ServeCommand::Game(a) => fixtures::game::serve_forever(a).await?,
        ServeCommand::Dirty(a) => fixtures::dirty::serve_forever(a).await?,
        ServeCommand::Feed(a) => fixtures::feed::serve_forever(a).await?,
        ServeCommand::Live(a) => fixtures::live::serve_forever(a).await?,
        ServeCommand::Rtsp(a) => super::serve_rtsp::serve_forever(a).await?,
    }
    Ok(ExitCode::SUCCESS)
}
