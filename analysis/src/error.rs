//! The analysis crate's error type: what went wrong, where, and what to do.

use std::path::PathBuf;

/// Errors of the analysis. Unreadable files inside a results folder are not errors:
/// they are reported as [`crate::reader::Problem`]s and the rest is analysed.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// The folder given does not exist.
    #[error("results folder {} does not exist", .0.display())]
    Missing(PathBuf),
    /// The path given is a file.
    #[error("{} is not a folder: pass a campaign's results folder (results/<campaign>/)", .0.display())]
    NotAFolder(PathBuf),
    /// No run folder below the path.
    #[error(
        "no runs in {}: expected <application>/<scenario>/run-<k>/summary.json below it (run `qoeprobe run` first)",
        .0.display()
    )]
    Empty(PathBuf),
    /// The path holds several campaigns.
    #[error("{} holds several campaigns ({}): pass one of them", .path.display(), .campaigns.join(", "))]
    SeveralCampaigns {
        /// The folder given.
        path: PathBuf,
        /// The campaign folders found in it.
        campaigns: Vec<String>,
    },
    /// A folder could not be listed.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A plot could not be drawn.
    #[error("cannot draw the plot {what}: {detail}")]
    Plot {
        /// Which plot.
        what: String,
        /// The backend's message.
        detail: String,
    },
    /// An unknown table format was asked for.
    #[error("unknown table format `{0}`: use md, csv, latex, html or json")]
    UnknownFormat(String),
}
