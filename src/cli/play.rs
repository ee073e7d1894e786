//! `qoeprobe play URL`: plays a DASH or HLS stream in real time like a player and
//! reports its QoE; with `--clients N`, N sessions at once (a load and timing test).

use super::http_opts::HttpOpts;
use super::metrics_opts::ProbeFeed;
use super::output::{Output, Progress, print_human, stdout_taken};
use super::player_report::{
    EventLog, human, nothing_played, progress_line, write_csv, write_output,
};
use anyhow::bail;
use probes::player::PlayerOptions;
use probes::player::http::run_session;
use probes::player::session::Player;
use probes::player::summary::{Summarizer, percentile, summarize};
use probes::values::Secs;
use record::clock::{Clock, MonotonicClock};
use record::{Event, EventKind, MediaType, RequestType, probe_source};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;
use url::Url;

/// `qoeprobe play`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Manifest URL: a DASH MPD or an HLS master or media playlist.
    pub url: String,
    /// Player settings.
    #[command(flatten)]
    pub player: PlayerOptions,
    /// HTTP client settings.
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
    /// Append every event to this JSONL file as it happens (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub events: Option<Output>,
    /// Run this many sessions at once in this process and report them together.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub clients: usize,
    /// With --clients: spread the session starts evenly over this many seconds (real
    /// viewers do not all press play in the same millisecond).
    #[arg(long, default_value = "0", value_name = "SECS")]
    pub ramp: Secs,
    /// With --clients: stop every session once this process's memory (resident set)
    /// is above this many MB, and report what ran (default: half of this machine's
    /// memory; sessions that fall behind can make it grow fast).
    #[arg(long, value_name = "MB")]
    pub max_memory_mb: Option<u64>,
    /// No progress line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Start at this wall-clock time (RFC 3339 or unix seconds), so that probes on
    /// several hosts line up with one migration (docs/scale-out.md).
    #[arg(long, value_name = "TIME")]
    pub start_at: Option<super::start_at::StartAt>,
    /// Live Prometheus metrics.
    #[command(flatten)]
    pub metrics: super::metrics_opts::MetricsOpts,
}

/// Runs `qoeprobe play` (with `--metrics`, serving the live metrics until its
/// linger is over).
pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let live = args.metrics.start().await?;
    let feed = ProbeFeed::new(live.as_ref(), &args.url);
    let code = play(args, feed).await;
    super::metrics_opts::finish(live).await;
    code
}

