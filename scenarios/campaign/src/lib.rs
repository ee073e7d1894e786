//! qoeprobe's campaigns: scenario files ([`scenario`]: TOML, docs/scenario-file.md),
//! the campaign runner ([`runner`]), the probes it attaches ([`attach`]) and the
//! expected duration of a campaign ([`estimate`]).
//!
//! A campaign runs every application x network scenario x repetition: the runner maps
//! the scenario file onto the platform's types (a [`platform::DriverContext`] per run),
//! lets the driver migrate while the probes of the `probes` crate measure, and writes
//! each run folder in the record's types. It never judges: the analysis reads what it
//! writes.

// Module docs point at their private parts on purpose (read with
// `cargo doc --document-private-items`).
#![allow(rustdoc::private_intra_doc_links)]

mod attach;
pub mod estimate;
pub mod hosts;
mod json_file;
pub mod merge;
pub mod runner;
pub mod scenario;
pub mod shard;
