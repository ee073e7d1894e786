//! `qoeprobe merge-clients OUT.json FILE...`: the `--json` files of several client
//! hosts' `play` (one session each, or `--clients N`), `download`, `game` or `stream`
//! merged into one run (analysis::clients): counts and distributions over all
//! sessions of all hosts.

use analysis::clients::{ClientsSummary, HostSessions, KindClients, Spread, merge_clients};
use anyhow::Context;
use record::{PlayerSummary, ProbeSummary};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `qoeprobe merge-clients`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The merged summary to write (JSON).
    pub out: PathBuf,
    /// The hosts' `--json` files of one probe (`play`, `download`, `game` or `stream`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

fn read_host(path: &Path) -> anyhow::Result<HostSessions> {
    let text = userfile::read_to_string(path, userfile::limit::RECORD)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let bad = |e: serde_json::Error| {
        anyhow::anyhow!(
            "{}: not the --json of `qoeprobe play`, `download`, `game` or `stream` ({e}); give the files they wrote",
            path.display()
        )
    };
    let anchor = v.get("wall_anchor_unix_ns").and_then(Value::as_u64);
    let sessions = match (v.get("summaries"), v.get("probe")) {
        // `play --clients N`.
        (Some(list), _) => serde_json::from_value::<Vec<PlayerSummary>>(list.clone())
            .map_err(bad)?
            .into_iter()
            .map(ProbeSummary::Player)
            .collect(),
        // One session, tagged by its probe.
        (None, Some(_)) => vec![serde_json::from_value::<ProbeSummary>(v.clone()).map_err(bad)?],
        (None, None) => vec![ProbeSummary::Player(
            serde_json::from_value::<PlayerSummary>(v.clone()).map_err(bad)?,
        )],
    };
    Ok(HostSessions {
        name: path.display().to_string(),
        wall_anchor_unix_ns: anchor,
        sessions,
    })
}

fn line(o: &mut String, name: &str, s: &Option<Spread>, unit: &str) {
    let _ = match s {
        Some(s) => writeln!(
            o,
            "  {name:<16} mean {:.3}{unit}, p50 {:.3}{unit}, p95 {:.3}{unit}, max {:.3}{unit} ({} sessions)",
            s.mean, s.p50, s.p95, s.max, s.n
        ),
        None => writeln!(o, "  {name:<16} none"),
    };
}

/// The merged summary as a few human lines.
fn human(m: &ClientsSummary) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} sessions on {} hosts{}",
        m.sessions,
        m.hosts,
        m.start_spread_ms
            .map_or(String::new(), |s| format!(", started within {s:.1} ms"))
    );
    match &m.kind {
        KindClients::Player(p) => {
            let _ = writeln!(
                o,
                "  stalls           {} in {} sessions; {} segments, {} request errors, {} gave up",
                p.stall_count, p.sessions_with_stalls, p.segments, p.request_errors, p.gave_up
            );
            line(&mut o, "startup", &p.startup_delay_ms, " ms");
            line(&mut o, "stall time", &p.stall_total_ms, " ms");
            line(&mut o, "rebuffer ratio", &p.rebuffer_ratio, "");
            line(&mut o, "bitrate", &p.avg_bitrate_kbps, " kbit/s");
        }
        KindClients::Download(d) => {
            let _ = writeln!(
                o,
                "  outcome          {} completed, {} corrupt, {} failed, {} restarted from 0",
                d.completed, d.corrupt, d.failed, d.restarted_from_zero
            );
            let _ = writeln!(
                o,
                "  stalls           {} in {} downloads; {} resumes",
                d.stall_count, d.sessions_with_stalls, d.resumes
            );
            line(&mut o, "throughput", &d.throughput_kbps, " kbit/s");
            line(&mut o, "duration", &d.duration_ms, " ms");
            line(&mut o, "stall time", &d.stall_total_ms, " ms");
        }
        KindClients::Game(g) => {
            let _ = writeln!(
                o,
                "  freezes          {} in {} sessions; {} server sessions lost",
                g.freeze_count, g.sessions_with_freezes, g.sessions_lost
            );
            line(&mut o, "freeze time", &g.freeze_total_ms, " ms");
            line(&mut o, "longest freeze", &g.freeze_longest_ms, " ms");
            line(&mut o, "RTT p95", &g.rtt_p95_ms, " ms");
            line(&mut o, "round-trip loss", &g.loss_round_trip_pct, " %");
        }
        KindClients::Stream(s) => {
            let _ = writeln!(
                o,
                "  stalls           {} in {} sessions; {} disconnects, {} reconnects",
                s.stall_count, s.sessions_with_stalls, s.disconnects, s.reconnects
            );
            line(&mut o, "startup", &s.startup_ms, " ms");
            line(&mut o, "stall time", &s.stall_total_ms, " ms");
            line(&mut o, "drop ratio", &s.drop_ratio, "");
            line(&mut o, "bitrate", &s.avg_bitrate_kbps, " kbit/s");
        }
    }
    o
}

/// Runs `qoeprobe merge-clients`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let hosts = args
        .files
        .iter()
        .map(|p| read_host(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let m = merge_clients(&hosts).map_err(anyhow::Error::msg)?;
    print!("{}", human(&m));
    super::output::write_json(&super::output::Output::File(args.out.clone()), &m)?;
    Ok(ExitCode::SUCCESS)
}
