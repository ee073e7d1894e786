//! `qoeprobe simulate`: the player core on a virtual clock against a throughput trace
//! and outages, far faster than real time. Output schema identical to `play`.

use super::http_opts::HttpOpts;
use super::output::{Output, print_human, stdout_taken};
use super::player_report::{human, nothing_played, write_csv, write_output};
use anyhow::Context;
use probes::player::PlayerOptions;
use probes::player::session::Player;
use probes::player::sim::{self, DefaultLoader, Link, SimLimits, Trace, parse_outage};
use probes::player::summary::summarize;
use probes::values::{Millis, Secs};
use record::clock::unix_now_ns;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use url::Url;

/// `qoeprobe simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest: a local file or an http(s) URL.
    #[arg(long, value_name = "PATH|URL")]
    pub manifest: String,
    /// Throughput trace: mahimahi (one ms timestamp per 1500-byte opportunity) or CSV
    /// `duration_ms,kbps`. Repeats when it ends.
    #[arg(long, value_name = "FILE")]
    pub trace: PathBuf,
    /// Zero throughput from AT seconds for DURATION seconds (repeatable), e.g. 30+25.
    #[arg(long, value_name = "AT+DURATION")]
    pub outage: Vec<String>,
    /// Round-trip time added before each response, ms.
    #[arg(long, default_value = "0", value_name = "MS")]
    pub rtt_ms: Millis,
    /// Player settings.
    #[command(flatten)]
    pub player: PlayerOptions,
    /// HTTP client settings (for a manifest given by URL).
    #[command(flatten)]
    pub http: HttpOpts,
    /// Stop after this many seconds of session time (default: end of content; with
    /// --retry dashjs a session that gave up stays stalled until this or Ctrl-C).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<Secs>,
    /// Write the summary and every event as JSON to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub json: Option<Output>,
    /// Write one CSV row per media segment to this file (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<Output>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `qoeprobe simulate`.
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let url = manifest_url(&args.manifest)?;
    let remote = url.scheme() != "file";
    let name = args.trace.display().to_string();
    let taken = stdout_taken(&[("--json", args.json.as_ref()), ("--csv", args.csv.as_ref())])?;
    let text = userfile::read_to_string(&args.trace, userfile::limit::TRACE)
        .with_context(|| format!("cannot read trace {name}"))?;
    let trace = Trace::parse(&text, &name)?;
    let outages = args
        .outage
        .iter()
        .map(|o| parse_outage(o))
        .collect::<Result<Vec<_>, _>>()?;
    let link = Link::new(trace, &outages, args.rtt_ms.duration());
    let anchor = unix_now_ns();
    let mut cfg = args.player.config(url, anchor);
    cfg.duration = args.duration.map(Secs::duration);
    let mut player = Player::new(cfg.clone(), args.player.abr.build(), Duration::ZERO);
    // The HTTP client (TLS roots, proxies) only for a manifest given by URL: building
    // it costs more than simulating ten hours.
    let mut loader = if remote {
        DefaultLoader::with_client(args.player.http_options(args.http.options()).client()?)
    } else {
        DefaultLoader::default()
    };
    let started = Instant::now();
    let events = sim::run(&mut player, &link, &mut loader, SimLimits::default()).await;
    let took = started.elapsed();
    if let Some(err) = player.fatal_error() {
        return Err(anyhow::anyhow!("{err}"));
    }
    let summary = summarize(&events, &cfg.source);
    if !args.quiet {
        let speed = format!(
            "  simulated  {:.1} s of session in {:.3} ms ({:.0} x real time)\n",
            summary.session_ms / 1000.0,
            took.as_secs_f64() * 1000.0,
            summary.session_ms / 1000.0 / took.as_secs_f64().max(1e-9)
        );
        print_human(&(human(&summary) + &speed), taken);
    }
    if let Some(p) = &args.json {
        write_output(p, anchor, &summary, &events)?;
    }
    if let Some(p) = &args.csv {
        write_csv(p, &events)?;
    }
    if let Some(why) = nothing_played(&summary) {
        eprintln!("error: {why}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A manifest argument as a URL: http(s) as given, anything else a local path.
fn manifest_url(s: &str) -> anyhow::Result<Url> {
    if s.starts_with("http://") || s.starts_with("https://") {
        return super::play::parse_url(s);
    }
    let path = std::fs::canonicalize(s).with_context(|| {
        format!("manifest {s}: no such file; give a local path or an http(s) URL")
    })?;
    Url::from_file_path(&path)
        .map_err(|()| anyhow::anyhow!("manifest {}: not an absolute path", path.display()))
}
