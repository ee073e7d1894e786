//! Run outcomes, verdicts, the migratability table, statistics, plots and the HTML
//! report.
//!
//! This crate only reads result folders and writes outputs; it never measures.
//! [`run`] holds the run-folder file types shared with the runner.

pub mod run;
