//! The `qoeprobe` command line as a library, so tests can parse argument lists
//! in-process. One module per subcommand under [`cli`].
//!
//! `print!`, `println!`, `eprint!` and `eprintln!` are redefined below for the whole
//! crate: the standard macros panic when standard output is closed or full; these
//! go through [`console`], which keeps the error for the exit status instead.

// The clap structs' doc comments double as the commands' --help text, which writes
// argument placeholders as `<N>`; rustdoc must not read those as HTML tags.
#![allow(rustdoc::invalid_html_tags)]

/// `print!` for this crate: never panics (see [`console`]).
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::out(format_args!($($arg)*)) };
}

/// `println!` for this crate: never panics (see [`console`]).
macro_rules! println {
    () => { $crate::console::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` for this crate: never panics (see [`console`]).
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::console::err(format_args!($($arg)*)) };
}

/// `eprintln!` for this crate: never panics (see [`console`]).
macro_rules! eprintln {
    () => { $crate::console::err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::console::err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub mod cli;
pub mod console;
