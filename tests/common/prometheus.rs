//! A real Prometheus server for the live-metrics tests: its own configuration,
//! storage folder and loopback port in a temporary folder (never the system
//! service's), stopped on drop; plus a plain HTTP GET and a child-process guard.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (and reaped) when dropped, whatever path the test takes.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// `GET path` on `addr` (HTTP/1.0, so the answer is not chunked): status and body.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, body.to_string()))
}

/// The `prometheus` binary, or a failure that says how to get it.
pub fn prometheus_binary() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("prometheus"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "this test needs the prometheus binary (Debian package `prometheus`, installed by \
             `make test` through scripts/packages.txt): not found in PATH"
        )
    })
}

/// A Prometheus server scraping `target` every second, in its own folder.
pub struct Prometheus {
    /// Its HTTP API.
    pub addr: SocketAddr,
    _child: ChildGuard,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target`'s `/metrics` every second; waits until it
    /// is ready.
    pub fn start(target: SocketAddr) -> Self {
        let bin = prometheus_binary();
        let dir = tempfile::tempdir().expect("a temporary folder");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: qoeprobe\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("prometheus.yml written");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
        let child = Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let p = Self {
            addr,
            _child: ChildGuard(child),
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(http_get(addr, "/-/ready"), Ok((200, _))) {
            assert!(
                Instant::now() < deadline,
                "prometheus did not become ready within 60 s: {}",
                p.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Runs an instant PromQL query; the `data` of a successful answer.
    pub fn query(&self, promql: &str) -> Result<Value, String> {
        let q: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        let (status, body) = http_get(self.addr, &format!("/api/v1/query?query={q}"))
            .map_err(|e| format!("{promql}: {e}"))?;
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| format!("{promql}: HTTP {status}, not JSON ({e}): {body}"))?;
        if v["status"] != "success" {
            return Err(format!("{promql}: HTTP {status}: {body}"));
        }
        Ok(v["data"].clone())
    }

    /// The one value of a query that must give a single sample.
    pub fn scalar(&self, promql: &str) -> f64 {
        let data = self.query(promql).unwrap_or_else(|e| panic!("{e}"));
        let result = data["result"].as_array().cloned().unwrap_or_default();
        assert_eq!(result.len(), 1, "{promql}: expected one sample, got {data}");
        result[0]["value"][1]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{promql}: no value in {data}"))
    }

    /// Waits until Prometheus tries to scrape the target (`up` exists, 0 while
    /// nothing listens there): Prometheus applies new targets up to 5 s after it
    /// starts, so a run started before that would go unseen for its first seconds.
    pub fn wait_target(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self
            .query("up{job=\"qoeprobe\"}")
            .is_ok_and(|d| d["result"].as_array().is_some_and(|r| !r.is_empty()))
        {
            assert!(
                Instant::now() < deadline,
                "prometheus did not start scraping within {limit:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the target was scraped up (`up == 1`) at least once.
    pub fn wait_scraped(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(d) = self.query("max_over_time(up{job=\"qoeprobe\"}[10m])")
                && d["result"][0]["value"][1] == "1"
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "prometheus never scraped qoeprobe within {limit:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}
