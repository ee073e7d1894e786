//! The openstack driver against a local fake cloud (Keystone v3 + Nova v2.1 answers
//! written from the API reference samples; see tests/fake_cloud): authentication by
//! password and by application credential, microversion negotiation, progress,
//! phases bounded by reachability, abort at the time limit, force-complete, and the
//! errors for every misconfiguration. No secret may appear in an error or event.

mod fake_cloud;

use fake_cloud::{Behaviour, FakeCloud, SERVER_ID, TOKEN};
use platform::openstack::cloud::{self, AppCredentialRef, Auth, Cloud, DomainRef, Named};
use platform::openstack::secret::Secret;
use platform::openstack::{BlockMigration, OpenStackConfig, OpenStackDriver};
use platform::{EventSink, MigrationDriver, MigrationRequest, ServiceEndpoint};
use record::clock::{Clock, MonotonicClock};
use record::{Copy, Mode};
use record::{Event, EventKind, MigrationOutcome};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn password_cloud(fc: &FakeCloud, password: &str) -> Cloud {
    Cloud {
        name: "test".into(),
        auth_url: fc.auth_url.clone(),
        auth: Auth::Password {
            user: Named::Name {
                name: "admin".into(),
                domain: Some(DomainRef::Name("Default".into())),
            },
            password: Secret::new(password),
            project: Some(Named::Name {
                name: "demo".into(),
                domain: Some(DomainRef::Name("Default".into())),
            }),
        },
        region: Some("RegionOne".into()),
        interface: "public".into(),
        cacert: None,
        verify: true,
    }
}

fn config(fc: &FakeCloud, cloud: Cloud, server: &str) -> OpenStackConfig {
    OpenStackConfig {
        cloud,
        server: server.into(),
        host: None,
        block_migration: BlockMigration::Auto,
        force_complete_after: None,
        poll_interval: Duration::from_millis(100),
        libvirt_uris: Default::default(),
        outage_interval: Duration::from_millis(10),
        endpoint: ServiceEndpoint {
            http: None,
            game: None,
            probe_target: fc.service,
            netns: None,
        },
    }
}

fn request(time_limit_s: u64) -> MigrationRequest {
    MigrationRequest {
        mode: Mode::Live,
        copy: Copy::Precopy,
        bandwidth_bps: None,
        downtime_limit: None,
        time_limit: Duration::from_secs(time_limit_s),
        postcopy_after_passes: None,
        auto_converge: false,
    }
}

fn sink() -> (EventSink, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = events.clone();
    (Arc::new(move |ev| e.lock().unwrap().push(ev)), events)
}

fn driver(cfg: OpenStackConfig) -> (OpenStackDriver, Arc<MonotonicClock>) {
    let clock = Arc::new(MonotonicClock::start());
    (
        OpenStackDriver::new(cfg, clock.clone() as Arc<dyn Clock>),
        clock,
    )
}

