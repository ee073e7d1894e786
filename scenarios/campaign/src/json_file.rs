//! Atomic JSON files: what every part of the campaign crate writes (run folders,
//! the hosts' rendezvous, merged folders) goes through here, below them all.

use std::path::Path;

/// Writes `value` as pretty JSON to `path` atomically (see [`userfile::write`]).
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut text = serde_json::to_vec_pretty(value)?;
    text.push(b'\n');
    userfile::write(path, &text).map(|_| ())
}
