//! `qoeprobe man [--out DIR]`: manual pages generated from the command line's own
//! definitions (clap_mangen): `qoeprobe.1` on standard output, or, with `--out`,
//! `qoeprobe.1` and one page per subcommand (`qoeprobe-run.1`, ...) written into DIR
//! (what `make install` does).

use super::output::{Output, write_bytes};
use anyhow::Context;
use clap::CommandFactory;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `qoeprobe man`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write every page (qoeprobe.1 and qoeprobe-<command>.1) into this folder
    /// instead of printing qoeprobe.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// Runs `qoeprobe man`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let cmd = super::Cli::command();
    match args.out {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut page)?;
            write_bytes(&Output::Stdout, &page)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, &dir)
                .with_context(|| format!("cannot write the pages into {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
