//! qoeprobe's probes: deterministic, sans-IO probe cores fed with `now`, the thin
//! tokio adapters that drive them with the real clock, and one options type per probe
//! (shared by the command line and the scenario file, validated once).
//!
//! Each probe has the same shape (docs/architecture.md, "Sans-IO core and adapter"):
//! a `core` that turns inputs and `now` into actions and [`record`] events, a pure
//! `summary` of those events, and an adapter that does the I/O. Time comes from
//! [`record::clock`]. Nothing in this crate knows about migrations: a probe measures a
//! service, the `campaign` and `platform` crates decide what happens to that service
//! meanwhile.

// The options types' doc comments double as the command line's --help text, which
// writes placeholders as `<N>`; rustdoc must not read those as HTML tags.
#![allow(rustdoc::invalid_html_tags)]

pub mod client;
pub mod download;
pub mod game;
pub mod player;
pub mod precise;
pub mod stream;
pub mod values;

// The probe modules name the record and its clock `crate::record` and `crate::clock`.
pub(crate) use ::record;
pub(crate) use ::record::clock;

/// Logs an event a probe records, at debug level (`qoeprobe -vv`), as its timeline
/// line; costs nothing when debug logs are off.
pub(crate) fn log_event(e: &record::Event) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let line = serde_json::to_string(e).unwrap_or_default();
        tracing::debug!(source = %e.source.as_str(), "{line}");
    }
}
