//! `qoeprobe slurm --submit` against a real Slurm: the test starts a one-node cluster
//! of its own (Debian's munged, slurmctld and slurmd with a configuration, ports, munge
//! socket and state in a temporary folder; every daemon and job stopped afterwards),
//! submits an emulated campaign as an array of 3 shards plus the dependent merge job,
//! and checks that the merged folder's table equals the unsharded run's; then runs a
//! campaign on 3 hosts (`--hosts 3`: one job of 3 tasks) and checks that its merged
//! table equals one host running every client. Needs root and
//! the packages of scripts/packages.txt; fails with the reason when they are missing.

mod common;
use common::{ok, verdicts};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A one-node Slurm cluster in a temporary folder; dropping it cancels its jobs and
/// stops its daemons.
struct Cluster {
    dir: PathBuf,
    daemons: Vec<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn need(program: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(program).is_file();
    assert!(
        found,
        "{program} is not installed: this test needs a real Slurm (`make deps` installs slurmctld slurmd slurm-client munge)"
    );
}

impl Cluster {
    fn start(dir: &Path) -> Cluster {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "this test starts slurmd, which must run as root: run it as root"
        );
        for p in [
            "munged",
            "slurmctld",
            "slurmd",
            "sbatch",
            "sinfo",
            "scontrol",
            "scancel",
        ] {
            need(p);
        }
        let dir = dir.to_path_buf();
        for d in ["state", "spool", "log"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let key = dir.join("munge.key");
        std::fs::write(
            &key,
            (0..1024)
                .map(|i| (i * 7919 % 251) as u8)
                .collect::<Vec<_>>(),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).unwrap();
        std::fs::set_permissions(dir.join("state"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        let id = std::process::id();
        let name = format!("qpt{id}");
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        let sock = dir.join("munge.sock");
        let d = dir.display();
        let conf = format!(
            "ClusterName={name}\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort={}\nSlurmdPort={}\n\
             SlurmUser=root\nSlurmdUser=root\nAuthType=auth/munge\nAuthInfo=socket={}\nCredType=cred/munge\n\
             StateSaveLocation={d}/state\nSlurmdSpoolDir={d}/spool\nSlurmctldPidFile={d}/slurmctld.pid\n\
             SlurmdPidFile={d}/slurmd.pid\nSlurmctldLogFile={d}/log/slurmctld.log\nSlurmdLogFile={d}/log/slurmd.log\n\
             ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n\
             SelectTypeParameters=CR_CPU\nJobAcctGatherType=jobacct_gather/none\n\
             AccountingStorageType=accounting_storage/none\nMpiDefault=none\nReturnToService=2\nMinJobAge=600\n\
             NodeName={name}n NodeHostname={} NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN\n\
             PartitionName={name}p Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n",
            free_port(),
            free_port(),
            sock.display(),
            host.trim(),
        );
        std::fs::write(dir.join("slurm.conf"), conf).unwrap();
        let mut cluster = Cluster {
            dir: dir.clone(),
            daemons: Vec::new(),
        };
        let log = |n: &str| std::fs::File::create(dir.join("log").join(n)).unwrap();
        cluster.spawn(
            Command::new("munged")
                .args(["-F", "-f"])
                .arg(format!("--socket={}", sock.display()))
                .arg(format!("--key-file={}", key.display()))
                .arg(format!("--log-file={d}/log/munged.log"))
                .arg(format!("--pid-file={d}/munged.pid"))
                .arg(format!("--seed-file={d}/munged.seed"))
                .stderr(log("munged.err")),
        );
        let t0 = Instant::now();
        while !sock.exists() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "munged did not start: {}",
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster.spawn(
            cluster
                .slurm("slurmctld")
                .args(["-D", "-i"])
                .stderr(log("slurmctld.err")),
        );
        std::thread::sleep(Duration::from_millis(500));
        cluster.spawn(
            cluster
                .slurm("slurmd")
                .args(["-D", "-N", &format!("{name}n")])
                .stderr(log("slurmd.err")),
        );
        let t0 = Instant::now();
        loop {
            let out = cluster
                .slurm("sinfo")
                .args(["-h", "-o", "%t"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).trim() == "idle" {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "the node never became idle: {}",
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        cluster
    }

    /// A Slurm command bound to this cluster's configuration.
    fn slurm(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", self.dir.join("slurm.conf"))
            .stdin(Stdio::null());
        cmd
    }

    fn spawn(&mut self, cmd: &mut Command) {
        self.daemons
            .push(cmd.stdout(Stdio::null()).spawn().unwrap());
    }

    fn logs(&self) -> String {
        let mut s = String::new();
        for f in [
            "munged.err",
            "slurmctld.err",
            "slurmd.err",
            "slurmctld.log",
            "slurmd.log",
        ] {
            let text = std::fs::read_to_string(self.dir.join("log").join(f)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            s.push_str(&format!(
                "\n--- {f}:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ));
        }
        s
    }

    /// `JobState` of job `id` (an array job: of every task).
    fn states(&self, id: &str) -> Vec<String> {
        let out = self
            .slurm("scontrol")
            .args(["show", "job", id])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("JobState="))
            .map(String::from)
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .slurm("scancel")
            .arg(format!("--partition=qpt{}p", std::process::id()))
            .output();
        std::thread::sleep(Duration::from_millis(500));
        // slurmd, slurmctld, munged: in reverse order of their start.
        for child in self.daemons.iter_mut().rev() {
            // SAFETY: kill(2) on our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let t0 = Instant::now();
            while child.try_wait().ok().flatten().is_none()
                && t0.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[test]
fn slurm_root_one_node_cluster_array_merges_to_unsharded_table() {
    let exe = env!("CARGO_BIN_EXE_qoeprobe");
    let tmp = tempfile::tempdir().unwrap();
    let cluster = Cluster::start(&tmp.path().join("cluster"));
    let file = tmp.path().join("c.toml");
    std::fs::write(&file, common::two_app_campaign("slurm-test", 11)).unwrap();

    let whole = ok(Command::new(exe)
        .args(["run", "--quiet", "--out"])
        .arg(tmp.path().join("whole"))
        .arg(&file)
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap());

    let out = tmp.path().join("sharded");
    let submitted = ok(cluster
        .slurm(exe)
        .args(["slurm", "--shards", "3", "--submit", "--out"])
        .arg(&out)
        .arg(&file)
        // sbatch exports the submitter's environment to the jobs.
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap());
    let ids: Vec<&str> = submitted
        .trim()
        .strip_prefix("array job ")
        .and_then(|s| s.split_once(", merge job "))
        .map(|(a, m)| vec![a, m])
        .unwrap_or_else(|| panic!("unexpected output: {submitted}"));
    let t0 = Instant::now();
    loop {
        let merge = cluster.states(ids[1]);
        if merge
            .iter()
            .any(|s| s != "PENDING" && s != "RUNNING" && s != "COMPLETING")
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the merge job did not end in 300 s: array {:?}, merge {merge:?}{}",
            cluster.states(ids[0]),
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let logs =
        |f: &str| std::fs::read_to_string(out.join("slurm/logs").join(f)).unwrap_or_default();
    let array = cluster.states(ids[0]);
    assert_eq!(
        array,
        ["COMPLETED"; 3],
        "array tasks: {}",
        logs("shard-0.log")
    );
    assert_eq!(
        cluster.states(ids[1]),
        ["COMPLETED"],
        "merge: {}",
        logs("merge.log")
    );
    for k in 0..3 {
        assert!(
            out.join("shards")
                .join(k.to_string())
                .join("campaign.json")
                .is_file()
        );
    }
    let merged = std::fs::read_to_string(out.join("merged").join("table.md")).unwrap();
    assert_eq!(
        verdicts(&merged),
        verdicts(&whole),
        "merge log: {}",
        logs("merge.log")
    );
    assert!(
        logs("merge.log").contains("| game |"),
        "the merge job printed the table"
    );

    // The same Slurm runs a campaign on 3 hosts (one job of 3 tasks on the one node:
    // task 0 migrates, tasks 1 and 2 run one client each) and merges them into the
    // table of one host running both clients.
    let file = tmp.path().join("h.toml");
    std::fs::write(&file, common::client_campaign("slurm-hosts", 12, 1, 2)).unwrap();
    let whole = ok(Command::new(exe)
        .args(["run", "--quiet", "--out"])
        .arg(tmp.path().join("whole-hosts"))
        .arg(&file)
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap());
    let out = tmp.path().join("hosts");
    let submitted = ok(cluster
        .slurm(exe)
        .args([
            "slurm",
            "--hosts",
            "3",
            "--hosts-per-node",
            "3",
            "--start-lead",
            "5",
        ])
        .args(["--submit", "--out"])
        .arg(&out)
        .arg(&file)
        .env("QOEPROBE_FIXTURES", exe)
        .output()
        .unwrap());
    let id = submitted
        .trim()
        .strip_prefix("hosts job ")
        .unwrap_or_else(|| panic!("unexpected output: {submitted}"))
        .to_string();
    let log = || std::fs::read_to_string(out.join("slurm/logs/hosts.log")).unwrap_or_default();
    let t0 = Instant::now();
    while cluster
        .states(&id)
        .iter()
        .any(|s| s == "PENDING" || s == "RUNNING" || s == "COMPLETING")
    {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the hosts job did not end in 300 s: {:?}\n{}{}",
            cluster.states(&id),
            log(),
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(cluster.states(&id), ["COMPLETED"], "hosts job: {}", log());
    let merged = std::fs::read_to_string(out.join("merged").join("table.md")).unwrap();
    assert_eq!(verdicts(&merged), verdicts(&whole), "hosts job: {}", log());
    let summary = std::fs::read_to_string(out.join("merged/game/s/run-1/summary.json")).unwrap();
    assert!(
        summary.contains("\"game#1\"") && summary.contains("\"game#2\""),
        "{summary}"
    );
    drop(cluster);
}
