//! `qoeprobe run FILE --postgres URL` against a real PostgreSQL server (a throw-away
//! cluster of Debian's postgresql package, stopped at the end), on the emulated
//! driver: every run is in the database when the campaign ends, the campaign is
//! marked complete only then, and its table read back is the folder's; a database
//! that goes away mid-campaign costs one warning, not the campaign, and
//! `export --postgres` fills the gap. The password in the URL never shows. With
//! `--metrics` as well, the live metrics see the same campaign (both of the runner's
//! observers are told).

mod common;

use std::io::{BufRead, Read, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use store::throwaway::Cluster;

const SECRET: &str = "pw-must-not-show-41";

fn qoeprobe() -> Command {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let mut cmd = Command::new(exe);
    cmd.env("QOEPROBE_FIXTURES", exe);
    cmd
}

/// The URL with a password (trust authentication ignores it; the tool must hide it).
fn with_password(url: &str) -> String {
    url.replacen("qoeprobe@", &format!("qoeprobe:{SECRET}@"), 1)
}

fn campaign(dir: &Path, name: &str) -> std::path::PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, common::two_app_campaign(name, 7)).unwrap();
    file
}

async fn query_i64(url: &str, q: &str) -> i64 {
    let c = store::connect(url).await.unwrap();
    c.query_one(q, &[]).await.unwrap().get(0)
}

/// Runs `cmd` (which serves `--metrics` and lingers) to its end within `limit`:
/// its exit status, its stderr, and `/metrics` as scraped once the campaign was over.
fn run_scraping_metrics(mut cmd: Command, limit: Duration) -> (ExitStatus, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + limit;
    let (mut err, mut addr, mut metrics) = (String::new(), None, String::new());
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        err.push_str(&line);
        err.push('\n');
        if let Some(rest) = line.strip_prefix("serving metrics at http://") {
            addr = rest.strip_suffix("/metrics").map(str::to_string);
        }
        if line.starts_with("serving metrics for") {
            // The campaign and its PostgreSQL load are over; the linger serves.
            let mut c = std::net::TcpStream::connect(addr.as_deref().expect("an address")).unwrap();
            c.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
            c.read_to_string(&mut metrics).unwrap();
        }
    }
    if Instant::now() >= deadline {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("qoeprobe did not finish within {limit:?}: {err}");
    }
    (child.wait().unwrap(), err, metrics)
}

#[test]
fn pg_run_writes_each_run_as_it_finishes() {
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("needs PostgreSQL: {e}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(cluster.create_db("live")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = campaign(tmp.path(), "pglive");
    // The folder and the database from the environment (docs/cli.md).
    let out = tmp.path().join("results/pglive");
    let mut cmd = qoeprobe();
    cmd.arg("run")
        .arg(&file)
        .args(["--only", "game", "--runs", "2", "-vv"])
        .args(["--metrics", "127.0.0.1:0", "--metrics-linger", "5"])
        .env("QOEPROBE_RESULTS", tmp.path().join("results"))
        .env("QOEPROBE_POSTGRES", with_password(&url));
    let (status, err, metrics) = run_scraping_metrics(cmd, Duration::from_secs(300));
    assert!(status.success(), "{err}");
    assert!(!err.contains(SECRET), "the password shows: {err}");
    assert!(err.contains("qoeprobe:***@"), "{err}");
    assert!(
        err.contains("campaign `pglive`: 2 run(s) loaded (0 incomplete)")
            && err.contains("campaign complete"),
        "{err}"
    );
    // Each run was loaded as it finished, not at the end.
    assert_eq!(
        err.matches("run loaded into PostgreSQL").count(),
        2,
        "{err}"
    );
    // The live metrics saw the same campaign: both observers were told.
    for family in [
        "qoeprobe_campaign_runs_planned",
        "qoeprobe_campaign_runs_done_total",
    ] {
        let sample = format!("{family}{{campaign=\"pglive\"}} ");
        let value = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&sample)?.parse::<f64>().ok());
        assert_eq!(value, Some(2.0), "{sample}in:\n{metrics}");
    }
    rt.block_on(async {
        assert_eq!(
            query_i64(&url, "SELECT count(*) FROM runs WHERE complete").await,
            2
        );
        assert_eq!(
            query_i64(
                &url,
                "SELECT count(*) FROM campaigns WHERE name = 'pglive' AND complete"
            )
            .await,
            1
        );
    });
    let folder = qoeprobe().arg("table").arg(&out).output().unwrap();
    let db = qoeprobe()
        .args(["table", "--campaign", "pglive", "--from", &url])
        .output()
        .unwrap();
    assert!(
        db.status.success(),
        "{}",
        String::from_utf8_lossy(&db.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&db.stdout),
        String::from_utf8_lossy(&folder.stdout)
    );
}

#[test]
fn pg_run_goes_on_when_the_database_fails_mid_campaign() {
    let cluster = Cluster::start().unwrap_or_else(|e| panic!("needs PostgreSQL: {e}"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(cluster.create_db("failing")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let file = campaign(tmp.path(), "pgfail");
    let out = tmp.path().join("out");
    let child = qoeprobe()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--only", "game", "--runs", "3", "--quiet", "--postgres"])
        .arg(with_password(&url))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first run is in the database while the campaign runs: stop the server.
    let start = Instant::now();
    let loaded = || {
        rt.block_on(async {
            let c = store::connect(&url).await.ok()?;
            // Before the first run, the schema may not be there yet.
            let row = c.query_one("SELECT count(*) FROM runs", &[]).await.ok()?;
            Some(row.get::<_, i64>(0))
        })
    };
    while loaded().unwrap_or(0) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no run in the database after 120 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    cluster.stop().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    let Ok(output) = rx.recv_timeout(Duration::from_secs(300)) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("the campaign did not finish within 300 s after the database stopped");
    };
    let output = output.unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    assert_eq!(err.matches("warning: PostgreSQL").count(), 1, "{err}");
    assert!(err.contains("qoeprobe export"), "{err}");
    assert!(!err.contains(SECRET), "the password shows: {err}");
    for k in 1..=3 {
        assert!(out.join(format!("game/s/run-{k}/summary.json")).is_file());
    }
    // Later, export fills the gap; the campaign is complete then.
    cluster.restart().unwrap();
    rt.block_on(async {
        assert!(query_i64(&url, "SELECT count(*) FROM runs").await < 3);
        assert_eq!(
            query_i64(&url, "SELECT count(*) FROM campaigns WHERE complete").await,
            0
        );
    });
    let export = qoeprobe()
        .arg("export")
        .arg(&out)
        .arg("--postgres")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    rt.block_on(async {
        assert_eq!(
            query_i64(&url, "SELECT count(*) FROM runs WHERE complete").await,
            3
        );
        assert_eq!(
            query_i64(&url, "SELECT count(*) FROM campaigns WHERE complete").await,
            1
        );
    });
}
