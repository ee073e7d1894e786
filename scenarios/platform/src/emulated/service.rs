//! The service under test as a child process: `<fixtures binary> serve <kind> --bind
//! 127.0.0.1:0 ARGS...`. Its first stdout line (`<kind>: <URL or udp://ADDR>`) says
//! where it listens. The child dies with us (`PR_SET_PDEATHSIG`), is killed on drop,
//! and can be paused (SIGSTOP) and resumed (SIGCONT) for the downtime.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Environment variable naming the fixtures binary.
pub const FIXTURES_ENV: &str = "QOEPROBE_FIXTURES";

/// Finds the program that serves the fixtures: `$QOEPROBE_FIXTURES`, else the
/// current executable if it is `qoeprobe` (same build, the same `serve`
/// subcommands, never a stale binary), else `qoeprobe-fixtures` next to the current
/// executable (or one folder up, for test binaries in `target/*/deps`).
pub fn fixtures_program() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os(FIXTURES_ENV) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!("{FIXTURES_ENV}={} is not a file", p.display()))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot find the current executable: {e}"))?;
    if exe.file_stem().is_some_and(|s| s == "qoeprobe") {
        return Ok(exe);
    }
    let dir = exe.parent().unwrap_or(Path::new("."));
    for d in [Some(dir), dir.parent()].into_iter().flatten() {
        let p = d.join("qoeprobe-fixtures");
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(format!(
        "cannot find the qoeprobe-fixtures binary next to {}: build it (cargo build -p fixtures) or set {FIXTURES_ENV}",
        exe.display()
    ))
}

/// A running service process.
#[derive(Debug)]
pub struct ServiceProcess {
    child: Child,
    pid: i32,
    /// Where it listens (TCP for HTTP services, UDP for the game).
    pub addr: SocketAddr,
    /// What it printed first (`dash: http://...`).
    pub banner: String,
}

impl ServiceProcess {
    /// Starts `serve <kind>` on `127.0.0.1:0` and waits (up to 10 s) for its address.
    /// The child's stderr goes to `log`.
    pub async fn start(
        program: &Path,
        kind: &str,
        args: &[String],
        log: &Path,
    ) -> Result<Self, String> {
        Self::start_on(program, kind, "127.0.0.1:0", args, log, None).await
    }

    /// Starts `serve <kind> --bind BIND ARGS...` (inside network namespace `netns`
    /// when given) and waits (up to 10 s) for its address. The child's stderr goes
    /// to `log`.
    pub async fn start_on(
        program: &Path,
        kind: &str,
        bind: &str,
        args: &[String],
        log: &Path,
        netns: Option<&str>,
    ) -> Result<Self, String> {
        let log_file = std::fs::File::create(log)
            .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut cmd = Command::new(program);
        cmd.arg("serve")
            .arg(kind)
            .arg("--bind")
            .arg(bind)
            .args(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true);
        if let Some(ns) = netns {
            crate::net::netns::command_in(cmd.as_std_mut(), ns)
                .map_err(|e| format!("cannot start `serve {kind}` in namespace {ns}: {e}"))?;
        }
        // SAFETY: prctl is async-signal-safe; it only sets a flag of the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let what = format!("{} serve {kind}", program.display());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {what}: {e}"))?;
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| format!("{what} exited at once"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
        let banner = match first {
            Ok(Ok(Some(l))) => l,
            Ok(_) => {
                let _ = child.kill().await;
                let err = std::fs::read_to_string(log).unwrap_or_default();
                return Err(format!(
                    "{what} exited before saying where it listens: {}",
                    err.trim()
                ));
            }
            Err(_) => {
                let _ = child.kill().await;
                return Err(format!("{what} did not say where it listens within 10 s"));
            }
        };
        let addr = parse_banner(&banner)
            .ok_or_else(|| format!("{what} printed `{banner}`: expected `{kind}: <URL>`"))?;
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            addr,
            banner,
        })
    }

    /// SIGSTOP: the service stops running (downtime).
    pub fn pause(&self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.pid, libc::SIGSTOP) };
    }

    /// SIGCONT: the service runs again.
    pub fn resume(&self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.pid, libc::SIGCONT) };
    }

    /// Kills it and reaps it.
    pub async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// The external encoder a `live` relay reads from (the study's "without content"
/// case): `serve live --source encoder` on `bind` (inside network namespace `netns`
/// when given; looping `clip`, else `serve live`'s default clip), a child that is
/// never paused or migrated. Returns the process and the stream URL to pass as
/// `--upstream`.
pub async fn start_upstream_encoder(
    program: &Path,
    bind: &str,
    log: &Path,
    netns: Option<&str>,
    clip: Option<&Path>,
) -> Result<(ServiceProcess, String), String> {
    let mut args = vec!["--source".to_string(), "encoder".to_string()];
    if let Some(c) = clip {
        args.extend(["--clip".to_string(), c.display().to_string()]);
    }
    let p = ServiceProcess::start_on(program, "live", bind, &args, log, netns)
        .await
        .map_err(|e| format!("the upstream encoder of the relay did not start: {e}"))?;
    let url = p
        .banner
        .split_once(": ")
        .map(|(_, u)| u.trim().to_string())
        .filter(|u| u.starts_with("http://"))
        .ok_or_else(|| {
            format!(
                "the upstream encoder printed `{}`: expected `live: http://...`",
                p.banner
            )
        })?;
    Ok((p, url))
}

/// `dash: http://127.0.0.1:PORT/dash/manifest.mpd` or `game: udp://127.0.0.1:PORT`
/// -> the address.
pub fn parse_banner(line: &str) -> Option<SocketAddr> {
    let (_, url) = line.split_once(": ")?;
    let rest = url.trim().split_once("://")?.1;
    let hostport = rest.split('/').next()?;
    hostport.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners() {
        assert_eq!(
            parse_banner("dash: http://127.0.0.1:8080/dash/manifest.mpd"),
            Some(([127, 0, 0, 1], 8080).into())
        );
        assert_eq!(
            parse_banner("game: udp://127.0.0.1:9"),
            Some(([127, 0, 0, 1], 9).into())
        );
        assert_eq!(
            parse_banner("file: http://127.0.0.1:7/"),
            Some(([127, 0, 0, 1], 7).into())
        );
        assert_eq!(parse_banner("hello"), None);
    }
}
