//! `qoeprobe demo`: the main job. Runs the study's Table 2, reduced to finish in
//! minutes (scenarios/demo.toml, embedded in the binary so it runs from any folder),
//! on the best driver this machine has: the local QEMU lab when running as root with
//! QEMU installed and the lab can run every scenario of the campaign, otherwise the
//! emulated driver (the campaign's own `[migration.emulated]` model). It says which
//! and why, writes the run folders, `table.md` and `report.html` into the output
//! folder, and prints the table and where the report is.

use super::run::{runner_options, write_analysis};
use campaign::runner::{self, ProgressMode};
use campaign::scenario::Campaign;
use platform::{DefaultDrivers, DriverKind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The demo campaign (scenarios/demo.toml).
pub const DEMO_TOML: &str = include_str!("../../scenarios/demo.toml");

/// `--driver` (hidden): skip the choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoDriver {
    /// The local QEMU lab.
    Lab,
    /// The rootless emulated driver.
    Emulated,
}

/// `qoeprobe demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder for the run folders, table.md and report.html
    /// [default: results/demo-<UTC timestamp>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Use this driver instead of choosing one (for tests).
    #[arg(long, value_enum, value_name = "DRIVER", hide = true)]
    pub driver: Option<DemoDriver>,
    /// Repetitions per application x scenario [default: 1; the study made 10].
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,
    /// Only these cells: APP or APP/SCENARIO (for tests).
    #[arg(long, value_name = "APP/SCENARIO", hide = true)]
    pub only: Option<String>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Whether the lab can run `campaign` (a lab campaign) here: root, QEMU, the links
/// it can shape. The one place the demo asks the lab; `Err` says why not.
fn lab_check(campaign: &Campaign) -> Result<(), String> {
    runner::check_drivers(campaign, &DefaultDrivers)
}

/// The driver for the demo and why, as one sentence.
fn choose(campaign: &Campaign, forced: Option<DemoDriver>) -> (DriverKind, String) {
    match forced {
        Some(DemoDriver::Emulated) => {
            (DriverKind::Emulated, "chosen with --driver emulated".into())
        }
        Some(DemoDriver::Lab) => (DriverKind::Lab, "chosen with --driver lab".into()),
        None => match lab_check(campaign) {
            Ok(()) => (
                DriverKind::Lab,
                "running as root with QEMU: real live migrations of a VM in the local QEMU lab"
                    .into(),
            ),
            Err(why) => (
                DriverKind::Emulated,
                format!(
                    "the QEMU lab cannot run this campaign here ({why}); the emulated driver models the migration (docs/emulated-driver.md)"
                ),
            ),
        },
    }
}

/// The embedded campaign with `driver` set.
pub fn demo_campaign(driver: DriverKind) -> anyhow::Result<Campaign> {
    let mut c = campaign::scenario::parse(Path::new("scenarios/demo.toml"), DEMO_TOML)?;
    c.migration.driver = driver;
    Ok(c)
}

/// Runs the demo.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let parsed = demo_campaign(DriverKind::Lab)?;
    let (driver, why) = choose(&parsed, args.driver);
    let campaign = demo_campaign(driver)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(format!("demo-{}", utc_stamp())));
    let planned = campaign
        .plan(args.runs, args.only.as_deref())
        .map_err(anyhow::Error::msg)?;
    println!("demo: driver {}: {why}", driver.name());
    let reps = args.runs.unwrap_or(campaign.runs);
    println!(
        "demo: {} runs ({} applications x {} network scenarios x {reps} repetition{}), results in {}",
        planned.len(),
        campaign.applications.len(),
        campaign.scenarios.len(),
        if reps == 1 { "" } else { "s" },
        out.display()
    );
    let mut opts = runner_options(&out);
    opts.runs = args.runs;
    opts.only = args.only.clone();
    opts.progress = if args.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    let result = runner::run_campaign(&campaign, opts).await?;
    if let Some(reason) = &result.failed {
        // Not a signal: exit 1, and no `--resume` hint (it would fail the same way).
        eprintln!(
            "demo stopped: {reason}; fix the cause, then run again (the finished runs are in {})",
            out.display()
        );
        return Ok(ExitCode::FAILURE);
    }
    if let Some(reason) = &result.interrupted {
        eprintln!(
            "demo stopped: {reason}; the finished runs are in {}",
            out.display()
        );
        return Ok(ExitCode::from(super::exit::INTERRUPTED));
    }
    let o = write_analysis(&campaign, &out).map_err(|e| {
        anyhow::anyhow!(
            "the runs are in {}, but the analysis failed: {e}",
            out.display()
        )
    })?;
    println!();
    print!("{}", analysis::Format::Md.render(&o.table));
    for w in &o.warnings {
        eprintln!("warning: {w}");
    }
    println!();
    println!("demo: table  {}", o.table_md.display());
    println!("demo: report {}", o.report_html.display());
    Ok(ExitCode::SUCCESS)
}

/// `YYYYmmdd-HHMMSS` in UTC, now.
fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    stamp_of(secs)
}

/// `YYYYmmdd-HHMMSS` of a Unix time (UTC).
fn stamp_of(secs: u64) -> String {
    chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .unwrap_or_default()
        .format("%Y%m%d-%H%M%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps() {
        assert_eq!(stamp_of(0), "19700101-000000");
        assert_eq!(stamp_of(951_782_400), "20000229-000000");
        assert_eq!(stamp_of(1_700_000_000), "20231114-221320");
    }

    #[test]
    fn the_embedded_campaign_parses_for_both_drivers() {
        for d in [DriverKind::Lab, DriverKind::Emulated] {
            let c = demo_campaign(d).unwrap();
            assert_eq!(c.migration.driver, d);
            assert_eq!(c.name.get_ref(), "demo");
        }
        let (d, why) = choose(
            &demo_campaign(DriverKind::Lab).unwrap(),
            Some(DemoDriver::Emulated),
        );
        assert_eq!(d, DriverKind::Emulated);
        assert!(why.contains("--driver emulated"));
    }
}
