//! The exit codes of every command, distinct and documented (README.md, "Exit
//! codes").

/// Success (a session that stalled still succeeded: stalls are data).
pub const OK: u8 = 0;
/// An error: bad input, an unreachable service, a failed download (`Error: ...`).
pub const ERROR: u8 = 1;
/// A usage error found by the argument parser (clap's own code).
pub const USAGE: u8 = 2;
/// `qoeprobe download`: all bytes arrived, but the checksum or the size is wrong.
pub const CORRUPT: u8 = 3;
/// Interrupted by Ctrl-C or SIGTERM (128 + SIGINT); results finalized as incomplete.
pub const INTERRUPTED: u8 = 130;
