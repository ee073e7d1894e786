//! Output helpers shared by the subcommands: JSON and other files named by the user
//! (or `-` for standard output), and the one-line live progress shown only on a
//! terminal.

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;
pub use userfile::Output;

/// Writes `value` as pretty JSON to `out`. A file is written by [`userfile::write`]:
/// atomically when it is new or a regular file (a crash never leaves half a file),
/// through it when it is a symlink, a device or a FIFO (never replaced).
pub fn write_json(out: &Output, value: &impl Serialize) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_bytes(out, text.as_bytes())
}

/// Writes bytes to `out` (see [`write_json`]; standard output through
/// [`crate::console`], whose errors become the exit status).
pub fn write_bytes(out: &Output, bytes: &[u8]) -> anyhow::Result<()> {
    match out {
        Output::Stdout => {
            crate::console::out_bytes(bytes);
            Ok(())
        }
        Output::File(path) => userfile::write(path, bytes)
            .map(|_| ())
            .with_context(|| format!("cannot write {out}")),
    }
}

/// Checks that at most one of the named outputs (`(flag, value)`) is standard output
/// (two would mix there) and returns whether one is: the human summary then goes
/// to standard error instead.
pub fn stdout_taken(outputs: &[(&str, Option<&Output>)]) -> anyhow::Result<bool> {
    let on_stdout: Vec<&str> = outputs
        .iter()
        .filter(|(_, o)| o.is_some_and(Output::is_stdout))
        .map(|(flag, _)| *flag)
        .collect();
    if on_stdout.len() > 1 {
        let all = if on_stdout.len() == 2 { "both" } else { "all" };
        anyhow::bail!(
            "{} would {all} write to standard output (`-`), where they would mix: give all but one of them a file name",
            on_stdout.join(" and ")
        );
    }
    Ok(!on_stdout.is_empty())
}

/// Prints the human summary: on standard output, or on standard error when an
/// output file was asked for on standard output.
pub fn print_human(text: &str, stdout_taken: bool) {
    if stdout_taken {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
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
