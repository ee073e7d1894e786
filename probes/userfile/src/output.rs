//! [`Output`]: where a user-named output goes, a file or standard output (`-`).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// An output named on the command line: `-` is standard output, anything else a
/// path (to write with [`crate::write`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Standard output (`-`).
    Stdout,
    /// A file.
    File(PathBuf),
}

impl Output {
    /// `-` is standard output; anything else a path.
    pub fn new(arg: &OsStr) -> Self {
        if arg == "-" {
            Self::Stdout
        } else {
            Self::File(PathBuf::from(arg))
        }
    }

    /// `true` for standard output.
    pub fn is_stdout(&self) -> bool {
        matches!(self, Self::Stdout)
    }

    /// The path, if it is a file.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Stdout => None,
            Self::File(p) => Some(p),
        }
    }
}

impl From<OsString> for Output {
    fn from(s: OsString) -> Self {
        Self::new(&s)
    }
}

impl From<&Path> for Output {
    fn from(p: &Path) -> Self {
        Self::new(p.as_os_str())
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stdout => f.write_str("standard output"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}
