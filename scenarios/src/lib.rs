//! Scenario files, the campaign runner, migration drivers and network conditions.
//!
//! This crate drives migrations and shapes networks; it attaches the probes of the
//! `probes` crate and writes run folders that `analysis` reads.

pub mod migrate;
