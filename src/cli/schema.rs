//! `qoeprobe schema`: prints the JSON Schema of the record (events and every probe's
//! `--json` output). `docs/record-schema.json` is this command's output.

use std::process::ExitCode;

/// `qoeprobe schema`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Prints the schema.
pub async fn run(_args: Args) -> anyhow::Result<ExitCode> {
    println!(
        "{}",
        serde_json::to_string_pretty(&record::schema::json_schema().to_value())?
    );
    Ok(ExitCode::SUCCESS)
}
