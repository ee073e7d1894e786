//! The download checker: streams one HTTP download, resumes it across resets and
//! timeouts (`Range` + `If-Range`), records throughput per 100 ms, stalls, attempts,
//! and verifies integrity (SHA-256, size). Metric definitions: docs/download.md.
//!
//! [`core`] is the sans-IO state machine, [`summary`] the pure aggregation of its
//! events, [`http`] the tokio + reqwest adapter, [`head`] the response-head parsing.

pub mod core;
pub mod head;
pub mod http;
mod options;
mod receive;
pub mod summary;

pub use core::{Action, DownloadConfig, DownloadProbe, Failure};
pub use head::ResponseHead;
pub use http::{DownloadSetupError, run, run_with};
pub use options::{DownloadOptions, Sha256Hex};
pub use summary::summarize;

#[cfg(test)]
mod tests;
