//! `qoeprobe completions bash|zsh|fish`: the shell completion script, generated from
//! the command line's own definitions (clap_complete); `make install` installs them.

use super::output::{Output, write_bytes};
use clap::CommandFactory;
use std::process::ExitCode;

/// Shells with a completion script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// Bash (bash-completion: share/bash-completion/completions/qoeprobe).
    Bash,
    /// Zsh (share/zsh/site-functions/_qoeprobe).
    Zsh,
    /// Fish (share/fish/vendor_completions.d/qoeprobe.fish).
    Fish,
}

/// Arguments of `qoeprobe completions`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Runs `qoeprobe completions`: the script on standard output.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut text = Vec::new();
    clap_complete::generate(shell, &mut super::Cli::command(), "qoeprobe", &mut text);
    write_bytes(&Output::Stdout, &text)?;
    Ok(ExitCode::SUCCESS)
}
