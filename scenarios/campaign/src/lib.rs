//! Scenario files, the campaign runner, migration drivers and network conditions.
//!
//! This crate drives migrations and shapes networks; it attaches the probes of the
//! `probes` crate and writes run folders that `analysis` reads.

// Module docs point at their private parts on purpose (read with
// `cargo doc --document-private-items`).
#![allow(rustdoc::private_intra_doc_links)]

pub mod lab;
pub mod migrate;
pub mod net;
pub mod probe;
pub mod runner;
pub mod scenario;