/// Plays, feeding the events to `feed`.
async fn play(args: Args, feed: ProbeFeed) -> anyhow::Result<ExitCode> {
    let taken = stdout_taken(&[
        ("--json", args.json.as_ref()),
        ("--csv", args.csv.as_ref()),
        ("--events", args.events.as_ref()),
    ])?;
    if args.clients > 1 && (args.csv.is_some() || args.events.is_some()) {
        anyhow::bail!("--csv and --events record one session: use --json with --clients");
    }
    let url = parse_url(&args.url)?;
    if args.clients == 0 || args.clients > 100_000 {
        bail!("--clients {}: expected 1 to 100000", args.clients);
    }
    if args.clients == 1 && args.max_memory_mb.is_some() {
        bail!("--max-memory-mb applies to --clients N (N > 1): one session needs no guard");
    }
    super::start_at::wait(args.start_at).await?;
    let clock = MonotonicClock::start();
    let mut cfg = args.player.config(url, clock.wall_anchor_unix_ns());
    cfg.duration = args.duration.map(Secs::duration);
    let (stop_tx, stop_rx) = watch::channel(false);
    let stop_tx = Arc::new(stop_tx);
    let stopped_by = Arc::new(Mutex::new(None));
    let by = stopped_by.clone();
    let on_signal = stop_tx.clone();
    tokio::spawn(async move {
        if let Ok(signal) = fixtures::signal::shutdown().await {
            *by.lock().unwrap_or_else(|e| e.into_inner()) = Some(signal);
            let _ = on_signal.send(true);
        }
    });
    let client = args.player.http_options(args.http.options()).client()?;
    if args.clients > 1 {
        let limit_mb = args
            .max_memory_mb
            .unwrap_or_else(super::memory_guard::default_limit_mb);
        let over = super::memory_guard::start(limit_mb, stop_tx.clone());
        let code = run_many(&args, cfg, &clock, client, stop_rx, taken, &feed).await?;
        let over = *over.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(o) = over {
            eprintln!(
                "stopped: this process's memory reached {} MB, over --max-memory-mb {}: the sessions did not run their course (fewer sessions, or a machine with more cores, keeps them on schedule)",
                o.rss_mb, o.limit_mb
            );
            return Ok(ExitCode::FAILURE);
        }
        // A load test stopped by a signal did not run its course: say so in the
        // status (the sessions' results are written all the same).
        let signal = *stopped_by.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(signal) = signal {
            eprintln!("stopped by {signal}: the sessions did not run their course");
            return Ok(ExitCode::from(signal.exit_status()));
        }
        return Ok(code);
    }
    let mut log = args.events.as_ref().map(EventLog::create).transpose()?;
    let mut player = Player::new(cfg.clone(), args.player.abr.build(), clock.now());
    let mut events: Vec<Event> = Vec::new();
    let mut progress = Progress::new(args.quiet);
    let (mut segments, mut stalls) = (0u64, 0u64);
    let mut log_error = None;
    run_session(&mut player, &clock, &client, stop_rx, |e| {
        feed.observe(&e);
        if let Some(l) = log.as_mut()
            && let Err(err) = l.append(&e)
        {
            log_error.get_or_insert(err);
        }
        match &e.kind {
            EventKind::Request(r)
                if r.request_type == RequestType::Media
                    && r.media_type != Some(MediaType::Audio) =>
            {
                segments += 1
            }
            EventKind::StallStart(_) => stalls += 1,
            _ => {}
        }
        let line = progress_line(&e, segments, stalls);
        if !line.is_empty() {
            progress.update(&line);
        }
        events.push(e);
    })
    .await;
    progress.finish();
    if let Some(err) = player.fatal_error() {
        return Err(anyhow::anyhow!("{err}"));
    }
    if let Some(err) = log_error {
        eprintln!("warning: the event log could not be written completely: {err}");
    }
    let summary = summarize(&events, &cfg.source);
    print_human(&human(&summary), taken);
    if let Some(p) = &args.json {
        write_output(p, clock.wall_anchor_unix_ns(), &summary, &events)?;
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

/// `--clients N`: N sessions on one runtime, one shared HTTP client.
async fn run_many(
    args: &Args,
    cfg: probes::player::session::PlayerConfig,
    clock: &MonotonicClock,
    client: probes::client::HttpClient,
    stop: watch::Receiver<bool>,
    stdout_taken: bool,
    feed: &ProbeFeed,
) -> anyhow::Result<ExitCode> {
    // Each session holds at least one connection (a descriptor) at a time.
    let open_files = super::usage::raise_open_files_limit();
    if (open_files as usize) < args.clients.saturating_add(64) {
        eprintln!(
            "warning: {} sessions but only {open_files} open files allowed (ulimit -n): \
             connections beyond that fail",
            args.clients
        );
    }
    let cpu_before = super::usage::cpu_seconds();
    let mut tasks = Vec::with_capacity(args.clients);
    let ramp = args.ramp.duration();
    for i in 0..args.clients {
        let delay = ramp.mul_f64(i as f64 / args.clients as f64);
        let mut cfg = cfg.clone();
        cfg.source = probe_source(&format!("player-{i}"));
        let abr = args.player.abr.build();
        // One pool for all sessions: its connections are counted once, below.
        let (clock, client, stop) = (clock.clone(), client.shared_view(), stop.clone());
        let feed = feed.client(i);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let mut player = Player::new(cfg.clone(), abr, clock.now());
            // Each event is folded in as it comes, not kept: thousands of sessions
            // would otherwise hold every request record to the end.
            let mut summary = Summarizer::new(&cfg.source);
            let mut response = Vec::new();
            run_session(&mut player, &clock, &client, stop, |e| {
                feed.observe(&e);
                summary.observe(&e);
                response.extend(response_time(&e));
            })
            .await;
            let fatal = player.fatal_error().map(|e| e.to_string());
            let late = summary.lateness_ms().to_vec();
            (summary.finish(), (late, response), fatal)
        }));
    }
    let mut summaries = Vec::new();
    let (mut late, mut response) = (Vec::new(), Vec::new());
    let mut fatal = 0usize;
    for t in tasks {
        let (s, (l, r), f) = t.await?;
        fatal += usize::from(f.is_some());
        late.extend(l);
        response.extend(r);
        summaries.push(s);
    }
    let cpu = super::usage::cpu_seconds() - cpu_before;
    let connections = client.connections.count();
    late.sort_by(f64::total_cmp);
    response.sort_by(f64::total_cmp);
    let n = summaries.len();
    // CPU per second of session actually played or stalled (sessions start over the
    // ramp, so wall x sessions would overstate it).
    let session_s: f64 = summaries.iter().map(|s| s.session_ms / 1000.0).sum();
    let stalls: u64 = summaries.iter().map(|s| s.stall_count).sum();
    let segs: u64 = summaries.iter().map(|s| s.segments).sum();
    let errors: u64 = summaries.iter().map(|s| s.request_errors).sum();
    let wall = clock.now().as_secs_f64();
    let rss = super::usage::max_rss_bytes();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{n} sessions of {} ({} failed to start)",
        args.url, fatal
    );
    let _ = writeln!(
        text,
        "  segments   {segs} ({:.0}/s), {errors} request errors, {stalls} stalls, {connections} connections (one pool shared by the sessions)",
        segs as f64 / wall
    );
    let _ = writeln!(
        text,
        "  request timing error (sent - scheduled): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&late, 0.5),
        percentile(&late, 0.99),
        late.last().copied().unwrap_or(0.0)
    );
    let _ = writeln!(
        text,
        "  response time (head - sent): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&response, 0.5),
        percentile(&response, 0.99),
        response.last().copied().unwrap_or(0.0)
    );
    let _ = writeln!(
        text,
        "  cpu        {:.2} s over {:.1} s wall ({:.1} % of one core), {:.3} ms cpu per session-second ({:.0} session-seconds)",
        cpu,
        wall,
        100.0 * cpu / wall,
        1000.0 * cpu / session_s.max(1e-9),
        session_s
    );
    let _ = writeln!(
        text,
        "  memory     max RSS {:.1} MB, {:.1} KB per session",
        rss as f64 / 1e6,
        rss as f64 / 1e3 / n as f64
    );
    print_human(&text, stdout_taken);
    if let Some(p) = &args.json {
        let out = serde_json::json!({
            "sessions": n,
            "wall_anchor_unix_ns": clock.wall_anchor_unix_ns(),
            "failed_to_start": fatal,
            "segments": segs,
            "stalls": stalls,
            "request_errors": errors,
            "connections": connections,
            "timing_error_p50_ms": percentile(&late, 0.5),
            "timing_error_p99_ms": percentile(&late, 0.99),
            "timing_error_max_ms": late.last().copied().unwrap_or(0.0),
            "response_time_p50_ms": percentile(&response, 0.5),
            "response_time_p99_ms": percentile(&response, 0.99),
            "response_time_max_ms": response.last().copied().unwrap_or(0.0),
            "session_s": session_s,
            "cpu_s": cpu,
            "wall_s": wall,
            "max_rss_bytes": rss,
            "summaries": summaries,
        });
        super::output::write_json(p, &out)?;
    }
    if segs == 0 && summaries.iter().all(|s| s.audio_segments == 0) {
        eprintln!("error: nothing was played: no session downloaded a media segment");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// A media request's response time in ms (response head minus sent: the origin's
/// answer as the player saw it, loopback and the origin's queue included); `None`
/// for any other event. Its timing error is the summarizer's.
fn response_time(e: &Event) -> Option<f64> {
    match &e.kind {
        EventKind::Request(r) if r.request_type == RequestType::Media => {
            Some(r.tresponse_ns.saturating_sub(r.trequest_ns) as f64 / 1e6)
        }
        _ => None,
    }
}

/// Parses a manifest URL given on the command line.
pub fn parse_url(s: &str) -> anyhow::Result<Url> {
    let url = Url::parse(s).map_err(|e| {
        anyhow::anyhow!(
            "{s:?} is not a valid URL ({e}); give the http:// or https:// URL of an MPD or M3U8"
        )
    })?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => bail!("{s}: unsupported scheme {other:?}; give an http:// or https:// URL"),
    }
}
