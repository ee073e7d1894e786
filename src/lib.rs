//! The `qoeprobe` command line as a library, so tests can parse argument lists
//! in-process. One module per subcommand under [`cli`].

// The clap structs' doc comments are the commands' --help text, where `<N>`
// placeholders are the convention, not HTML.
#![allow(rustdoc::invalid_html_tags)]

pub mod cli;
