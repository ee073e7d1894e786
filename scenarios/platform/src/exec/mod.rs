//! The `exec` driver: user commands start, poll and cancel a migration on any
//! platform (vMotion, Proxmox, Xen, a script). Phase markers are read from the
//! commands' output lines (docs/exec-driver.md):
//!
//! ```text
//! QOEPROBE paused [t=UNIX_SECONDS]
//! QOEPROBE resumed [t=UNIX_SECONDS]
//! QOEPROBE reattached [t=UNIX_SECONDS]
//! QOEPROBE pass n=3 transferred=BYTES remaining=BYTES [mbps=F] [dirty_pages_rate=F] [t=..]
//! QOEPROBE end completed|failed|cancelled [downtime_ms=F] [t=..] [detail words...]
//! ```
//!
//! Without an `end` marker, exit status 0 means completed and anything else failed.

use crate::driver::{
    BoxFuture, DriverConfig, DriverContext, DriverError, EventSink, MigrationDriver,
    MigrationReport,
};
use crate::endpoint::ServiceEndpoint;
use crate::request::MigrationRequest;
pub(crate) mod config;

pub use config::{CommandLine, ExecConfig};

use record::clock::Clock;
use record::*;
use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// A parsed marker line.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Wall-clock time the line gives (ns since the Unix epoch), if any.
    pub wall_ns: Option<u64>,
    /// The event.
    pub kind: EventKind,
}

/// Parses one output line; `None` for lines that are not markers (or malformed ones).
pub fn parse_marker(line: &str) -> Option<Marker> {
    let rest = line.trim().strip_prefix("QOEPROBE ")?;
    let mut words = rest.split_whitespace();
    let what = words.next()?;
    let mut kv = HashMap::new();
    let mut free = Vec::new();
    for w in words {
        match w.split_once('=') {
            Some((k, v)) if free.is_empty() => {
                kv.insert(k, v);
            }
            _ => free.push(w),
        }
    }
    let wall_ns = kv
        .get("t")
        .and_then(|t| t.parse::<f64>().ok())
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| (t * 1e9) as u64);
    let num = |k: &str| kv.get(k).and_then(|v| v.parse::<f64>().ok());
    let origin = || "exec".to_string();
    let kind = match what {
        "paused" => EventKind::MigrationPaused(MigrationPaused { origin: origin() }),
        "resumed" => EventKind::MigrationResumed(MigrationResumed { origin: origin() }),
        "reattached" => EventKind::NetworkReattached(NetworkReattached { origin: origin() }),
        "pass" => EventKind::MigrationPass(MigrationPass {
            pass: kv.get("n")?.parse().ok()?,
            transferred_bytes: kv
                .get("transferred")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            remaining_bytes: kv
                .get("remaining")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            dirty_pages_rate: num("dirty_pages_rate"),
            mbps: num("mbps"),
        }),
        "end" => {
            let mut it = free.into_iter();
            let outcome = match it.next()? {
                "completed" => MigrationOutcome::Completed,
                "failed" => MigrationOutcome::Failed,
                "cancelled" => MigrationOutcome::Cancelled,
                _ => return None,
            };
            // key=value pairs may follow the outcome too.
            let mut detail = Vec::new();
            let mut downtime = num("downtime_ms");
            let mut wall = wall_ns;
            for w in it {
                match w.split_once('=') {
                    Some(("downtime_ms", v)) if detail.is_empty() => downtime = v.parse().ok(),
                    Some(("t", v)) if detail.is_empty() => {
                        wall = v.parse::<f64>().ok().map(|t| (t * 1e9) as u64)
                    }
                    _ => detail.push(w),
                }
            }
            return Some(Marker {
                wall_ns: wall,
                kind: EventKind::MigrationEnd(MigrationEnd {
                    outcome,
                    detail: (!detail.is_empty()).then(|| detail.join(" ")),
                    transferred_bytes: None,
                    remaining_bytes: None,
                    platform_downtime_ms: downtime,
                }),
            });
        }
        _ => return None,
    };
    Some(Marker { wall_ns, kind })
}

fn err(what: impl Into<String>) -> DriverError {
    DriverError {
        driver: "exec".into(),
        what: what.into(),
    }
}

