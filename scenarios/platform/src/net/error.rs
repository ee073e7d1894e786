//! The one error type of the network-conditions module.
//!
//! Every variant says what failed, where, and what to do about it. Nothing here
//! panics on bad input: invalid conditions and names are errors too.

use std::path::PathBuf;

/// What went wrong while building, shaping or tearing down a topology.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A command (`ip`, `tc`, `nft`, `sysctl`) could not be started.
    #[error(
        "could not run `{command}`: {source}; is {program} installed (Debian: {package}) and on PATH?"
    )]
    Spawn {
        /// The command line.
        command: String,
        /// The program name.
        program: String,
        /// The Debian package that provides it.
        package: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// A command ran and exited non-zero.
    #[error("`{command}` failed ({status}): {stderr}; {hint}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status as text.
        status: String,
        /// What the command printed on stderr (trimmed).
        stderr: String,
        /// What to do about it.
        hint: String,
    },
    /// The caller is not root (network namespaces and qdiscs need CAP_NET_ADMIN).
    #[error(
        "network conditions need root (CAP_NET_ADMIN and CAP_SYS_ADMIN); run as root, e.g. with sudo"
    )]
    NotRoot,
    /// A link condition is out of range.
    #[error("invalid link condition: {0}")]
    InvalidCondition(String),
    /// A name (run id, namespace role, link name) does not fit the naming contract.
    #[error("invalid name `{name}`: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// Why it is refused.
        reason: String,
    },
    /// The state directory could not be written or read.
    #[error(
        "state directory {path}: {source}; check that /run is writable (or set QOEPROBE_STATE_DIR)"
    )]
    State {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A system call of the delay relay failed.
    #[error("delay relay: {what}: {source}")]
    Relay {
        /// Which step failed.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A delay was asked for on a link that has no way to delay.
    #[error("link `{link}` cannot delay: {reason}")]
    NoDelay {
        /// The link.
        link: String,
        /// Why, and what to do.
        reason: String,
    },
    /// Teardown left some resources behind; each entry says which and why.
    #[error("teardown left {} resource(s): {}", .0.len(), .0.join("; "))]
    Teardown(Vec<String>),
}

/// Result with [`NetError`].
pub type Result<T, E = NetError> = std::result::Result<T, E>;
