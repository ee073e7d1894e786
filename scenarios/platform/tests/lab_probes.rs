//! Lab: a live migration with a game probe and a DASH probe attached from the client
//! namespace. Phases ordered, durations consistent with the QMP timestamps, boot id
//! unchanged, game session continuous, DASH without stall; teardown leaves nothing.
//! Needs root and QEMU: fails with the reason when they are missing.

mod lab_common;

use lab_common::*;
use platform::MigrationDriver;
use platform::lab::Service;
use platform::net::netns;
use probes::game::core::{GameConfig, Protocol};
use probes::player::abr;
use probes::player::http::run_session;
use probes::player::session::{Player, PlayerConfig};
use record::clock::{Clock, MonotonicClock};
use record::{Copy, Mode};
use record::{Event, EventKind, MigrationOutcome};
use std::sync::Arc;
use std::time::Duration;

const SESSION: Duration = Duration::from_secs(30);
const WARMUP: Duration = Duration::from_secs(10);

async fn probes_in(
    ns: String,
    clock: Arc<MonotonicClock>,
    dash: String,
    game: std::net::SocketAddr,
) -> (Vec<Event>, Vec<Event>) {
    netns::run_in(&ns, move || async move {
        let mut cfg = PlayerConfig::new(url::Url::parse(&dash).expect("url"));
        cfg.duration = Some(SESSION);
        cfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
        let mut player = Player::new(cfg, abr::by_name("dynamic").expect("abr"), clock.now());
        let (_stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let client = probes::client::default_client().expect("client");
        let mut gcfg = GameConfig::new(Protocol::Qgt, game.to_string());
        gcfg.duration = SESSION;
        gcfg.freeze_threshold = Some(Duration::from_millis(250));
        gcfg.wall_anchor_unix_ns = clock.wall_anchor_unix_ns();
        let mut dash_events = Vec::new();
        let player_fut = run_session(&mut player, &clock, &client, stop_rx, |e| {
            dash_events.push(e)
        });
        let game_fut = probes::game::udp::run(game, gcfg, &clock, |_| {}, std::future::pending());
        let ((), game_events) = tokio::join!(player_fut, game_fut);
        (dash_events, game_events.expect("game probe"))
    })
    .await
    .expect("probes in the client namespace")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_with_game_and_dash_probes() {
    let _g = lab_lock().await;
    let (mut d, clock) = driver(vec![Service::Dash, Service::Game], |_| {});
    let ep = d.prepare().await.expect("prepare");
    let s = d.session().expect("session");
    let id = s.id().to_string();
    let boot_id = s.boot_id().await.expect("boot id before");
    let dash = format!("http://{}/dash/manifest.mpd", ep.http.expect("http"));
    let probes = tokio::spawn(probes_in(
        ep.netns.clone().expect("netns"),
        clock.clone(),
        dash,
        ep.game.expect("game"),
    ));
    tokio::time::sleep(WARMUP).await;
    let (sink, events) = sink();
    let report = d
        .migrate(&request(Mode::Live, Copy::Precopy, 60), sink)
        .await
        .expect("migrate");
    assert_eq!(
        report.outcome,
        MigrationOutcome::Completed,
        "{:?}",
        report.detail
    );
    let st = d.last_stats().expect("stats").clone();
    let (dash_events, game_events) = probes.await.expect("probe task");
    let ev = events.lock().unwrap().clone();
    let (req, paused, resumed, end) = (
        t_of(&ev, "migration_requested").unwrap(),
        t_of(&ev, "migration_paused").unwrap(),
        t_of(&ev, "migration_resumed").unwrap(),
        t_of(&ev, "migration_end").unwrap(),
    );
    assert!(
        req < paused && paused <= resumed && resumed <= end,
        "{ev:#?}"
    );
    // Durations consistent with QEMU: the source's own downtime can only be shorter
    // than STOP -> RESUME, and the whole migration no longer than QEMU's total time
    // plus the destination's start.
    let downtime = resumed - paused;
    let qemu_dt = Duration::from_secs_f64(st.qemu_downtime_ms.unwrap() / 1e3);
    assert!(
        qemu_dt <= downtime + Duration::from_millis(5),
        "qemu {qemu_dt:?} vs STOP->RESUME {downtime:?}"
    );
    let qemu_total = Duration::from_secs_f64(st.qemu_total_ms.unwrap() / 1e3);
    assert!(
        paused - req <= qemu_total + st.command_to_migrate + Duration::from_millis(50),
        "{st:#?}"
    );
    assert!(downtime < Duration::from_secs(5), "{st:#?}");
    assert_eq!(
        d.session().unwrap().boot_id().await.expect("boot id after"),
        boot_id,
        "the guest rebooted"
    );
    // Game: one session, never lost.
    let sessions = game_events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::GameSession(_)))
        .count();
    let lost = game_events
        .iter()
        .any(|e| matches!(e.kind, EventKind::GameSessionLost(_)));
    let gs = probes::game::summary::summarize(&game_events);
    eprintln!("game: {gs:?}");
    assert_eq!(sessions, 1, "game session restarted");
    assert!(!lost, "game session lost");
    assert!(gs.snapshots_received > 100, "{gs:?}");
    // DASH: played through without a stall.
    let ps = probes::player::summary::summarize(&dash_events, "probe:player");
    eprintln!("dash: {ps:?}\nmigration: {st:#?}");
    assert!(ps.segments > 5, "{ps:?}");
    assert_eq!(ps.stall_count, 0, "{ps:?}");
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
}
