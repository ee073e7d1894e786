//! A throw-away PostgreSQL cluster in a temporary folder, for tests and benchmarks:
//! `initdb` and `pg_ctl` from Debian's packages (`/usr/lib/postgresql/<v>/bin`, or
//! `PATH`), listening on a free loopback port and a socket in its folder, trust
//! authentication, fsync off. PostgreSQL refuses to run as root: as root, the folder
//! is given to the user `nobody` and the server runs as it. Dropping the cluster
//! stops the server and removes the folder.

use crate::error::StoreError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running throw-away cluster.
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    user: Option<String>,
}

/// The folder of Debian's PostgreSQL programs (newest version), else `PATH`'s.
fn bin_dir() -> Result<PathBuf, StoreError> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| d.join("pg_ctl").is_file() && d.join("initdb").is_file())
        .ok_or_else(|| {
            StoreError::Cluster(
                "no initdb/pg_ctl in /usr/lib/postgresql/*/bin or PATH: install Debian's postgresql package (scripts/install-deps.sh)".into(),
            )
        })
}

fn free_port() -> Result<u16, StoreError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| StoreError::Cluster(format!("no free loopback port: {e}")))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| StoreError::Cluster(e.to_string()))
}

impl Cluster {
    /// Creates and starts a cluster (a few seconds).
    pub fn start() -> Result<Self, StoreError> {
        let bin = bin_dir()?;
        let dir = tempfile::Builder::new()
            .prefix("qoeprobe-pg-")
            .tempdir()
            .map_err(|e| StoreError::Cluster(format!("temporary folder: {e}")))?;
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let user = root.then(|| "nobody".to_string());
        if root {
            let ok = Command::new("chown")
                .arg("nobody:")
                .arg(dir.path())
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return Err(StoreError::Cluster(format!(
                    "cannot give {} to the user nobody (PostgreSQL refuses to run as root)",
                    dir.path().display()
                )));
            }
        }
        let port = free_port()?;
        let c = Cluster {
            dir,
            bin,
            port,
            user,
        };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                &data,
                "-A",
                "trust",
                "-U",
                "qoeprobe",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )?;
        c.pg_start()?;
        Ok(c)
    }

    fn pg_start(&self) -> Result<(), StoreError> {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &opts,
                "-l",
                &log.to_string_lossy(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        )
    }

    /// Stops the server (connections are cut), keeping its data: a database that
    /// fails mid-way, for tests. [`Cluster::restart`] starts it again.
    pub fn stop(&self) -> Result<(), StoreError> {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        )
    }

    /// Starts a server stopped by [`Cluster::stop`] again, on the same port.
    pub fn restart(&self) -> Result<(), StoreError> {
        self.pg_start()
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<(), StoreError> {
        let path = self.bin.join(program);
        let mut cmd = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(&path);
                c
            }
            None => Command::new(&path),
        };
        cmd.args(args).current_dir(self.dir.path());
        let out = cmd
            .output()
            .map_err(|e| StoreError::Cluster(format!("cannot run {}: {e}", path.display())))?;
        if !out.status.success() {
            let log =
                std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
            return Err(StoreError::Cluster(format!(
                "{program} failed ({}): {}{}\n{log}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// The URL of database `db` (create it first with [`Cluster::create_db`]).
    pub fn url(&self, db: &str) -> String {
        format!("postgres://qoeprobe@127.0.0.1:{}/{db}", self.port)
    }

    /// The cluster's folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates database `db`.
    pub async fn create_db(&self, db: &str) -> Result<String, StoreError> {
        let client = crate::connect(&self.url("postgres")).await?;
        client
            .batch_execute(&format!("CREATE DATABASE \"{}\"", db.replace('"', "")))
            .await
            .map_err(crate::error::sql("CREATE DATABASE"))?;
        Ok(self.url(db))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }
}
