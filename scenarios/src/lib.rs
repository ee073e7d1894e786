//! Scenario files, the campaign runner, migration drivers and network conditions.
//!
//! This crate drives migrations and shapes networks; it attaches the probes of the
//! `probes` crate and hands their records to `analysis`. Its modules arrive with the
//! runner issue; today it holds nothing but this description.
