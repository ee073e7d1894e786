//! `qoeprobe run` with `driver = "openstack"` end to end against the local fake cloud
//! (tests/fake_cloud): the cloud from clouds.yaml + secure.yaml through
//! `OS_CLIENT_CONFIG_FILE` / `OS_CLOUD`, a game probe on a real game server, the
//! results folder with the phases; no credential or token anywhere in what the run
//! wrote or printed (debug logs on); and Ctrl-C during a migration aborts it in Nova.

mod fake_cloud;

use fake_cloud::{Behaviour, FakeCloud, TOKEN};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn write_cloud(dir: &Path, fc: &FakeCloud, password: &str) {
    std::fs::write(
        dir.join("clouds.yaml"),
        format!(
            "clouds:\n  fake:\n    auth:\n      auth_url: {}\n      username: admin\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n    interface: public\n",
            fc.auth_url.trim_end_matches("/v3")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("secure.yaml"),
        format!("clouds:\n  fake:\n    auth:\n      password: {password}\n"),
    )
    .unwrap();
}

fn write_campaign(
    dir: &Path,
    fc: &FakeCloud,
    game: std::net::SocketAddr,
    time_limit_s: u32,
) -> std::path::PathBuf {
    let file = dir.join("os.toml");
    std::fs::write(
        &file,
        format!(
            r#"name = "os-test"
runs = 1
warmup_s = 1
cooldown_s = 1
reattach_timeout_s = 10
[migration]
driver = "openstack"
time_limit_s = {time_limit_s}
[migration.openstack]
server = "web-1"
block_migration = "auto"
poll_interval_ms = 100
probe_target = "{}"
game = "{game}"
[[application]]
name = "game"
service = "game"
[application.game]
cmdrate = 30
[[scenario]]
name = "cloud"
"#,
            fc.service
        ),
    )
    .unwrap();
    file
}

fn qoeprobe(dir: &Path, file: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qoeprobe"));
    c.args(["run", "-q", "--out"])
        .arg(out)
        .arg(file)
        .env("OS_CLIENT_CONFIG_FILE", dir.join("clouds.yaml"))
        .env("OS_CLIENT_SECURE_FILE", dir.join("secure.yaml"))
        .env("OS_CLOUD", "fake")
        .env_remove("OS_PASSWORD")
        .stdin(Stdio::null());
    c
}

/// Every file under `dir`, as text.
fn all_text(dir: &Path) -> String {
    let mut s = String::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            s.push_str(&all_text(&p));
        } else {
            s.push_str(&String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
        }
    }
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openstack_campaign_runs_and_no_secret_reaches_the_results() {
    let b = Behaviour::default();
    let fc = FakeCloud::start(b.clone()).await;
    let game =
        fixtures::game::GameServer::start("127.0.0.1:0".parse().unwrap(), 66.0, 1000.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_cloud(dir.path(), &fc, &b.password);
    let file = write_campaign(dir.path(), &fc, game.addr(), 60);
    let out = dir.path().join("out");
    let o = tokio::task::spawn_blocking({
        let mut c = qoeprobe(dir.path(), &file, &out);
        // Debug logs on: the API calls are logged, their tokens never.
        c.arg("-vv");
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{printed}");
    assert!(printed.contains("OpenStack API"), "no debug log: {printed}");
    let s: Value =
        serde_json::from_slice(&std::fs::read(out.join("game/cloud/run-1/summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["complete"], true, "{s}");
    let m = &s["migration"];
    assert_eq!(m["driver"], "openstack");
    assert_eq!(m["outcome"], "completed", "{m}");
    // The downtime is the service's outage seen by the driver's watcher (400 ms in
    // the fake cloud), give or take the 20 ms probe interval.
    let down = m["downtime_ms"].as_f64().unwrap();
    assert!((380.0..700.0).contains(&down), "{m}");
    assert!(m["passes"].as_u64().unwrap() >= 2, "{m}");
    assert_eq!(fc.host(), "compute2");
    let timeline = std::fs::read_to_string(out.join("game/cloud/run-1/timeline.jsonl")).unwrap();
    assert!(timeline.contains(r#""origin":"reachability""#));
    assert!(timeline.contains(r#""kind":"platform_event","origin":"nova""#));
    let written = all_text(&out);
    for secret in [b.password.as_str(), TOKEN] {
        assert!(!written.contains(secret), "a secret reached the results");
        assert!(!printed.contains(secret), "a secret was printed");
    }
    // Wrong password: the run is written incomplete with Keystone's refusal, and the
    // password appears nowhere.
    let wrong = "Wr0ng-Passw0rd-4411";
    write_cloud(dir.path(), &fc, wrong);
    let out2 = dir.path().join("out2");
    let o = tokio::task::spawn_blocking({
        let mut c = qoeprobe(dir.path(), &file, &out2);
        move || c.output().unwrap()
    })
    .await
    .unwrap();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let written = all_text(&out2);
    assert!(
        written.contains("refused the credentials of cloud `fake` (401)"),
        "{written}{printed}"
    );
    assert!(!written.contains(wrong) && !printed.contains(wrong));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_an_openstack_migration_aborts_it() {
    let b = Behaviour {
        never_ending: true,
        ..Behaviour::default()
    };
    let fc = FakeCloud::start(b.clone()).await;
    let game =
        fixtures::game::GameServer::start("127.0.0.1:0".parse().unwrap(), 66.0, 1000.0).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_cloud(dir.path(), &fc, &b.password);
    let file = write_campaign(dir.path(), &fc, game.addr(), 600);
    let out = dir.path().join("out");
    let mut child = qoeprobe(dir.path(), &file, &out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while !fc.migrating() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(fc.migrating(), "the migration never started");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(!status.success() || !fc.migrating());
    assert!(!fc.migrating(), "the migration still runs in Nova");
    assert_eq!(fc.finished(), vec!["cancelled"]);
    assert!(
        fc.seen()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.contains("/migrations/"))
    );
    let s: Value =
        serde_json::from_slice(&std::fs::read(out.join("game/cloud/run-1/summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["complete"], false, "{s}");
}
