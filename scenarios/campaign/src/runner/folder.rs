//! The run folder on disk (docs/results.md): `run.json` written first,
//! `timeline.jsonl` appended and flushed per event, `summary.json` written last and
//! atomically (temporary file, fsync, rename: [`userfile::write`], which never
//! replaces a symlink or a special file). A run is finished when its
//! `summary.json` says `complete: true`; anything else is redone by `--resume`.

use record::Event;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

pub use crate::json_file::write_json_atomic;

/// Whether `dir` holds a finished run (`summary.json` with `complete: true`).
pub fn is_finished(dir: &Path) -> bool {
    let Ok(text) = userfile::read_to_string(&dir.join("summary.json"), userfile::limit::RECORD)
    else {
        return false;
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("complete").and_then(|c| c.as_bool()))
        .unwrap_or(false)
}

/// Empties (or creates) a run folder for a fresh attempt.
pub fn fresh_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)
}

/// A run's `timeline.jsonl`: every event is written (one line, one `write`) as it
/// arrives, and kept in memory for the summary.
#[derive(Debug)]
pub struct Timeline {
    file: Mutex<File>,
    events: Mutex<Vec<Event>>,
    error: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Timeline {
    /// Creates `path`.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self {
            file: Mutex::new(File::create(path)?),
            events: Mutex::new(Vec::new()),
            error: Mutex::new(None),
        })
    }

    /// Appends one event.
    pub fn append(&self, e: Event) {
        match serde_json::to_vec(&e) {
            Ok(mut line) => {
                line.push(b'\n');
                let mut f = lock(&self.file);
                if let Err(err) = f.write_all(&line).and_then(|_| f.flush()) {
                    lock(&self.error)
                        .get_or_insert_with(|| format!("writing timeline.jsonl failed: {err}"));
                }
            }
            Err(err) => {
                lock(&self.error)
                    .get_or_insert_with(|| format!("an event could not be encoded: {err}"));
            }
        }
        lock(&self.events).push(e);
    }

    /// Every event so far, in arrival order.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.events).clone()
    }

    /// The first write error, if any.
    pub fn error(&self) -> Option<String> {
        lock(&self.error).clone()
    }
}
