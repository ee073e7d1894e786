//! `qoeprobe merge-clients OUT.json FILE...`: the `play --json` files of several
//! client hosts (one session each, or `--clients N`) merged into one run
//! (analysis::clients): sessions, stalls and percentiles over all clients.

use analysis::clients::{HostSessions, Spread, merge_clients};
use anyhow::Context;
use record::PlayerSummary;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `qoeprobe merge-clients`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The merged summary to write (JSON).
    pub out: PathBuf,
    /// The hosts' `qoeprobe play --json` files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

fn read_host(path: &Path) -> anyhow::Result<HostSessions> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let bad = |e: serde_json::Error| {
        anyhow::anyhow!(
            "{}: not a `qoeprobe play --json` file ({e}); give the files play wrote",
            path.display()
        )
    };
    let anchor = v.get("wall_anchor_unix_ns").and_then(Value::as_u64);
    let sessions = match v.get("summaries") {
        Some(list) => serde_json::from_value::<Vec<PlayerSummary>>(list.clone()).map_err(bad)?,
        None => vec![serde_json::from_value::<PlayerSummary>(v.clone()).map_err(bad)?],
    };
    Ok(HostSessions {
        name: path.display().to_string(),
        wall_anchor_unix_ns: anchor,
        sessions,
    })
}

fn line(name: &str, s: &Option<Spread>, unit: &str) -> String {
    match s {
        Some(s) => format!(
            "  {name:<16} mean {:.3}{unit}, p50 {:.3}{unit}, p95 {:.3}{unit}, max {:.3}{unit} ({} sessions)",
            s.mean, s.p50, s.p95, s.max, s.n
        ),
        None => format!("  {name:<16} none"),
    }
}

/// Runs `qoeprobe merge-clients`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let hosts = args
        .files
        .iter()
        .map(|p| read_host(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let m = merge_clients(&hosts);
    println!(
        "{} sessions on {} hosts{}",
        m.sessions,
        m.hosts,
        m.start_spread_ms
            .map_or(String::new(), |s| format!(", started within {s:.1} ms"))
    );
    println!(
        "  stalls           {} in {} sessions; {} segments, {} request errors, {} gave up",
        m.stall_count, m.sessions_with_stalls, m.segments, m.request_errors, m.gave_up
    );
    println!("{}", line("startup", &m.startup_delay_ms, " ms"));
    println!("{}", line("stall time", &m.stall_total_ms, " ms"));
    println!("{}", line("rebuffer ratio", &m.rebuffer_ratio, ""));
    println!("{}", line("bitrate", &m.avg_bitrate_kbps, " kbit/s"));
    super::output::write_json(&super::output::Output::File(args.out.clone()), &m)?;
    Ok(ExitCode::SUCCESS)
}
