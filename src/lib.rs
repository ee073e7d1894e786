//! The `qoeprobe` command line as a library, so tests can parse argument lists
//! in-process. One module per subcommand under [`cli`].

// The clap structs' doc comments double as the commands' --help text, which writes
// argument placeholders as `<N>`; rustdoc must not read those as HTML tags.
#![allow(rustdoc::invalid_html_tags)]

pub mod cli;
