//! Standard output and standard error that never panic.
//!
//! The standard library's `print!` family panics when a write fails: `qoeprobe
//! schema | head -c1` (the reader has gone: `EPIPE`) or `qoeprobe schema >
//! /dev/full` (`ENOSPC`) ended with a panic and exit status 101. The crate root
//! replaces `print!`, `println!`, `eprint!` and `eprintln!` with macros that call
//! [`out`] and [`err`]: the first standard-output error is kept, later output is
//! dropped, the command carries on (a campaign is never cut short by a closed pipe,
//! and its results are still written), and [`exit_code`] turns the error into the
//! exit status at the end: quietly 141 for a closed pipe (the status a shell shows
//! for a tool killed by `SIGPIPE`), `Error: ...` and 1 for anything else.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Mutex;

/// The first standard-output error, as (kind, message).
static STDOUT_ERROR: Mutex<Option<(io::ErrorKind, String)>> = Mutex::new(None);

/// Exit status for a closed standard output: 128 + SIGPIPE, as a shell reports a
/// tool killed by the signal.
pub const BROKEN_PIPE_EXIT: u8 = 141;

fn first_error() -> std::sync::MutexGuard<'static, Option<(io::ErrorKind, String)>> {
    STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps `e` unless an earlier error is already kept.
fn record(e: &io::Error) {
    first_error().get_or_insert_with(|| (e.kind(), e.to_string()));
}

/// Writes to standard output; after the first failure, writes nothing more.
pub fn out(args: fmt::Arguments<'_>) {
    if first_error().is_some() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        record(&e);
    }
}

/// Writes to standard error; a failure is ignored (there is nowhere left to say it).
pub fn err(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Writes bytes to standard output (and flushes them), like [`out`].
pub fn out_bytes(bytes: &[u8]) {
    if first_error().is_some() {
        return;
    }
    let mut o = io::stdout().lock();
    if let Err(e) = o.write_all(bytes).and_then(|()| o.flush()) {
        record(&e);
    }
}

/// Standard output as a [`Write`]r with the same rule: writes never fail, the
/// first error is kept for [`exit_code`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        out_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Flushes standard output and folds its first error into the command's exit
/// status: a closed pipe gives [`BROKEN_PIPE_EXIT`] quietly, any other error
/// `Error: cannot write to standard output: ...` and failure. A command that already
/// failed keeps its status.
pub fn exit_code(code: ExitCode) -> ExitCode {
    if let Err(e) = io::stdout().lock().flush() {
        record(&e);
    }
    match first_error().take() {
        None => code,
        Some(_) if code != ExitCode::SUCCESS => code,
        Some((io::ErrorKind::BrokenPipe, _)) => ExitCode::from(BROKEN_PIPE_EXIT),
        Some((_, msg)) => {
            err(format_args!(
                "Error: cannot write to standard output: {msg}\n"
            ));
            ExitCode::FAILURE
        }
    }
}
