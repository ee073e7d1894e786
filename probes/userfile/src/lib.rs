//! Files qoeprobe writes and reads for its user, handled one way everywhere.
//!
//! - [`write()`]: an output file (`--json`, `--csv`, `-o`, a run folder's
//!   `summary.json`, the analysis outputs). A new path or an existing regular file is
//!   written atomically (a fresh temporary file next to it, fsync, rename, fsync of
//!   the folder), so a crash never leaves half a file. Anything else that already
//!   exists under that name (a symlink, a device such as `/dev/null`, a FIFO, a
//!   regular file with several hard links) is written *through*: opened and
//!   truncated, never replaced by a regular file.
//! - [`Output`]: a path or `-` for standard output.
//! - [`read`] / [`read_to_string`]: an input file (trace, manifest, timeline,
//!   summary, scenario). Only regular files are read (a FIFO or a device would block
//!   or never end), and never more than a stated [`limit`].
//!
//! Errors are [`std::io::Error`]s whose message says what is wrong without the path;
//! callers add the path and what the file was for.

pub mod limit;
mod output;
mod read;
mod write;

pub use output::Output;
pub use read::{read, read_to_string};
pub use write::{Written, write};
