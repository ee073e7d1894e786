//! Run outcomes, verdicts, the migratability table, statistics, plots and the HTML
//! report.
//!
//! This crate only reads result folders and writes outputs; it never measures. Its
//! modules arrive with the analysis issue; today it holds nothing but this description.
