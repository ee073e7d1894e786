//! The `qoeprobe` command line as a library, so tests can parse argument lists
//! in-process. One module per subcommand under [`cli`].

pub mod cli;