fn command(c: &CommandLine) -> Command {
    let mut cmd = match c {
        CommandLine::Shell(s) => {
            let mut cmd = Command::new("sh");
            cmd.arg("-c").arg(s);
            cmd
        }
        CommandLine::Argv(v) => {
            let mut cmd = Command::new(&v[0]);
            cmd.args(&v[1..]);
            cmd
        }
    };
    cmd.stdin(Stdio::null()).kill_on_drop(true).process_group(0);
    cmd
}

fn describe(c: &CommandLine) -> String {
    match c {
        CommandLine::Shell(s) => s.clone(),
        CommandLine::Argv(v) => v.join(" "),
    }
}

/// Runs a command to its end; an error names it and its output.
async fn run_to_end(c: &CommandLine, what: &str) -> Result<String, DriverError> {
    let out = command(c).output().await.map_err(|e| {
        err(format!(
            "cannot run the {what} command `{}`: {e}",
            describe(c)
        ))
    })?;
    if !out.status.success() {
        return Err(err(format!(
            "the {what} command `{}` failed ({}): {}",
            describe(c),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The exec driver of one run.
pub struct ExecDriver {
    ctx: DriverContext,
    cfg: ExecConfig,
    pgid: Option<i32>,
}

impl ExecDriver {
    /// A driver for `ctx`, whose driver must be `exec`.
    pub fn new(ctx: DriverContext) -> Result<Self, String> {
        let DriverConfig::Exec(cfg) = ctx.driver.clone() else {
            return Err("driver \"exec\" needs [migration.exec]".into());
        };
        Ok(Self {
            ctx,
            cfg,
            pgid: None,
        })
    }

    fn emit_marker(&self, sink: &EventSink, m: Marker) {
        let t = m.wall_ns.map_or_else(
            || self.ctx.clock.now(),
            |w| self.ctx.clock.offset_of_wall_ns(w),
        );
        sink(Event::new(t, "migration", m.kind));
    }

    fn kill_group(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // SAFETY: killpg(2) on the process group we created for the start command.
            unsafe { libc::killpg(pgid, libc::SIGKILL) };
        }
    }
}

impl MigrationDriver for ExecDriver {
    fn name(&self) -> &'static str {
        "exec"
    }

    fn prepare(&mut self) -> BoxFuture<'_, Result<ServiceEndpoint, DriverError>> {
        Box::pin(async move {
            if let Some(p) = &self.cfg.prepare {
                run_to_end(p, "prepare").await?;
            }
            let http = self.cfg.http;
            let probe_target = self
                .cfg
                .probe_target
                .or(http)
                .ok_or_else(|| err("no probe_target or http address"))?;
            Ok(ServiceEndpoint {
                http,
                game: self.cfg.game,
                probe_target,
                netns: None,
            })
        })
    }

    fn migrate<'a>(
        &'a mut self,
        request: &'a MigrationRequest,
        sink: EventSink,
    ) -> BoxFuture<'a, Result<MigrationReport, DriverError>> {
        Box::pin(async move {
            let start = self.cfg.start.clone();
            let mut cmd = command(&start);
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            sink(Event::new(
                self.ctx.clock.now(),
                "migration",
                EventKind::MigrationRequested(MigrationRequested {
                    driver: "exec".into(),
                    mode: request.mode,
                    copy: request.copy,
                }),
            ));
            let mut child = cmd.spawn().map_err(|e| {
                err(format!(
                    "cannot run the start command `{}`: {e}",
                    describe(&start)
                ))
            })?;
            let mut out =
                BufReader::new(child.stdout.take().ok_or_else(|| err("no stdout"))?).lines();
            let mut errs =
                BufReader::new(child.stderr.take().ok_or_else(|| err("no stderr"))?).lines();
            self.pgid = child.id().and_then(|p| i32::try_from(p).ok());
            let deadline = tokio::time::Instant::now() + request.time_limit;
            let mut poll =
                tokio::time::interval(self.cfg.poll_interval.max(Duration::from_millis(10)));
            let (mut ended, mut stderr_tail, mut out_open, mut err_open) =
                (None, Vec::<String>::new(), true, true);
            let status = loop {
                tokio::select! {
                    l = out.next_line(), if out_open => match l {
                        Ok(Some(l)) => if let Some(m) = parse_marker(&l) {
                            if let EventKind::MigrationEnd(e) = &m.kind { ended = Some((e.outcome, e.detail.clone())); }
                            self.emit_marker(&sink, m);
                        },
                        _ => out_open = false,
                    },
                    l = errs.next_line(), if err_open => match l {
                        Ok(Some(l)) => { stderr_tail.push(l); if stderr_tail.len() > 5 { stderr_tail.remove(0); } }
                        _ => err_open = false,
                    },
                    s = child.wait(), if !out_open && !err_open => break s.ok(),
                    _ = poll.tick(), if self.cfg.poll.is_some() => {
                        if let Some(p) = &self.cfg.poll
                            && let Ok(text) = run_to_end(p, "poll").await
                        {
                            for m in text.lines().filter_map(parse_marker) {
                                if let EventKind::MigrationEnd(e) = &m.kind { ended = Some((e.outcome, e.detail.clone())); }
                                self.emit_marker(&sink, m);
                            }
                        }
                        if ended.is_some() { break None; }
                    }
                    _ = tokio::time::sleep_until(deadline) => {
                        if let Some(c) = &self.cfg.cancel { let _ = run_to_end(c, "cancel").await; }
                        self.kill_group();
                        let detail = format!("cancelled at the time limit of {:.0} s", request.time_limit.as_secs_f64());
                        sink(Event::new(self.ctx.clock.now(), "migration", EventKind::MigrationEnd(MigrationEnd {
                            outcome: MigrationOutcome::Cancelled, detail: Some(detail.clone()), transferred_bytes: None, remaining_bytes: None, platform_downtime_ms: None,
                        })));
                        return Ok(MigrationReport { outcome: MigrationOutcome::Cancelled, detail: Some(detail) });
                    }
                }
            };
            self.pgid = None;
            if let Some((outcome, detail)) = ended {
                return Ok(MigrationReport { outcome, detail });
            }
            let (outcome, detail) = match status {
                Some(s) if s.success() => (MigrationOutcome::Completed, None),
                s => (
                    MigrationOutcome::Failed,
                    Some(format!(
                        "the start command exited with {}: {}",
                        s.map_or("an unknown status".into(), |s| s.to_string()),
                        stderr_tail.join(" / ")
                    )),
                ),
            };
            sink(Event::new(
                self.ctx.clock.now(),
                "migration",
                EventKind::MigrationEnd(MigrationEnd {
                    outcome,
                    detail: detail.clone(),
                    transferred_bytes: None,
                    remaining_bytes: None,
                    platform_downtime_ms: None,
                }),
            ));
            Ok(MigrationReport { outcome, detail })
        })
    }

    fn cancel(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            if self.pgid.is_some() {
                if let Some(c) = self.cfg.cancel.clone() {
                    run_to_end(&c, "cancel").await?;
                }
                self.kill_group();
            }
            Ok(())
        })
    }

    fn teardown(&mut self) -> BoxFuture<'_, Result<(), DriverError>> {
        Box::pin(async move {
            self.kill_group();
            if let Some(t) = self.cfg.teardown.clone() {
                run_to_end(&t, "teardown").await?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        assert_eq!(parse_marker("hello"), None);
        let m = parse_marker("QOEPROBE paused t=1700000000.5").unwrap();
        assert_eq!(m.wall_ns, Some(1_700_000_000_500_000_000));
        assert!(matches!(m.kind, EventKind::MigrationPaused(_)));
        let m = parse_marker("QOEPROBE pass n=2 transferred=100 remaining=50 mbps=9.5").unwrap();
        assert!(matches!(
            m.kind,
            EventKind::MigrationPass(MigrationPass {
                pass: 2,
                transferred_bytes: 100,
                remaining_bytes: 50,
                mbps: Some(9.5),
                ..
            })
        ));
        let m = parse_marker("QOEPROBE end failed downtime_ms=12 host lost").unwrap();
        match m.kind {
            EventKind::MigrationEnd(e) => {
                assert_eq!(e.outcome, MigrationOutcome::Failed);
                assert_eq!(e.detail.as_deref(), Some("host lost"));
                assert_eq!(e.platform_downtime_ms, Some(12.0));
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(parse_marker("QOEPROBE end maybe"), None);
        assert_eq!(parse_marker("QOEPROBE pass"), None);
    }
}
