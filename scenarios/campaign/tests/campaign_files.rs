//! Every ready campaign in `scenarios/` parses (`campaign::scenario::load`); the demo
//! also parses with its driver switched to `emulated`, as `qoeprobe demo` does when
//! the lab cannot run. Under the emulated pre-copy model the campaigns of Table 2
//! give the study's shape: the encoder-inside stream never converges (cancelled at
//! the time limit) and every other application's migration completes. The network
//! sweep is one file of 72 cells; its reduced sample is the same sweep on two
//! flavors, expected to take under an hour on the lab, the full one many hours.

use campaign::estimate::estimate;
use campaign::scenario::{Campaign, load, parse};
use platform::emulated::EmulatedDriver;
use platform::emulated::model::{PlannedEnd, plan};
use platform::{DriverContext, DriverKind};
use record::clock::MonotonicClock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `scenarios/`, where the ready campaigns are (this crate is `scenarios/campaign`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn campaign_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(root()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml")
            && p.file_name() != Some("Cargo.toml".as_ref())
        {
            files.push(p);
        }
    }
    files.sort();
    files
}

#[test]
fn every_campaign_file_parses() {
    let files = campaign_files();
    for name in [
        "paper-table2.toml",
        "paper-network.toml",
        "paper-network-reduced.toml",
        "demo.toml",
    ] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "no scenarios/{name}"
        );
    }
    for f in &files {
        if let Err(e) = load(f) {
            panic!("{e}");
        }
    }
}

fn with_driver(file: &str, driver: &str) -> Campaign {
    let path = root().join(file);
    let src = std::fs::read_to_string(&path).unwrap();
    assert!(
        src.contains("driver = \"lab\""),
        "{file} is not on the lab driver"
    );
    let src = src.replacen("driver = \"lab\"", &format!("driver = \"{driver}\""), 1);
    parse(&path, &src).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_demo_parses_with_the_emulated_driver() {
    let c = with_driver("demo.toml", "emulated");
    assert_eq!(c.migration.driver, DriverKind::Emulated);
    assert_eq!(c.applications.len(), 6);
    assert_eq!(c.scenarios.len(), 2);
}

/// The planned end of each application x scenario under the emulated model.
fn ends(c: &Campaign) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for app in &c.applications {
        for scen in &c.scenarios {
            let ctx = DriverContext {
                clock: MonotonicClock::start(),
                sink: Arc::new(|_| {}),
                seed: 1,
                run_dir: PathBuf::from("/nonexistent"),
                driver: c.migration.driver_config(app).unwrap(),
                service: app.service(),
                flavor: c.migration.flavor,
                client: scen.client.condition(),
                migration: scen.migration.condition(),
            };
            let request = c.migration.request();
            let input = EmulatedDriver::new(ctx).unwrap().model_input(&request);
            let cancelled = matches!(plan(&input, 1).end, PlannedEnd::Cancelled { .. });
            out.push((
                app.name.get_ref().clone(),
                scen.name.get_ref().clone(),
                cancelled,
            ));
        }
    }
    out
}

#[test]
fn only_the_encoder_inside_never_converges() {
    for file in ["demo.toml", "paper-table2.toml"] {
        let c = with_driver(file, "emulated");
        for (app, scen, cancelled) in ends(&c) {
            assert_eq!(
                cancelled,
                app == "stream-encoder-inside",
                "{file}: {app}/{scen}: cancelled = {cancelled}"
            );
        }
    }
}

#[test]
fn the_network_sweep_is_one_file_and_its_sample_fits_in_an_hour() {
    let full = load(&root().join("paper-network.toml")).unwrap();
    assert_eq!(full.scenarios.len(), 4 * 2 * 3 * 3);
    assert_eq!(full.scenarios[0].name.get_ref(), "tiny-live-r1000-drop0");
    assert_eq!(full.scenarios[71].name.get_ref(), "large-block-r10-drop5");
    let reduced = load(&root().join("paper-network-reduced.toml")).unwrap();
    assert_eq!(reduced.scenarios.len(), 2 * 2 * 2 * 3);
    assert_eq!(reduced.runs, 3);
    // Every cell of the sample is a cell of the full sweep, with the same settings.
    for a in &reduced.scenarios {
        let b = full.scenario(a.name.get_ref()).unwrap();
        assert_eq!(a.migration, b.migration);
        assert_eq!((a.flavor, a.mode, a.copy), (b.flavor, b.mode, b.copy));
    }
    let hour = std::time::Duration::from_secs(3600);
    let e = estimate(&reduced, &reduced.plan(None, None).unwrap());
    assert_eq!(e.runs, 72);
    assert!(e.total < hour, "reduced sweep: {:?}", e);
    let e = estimate(&full, &full.plan(None, None).unwrap());
    assert_eq!(e.runs, 720);
    assert!(e.total > 10 * hour, "full sweep: {:?}", e);
}