fn kind(e: &Event) -> String {
    serde_json::to_value(&e.kind).unwrap()["kind"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_migration_with_progress_and_reachability_bounded_downtime() {
    let b = Behaviour::default();
    let fc = FakeCloud::start(b.clone()).await;
    let (mut d, clock) = driver(config(&fc, password_cloud(&fc, &b.password), "web-1"));
    d.prepare().await.unwrap();
    assert_eq!(d.microversion().unwrap().to_string(), "2.79");
    assert_eq!(d.server().unwrap().id, SERVER_ID);
    let (s, events) = sink();
    let report = d.migrate(&request(60), s).await.unwrap();
    assert_eq!(report.outcome, MigrationOutcome::Completed, "{report:?}");
    assert_eq!(fc.host(), "compute2");
    let ev = events.lock().unwrap().clone();
    let kinds: Vec<String> = ev.iter().map(kind).collect();
    for k in [
        "migration_requested",
        "migration_pass",
        "migration_paused",
        "migration_resumed",
        "platform_event",
        "migration_end",
    ] {
        assert!(kinds.iter().any(|x| x == k), "no {k} in {kinds:?}");
    }
    // The downtime's bounds come from the driver's own reachability watcher and
    // match the fake cloud's listener outage within 50 ms (10 ms probe interval).
    let (down, up) = fc.outage().unwrap();
    let up = up.unwrap();
    let at = |k: &str| ev.iter().find(|e| kind(e) == k).unwrap();
    for (k, truth) in [("migration_paused", down), ("migration_resumed", up)] {
        let e = at(k);
        let v = serde_json::to_value(&e.kind).unwrap();
        assert_eq!(v["origin"], "reachability", "{v}");
        let diff = (e.t().as_nanos() as f64 - clock.offset_of_wall_ns(truth).as_nanos() as f64)
            .abs()
            / 1e6;
        assert!(diff < 50.0, "{k} off by {diff} ms");
    }
    // What the driver sent: the 2.25+ body with block_migration "auto", microversion
    // headers, the token only in X-Auth-Token.
    let seen = fc.seen();
    let live = seen
        .iter()
        .find(|r| r.body.get("os-migrateLive").is_some())
        .unwrap();
    assert_eq!(live.body["os-migrateLive"]["block_migration"], "auto");
    assert!(live.body["os-migrateLive"]["host"].is_null());
    assert_eq!(live.headers["openstack-api-version"], "compute 2.79");
    assert_eq!(live.headers["x-openstack-nova-api-version"], "2.79");
    assert!(seen.iter().all(|r| !r.path.contains(TOKEN)));
    // Nova's instance action events, at Nova's times.
    let nova_events: Vec<String> = ev
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PlatformEvent(p) if p.origin == "nova" => Some(p.name.clone()),
            _ => None,
        })
        .collect();
    assert!(
        nova_events.contains(&"compute_live_migration finished".to_string()),
        "{nova_events:?}"
    );
    let text = serde_json::to_string(&ev).unwrap();
    assert!(!text.contains(&b.password) && !text.contains(TOKEN));
    // And back again, to the host given.
    d.teardown().await.unwrap();
    let mut cfg = config(&fc, password_cloud(&fc, &b.password), SERVER_ID);
    cfg.host = Some("compute1".into());
    cfg.block_migration = BlockMigration::FromMode;
    let (mut d, _) = driver(cfg);
    d.prepare().await.unwrap();
    let (s, _) = sink();
    assert_eq!(
        d.migrate(&request(60), s).await.unwrap().outcome,
        MigrationOutcome::Completed
    );
    assert_eq!(fc.host(), "compute1");
    let last = fc
        .seen()
        .into_iter()
        .rev()
        .find(|r| r.body.get("os-migrateLive").is_some())
        .unwrap();
    assert_eq!(last.body["os-migrateLive"]["host"], "compute1");
    assert_eq!(last.body["os-migrateLive"]["block_migration"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_ending_migration_is_aborted_at_the_time_limit_and_force_complete_finishes() {
    let b = Behaviour {
        never_ending: true,
        ..Behaviour::default()
    };
    let fc = FakeCloud::start(b.clone()).await;
    let app = Cloud {
        auth: Auth::ApplicationCredential {
            credential: AppCredentialRef::Id(b.app_credential.0.clone()),
            secret: Secret::new(b.app_credential.1.clone()),
        },
        ..password_cloud(&fc, "")
    };
    let (mut d, _) = driver(config(&fc, app.clone(), "web-1"));
    d.prepare().await.unwrap();
    let (s, events) = sink();
    let report = d.migrate(&request(2), s).await.unwrap();
    assert_eq!(report.outcome, MigrationOutcome::Cancelled, "{report:?}");
    assert!(
        report
            .detail
            .as_deref()
            .unwrap()
            .starts_with("never-ending: aborted at the time limit (2 s)"),
        "{report:?}"
    );
    assert_eq!(
        fc.host(),
        "compute1",
        "an aborted migration leaves the server on its host"
    );
    assert_eq!(fc.finished(), vec!["cancelled"]);
    assert!(
        fc.seen()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.ends_with("/migrations/1"))
    );
    let text = serde_json::to_string(&*events.lock().unwrap()).unwrap();
    assert!(!text.contains(&b.app_credential.1));
    // force_complete_after_s: Nova is asked to finish it.
    let mut cfg = config(&fc, app, "web-1");
    cfg.force_complete_after = Some(Duration::from_millis(500));
    let (mut d, _) = driver(cfg);
    d.prepare().await.unwrap();
    let (s, _) = sink();
    assert_eq!(
        d.migrate(&request(30), s).await.unwrap().outcome,
        MigrationOutcome::Completed
    );
    let force = fc
        .seen()
        .into_iter()
        .find(|r| r.body.get("force_complete").is_some())
        .unwrap();
    assert!(
        force.path.ends_with("/migrations/2/action"),
        "{}",
        force.path
    );
    assert_eq!(fc.host(), "compute2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_aborts_a_running_migration() {
    let fc = FakeCloud::start(Behaviour {
        never_ending: true,
        ..Behaviour::default()
    })
    .await;
    let pw = Behaviour::default().password;
    let (mut d, _) = driver(config(&fc, password_cloud(&fc, &pw), "web-1"));
    d.prepare().await.unwrap();
    // The runner drops the migration future on Ctrl-C and calls cancel().
    let (s, _) = sink();
    let req = request(600);
    let _ = tokio::time::timeout(Duration::from_millis(800), d.migrate(&req, s)).await;
    assert!(fc.migrating());
    d.cancel().await.unwrap();
    assert!(!fc.migrating());
    assert_eq!(fc.finished(), vec!["cancelled"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_misconfiguration_has_a_clear_error_without_secrets() {
    let b = Behaviour::default();
    let fc = FakeCloud::start(b.clone()).await;
    let prepare = |cfg: OpenStackConfig| async move {
        let (mut d, _) = driver(cfg);
        d.prepare().await.unwrap_err().to_string()
    };
    let wrong = "Wr0ng-pa55word-xyz";
    let e = prepare(config(&fc, password_cloud(&fc, wrong), "web-1")).await;
    assert!(
        e.contains("refused the credentials") && e.contains("401"),
        "{e}"
    );
    assert!(!e.contains(wrong));
    let e = prepare(config(&fc, password_cloud(&fc, &b.password), "web-9")).await;
    assert!(e.contains("no server `web-9` in project demo"), "{e}");
    let mut unreachable = password_cloud(&fc, &b.password);
    unreachable.auth_url = "http://127.0.0.1:9/identity/v3".into();
    let e = prepare(config(&fc, unreachable, "web-1")).await;
    assert!(
        e.contains("cannot authenticate with Keystone") && e.contains("127.0.0.1:9"),
        "{e}"
    );
    let mut region = password_cloud(&fc, &b.password);
    region.region = Some("RegionNine".into());
    let e = prepare(config(&fc, region, "web-1")).await;
    assert!(
        e.contains("no public compute endpoint in region RegionNine"),
        "{e}"
    );
    let old = FakeCloud::start(Behaviour {
        max_microversion: "2.12".into(),
        ..b.clone()
    })
    .await;
    let e = prepare(config(&old, password_cloud(&old, &b.password), "web-1")).await;
    assert!(
        e.contains("up to 2.12") && e.contains("at least 2.25"),
        "{e}"
    );
    // A target host Nova does not know: the migration fails with Nova's message.
    let mut cfg = config(&fc, password_cloud(&fc, &b.password), "web-1");
    cfg.host = Some("compute9".into());
    let (mut d, _) = driver(cfg);
    d.prepare().await.unwrap();
    let (s, _) = sink();
    let r = d.migrate(&request(10), s).await.unwrap();
    assert_eq!(r.outcome, MigrationOutcome::Failed);
    assert!(
        r.detail
            .unwrap()
            .contains("Compute host compute9 could not be found")
    );
    // clouds.yaml naming a cloud that is not there.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clouds.yaml");
    std::fs::write(
        &file,
        "clouds:\n  a:\n    auth:\n      auth_url: http://x\n",
    )
    .unwrap();
    let env = [(
        "OS_CLIENT_CONFIG_FILE".to_string(),
        file.display().to_string(),
    )]
    .into();
    let e = cloud::load(Some("b"), &env).unwrap_err();
    assert!(e.contains("has no cloud `b` (it has: a)"), "{e}");
}
