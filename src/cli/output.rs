//! Output helpers shared by the subcommands: JSON files, CSV files, and the one-line
//! live progress shown only on a terminal.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Writes `value` as pretty JSON to `path` (atomically: a temporary file renamed into
/// place, so a crash never leaves half a file).
pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_atomic(path, text.as_bytes())
}

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create folder {}", dir.display()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp).with_context(|| {
        format!(
            "cannot write {}: check the folder exists and is writable",
            tmp.display()
        )
    })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

/// A one-line progress display on stderr (an indicatif spinner without a spinner),
/// redrawn in place; hidden when stderr is not a terminal or when quiet.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Progress on stderr if it is a terminal and `quiet` is false.
    pub fn new(quiet: bool) -> Self {
        let bar = if !quiet && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{msg}") {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// Redraws the line.
    pub fn update(&mut self, line: &str) {
        self.bar.set_message(line.to_string());
    }

    /// Clears the line.
    pub fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}
